/// Every metric a run knows, each with an id stable for the whole run: the
/// sampled ones the reader finds and the derived ones the run asks for.
///
/// The `process_info` metrics have fixed ids; `garbage_collection_info`
/// entries, whose set and order vary by OTP release, are added as the reader
/// meets them (`heap_size` and `stack_size` are those entries, as in
/// flame_prof's text, not the `process_info` items of the same names). At
/// most `capacity` metrics: a real node reports about 16.
public struct MetricCatalogue: Sendable {
    /// Most metrics a run holds: a sample's set of metrics is one UInt64.
    public static let capacity = 64
    /// Longest metric name kept: real `garbage_collection_info` names are under
    /// 32 bytes, and every perf event line repeats each name.
    public static let maxNameBytes = 64

    public private(set) var metrics: [Metric] = []
    private var ids: [String: MetricID] = [:]
    /// Metrics reported in `garbage_collection_info`, in the order first met
    /// there: the node's order, which flame_prof's perf text keeps.
    public private(set) var garbageCollectionOrder: [MetricID] = []
    private var garbageCollectionMembers = MetricSet()

    public static let reductions = MetricID(0)
    public static let messageQueueLen = MetricID(1)
    public static let memory = MetricID(2)
    public static let totalHeapSize = MetricID(3)
    public static let minorGCs = MetricID(4)

    public init() {
        for metric in [
            Metric(name: "reductions", unit: .reductions, kind: .counter),
            Metric(name: "message_queue_len", unit: .messages, kind: .gauge),
            Metric(name: "memory", unit: .bytes, kind: .gauge),
            Metric(name: "total_heap_size", unit: .words, kind: .gauge),
            Metric(name: "minor_gcs", unit: .count, kind: .counter),
        ] {
            _ = add(metric)
        }
    }

    public var count: Int { metrics.count }

    public subscript(id: MetricID) -> Metric { metrics[id.index] }

    public func id(named name: String) -> MetricID? { ids[name] }

    /// The metric named `name`, added as a sampled metric with `unit` and
    /// `kind` if new; nil when the catalogue is full.
    public mutating func intern(_ name: String, unit: Metric.Unit, kind: Metric.Kind) -> MetricID? {
        if let known = ids[name] { return known }
        return add(Metric(name: name, unit: unit, kind: kind))
    }

    /// Notes that the node reports `id` in `garbage_collection_info`.
    public mutating func noteGarbageCollectionEntry(_ id: MetricID) {
        guard !garbageCollectionMembers.contains(id) else { return }
        garbageCollectionMembers.insert(id)
        garbageCollectionOrder.append(id)
    }

    /// The metric for a name a user typed: a known sampled one, a derived one
    /// (`NAME_bytes` of a metric counted in words, `reductions_per_second`),
    /// or a `garbage_collection_info` entry the dump will report (counted in
    /// words, like every entry of it): a run that never meets it sees it absent.
    public mutating func resolve(_ name: String) -> Result<MetricID, MetricNameError> {
        if let known = ids[name] { return .success(known) }
        if let derived = DerivedMetrics.definition(of: name, in: &self) {
            switch derived {
            case .success(let metric):
                guard let id = add(metric) else { return .failure(.catalogueFull(name)) }
                return .success(id)
            case .failure(let error):
                return .failure(error)
            }
        }
        guard Self.isAtomLike(name) else { return .failure(.unknown(name, known: metrics.map(\.name))) }
        guard let id = intern(name, unit: .words, kind: .gauge) else { return .failure(.catalogueFull(name)) }
        return .success(id)
    }

    private mutating func add(_ metric: Metric) -> MetricID? {
        guard metrics.count < Self.capacity else { return nil }
        let id = MetricID(metrics.count)
        metrics.append(metric)
        ids[metric.name] = id
        return id
    }

    /// A name an Erlang node could report (`bin_vheap_size`): a lower-case
    /// letter, then letters, digits and `_`.
    static func isAtomLike(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}

/// Metrics one `MetricCatalogue` gained, and `garbage_collection_info`
/// entries it noted, in order, for another catalogue that held the same
/// before them: `SymbolAdditions`' counterpart for a run whose reader has a
/// thread of its own. Appending them gives every metric the same id and
/// keeps the node's entry order (`garbageCollectionOrder`).
public struct CatalogueAdditions: Sendable {
    public internal(set) var base = MetricCatalogue.Counts()
    var metrics: [Metric] = []
    var garbageCollectionEntries: [MetricID] = []

    public init() {}

    /// The counts the catalogue reaches with everything here.
    public var end: MetricCatalogue.Counts {
        MetricCatalogue.Counts(metrics: base.metrics + metrics.count,
                               garbageCollectionEntries: base.garbageCollectionEntries + garbageCollectionEntries.count)
    }
}

extension MetricCatalogue {
    /// How many metrics and noted `garbage_collection_info` entries it holds.
    public struct Counts: Sendable, Equatable {
        public var metrics = 0
        public var garbageCollectionEntries = 0

        public init(metrics: Int = 0, garbageCollectionEntries: Int = 0) {
            self.metrics = metrics
            self.garbageCollectionEntries = garbageCollectionEntries
        }
    }

    public var counts: Counts { Counts(metrics: metrics.count, garbageCollectionEntries: garbageCollectionOrder.count) }

    /// Puts into `additions` (replacing what it held) what was added from `start` on.
    public func collectAdditions(since start: Counts, into additions: inout CatalogueAdditions) {
        additions = CatalogueAdditions()
        additions.base = start
        additions.metrics.append(contentsOf: metrics[start.metrics...])
        additions.garbageCollectionEntries.append(contentsOf: garbageCollectionOrder[start.garbageCollectionEntries...])
    }

    /// Adds `additions`' metrics and entries, from where this catalogue stands,
    /// until it holds `target`'s counts.
    public mutating func append(_ additions: CatalogueAdditions, upTo target: Counts) {
        let end = additions.end
        precondition(metrics.count >= additions.base.metrics && target.metrics <= end.metrics
            && garbageCollectionOrder.count >= additions.base.garbageCollectionEntries
            && target.garbageCollectionEntries <= end.garbageCollectionEntries,
            "catalogue additions do not follow this catalogue")
        while metrics.count < target.metrics {
            let expected = metrics.count
            let id = add(additions.metrics[expected - additions.base.metrics])
            precondition(id?.index == expected, "a mirrored metric got another id")
        }
        while garbageCollectionOrder.count < target.garbageCollectionEntries {
            let before = garbageCollectionOrder.count
            noteGarbageCollectionEntry(additions.garbageCollectionEntries[before - additions.base.garbageCollectionEntries])
            precondition(garbageCollectionOrder.count == before + 1, "a mirrored garbage_collection_info entry was noted before")
        }
    }
}

/// Why a metric name a user gave cannot be used.
public enum MetricNameError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknown(String, known: [String])
    case catalogueFull(String)
    case noBytes(String, unit: Metric.Unit)

    public var description: String {
        switch self {
        case .unknown(let name, let known):
            return "'\(name)' is not a metric name. Known: \(known.joined(separator: ", ")); also any garbage_collection_info entry, NAME_bytes of a metric counted in words, and reductions_per_second"
        case .catalogueFull(let name):
            return "no room for metric '\(name)': a run holds at most \(MetricCatalogue.capacity) metrics"
        case .noBytes(let name, let unit):
            return "'\(name)_bytes': only a metric counted in words has a size in bytes, and \(name) counts \(unit.rawValue)"
        }
    }
}
