/// Metrics computed from sampled ones at event time: sizes in bytes and the
/// reduction rate. Their names are what a user types in `--metrics`,
/// `--weight` or a bucket level.
enum DerivedMetrics {
    static let bytesSuffix = "_bytes"
    static let reductionsPerSecond = "reductions_per_second"

    /// The definition of derived metric `name`; nil when `name` does not name
    /// a derived metric.
    static func definition(of name: String, in catalogue: inout MetricCatalogue) -> Result<Metric, MetricNameError>? {
        if name == reductionsPerSecond {
            return .success(Metric(name: name, unit: .reductionsPerSecond, kind: .gauge, derivation: .perSecond(of: MetricCatalogue.reductions)))
        }
        guard name.hasSuffix(bytesSuffix), name.count > bytesSuffix.count else { return nil }
        let sourceName = String(name.dropLast(bytesSuffix.count))
        guard case .success(let source) = catalogue.resolve(sourceName) else { return nil }
        let metric = catalogue[source]
        guard metric.unit == .words, metric.derivation == nil else { return .failure(.noBytes(sourceName, unit: metric.unit)) }
        return .success(Metric(name: name, unit: .bytes, kind: metric.kind, derivation: .bytes(of: source)))
    }
}
