import ETF
import FlameModel

/// The `process_info` items the parser reads; others are skipped.
enum SampleItem: UInt32, CaseIterable {
    case status, current_function, current_stacktrace, initial_call, registered_name,
        reductions, message_queue_len, memory, total_heap_size,
        garbage_collection, garbage_collection_info, dictionary,
        // The agent's own items (docs/dump-format.md): what it did not read, and short samples.
        flame_skipped, flame_unchanged

    /// The catalogue metric of an item that is one integer.
    @inline(__always)
    var metric: MetricID? {
        let id = Self.metrics[Int(rawValue)]
        return id < 0 ? nil : MetricID(Int(id))
    }

    /// Per item, its metric's index in the catalogue, or -1.
    private static let metrics: [Int8] = allCases.map { item -> Int8 in
        switch item {
        case .reductions: return Int8(MetricCatalogue.reductions.index)
        case .message_queue_len: return Int8(MetricCatalogue.messageQueueLen.index)
        case .memory: return Int8(MetricCatalogue.memory.index)
        case .total_heap_size: return Int8(MetricCatalogue.totalHeapSize.index)
        default: return -1
        }
    }

    /// Item keys, by the bytes of their atom text.
    static func table() -> ByteInterner {
        var names = ByteInterner(capacity: 32)
        for item in allCases { _ = names.internText("\(item)") }
        return names
    }
}

/// Keys the parser reads inside `garbage_collection` and the dictionary.
enum SampleKey: UInt32, CaseIterable {
    case minorGCs, initialCall, processLabel

    var atom: String {
        switch self {
        case .minorGCs: return "minor_gcs"
        case .initialCall: return "$initial_call"
        case .processLabel: return "$process_label"
        }
    }

    static func table() -> ByteInterner {
        var names = ByteInterner(capacity: 8)
        for key in allCases { _ = names.internText(key.atom) }
        return names
    }
}

/// A sample whose shape is not what `process_info` returns.
struct ShapeError: Error {
    var reason: String
}

extension ByteInterner {
    mutating func internText(_ text: String) -> UInt32 {
        var text = text
        return text.withUTF8 { intern(UnsafeRawBufferPointer($0)).id }
    }
}
