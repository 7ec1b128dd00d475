/// One process at one tick: what `process_info` said, as ids and numbers.
///
/// Names (status, functions, stack, registered name …) are ids into the run's
/// `Symbols`, `Symbols.none` where the node did not report them. Numbers are a
/// metric vector: `metrics` says which catalogue metrics the sample holds, and
/// their values sit in the tick's `metricValues`, in catalogue order, from
/// `firstValue`. A metric the node did not report is absent, never zero.
public struct ProcessSample: Sendable {
    /// Which non-numeric items the node reported: an output that needs one
    /// (flame_prof's perf text needs a stack) checks here.
    public struct Items: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let status = Items(rawValue: 1 << 0)
        public static let currentFunction = Items(rawValue: 1 << 1)
        public static let currentStacktrace = Items(rawValue: 1 << 2)
        public static let initialCall = Items(rawValue: 1 << 3)
        public static let registeredName = Items(rawValue: 1 << 4)
        public static let garbageCollection = Items(rawValue: 1 << 5)
        public static let garbageCollectionInfo = Items(rawValue: 1 << 6)
        public static let dictionary = Items(rawValue: 1 << 7)

        /// The item names, for messages about a missing one.
        public static let names: [(Items, String)] = [
            (.status, "status"), (.currentFunction, "current_function"), (.currentStacktrace, "current_stacktrace"),
            (.initialCall, "initial_call"), (.registeredName, "registered_name"), (.garbageCollection, "garbage_collection"),
            (.garbageCollectionInfo, "garbage_collection_info"), (.dictionary, "dictionary"),
        ]
    }

    /// The pid as the sampled node shows it: `<0.number.serial>`.
    public var pidNumber: UInt32 = 0
    public var pidSerial: UInt32 = 0
    public var items: Items = []
    public var status: UInt32 = Symbols.none
    /// A function id, or `Symbols.none` when the process was in native code (`undefined`).
    public var currentFunction: UInt32 = Symbols.none
    /// A stack id of `Symbols.stacks`.
    public var stack: UInt32 = Symbols.none
    public var initialCall: UInt32 = Symbols.none
    /// proc_lib's `'$initial_call'` from the dictionary, if any.
    public var dictionaryInitialCall: UInt32 = Symbols.none
    public var registeredName: UInt32 = Symbols.none
    /// `'$process_label'` from the dictionary (`proc_lib:set_label/1`), as text, if any.
    public var processLabel: UInt32 = Symbols.none
    /// The metrics the sample holds.
    public var metrics = MetricSet()
    /// Those of `metrics` the node reported in `garbage_collection_info`.
    public var garbageCollectionMetrics = MetricSet()
    /// Where this sample's values start in `Tick.metricValues`.
    public var firstValue = 0

    public init() {}

    /// The pid as one number: `number << 32 | serial`.
    @inlinable @inline(__always)
    public var pidKey: UInt64 { UInt64(pidNumber) << 32 | UInt64(pidSerial) }
}

/// One sampling tick of one file.
public struct Tick: Sendable {
    /// `erlang:monotonic_time(microsecond)` of the tick.
    public var monotonic: Int64 = 0
    /// Wall-clock microseconds since the Unix epoch, from the file's header.
    public var wallMicros: Int64 = 0
    public var samples: [ProcessSample] = []
    /// Every sample's metric values, one after another.
    public var metricValues: [Int64] = []
    /// Where the tick's frame starts in its file's stream.
    public var offset: Int = 0

    public init() {}

    public mutating func reset() {
        samples.removeAll(keepingCapacity: true)
        metricValues.removeAll(keepingCapacity: true)
    }
}
