/// One event's metrics: value and delta of every metric present, by id.
///
/// Indexed by `MetricID`, so an output reads a metric with one load, and one
/// row is reused for every event of a run.
public struct MetricRow: Sendable {
    /// The metrics this event has.
    public var present = MetricSet()
    public var values = [Int64](repeating: 0, count: MetricCatalogue.capacity)
    public var deltas = [Int64](repeating: 0, count: MetricCatalogue.capacity)

    public init() {}

    @inlinable @inline(__always)
    public func value(_ id: MetricID) -> Int64? { present.contains(id) ? values[id.index] : nil }

    @inlinable @inline(__always)
    public func delta(_ id: MetricID) -> Int64? { present.contains(id) ? deltas[id.index] : nil }
}
