/// One process at one tick: what `process_info` said, as ids and numbers.
///
/// Items the node did not report are `Symbols.none` (names) or absent from
/// `present`. The metrics the perf output needs are fields; the node's
/// `garbage_collection_info` entries, whose set and order vary by OTP
/// release, are a range of the tick's `gcInfo`.
public struct ProcessSample: Sendable {
    /// Which items the sample holds.
    public struct Items: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let status = Items(rawValue: 1 << 0)
        public static let currentFunction = Items(rawValue: 1 << 1)
        public static let currentStacktrace = Items(rawValue: 1 << 2)
        public static let initialCall = Items(rawValue: 1 << 3)
        public static let registeredName = Items(rawValue: 1 << 4)
        public static let reductions = Items(rawValue: 1 << 5)
        public static let messageQueueLen = Items(rawValue: 1 << 6)
        public static let memory = Items(rawValue: 1 << 7)
        public static let totalHeapSize = Items(rawValue: 1 << 8)
        public static let heapSize = Items(rawValue: 1 << 9)
        public static let stackSize = Items(rawValue: 1 << 10)
        public static let garbageCollection = Items(rawValue: 1 << 11)
        public static let garbageCollectionInfo = Items(rawValue: 1 << 12)
        public static let dictionary = Items(rawValue: 1 << 13)
        public static let minorGCs = Items(rawValue: 1 << 14)

        /// What the perf output needs of every sample (flame_prof's metrics and frames).
        public static let perfRequired: Items = [
            .status, .currentFunction, .currentStacktrace, .initialCall, .reductions,
            .messageQueueLen, .memory, .totalHeapSize, .garbageCollectionInfo, .minorGCs,
        ]
    }

    /// The pid as the sampled node shows it: `<0.number.serial>`.
    public var pidNumber: UInt32 = 0
    public var pidSerial: UInt32 = 0
    public var present: Items = []
    public var status: UInt32 = Symbols.none
    /// A function id, or `Symbols.none` when the process was in native code (`undefined`).
    public var currentFunction: UInt32 = Symbols.none
    public var stack: UInt32 = Symbols.none
    public var initialCall: UInt32 = Symbols.none
    /// proc_lib's `'$initial_call'` from the dictionary, if any.
    public var dictionaryInitialCall: UInt32 = Symbols.none
    public var registeredName: UInt32 = Symbols.none
    public var reductions: Int64 = 0
    public var messageQueueLen: Int64 = 0
    public var memory: Int64 = 0
    public var totalHeapSize: Int64 = 0
    public var heapSize: Int64 = 0
    public var stackSize: Int64 = 0
    public var minorGCs: Int64 = 0
    /// This sample's `garbage_collection_info` entries: `tick.gcInfo[gcInfo]`.
    public var gcInfo: Range<Int> = 0..<0

    public init() {}
}

/// A `garbage_collection_info` entry: interned name and value.
public struct MetricEntry: Sendable, Equatable {
    public var name: UInt32
    public var value: Int64

    public init(name: UInt32, value: Int64) {
        self.name = name
        self.value = value
    }
}

/// One sampling tick of one file.
public struct Tick: Sendable {
    /// `erlang:monotonic_time(microsecond)` of the tick.
    public var monotonic: Int64 = 0
    /// Wall-clock microseconds since the Unix epoch, from the file's header.
    public var wallMicros: Int64 = 0
    public var samples: [ProcessSample] = []
    public var gcInfo: [MetricEntry] = []
    /// Where the tick's frame starts in its file's stream.
    public var offset: Int = 0

    public init() {}

    public mutating func reset() {
        samples.removeAll(keepingCapacity: true)
        gcInfo.removeAll(keepingCapacity: true)
    }
}
