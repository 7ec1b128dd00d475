/// Numbers in category labels, with their unit: `4KiB`, `10msg`, `250red`.
///
/// Labels hold no blanks, so every output can show them as they are, and
/// bytes use binary prefixes where the number is a whole multiple of one.
enum Quantity {
    /// `value` in `unit`, written compactly.
    static func text(_ value: Int64, _ unit: Metric.Unit) -> String {
        switch unit {
        case .bytes: return bytes(value)
        case .words: return "\(value)words"
        case .messages: return "\(value)msg"
        case .reductions: return "\(value)red"
        case .reductionsPerSecond: return "\(value)red/s"
        case .count: return "\(value)"
        }
    }

    private static let binaryPrefixes = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

    static func bytes(_ value: Int64) -> String {
        let sign = value < 0 ? "-" : ""
        var magnitude = value.magnitude
        guard magnitude >= 1024, magnitude % 1024 == 0 else { return "\(value)B" }
        var prefix = -1
        while magnitude >= 1024, magnitude % 1024 == 0, prefix + 1 < binaryPrefixes.count {
            magnitude /= 1024
            prefix += 1
        }
        return "\(sign)\(magnitude)\(binaryPrefixes[prefix])"
    }
}
