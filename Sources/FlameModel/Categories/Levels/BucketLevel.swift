/// Buckets of any metric or of its delta: by powers of two, of four or of
/// ten, or between thresholds given in the metric's unit.
///
/// `bucket(bin_vheap_size,log2)`, `bucket(memory_delta,decimal)`,
/// `bucket(message_queue_len,0,1,10,100,1000)`. A metric counted in words is
/// bucketed and labelled in bytes, with the capture's word size. Labels read
/// `NAME:LOW..HIGH` (from LOW up to, not including, HIGH), `NAME:=VALUE` for a
/// bucket of one value, `NAME:<LOW` and `NAME:>=HIGH` at the ends, and
/// `NAME:absent` for a sample without the metric.
public final class BucketLevel: CategoryLevel, CategoryLevelKind {
    public static let keyword = "bucket"
    public static let usage = "bucket(METRIC[_delta],log2|log4|decimal|T1,T2,…)"

    public enum Scale: Sendable, Equatable {
        /// Powers of `base` (2 or 4), mirrored below zero.
        case powers(of: Int64)
        /// Powers of ten, mirrored below zero.
        case decimal
        /// Ascending thresholds, in the metric's unit (bytes for one counted in words).
        case thresholds([Int64])
    }

    public let spec: String
    public let metric: MetricID
    public let delta: Bool
    public let scale: Scale
    private let name: String
    private let unit: Metric.Unit
    private let inBytes: Bool
    /// Labels by bucket index, made on first use.
    private var labels: [Int: UInt32] = [:]
    private var absent: UInt32?

    init(spec: String, metric: MetricID, delta: Bool, scale: Scale, name: String, unit: Metric.Unit) {
        self.spec = spec
        self.metric = metric
        self.delta = delta
        self.scale = scale
        self.name = name
        inBytes = unit == .words
        self.unit = inBytes ? .bytes : unit
    }

    public static func make(arguments: [String], catalogue: inout MetricCatalogue) throws(CategorySpecError) -> any CategoryLevel {
        let spec = "bucket(\(arguments.joined(separator: ",")))"
        guard arguments.count >= 2 else {
            throw CategorySpecError(spec: spec, problem: "needs a metric and a scale: \(usage)")
        }
        var metricName = arguments[0]
        let delta = metricName.hasSuffix("_delta")
        if delta { metricName = String(metricName.dropLast("_delta".count)) }
        let metric: MetricID
        switch catalogue.resolve(metricName) {
        case .success(let id): metric = id
        case .failure(let error): throw CategorySpecError(spec: spec, problem: error.description)
        }
        let scale: Scale
        switch arguments[1] {
        case "log2" where arguments.count == 2: scale = .powers(of: 2)
        case "log4" where arguments.count == 2: scale = .powers(of: 4)
        case "decimal" where arguments.count == 2: scale = .decimal
        default:
            var thresholds: [Int64] = []
            for text in arguments.dropFirst() {
                guard let value = Int64(text) else {
                    throw CategorySpecError(spec: spec, problem: "'\(text)' is neither a scale (log2, log4, decimal) nor a whole-number threshold")
                }
                if let last = thresholds.last, value <= last {
                    throw CategorySpecError(spec: spec, problem: "thresholds must increase: \(value) after \(last)")
                }
                thresholds.append(value)
            }
            scale = .thresholds(thresholds)
        }
        return BucketLevel(spec: spec, metric: metric, delta: delta, scale: scale, name: arguments[0], unit: catalogue[metric].unit)
    }

    public func label(of event: ProfileEvent, in profile: Profile) -> UInt32 {
        guard var value = delta ? event.metrics.delta(metric) : event.metrics.value(metric) else {
            if let absent { return absent }
            let id = profile.internCategory(Array("\(name):absent".utf8))
            absent = id
            return id
        }
        if inBytes { value = value.multipliedClamped(by: profile.captures[event.capture].wordSize) }
        let index = bucket(value)
        if let known = labels[index] { return known }
        let id = profile.internCategory(Array(text(ofBucket: index).utf8))
        labels[index] = id
        return id
    }

    /// The bucket of `value`: for powers, 0 for zero, k + 1 for
    /// [base^k, base^(k+1)), -(k + 1) for the mirror below zero; for
    /// thresholds, how many of them `value` reaches.
    func bucket(_ value: Int64) -> Int {
        switch scale {
        case .thresholds(let thresholds):
            var index = 0
            while index < thresholds.count, value >= thresholds[index] { index += 1 }
            return index
        case .powers, .decimal:
            if value == 0 { return 0 }
            // Below zero, [-(b^(k+1)), -(b^k)) holds the values whose magnitude less one is in [b^k - 1, …).
            let magnitude = value > 0 ? value.magnitude : value.magnitude - 1
            if magnitude == 0 { return -1 }
            let k = exponent(magnitude)
            return value > 0 ? k + 1 : -(k + 2)
        }
    }

    /// floor(log_base(magnitude)), magnitude at least 1.
    private func exponent(_ magnitude: UInt64) -> Int {
        switch scale {
        case .powers(let base):
            let log2 = 63 - magnitude.leadingZeroBitCount
            return base == 4 ? log2 / 2 : log2
        default:
            var k = 0
            var bound: UInt64 = 10
            while magnitude >= bound {
                k += 1
                let (next, overflow) = bound.multipliedReportingOverflow(by: 10)
                if overflow { break }
                bound = next
            }
            return k
        }
    }

    /// The label of bucket `index`.
    func text(ofBucket index: Int) -> String {
        switch scale {
        case .thresholds(let thresholds):
            if index == 0 { return "\(name):<\(quantity(thresholds[0]))" }
            if index == thresholds.count { return "\(name):>=\(quantity(thresholds[index - 1]))" }
            return range(thresholds[index - 1], thresholds[index])
        case .powers, .decimal:
            if index == 0 { return "\(name):=\(quantity(0))" }
            if index == -1 { return "\(name):=\(quantity(-1))" }
            let k = index > 0 ? index - 1 : -index - 2
            let low = power(k), high = power(k + 1)
            if index > 0 { return range(low, high) }
            // Mirrored: [-high, -(low)) holds magnitudes from low + 1 to high.
            return range(high == .max ? .min : -high, low == .max ? .min : -low)
        }
    }

    /// `NAME:LOW..HIGH`, the unit once at the end unless prefixes differ (bytes).
    private func range(_ low: Int64, _ high: Int64) -> String {
        if high == low &+ 1 { return "\(name):=\(quantity(low))" }
        let lowText = unit == .bytes ? quantity(low) : String(low)
        return "\(name):\(lowText)..\(quantity(high))"
    }

    /// base^k, clamped at Int64.max.
    private func power(_ k: Int) -> Int64 {
        let base: Int64
        switch scale {
        case .powers(let b): base = b
        default: base = 10
        }
        var value: Int64 = 1
        for _ in 0..<k { value = value.multipliedClamped(by: base) }
        return value
    }

    private func quantity(_ value: Int64) -> String { Quantity.text(value, unit) }
}
