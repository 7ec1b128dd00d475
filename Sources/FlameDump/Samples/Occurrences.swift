/// How often something was skipped, and where it first was: a warning names
/// its place as an error does.
public struct Occurrences: Sendable, Equatable {
    public var count: Int
    /// The file of the first one.
    public var firstPath: String
    /// The byte offset in that file of the term (the tick) that held the first one.
    public var firstOffset: Int

    public init(count: Int, firstPath: String, firstOffset: Int) {
        self.count = count
        self.firstPath = firstPath
        self.firstOffset = firstOffset
    }

    /// `N things (the first in the tick at byte OFFSET of FILE)`: the place, for a message.
    public var place: String { "the first in the tick at byte \(firstOffset) of \(firstPath)" }

    /// Adds `other`, keeping the earlier first place (`other` came later).
    public mutating func add(_ other: Occurrences) { count += other.count }
}

/// What a capture's reader counts (`CaptureReader.skippedSamples`,
/// `metricEntriesDropped`, `metricNamesTooLong`), one kind each.
public enum ReaderCount: Hashable, Sendable {
    /// A sample skipped for its shape, for this reason.
    case skippedSample(reason: String)
    /// A `garbage_collection_info` entry left out: the catalogue was full.
    case metricEntryDropped
    /// A `garbage_collection_info` entry left out: its name is too long.
    case metricNameTooLong
}

/// A parser's count of one kind of skip: where in the run it first happened.
struct ParserOccurrences {
    var count = 0
    /// Which file of the capture (the parser's `fileSerial`), and the tick's offset in it.
    var firstFile = 0
    var firstOffset = 0

    mutating func note(file: Int, offset: Int) {
        if count == 0 {
            firstFile = file
            firstOffset = offset
        }
        count += 1
    }
}
