import FlameModel
/// Reads the ticks of one capture, file after file in `seq` order, as one stream.
///
/// One `SampleParser` serves the whole capture, and the run's `Symbols` and
/// `MetricCatalogue` every capture, so ids stay the same across files and
/// captures and later stages can keep per-process state.
public final class CaptureReader {
    /// What happened to one file, for reports.
    public struct FileReport: Sendable {
        public var path: String
        public var header: DumpHeader
        public var compression: Compression
        public var ticks: Int
        public var trailer: DumpTrailer?
        public var tailError: DumpError?
        public var unknownTerms: Int
        public var systemTerms: Int
        /// A file without a trailer was cut short (the node died, or the agent is still writing).
        public var truncated: Bool { trailer == nil }
    }

    public let capture: CaptureFiles
    public let limits: DumpLimits
    public internal(set) var parser = SampleParser()
    public private(set) var reports: [FileReport] = []
    /// Files that could not be opened after the catalogue read them.
    public private(set) var openErrors: [DumpError] = []
    /// The header of the file being read.
    public private(set) var currentHeader: DumpHeader?
    /// The file being read.
    public var currentPath: String? { current?.path }

    private var fileIndex = 0
    private var current: DumpFileReader?

    /// `replaysRepeatedSamples`: off, every sample is parsed in full (the
    /// results are the same; tests compare the two).
    public init(capture: CaptureFiles, limits: DumpLimits = .default, replaysRepeatedSamples: Bool = true) {
        self.capture = capture
        self.limits = limits
        parser.stackGuessLimit = limits.maxProcesses
        parser.symbolBudget = limits.maxSymbolBytes
        parser.templates.entryLimit = min(parser.templates.entryLimit, limits.maxProcesses)
        parser.replaysRepeatedSamples = replaysRepeatedSamples
    }

    /// Reads the next tick into `tick`; false when every file is done.
    public func nextTick(into tick: inout Tick, symbols: inout Symbols, catalogue: inout MetricCatalogue) -> Bool {
        while true {
            if current == nil {
                guard fileIndex < capture.files.count else { return false }
                let file = capture.files[fileIndex]
                fileIndex += 1
                do throws(DumpError) {
                    current = try Self.open(file, limits: limits)
                    currentHeader = current!.header
                    parser.fileSerial = fileIndex - 1
                    parser.beginFile(mayHoldShortSamples: current!.header.mayHoldShortSamples)
                } catch {
                    openErrors.append(error)
                    continue
                }
            }
            if current!.nextTick(into: &tick, parser: &parser, symbols: &symbols, catalogue: &catalogue) { return true }
            let file = current!
            reports.append(FileReport(
                path: file.path, header: file.header, compression: file.compression, ticks: file.ticks,
                trailer: file.trailer, tailError: file.tailError, unknownTerms: file.unknownTerms, systemTerms: file.systemTerms))
            current = nil
        }
    }

    /// A regular file is opened again, and must still be the file the catalogue
    /// read; a stream goes on from where the catalogue stopped, after its header.
    private static func open(_ file: CaptureFile, limits: DumpLimits) throws(DumpError) -> DumpFileReader {
        if let reopen = file.reopen {
            return try DumpFileReader(input: reopen(), limits: limits)
        }
        if let stream = file.stream {
            guard let reader = stream.take() else {
                throw DumpError(path: file.path, offset: 0, reason: .io("already read: a pipe or device can be read only once"))
            }
            return reader
        }
        let input = try FileInput(path: file.path, regularFileOnly: true)
        guard input.identity == file.identity else {
            throw DumpError(path: file.path, offset: 0, reason: .io("replaced by another file since its header was read"))
        }
        return try DumpFileReader(input: input, limits: limits)
    }

    /// Samples skipped for their shape, by reason, and where the first was.
    public var skippedSamples: [String: Occurrences] { parser.skipped.compactMapValues(occurrences) }

    /// `garbage_collection_info` entries left out: the catalogue was full.
    public var metricEntriesDropped: Occurrences? { occurrences(parser.metricEntriesDropped) }

    /// `garbage_collection_info` entries left out: their names are too long.
    public var metricNamesTooLong: Occurrences? { occurrences(parser.metricNamesTooLong) }

    private func occurrences(_ counted: ParserOccurrences) -> Occurrences? {
        guard counted.count > 0 else { return nil }
        return Occurrences(count: counted.count, firstPath: capture.files[counted.firstFile].path, firstOffset: counted.firstOffset)
    }

    /// On, the reader also keeps each count it notes (a skipped sample, an
    /// entry left out) until `takeCountsNoted` takes them: how a run that
    /// reads on a thread of its own tells the other thread what the counts
    /// were at each tick. Off by default: nothing is kept.
    public var logsCounts: Bool {
        get { parser.logsCounts }
        set { parser.logsCounts = newValue }
    }

    /// What was counted since the last call, oldest first; each entry one
    /// kind, how many in a row, and where the first of them was. Added up in
    /// order, they give `skippedSamples`, `metricEntriesDropped` and
    /// `metricNamesTooLong` as they stand now.
    public func takeCountsNoted(into noted: inout [(what: ReaderCount, seen: Occurrences)]) {
        for entry in parser.countLog {
            if let last = noted.last, last.what == entry.what {
                noted[noted.count - 1].seen.count += 1
            } else {
                noted.append((entry.what, Occurrences(count: 1, firstPath: capture.files[entry.file].path, firstOffset: entry.offset)))
            }
        }
        parser.countLog.removeAll(keepingCapacity: true)
    }

    /// Whether counts were noted since the last `takeCountsNoted`.
    public var hasCountsNoted: Bool { !parser.countLog.isEmpty }

    /// Bytes per word on the sampled node, when the header says.
    public var wordSize: Int64? { capture.files.first?.header.wordSize }
}
