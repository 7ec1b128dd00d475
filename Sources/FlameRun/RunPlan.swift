import FlameDump
import FlameModel
#if canImport(Glibc)
import Glibc
#endif

/// What a run asks for, beside its outputs: which samples, grouped how, with
/// which derived metrics, within which limits.
public struct RunPlan {
    /// The category levels, in order (at least one).
    public var levels: [any CategoryLevel]
    /// The catalogue the levels, metrics and weight were resolved against:
    /// the run starts from it, so their ids stay valid.
    public var catalogue: MetricCatalogue
    /// The metrics outputs carry, in order; nil for each output's default.
    public var metrics: [MetricID]?
    /// What one event weighs in outputs that show one number per stack.
    public var weight: Weight
    public var filter: SampleFilter
    public var limits: DumpLimits
    /// Most captures read at the same time: those whose ticks overlap in time.
    public var maxOpenCaptures: Int
    /// Threads a run uses. 1: one thread reads and converts in turn. 2 (or
    /// more, the same for now): a reader thread reads, decompresses and
    /// parses ticks while the run's thread converts them (docs/LIMITS.md,
    /// "Threads"). The outputs and the summary are the same byte for byte.
    public var threads: Int

    public static let defaultMaxOpenCaptures = 256

    /// Two threads where the process may run on two cores or more, else one.
    public static let defaultThreads: Int = {
        #if canImport(Glibc)
        return sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 ? 2 : 1
        #else
        return 2
        #endif
    }()

    public init(levels: [any CategoryLevel] = [StatusLevel()], catalogue: MetricCatalogue = MetricCatalogue(), metrics: [MetricID]? = nil,
                weight: Weight = .samples, filter: SampleFilter = SampleFilter(), limits: DumpLimits = .default,
                maxOpenCaptures: Int = RunPlan.defaultMaxOpenCaptures, threads: Int = RunPlan.defaultThreads) {
        self.levels = levels.isEmpty ? [StatusLevel()] : levels
        self.catalogue = catalogue
        self.metrics = metrics
        self.weight = weight
        self.filter = filter
        self.limits = limits
        self.maxOpenCaptures = maxOpenCaptures
        self.threads = threads
    }

    /// What a perf text carries: the chosen metrics, else the weight's
    /// metric (what FlameScope will scale by), else flame_prof's set.
    public var perfMetrics: [MetricID]? {
        if let metrics { return metrics }
        return weight.metric.map { [$0] }
    }

    /// True when some output shows a size counted in words in bytes: a
    /// bucket level over one, or a derived `_bytes` metric.
    public var showsWords: Bool {
        let bucketsWords = levels.contains { level in
            guard let bucket = level as? BucketLevel else { return false }
            return catalogue[bucket.metric].unit == .words
        }
        return bucketsWords || catalogue.metrics.contains { metric in
            if case .bytes? = metric.derivation { return true }
            return false
        }
    }

    /// The derived metrics the catalogue holds: each event computes them.
    var derivedMetrics: [(id: MetricID, derivation: Metric.Derivation)] {
        catalogue.metrics.enumerated().compactMap { index, metric in metric.derivation.map { (MetricID(index), $0) } }
    }
}
