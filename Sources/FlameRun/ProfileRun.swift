import FlameDump
import FlameFormats
import FlameModel

/// The one pass: reads captures, computes deltas, filters, groups, and hands
/// every event to every sink.
///
/// Captures given together are merged by tick time into one stream (each keeps
/// its own deltas); within a capture, files follow `seq` order. A capture is
/// opened only when the merge reaches its start (the earliest `started_at` of
/// its files) and closed after its last tick, so descriptors and memory follow
/// the captures that overlap in time, not all the captures given. More than
/// `maxOpenCaptures` overlapping stops the run (`CaptureMerge`).
public final class ProfileRun {
    /// A capture as the converting side keeps it: its place among the
    /// outputs' captures, and its deltas.
    private final class CaptureState {
        let profileIndex: Int
        @exclusivity(unchecked) var deltas: DeltaCalculator
        let wordSize: Int64
        let start: Int64
        var lastWall = Int64.min

        init(profileIndex: Int, info: CaptureInfo, start: Int64, plan: RunPlan, derived: [(id: MetricID, derivation: Metric.Derivation)]) {
            self.profileIndex = profileIndex
            deltas = DeltaCalculator(processLimit: plan.limits.maxProcesses, derived: derived)
            wordSize = info.wordSize
            self.start = start
        }

        func summary(_ counts: ReaderCounts) -> CaptureSummary {
            CaptureSummary(files: counts.files, openErrors: counts.openErrors, metricEntriesDropped: counts.metricEntriesDropped,
                           metricNamesTooLong: counts.metricNamesTooLong,
                           processes: deltas.processCount, processesForgotten: deltas.forgottenProcesses, skippedSamples: counts.skippedSamples)
        }
    }

    public let plan: RunPlan
    public let profile: Profile
    private let captures: [CaptureFiles]
    private let sinks: [any ProfileSink]
    private let derived: [(id: MetricID, derivation: Metric.Derivation)]
    /// Per capture, once opened and until closed.
    private var states: [CaptureState?]
    private var finished: [CaptureSummary?]

    public init(captures: [CaptureFiles], plan: RunPlan, sinks: [any ProfileSink]) {
        self.plan = plan
        self.captures = captures
        self.sinks = sinks
        // Levels cache labels by id of one run's label table: each run starts
        // from fresh ones, made from the same specs (the catalogue resolves
        // their metrics to the same ids).
        var catalogue = plan.catalogue
        let levels = plan.levels.map { level in (try? CategoryLevels.parse(level.spec, catalogue: &catalogue)) ?? level }
        profile = Profile(catalogue: catalogue, levels: levels)
        derived = plan.derivedMetrics
        states = Array(repeating: nil, count: captures.count)
        finished = Array(repeating: nil, count: captures.count)
    }

    /// Runs to the end, calling `progress` with the number of ticks done every
    /// 1024 ticks. Sinks are finished unless the run stopped early.
    public func run(progress: ((Int) -> Void)? = nil) throws(OutputError) -> RunSummary {
        var summary = RunSummary()
        try runDirect(&summary, progress)
        for done in finished.compactMap({ $0 }) { summary.add(done) }
        // A run stopped early is not to be used: its outputs get no end.
        if summary.stoppedEarly == nil {
            for sink in sinks { try sink.finish(profile) }
        }
        return summary
    }

    /// One thread reads and converts in turn, into the run's own tables.
    private func runDirect(_ summary: inout RunSummary, _ progress: ((Int) -> Void)?) throws(OutputError) {
        let merge = CaptureMerge(captures: captures, limits: plan.limits, maxOpenCaptures: plan.maxOpenCaptures)
        // One event for the whole run, a local: outputs borrow it, never copy it.
        var event = ProfileEvent()
        event.categories = Array(repeating: 0, count: plan.levels.count)
        var steps: [CaptureMerge.Step] = []
        merge: while true {
            merge.next(into: &steps, symbols: &profile.symbols, catalogue: &profile.catalogue)
            for step in steps {
                switch step {
                case .opened(let index, let info, let start):
                    opened(index, info, start)
                case .read:
                    break
                case .tick(let source):
                    let state = states[source.index]!
                    try feed(state, source.current, tick: summary.ticks, &event, &summary)
                    summary.ticks += 1
                    if let over = overSymbolBudget(source.place) {
                        summary.stoppedEarly = .symbolBudget(over)
                        break merge
                    }
                    if summary.ticks & 1023 == 0 { progress?(summary.ticks) }
                case .closed(let source):
                    close(source.index, source.reader.counted)
                case .tooManyOpen(let text):
                    summary.stoppedEarly = .tooManyOpenCaptures(text)
                    break merge
                case .end:
                    break merge
                }
            }
        }
        // Stopped early: what the captures still open did so far.
        for source in merge.open { close(source.index, source.reader.counted) }
    }

    private func opened(_ index: Int, _ info: CaptureInfo, _ start: Int64) {
        states[index] = CaptureState(profileIndex: profile.addCapture(info), info: info, start: start, plan: plan, derived: derived)
    }

    /// Keeps what the summary needs of a capture and lets go of the rest.
    private func close(_ index: Int, _ counts: ReaderCounts) {
        finished[index] = states[index]!.summary(counts)
        states[index] = nil
    }

    /// The stacks the outputs show grow with distinct keys of the samples
    /// (function, stack, initial calls); with the symbol tables they stay
    /// within the one budget, or the run stops and says where.
    private func overSymbolBudget(_ place: (file: String, offset: Int)) -> String? {
        var held = profile.stacks.byteEstimate + profile.symbols.byteEstimate
        for sink in sinks { held += sink.tableBytes }
        guard held > plan.limits.maxSymbolBytes else { return nil }
        return "\(place.file): at byte \(place.offset): the tables of distinct names and stacks hold about \(held) bytes, over the limit of \(plan.limits.maxSymbolBytes)"
    }

    /// One tick's samples: deltas, filters, categories, then every sink.
    private func feed(_ capture: CaptureState, _ tick: borrowing Tick, tick serial: Int, _ event: inout ProfileEvent, _ summary: inout RunSummary) throws(OutputError) {
        let wall = tick.wallMicros
        if wall < capture.lastWall { summary.ticksOutOfOrder += 1 }
        capture.lastWall = wall
        for sink in sinks { try sink.beginTick(wallMicros: wall, capture: capture.profileIndex, in: profile) }
        let inRange = plan.filter.keeps(tickAt: wall, captureStart: capture.start)
        event.capture = capture.profileIndex
        event.tick = serial
        event.wallMicros = wall
        let metricCount = profile.catalogue.count
        let profile = self.profile, sinks = self.sinks, levels = profile.levels, filter = plan.filter
        let filtering = !filter.isEmpty
        // The reader adds names only between ticks: one copy serves the tick.
        let symbols = profile.symbols
        for sample in tick.samples {
            // Deltas first, so a kept sample's delta is against its process's previous sample.
            capture.deltas.compute(sample, in: tick, wordSize: capture.wordSize, metricCount: metricCount, into: &event.metrics)
            guard inRange, !filtering || filter.keeps(sample, symbols: symbols) else { continue }
            event.sample = sample
            event.stack = profile.stacks.stack(of: sample, symbols: symbols)
            for index in levels.indices {
                event.categories[index] = levels[index].label(of: event, in: profile)
            }
            for sink in sinks { try sink.consume(event, in: profile) }
            summary.events += 1
        }
    }
}
