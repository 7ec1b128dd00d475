import FlameModel

/// What a sample must carry to be written as perf text: the chosen metrics,
/// or flame_prof's items and metrics. The report applies the same rule, so
/// that it shows the samples FlameScope is given, no more.
public struct PerfRequirements: Sendable {
    /// The chosen metrics; nil for flame_prof's set.
    public let metrics: [MetricID]?
    private let metricSet: MetricSet
    private let itemSet: ProcessSample.Items

    /// What flame_prof writes of every sample, in the order its message names the first one missing.
    private static let requiredItems: [(ProcessSample.Items, String)] = [
        (.status, "status"), (.currentFunction, "current_function"), (.currentStacktrace, "current_stacktrace"), (.initialCall, "initial_call"),
    ]
    private static let requiredMetrics: [(MetricID, String)] = [
        (MetricCatalogue.reductions, "reductions"), (MetricCatalogue.messageQueueLen, "message_queue_len"),
        (MetricCatalogue.memory, "memory"), (MetricCatalogue.totalHeapSize, "total_heap_size"),
    ]

    public init(metrics: [MetricID]?) {
        self.metrics = metrics
        if let metrics {
            metricSet = MetricSet(metrics)
            itemSet = []
        } else {
            metricSet = MetricSet(Self.requiredMetrics.map(\.0) + [MetricCatalogue.minorGCs])
            itemSet = ProcessSample.Items(Self.requiredItems.map(\.0)).union(.garbageCollectionInfo)
        }
    }

    /// Why the text cannot show `event`, if it cannot ("missing memory").
    public func missingReason(_ event: borrowing ProfileEvent, _ profile: Profile) -> String? {
        let present = event.metrics.present
        // Nearly every sample has all it needs: two tests of bits.
        if present.intersection(metricSet) == metricSet, event.sample.items.isSuperset(of: itemSet) { return nil }
        if let chosen = metrics {
            for metric in chosen where !present.contains(metric) { return "missing \(profile.catalogue[metric].name)" }
            return nil
        }
        let sample = event.sample
        for (item, name) in Self.requiredItems where !sample.items.contains(item) { return "missing \(name)" }
        for (metric, name) in Self.requiredMetrics where !present.contains(metric) { return "missing \(name)" }
        if !sample.items.contains(.garbageCollectionInfo) { return "missing garbage_collection_info" }
        if !present.contains(MetricCatalogue.minorGCs) { return "missing minor_gcs" }
        return nil
    }
}
