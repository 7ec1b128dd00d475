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
/// `maxOpenCaptures` overlapping stops the run.
public final class ProfileRun {
    /// One capture being read.
    private final class OpenCapture {
        /// Place in the capture order: ties in time go to the lower one.
        let index: Int
        /// Its index in `Profile.captures`.
        let profileIndex: Int
        let reader: CaptureReader
        @exclusivity(unchecked) var deltas: DeltaCalculator
        let wordSize: Int64
        @exclusivity(unchecked) var current = Tick()
        var hasCurrent = false
        var lastWall = Int64.min
        let start: Int64

        init(_ capture: CaptureFiles, index: Int, profile: Profile, plan: RunPlan, derived: [(id: MetricID, derivation: Metric.Derivation)]) {
            self.index = index
            reader = CaptureReader(capture: capture, limits: plan.limits)
            deltas = DeltaCalculator(processLimit: plan.limits.maxProcesses, derived: derived)
            let header = capture.files.first?.header
            let info = CaptureInfo(id: capture.id, node: header?.node, wordSize: header?.wordSize)
            wordSize = info.wordSize
            profileIndex = profile.addCapture(info)
            start = header?.startedAt ?? 0
            hasCurrent = reader.nextTick(into: &current, symbols: &profile.symbols, catalogue: &profile.catalogue)
        }

        func advance(_ profile: Profile) {
            hasCurrent = reader.nextTick(into: &current, symbols: &profile.symbols, catalogue: &profile.catalogue)
        }

        var summary: CaptureSummary {
            CaptureSummary(files: reader.reports, openErrors: reader.openErrors, metricEntriesDropped: reader.metricEntriesDropped,
                           metricNamesTooLong: reader.metricNamesTooLong,
                           processes: deltas.processCount, processesForgotten: deltas.forgottenProcesses, skippedSamples: reader.skippedSamples)
        }
    }

    public let plan: RunPlan
    public let profile: Profile
    private let captures: [CaptureFiles]
    private let sinks: [any ProfileSink]
    private let derived: [(id: MetricID, derivation: Metric.Derivation)]
    /// Captures not opened yet, by start time (ties: capture order).
    private var pending: [(index: Int, start: Int64)]
    private var nextPending = 0
    /// Captures being read, in capture order.
    private var open: [OpenCapture] = []
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
        pending = captures.enumerated().map { index, capture in
            (index, capture.files.map(\.header.startedAt).min() ?? Int64.min)
        }.sorted { ($0.start, $0.index) < ($1.start, $1.index) }
        finished = Array(repeating: nil, count: captures.count)
    }

    /// Runs to the end, calling `progress` with the number of ticks done every
    /// 1024 ticks. Sinks are finished unless the run stopped early.
    public func run(progress: ((Int) -> Void)? = nil) throws(OutputError) -> RunSummary {
        var summary = RunSummary()
        // One event for the whole run, a local: outputs borrow it, never copy it.
        var event = ProfileEvent()
        event.categories = Array(repeating: 0, count: plan.levels.count)
        merge: while true {
            // The capture whose tick comes first (ties: capture order).
            var chosen: OpenCapture?
            for capture in open where chosen == nil || capture.current.wallMicros < chosen!.current.wallMicros {
                chosen = capture
            }
            // Open the captures that start before that tick: one of them may come first.
            while nextPending < pending.count, chosen == nil || pending[nextPending].start <= chosen!.current.wallMicros {
                guard open.count < plan.maxOpenCaptures else {
                    summary.stoppedEarly = .tooManyOpenCaptures(tooManyOpen())
                    break merge
                }
                guard let capture = openNext() else { continue }
                if chosen == nil || capture.current.wallMicros < chosen!.current.wallMicros
                    || (capture.current.wallMicros == chosen!.current.wallMicros && capture.index < chosen!.index) {
                    chosen = capture
                }
            }
            guard let capture = chosen else { break }
            try feed(capture, tick: summary.ticks, &event, &summary)
            summary.ticks += 1
            if let over = overSymbolBudget(capture) {
                summary.stoppedEarly = .symbolBudget(over)
                break merge
            }
            if summary.ticks & 1023 == 0 { progress?(summary.ticks) }
            capture.advance(profile)
            if !capture.hasCurrent { close(capture) }
        }
        for capture in open { close(capture) }
        for done in finished.compactMap({ $0 }) { summary.add(done) }
        // A run stopped early is not to be used: its outputs get no end.
        if summary.stoppedEarly == nil {
            for sink in sinks { try sink.finish(profile) }
        }
        return summary
    }

    /// Opens the next pending capture and reads its first tick; nil when it has
    /// none (it is then finished already).
    private func openNext() -> OpenCapture? {
        let index = pending[nextPending].index
        nextPending += 1
        let capture = OpenCapture(captures[index], index: index, profile: profile, plan: plan, derived: derived)
        guard capture.hasCurrent else {
            close(capture)
            return nil
        }
        open.insert(capture, at: open.firstIndex { $0.index > index } ?? open.endIndex)
        return capture
    }

    /// Keeps what the summary needs of a capture and lets go of the rest: its
    /// files, buffers and deltas.
    private func close(_ capture: OpenCapture) {
        finished[capture.index] = capture.summary
        open.removeAll { $0 === capture }
    }

    /// The stacks the outputs show grow with distinct keys of the samples
    /// (function, stack, initial calls); with the symbol tables they stay
    /// within the one budget, or the run stops and says where.
    private func overSymbolBudget(_ capture: OpenCapture) -> String? {
        var held = profile.stacks.byteEstimate + profile.symbols.byteEstimate
        for sink in sinks { held += sink.tableBytes }
        guard held > plan.limits.maxSymbolBytes else { return nil }
        let file = capture.reader.currentPath ?? capture.reader.capture.id
        return "\(file): at byte \(capture.current.offset): the tables of distinct names and stacks hold about \(held) bytes, over the limit of \(plan.limits.maxSymbolBytes)"
    }

    private func tooManyOpen() -> String {
        let capture = captures[pending[nextPending].index]
        let file = capture.files.first?.path ?? capture.id
        return "\(file): capture \(capture.id) starts before \(open.count) other captures given with it have ended: "
            + "at most \(plan.maxOpenCaptures) captures that overlap in time are merged at once"
    }

    /// One tick's samples: deltas, filters, categories, then every sink.
    private func feed(_ capture: OpenCapture, tick serial: Int, _ event: inout ProfileEvent, _ summary: inout RunSummary) throws(OutputError) {
        let wall = capture.current.wallMicros
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
        for sample in capture.current.samples {
            // Deltas first, so a kept sample's delta is against its process's previous sample.
            capture.deltas.compute(sample, in: capture.current, wordSize: capture.wordSize, metricCount: metricCount, into: &event.metrics)
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
