import FlameDump
import FlameFormats
import FlameModel

extension CaptureStats {
    /// Reads a whole capture through a `StatsSink`; `top` stacks are kept for
    /// each ranking. With `grouped`, the plan's category levels and weight are
    /// reported too (`categories`, `topByWeight`).
    /// `describe` writes a file's error as the user reads it.
    public static func collect(_ capture: CaptureFiles, plan: RunPlan = RunPlan(), top: Int = 10, grouped: Bool = false,
                               describe: (DumpError) -> String = { $0.description }) -> CaptureStats {
        let first = capture.files.first?.header
        var stats = CaptureStats(capture: capture.id, node: first?.node, otpRelease: first?.otpRelease, agent: first?.agent, sampleIntervalMs: first?.sampleIntervalMs)
        let sink = StatsSink(weight: plan.weight, groups: grouped)
        let run = ProfileRun(captures: [capture], plan: plan, sinks: [sink])
        // A stats sink writes nothing, so it cannot fail.
        let summary = (try? run.run()) ?? RunSummary()
        stats.ticks = sink.ticks
        stats.samples = sink.samples
        stats.firstTick = sink.firstTick
        stats.lastTick = sink.lastTick
        stats.processes = summary.processes
        stats.processesForgotten = summary.processesForgotten
        let catalogue = run.profile.catalogue
        let always = [MetricCatalogue.reductions, MetricCatalogue.messageQueueLen, MetricCatalogue.memory, MetricCatalogue.totalHeapSize, MetricCatalogue.minorGCs]
        stats.metrics = (always + catalogue.garbageCollectionOrder).map { catalogue[$0].name }
        stats.skippedSamples = summary.skippedSamples.mapValues(\.count)
        stats.stoppedEarly = summary.stoppedEarly?.description
        stats.statuses = sink.statuses(run.profile.symbols)
        for report in summary.files {
            // Saturating: trailers of a hostile dump may say anything.
            if let overruns = report.trailer?.overruns { stats.overruns = (stats.overruns ?? 0).saturatingAdding(overruns) }
            stats.files.append(File(path: report.path, seq: report.header.seq, compression: report.compression.rawValue, ticks: report.ticks, truncated: report.truncated, tailError: report.tailError.map(describe)))
        }
        for error in summary.openErrors {
            stats.files.append(File(path: error.path, seq: -1, compression: "?", ticks: 0, truncated: true, tailError: describe(error)))
        }
        (stats.topBySamples, stats.topByReductions, stats.topByWeight) = sink.top(top)
        if grouped {
            let catalogue = run.profile.catalogue
            stats.grouping = CaptureStats.Grouping(levels: plan.levels.map(\.spec), weight: plan.weight.name(catalogue),
                                                   wordSizeAssumed: run.profile.captures.contains(where: \.wordSizeAssumed) && plan.showsWords)
            stats.categories = sink.categoryTotals(run.profile)
        }
        return stats
    }
}
