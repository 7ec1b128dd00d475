/// One sample as every output sees it: when, which process, its categories,
/// its stack and its metrics. The driver reuses one event for a whole run, so
/// an output that keeps anything copies it.
public struct ProfileEvent: Sendable {
    /// The event's capture: an index into `Profile.captures`.
    public var capture = 0
    /// A run-wide serial of the tick the event came from: events of one tick
    /// share it, and it grows tick by tick in output order.
    public var tick = 0
    /// Wall-clock microseconds since the Unix epoch.
    public var wallMicros: Int64 = 0
    /// The process's sample: pid, status, names (ids into `Profile.symbols`).
    public var sample = ProcessSample()
    /// An id of `Profile.stacks`.
    public var stack: UInt32 = 0
    /// Per category level, in order, an id of `Profile.categoryNames`.
    public var categories: [UInt32] = []
    public var metrics = MetricRow()

    public init() {}
}
