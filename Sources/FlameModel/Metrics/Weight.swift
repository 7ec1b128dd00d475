/// What one event weighs in an output that shows one number per stack:
/// one sample, a metric's value, or its delta.
public enum Weight: Sendable, Equatable {
    case samples
    case value(MetricID)
    case delta(MetricID)

    /// `samples`, `METRIC` or `METRIC_delta`, resolved against `catalogue`.
    public static func parse(_ text: String, catalogue: inout MetricCatalogue) -> Result<Weight, MetricNameError> {
        if text == "samples" { return .success(.samples) }
        // A metric whose own name ends in `_delta` wins over the delta of a shorter one.
        if text.hasSuffix("_delta"), catalogue.id(named: text) == nil {
            return catalogue.resolve(String(text.dropLast("_delta".count))).map { .delta($0) }
        }
        return catalogue.resolve(text).map { .value($0) }
    }

    /// The metric it reads, if any.
    public var metric: MetricID? {
        switch self {
        case .samples: return nil
        case .value(let id), .delta(let id): return id
        }
    }

    /// The event's weight; nil when it lacks the metric.
    @inline(__always)
    public func of(_ event: borrowing ProfileEvent) -> Int64? {
        switch self {
        case .samples: return 1
        case .value(let id): return event.metrics.value(id)
        case .delta(let id): return event.metrics.delta(id)
        }
    }

    /// How it is written: `samples`, `memory`, `memory_delta`.
    public func name(_ catalogue: MetricCatalogue) -> String {
        switch self {
        case .samples: return "samples"
        case .value(let id): return catalogue[id].name
        case .delta(let id): return catalogue[id].name + "_delta"
        }
    }
}
