import FlameDump
import FlameFormats
import FlameModel
#if canImport(Glibc)
import Glibc
#endif

/// The one pass: reads captures, computes deltas, filters, groups, and hands
/// every event to every sink.
///
/// Captures given together are merged by tick time into one stream (each keeps
/// its own deltas); within a capture, files follow `seq` order. A capture is
/// opened only when the merge reaches its start (the earliest `started_at` of
/// its files) and closed after its last tick, so descriptors and memory follow
/// the captures that overlap in time, not all the captures given. More than
/// `maxOpenCaptures` overlapping stops the run (`CaptureMerge`).
///
/// With `RunPlan.threads` 2, a reader thread reads and parses while the
/// calling thread does the rest (`TickPipeline.swift`); the outputs and the
/// summary are the same as with one thread, byte for byte. Sinks are only
/// ever called on the calling thread.
public final class ProfileRun {
    /// A capture as the converting side keeps it: its place among the
    /// outputs' captures, and its deltas.
    private final class CaptureState {
        let profileIndex: Int
        @exclusivity(unchecked) var deltas: DeltaCalculator
        let wordSize: Int64
        let start: Int64
        var lastWall = Int64.min
        /// A pipelined run's copy of what the capture's reader reported so far.
        var counts = ReaderCounts()

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

    /// How a pipelined run batches its ticks (docs/LIMITS.md, "Threads").
    struct PipelineShape {
        /// Batches in flight between the two threads: the one the reader
        /// fills, the one being converted, and the others waiting (so the
        /// reader can run ahead while the converting thread waits for a core).
        var batches = 8
        /// A batch is sent once it holds this many ticks, or this many bytes
        /// of samples and values (about 1,600 samples): small enough that
        /// the first batch, read before any converting, and the last one,
        /// converted after all reading, are a small part of a run; large
        /// enough that handing one over (a lock, a wake-up) costs nothing
        /// next to its ticks.
        var batchTicks = 64
        var batchBytes = 256 << 10
        /// The run's thread mirrors the reader's tables (`Symbols.mirrorByteEstimate`)
        /// up to this many bytes; past them, it takes the reader's tables and
        /// reading over and goes on alone, so tables of endless variety are
        /// not held twice. Real captures mirror kilobytes; 4 MiB keeps a dump
        /// of endless distinct frames within the address space one thread
        /// needs, give or take 20 MiB (docs/LIMITS.md, "Threads").
        var handOffBytes = 4 << 20
    }

    /// Tests make it small, to cross many batch boundaries with small inputs.
    var pipelineShape = PipelineShape()
    /// The ticks converted when this thread took the reading over, if it did.
    private(set) var handOffTick: Int?
    /// How long a run that stops early waits for its reader thread to
    /// notice, before it leaves it to end on its own: a reader waiting for
    /// a pipe that says nothing must not hold up the error.
    static let readerStopWaitMilliseconds = 250

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
        if plan.threads >= 2, !captures.isEmpty, try runPipelined(&summary, progress) {
            // Done on two threads.
        } else {
            try runDirect(&summary, progress)
        }
        for done in finished.compactMap({ $0 }) { summary.add(done) }
        // A run stopped early is not to be used: its outputs get no end.
        if summary.stoppedEarly == nil {
            for sink in sinks { try sink.finish(profile) }
        }
        return summary
    }

    /// One thread reads and converts in turn, into the run's own tables.
    private func runDirect(_ summary: inout RunSummary, _ progress: ((Int) -> Void)?) throws(OutputError) {
        try convert(CaptureMerge(captures: captures, limits: plan.limits, maxOpenCaptures: plan.maxOpenCaptures), &summary, progress)
    }

