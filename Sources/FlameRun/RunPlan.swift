import FlameDump
import FlameModel

/// What a run asks for, beside its outputs: which samples, grouped how, with
/// which derived metrics, within which limits.
public struct RunPlan {
    /// The category levels, in order (at least one).
    public var levels: [any CategoryLevel]
    /// The catalogue the levels, metrics and weight were resolved against:
    /// the run starts from it, so their ids stay valid.
    public var catalogue: MetricCatalogue
    public var filter: SampleFilter
    public var limits: DumpLimits
    /// Most captures read at the same time: those whose ticks overlap in time.
    public var maxOpenCaptures: Int

    public static let defaultMaxOpenCaptures = 256

    public init(levels: [any CategoryLevel] = [StatusLevel()], catalogue: MetricCatalogue = MetricCatalogue(), filter: SampleFilter = SampleFilter(),
                limits: DumpLimits = .default, maxOpenCaptures: Int = RunPlan.defaultMaxOpenCaptures) {
        self.levels = levels.isEmpty ? [StatusLevel()] : levels
        self.catalogue = catalogue
        self.filter = filter
        self.limits = limits
        self.maxOpenCaptures = maxOpenCaptures
    }

    /// The derived metrics the catalogue holds: each event computes them.
    var derivedMetrics: [(id: MetricID, derivation: Metric.Derivation)] {
        catalogue.metrics.enumerated().compactMap { index, metric in metric.derivation.map { (MetricID(index), $0) } }
    }
}
