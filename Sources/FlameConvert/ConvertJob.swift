import FlameDump

/// What a conversion asks for.
public struct ConvertOptions: Sendable {
    public var dialect: PerfDialect
    public var categoriser: Categoriser
    public var filter: SampleFilter
    public var limits: DumpLimits

    public init(dialect: PerfDialect = .portable, categoriser: Categoriser = Categoriser(), filter: SampleFilter = SampleFilter(), limits: DumpLimits = .default) {
        self.dialect = dialect
        self.categoriser = categoriser
        self.filter = filter
        self.limits = limits
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
}

/// Converts captures to perf text: reader → deltas → filter → categories → emitter.
///
/// Captures given together are merged by tick time into one stream (each keeps
/// its own deltas and names); within a capture, files follow `seq` order.
public final class ConvertJob {
    private final class Stream {
        let reader: CaptureReader
        var deltas: DeltaCalculator
        var state = PerfScriptEmitter.CaptureState()
        var current = Tick()
        var hasCurrent = false
        var lastWall = Int64.min
        let captureStart: Int64

        init(_ capture: CaptureFiles, limits: DumpLimits) {
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

    public let options: ConvertOptions
    private let streams: [Stream]
    private var emitter: PerfScriptEmitter
    private var metrics: [MetricValue] = []

    public init(captures: [CaptureFiles], options: ConvertOptions) {
        self.options = options
        streams = captures.map { Stream($0, limits: options.limits) }
        emitter = PerfScriptEmitter(dialect: options.dialect, categoriser: options.categoriser)
    }

    /// Runs to the end, handing output to `drain` in chunks of about `chunk`
    /// bytes, and `progress` the number of ticks done every 1024 ticks.
    public func run<E: Error>(chunk: Int = 1 << 20, drain: ([UInt8]) throws(E) -> Void, progress: ((Int) -> Void)? = nil) throws(E) -> ConvertSummary {
        var summary = ConvertSummary()
        var lastWall: Int64?
        // Where the text of the last tick that wrote events starts in the buffer.
        var lastEventTickStart = 0
        while true {
            // The stream whose tick comes first (ties: capture order).
            var chosen: Stream?
            for stream in streams where stream.hasCurrent {
                if chosen == nil || stream.current.wallMicros < chosen!.current.wallMicros { chosen = stream }
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
        }
        // FlameScope's heat map fails when the last event falls exactly on a whole
        // second: move the last tick's timestamps 1 µs later (".000000" -> ".000001").
        if options.dialect == .portable, let lastWall, lastWall % 1_000_000 == 0 {
            for end in emitter.timestampEnds { emitter.buffer[end] = UInt8(ascii: "1") }
            summary.nudgedLastTimestamp = !emitter.timestampEnds.isEmpty
        }
        try drain(emitter.buffer)
        emitter.buffer.removeAll(keepingCapacity: true)
        for stream in streams {
            summary.files += stream.reader.reports
            summary.openErrors += stream.reader.openErrors
            summary.metricsDropped += stream.state.metricsDropped
            summary.metricEntriesDropped += stream.deltas.metricEntriesDropped
            summary.processesForgotten += stream.deltas.forgottenProcesses
            for (reason, count) in stream.reader.skippedSamples { summary.skippedSamples[reason, default: 0] += count }
            for (reason, count) in stream.deltas.skippedSamples { summary.skippedSamples[reason, default: 0] += count }
        }
        return summary
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
