import FlameDump
import FlameModel
import FlameFormats

/// What a conversion asks for.
public struct ConvertOptions: Sendable {
    public var dialect: PerfDialect
    public var categoriser: Categoriser
    public var filter: SampleFilter
    public var limits: DumpLimits
    /// Most captures read at the same time: those whose ticks overlap in time.
    public var maxOpenCaptures: Int

    public static let defaultMaxOpenCaptures = 256

    public init(dialect: PerfDialect = .portable, categoriser: Categoriser = Categoriser(), filter: SampleFilter = SampleFilter(), limits: DumpLimits = .default,
                maxOpenCaptures: Int = ConvertOptions.defaultMaxOpenCaptures) {
        self.dialect = dialect
        self.categoriser = categoriser
        self.filter = filter
        self.limits = limits
        self.maxOpenCaptures = maxOpenCaptures
    }
}

/// What a conversion did, for the user.
public struct ConvertSummary: Sendable {
    public var events = 0
    public var ticks = 0
    public var skippedSamples: [String: Int] = [:]
    public var files: [CaptureReader.FileReport] = []
    public var openErrors: [DumpError] = []
    public var ticksOutOfOrder = 0
    public var metricsDropped = 0
    /// `garbage_collection_info` entries past the most metric names kept.
    public var metricEntriesDropped = 0
    /// Processes forgotten to stay within `DumpLimits.maxProcesses`.
    public var processesForgotten = 0
    /// Portable dialect: a last timestamp on a whole second was moved 1 µs later.
    public var nudgedLastTimestamp = false
    /// Why the conversion stopped before the end, when it did: its text is then incomplete.
    public var stoppedEarly: String?
}

/// Converts captures to perf text: reader → deltas → filter → categories → emitter.
///
/// Captures given together are merged by tick time into one stream (each keeps
/// its own deltas and names); within a capture, files follow `seq` order.
///
/// A capture is opened only when the merge reaches its start (the earliest
/// `started_at` of its files) and closed when its last tick is written, so
/// descriptors and memory follow the captures that overlap in time, not all
/// the captures given. More than `maxOpenCaptures` overlapping stops the job.
public final class ConvertJob {
    private final class Stream {
        /// Place in the capture order: ties in time go to the lower one.
        let index: Int
        let reader: CaptureReader
        var deltas: DeltaCalculator
        var state = PerfScriptEmitter.CaptureState()
        var current = Tick()
        var hasCurrent = false
        var lastWall = Int64.min
        let captureStart: Int64

        init(_ capture: CaptureFiles, index: Int, limits: DumpLimits) {
            self.index = index
            reader = CaptureReader(capture: capture, limits: limits)
            deltas = DeltaCalculator(processLimit: limits.maxProcesses)
            captureStart = capture.files.first?.header.startedAt ?? 0
            hasCurrent = reader.nextTick(into: &current)
        }

        /// Reads the next tick. Only after the current one is written: reading
        /// may start a new stack epoch, which retires the current tick's stack ids.
        func advance() {
            hasCurrent = reader.nextTick(into: &current)
        }
    }

    /// What a finished capture leaves for the summary.
    private struct Finished {
        var files: [CaptureReader.FileReport]
        var openErrors: [DumpError]
        var metricsDropped: Int
        var metricEntriesDropped: Int
        var processesForgotten: Int
        var skippedSamples: [String: Int]
    }

    public let options: ConvertOptions
    private let captures: [CaptureFiles]
    /// Indices of captures not opened yet, by start time (ties: capture order), and their starts.
    private var pending: [(index: Int, start: Int64)]
    private var nextPending = 0
    /// Captures being read, in capture order.
    private var open: [Stream] = []
    private var finished: [Finished?]
    private var emitter: PerfScriptEmitter
    private var metrics: [MetricValue] = []

    public init(captures: [CaptureFiles], options: ConvertOptions) {
        self.options = options
        self.captures = captures
        pending = captures.enumerated().map { index, capture in
            (index, capture.files.map(\.header.startedAt).min() ?? Int64.min)
        }.sorted { ($0.start, $0.index) < ($1.start, $1.index) }
        finished = Array(repeating: nil, count: captures.count)
        emitter = PerfScriptEmitter(dialect: options.dialect, categoriser: options.categoriser)
    }

