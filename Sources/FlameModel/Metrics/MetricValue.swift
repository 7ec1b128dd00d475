/// One metric of one sample, ready to write: which metric, its value, its delta.
public struct MetricValue: Sendable, Equatable {
    /// Index into `DeltaCalculator.metricNames`.
    public var slot: Int
    public var value: Int64
    public var delta: Int64

    public init(slot: Int, value: Int64, delta: Int64) {
        self.slot = slot
        self.value = value
        self.delta = delta
    }
}