    /// Reads `merge` to its end or a stop, converting each tick in turn: the
    /// whole of a run on one thread, the rest of a pipelined one after a hand-off.
    private func convert(_ merge: CaptureMerge, _ summary: inout RunSummary, _ progress: ((Int) -> Void)?) throws(OutputError) {
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

    /// A reader thread reads into tables of its own; this thread mirrors them
    /// and converts; past `PipelineShape.handOffBytes` of mirrored tables, this
    /// thread takes the reader's over and goes on alone. False when no thread
    /// could be started (nothing was read).
    private func runPipelined(_ summary: inout RunSummary, _ progress: ((Int) -> Void)?) throws(OutputError) -> Bool {
        let shape = pipelineShape
        let channel = BatchChannel(batches: shape.batches)
        let job = ReaderJob(channel: channel, captures: captures, limits: plan.limits, maxOpenCaptures: plan.maxOpenCaptures,
                            catalogue: profile.catalogue, batchTicks: shape.batchTicks, batchBytes: shape.batchBytes,
                            handOffBytes: shape.handOffBytes)
        guard let thread = ReaderThread.start(job) else { return false }
        var event = ProfileEvent()
        event.categories = Array(repeating: 0, count: plan.levels.count)
        // True when the reader sent its last step; false when this side stops it.
        var readerEnded = false
        do throws(OutputError) {
            batches: while true {
                let batch = channel.receive()
                for step in batch.steps {
                    switch step {
                    case .opened(let index, let info, let start):
                        opened(index, info, start)
                    case .fileRead(let index, let report):
                        states[index]!.counts.files.append(report)
                    case .openError(let index, let error):
                        states[index]!.counts.openErrors.append(error)
                    case .counted(let index, let what, let seen):
                        states[index]!.counts.add(what, seen)
                    case .tick(let index, let slot, let file, let tables):
                        mirror(batch, tables)
                        try feed(states[index]!, batch.ticks[slot], tick: summary.ticks, &event, &summary)
                        summary.ticks += 1
                        if let over = overSymbolBudget((file, batch.ticks[slot].offset)) {
                            summary.stoppedEarly = .symbolBudget(over)
                            break batches
                        }
                        if summary.ticks & 1023 == 0 { progress?(summary.ticks) }
                    case .closed(let index):
                        close(index, states[index]!.counts)
                    case .tooManyOpen(let text, let tables):
                        mirror(batch, tables)
                        summary.stoppedEarly = .tooManyOpenCaptures(text)
                        readerEnded = true
                        break batches
                    case .end(let tables), .handOff(let tables):
                        mirror(batch, tables)
                        readerEnded = true
                        break batches
                    }
                }
                batch.reset(keptBytes: 2 * shape.batchBytes)
                channel.giveBack(batch)
            }
        } catch {
            Self.stop(thread, channel)
            throw error
        }
        if readerEnded {
            pthread_join(thread, nil)
        } else {
            Self.stop(thread, channel)
        }
        if summary.stoppedEarly == nil, let reader = job.takeOver() {
            // The reader's tables hold what the mirror holds, and lookup
            // tables: they replace it, and the mirror's copies are let go.
            precondition(reader.symbols.counts == profile.symbols.counts && reader.catalogue.counts == profile.catalogue.counts,
                         "the reader handed off tables the run does not mirror")
            profile.symbols = reader.symbols
            profile.catalogue = reader.catalogue
            handOffTick = summary.ticks
            reader.merge.stopLoggingCounts()
            try convert(reader.merge, &summary, progress)
            return true
        }
        // Stopped early: what the captures still open did so far.
        for index in states.indices {
            if let state = states[index] { close(index, state.counts) }
        }
        return true
    }

    /// Stops a reader that has not ended: it stops at its next step. A
    /// reader that does not answer soon (waiting for a pipe) is left to end
    /// on its own; it holds nothing the run still uses.
    private static func stop(_ thread: pthread_t, _ channel: BatchChannel) {
        channel.cancel()
        if channel.waitForReader(milliseconds: readerStopWaitMilliseconds) {
            pthread_join(thread, nil)
        } else {
            pthread_detach(thread)
        }
    }

    /// Appends to the run's tables what the reader's held when it read the tick.
    @inline(__always)
    private func mirror(_ batch: TickBatch, _ tables: PipelineTables) {
        if profile.symbols.counts != tables.symbols { profile.symbols.append(batch.symbols, upTo: tables.symbols) }
        if profile.catalogue.counts != tables.catalogue { profile.catalogue.append(batch.catalogue, upTo: tables.catalogue) }
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
        for place in tick.samples.indices {
            let sample = tick.samples[place]
            // Deltas first, so a kept sample's delta is against its process's previous sample.
            capture.deltas.compute(sample, at: place, in: tick, wordSize: capture.wordSize, metricCount: metricCount, into: &event.metrics)
            guard inRange, !filtering || filter.keeps(sample, symbols: symbols) else { continue }
            event.sample = sample
            event.stack = profile.stack(of: sample, at: place, symbols: symbols)
            for index in levels.indices {
                event.categories[index] = levels[index].label(of: event, in: profile)
            }
            for sink in sinks { try sink.consume(event, in: profile) }
            summary.events += 1
        }
    }
}
