/// Whether a capture's record still stands: a re-run does nothing for it.
///
/// It stands when it was made with the same options, from inputs in the same
/// places with the same sizes and modification times (the content hashes are
/// not read again: that would be reading the archive), and, when it is done,
/// every output it lists is still there with its size. A failed capture
/// stands too (its inputs have not changed, so neither would the failure)
/// unless --retry-failed.
enum UpToDate {
    static func stands(_ record: CaptureRecord, for capture: BatchCapture, settings: BatchSettings, retryFailed: Bool) -> Bool {
        guard record.options == settings.optionsKey, record.inputs.count == capture.inputs.count,
              zip(record.inputs, capture.inputs).allSatisfy({ $0.looksUnchanged(from: $1) }) else { return false }
        switch record.status {
        case .failed:
            return !retryFailed
        case .done:
            let expected = Set(settings.outputNames(forCapture: capture.id).map(\.file))
            guard expected.isSubset(of: Set(record.outputs.map(\.file))) else { return false }
            return record.outputs.allSatisfy { FileHash.size("\(settings.out)/\($0.file)") == $0.bytes }
        }
    }
}