    /// Runs to the end, handing output to `drain` in chunks of about `chunk`
    /// bytes, and `progress` the number of ticks done every 1024 ticks.
    public func run<E: Error>(chunk: Int = 1 << 20, drain: ([UInt8]) throws(E) -> Void, progress: ((Int) -> Void)? = nil) throws(E) -> ConvertSummary {
        var summary = ConvertSummary()
        var lastWall: Int64?
        // Where the text of the last tick that wrote events starts in the buffer.
        var lastEventTickStart = 0
        merge: while true {
            // The stream whose tick comes first (ties: capture order).
            var chosen: Stream?
            for stream in open {
                if chosen == nil || stream.current.wallMicros < chosen!.current.wallMicros { chosen = stream }
            }
            // Open the captures that start before that tick: one of them may come first.
            while nextPending < pending.count, chosen == nil || pending[nextPending].start <= chosen!.current.wallMicros {
                guard open.count < options.maxOpenCaptures else {
                    summary.stoppedEarly = tooManyOpen()
                    break merge
                }
                guard let stream = openNext() else { continue }
                if chosen == nil || stream.current.wallMicros < chosen!.current.wallMicros
                    || (stream.current.wallMicros == chosen!.current.wallMicros && stream.index < chosen!.index) {
                    chosen = stream
                }
            }
            guard let stream = chosen else { break }
            // Drain all but the text of the last tick that wrote events, so that
            // tick's timestamps can still be moved at the end.
            if buffered >= chunk && lastEventTickStart > 0 {
                try drain(Array(emitter.buffer[..<lastEventTickStart]))
                emitter.buffer.removeSubrange(..<lastEventTickStart)
                for i in emitter.timestampEnds.indices { emitter.timestampEnds[i] -= lastEventTickStart }
                lastEventTickStart = 0
            }
            let tickStart = emitter.buffer.count
            let endsBefore = emitter.timestampEnds.count
            let eventsBefore = summary.events
            emitTick(stream, &summary)
            if summary.events > eventsBefore {
                lastWall = stream.current.wallMicros
                lastEventTickStart = tickStart
                emitter.timestampEnds.removeSubrange(..<endsBefore)
            }
            summary.ticks += 1
            if summary.ticks & 1023 == 0 { progress?(summary.ticks) }
            stream.advance()
            if !stream.hasCurrent { close(stream) }
        }
        // FlameScope's heat map fails when the last event falls exactly on a whole
        // second: move the last tick's timestamps 1 µs later (".000000" -> ".000001").
        if options.dialect == .portable, let lastWall, lastWall % 1_000_000 == 0 {
            for end in emitter.timestampEnds { emitter.buffer[end] = UInt8(ascii: "1") }
            summary.nudgedLastTimestamp = !emitter.timestampEnds.isEmpty
        }
        // A job stopped early is not to be used: hand out no more of it.
        if summary.stoppedEarly == nil { try drain(emitter.buffer) }
        emitter.buffer.removeAll(keepingCapacity: true)
        for stream in open { close(stream) }
        for done in finished.compactMap({ $0 }) {
            summary.files += done.files
            summary.openErrors += done.openErrors
            summary.metricsDropped += done.metricsDropped
            summary.metricEntriesDropped += done.metricEntriesDropped
            summary.processesForgotten += done.processesForgotten
            for (reason, count) in done.skippedSamples { summary.skippedSamples[reason, default: 0] += count }
        }
        return summary
    }

    /// Opens the next pending capture and reads its first tick; nil when it has none
    /// (it is then finished already).
    private func openNext() -> Stream? {
        let index = pending[nextPending].index
        nextPending += 1
        let stream = Stream(captures[index], index: index, limits: options.limits)
        guard stream.hasCurrent else {
            close(stream)
            return nil
        }
        open.insert(stream, at: open.firstIndex { $0.index > index } ?? open.endIndex)
        return stream
    }

    /// Keeps what the summary needs of a capture and lets go of the rest: its
    /// files, buffers, names and deltas.
    private func close(_ stream: Stream) {
        var skipped = stream.reader.skippedSamples
        for (reason, count) in stream.deltas.skippedSamples { skipped[reason, default: 0] += count }
        finished[stream.index] = Finished(files: stream.reader.reports, openErrors: stream.reader.openErrors,
                                          metricsDropped: stream.state.metricsDropped,
                                          metricEntriesDropped: stream.deltas.metricEntriesDropped,
                                          processesForgotten: stream.deltas.forgottenProcesses, skippedSamples: skipped)
        open.removeAll { $0 === stream }
    }

    private func tooManyOpen() -> String {
        let capture = captures[pending[nextPending].index]
        let file = capture.files.first?.path ?? capture.id
        return "\(file): capture \(capture.id) starts before \(open.count) other captures given with it have ended: "
            + "at most \(options.maxOpenCaptures) captures that overlap in time are merged at once; "
            + "convert fewer captures together, or raise --max-open-captures"
    }

    private var buffered: Int { emitter.buffer.count }

    private func emitTick(_ stream: Stream, _ summary: inout ConvertSummary) {
        let tick = stream.current
        if tick.wallMicros < stream.lastWall { summary.ticksOutOfOrder += 1 }
        stream.lastWall = tick.wallMicros
        let wall = tick.wallMicros
        let inRange = options.filter.keeps(tickAt: tick.wallMicros, captureStart: stream.captureStart)
        let symbols = stream.reader.symbols
        for sample in tick.samples {
            // Deltas first, so a kept sample's delta is against its process's previous sample.
            guard stream.deltas.metrics(for: sample, gcInfo: tick.gcInfo[sample.gcInfo], symbols: symbols, into: &metrics) else { continue }
            guard inRange, options.filter.keeps(sample, symbols: symbols) else { continue }
            emitter.emit(sample, wallMicros: wall, metrics: metrics, metricNames: stream.deltas.metricNames, symbols: symbols, state: &stream.state)
            summary.events += 1
        }
    }
}
