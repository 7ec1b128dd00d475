import FlameDump

/// Writes samples as `perf script` text, one event and its frames per sample.
///
/// Everything that repeats is made once: frame blocks per (function, stack,
/// initial calls), metric name prefixes per metric. A sample then costs its
/// numbers' digits and a copy of cached bytes into one reused buffer.
public struct PerfScriptEmitter {
    public let dialect: PerfDialect
    public let categoriser: Categoriser
    /// The output buffer; the caller drains it when it grows past a threshold.
    public var buffer: [UInt8] = []
    /// Where in `buffer` the last digit of each timestamp written since
    /// `buffer` was last emptied stands, so a final timestamp can be moved 1 µs.
    public var timestampEnds: [Int] = []

    /// Per capture: ids are the capture's own.
    public struct CaptureState {
        var blocks: [FrameText.Key: [UInt8]] = [:]
        var blocksEpoch = 0
        var metricPrefixes: [[UInt8]] = []
        var comms: [UInt32: [UInt8]] = [:]
        /// Portable dialect: the metric slots every event line carries, fixed by the first one.
        var schema: [Int]?
        var schemaScratch: [MetricValue] = []
        public internal(set) var metricsDropped = 0
        public init() {}
    }

    public init(dialect: PerfDialect, categoriser: Categoriser = Categoriser()) {
        self.dialect = dialect
        self.categoriser = categoriser
        buffer.reserveCapacity(2 << 20)
    }

    /// Appends one sample. `wallMicros` is the tick's wall time.
    public mutating func emit(_ sample: ProcessSample, wallMicros: Int64, metrics: [MetricValue], metricNames: [String], symbols: Symbols, state: inout CaptureState) {
        let portable = dialect == .portable
        // comm: the first category level.
        let firstLevel = categoriser.levels[0]
        if firstLevel == .status, let cached = state.comms[sample.status] {
            buffer.append(contentsOf: cached)
        } else {
            let name = firstLevel.category(for: sample, symbols: symbols)
            let comm = portable ? FrameText.portableComm(name) : name
            if firstLevel == .status { state.comms[sample.status] = comm }
            buffer.append(contentsOf: comm)
        }
        if portable {
            let tid = Self.threadID(number: sample.pidNumber, serial: sample.pidSerial)
            buffer.append(0x20)
            appendDecimal(tid)
            buffer.append(UInt8(ascii: "/"))
            appendDecimal(tid)
        } else {
            buffer.append(contentsOf: [0x09, UInt8(ascii: "0"), UInt8(ascii: ".")])
            appendDecimal(Int64(sample.pidNumber))
            buffer.append(UInt8(ascii: "."))
            appendDecimal(Int64(sample.pidSerial))
        }
        buffer.append(contentsOf: Self.cpuField)
        appendTime(wallMicros)
        timestampEnds.append(buffer.count - 1)
        buffer.append(contentsOf: portable ? Self.portableEvent : Self.flameProfEvent)
        appendMetrics(metrics, metricNames, &state)
        buffer.append(0x0A)

        if state.blocksEpoch != symbols.stackEpoch {
            state.blocks.removeAll()
            state.blocksEpoch = symbols.stackEpoch
        }
        let key = FrameText.Key(currentFunction: sample.currentFunction, stack: sample.stack, initialCall: sample.initialCall, dictionaryInitialCall: sample.dictionaryInitialCall)
        if let block = state.blocks[key] {
            buffer.append(contentsOf: block)
        } else {
            let block = FrameText.block(key, symbols: symbols, dialect: dialect)
            state.blocks[key] = block
            buffer.append(contentsOf: block)
        }
        // Later levels are pseudo frames at the root, the second level outermost.
        for level in categoriser.levels.dropFirst().reversed() {
            buffer.append(contentsOf: FrameText.categoryLine(level.category(for: sample, symbols: symbols), dialect: dialect))
        }
        buffer.append(0x0A)
    }

    private static let cpuField = Array(" [000] ".utf8)
    private static let flameProfEvent = Array(": cpu-clock:".utf8)
    private static let portableEvent = Array(": 1 cpu-clock:".utf8)

    /// A positive thread id for `<0.number.serial>`: the readers need integers,
    /// and some treat 0 as "none". OTP's local pid numbers are below 2^15 and
    /// serials below 2^13, so `serial * 2^15 + number` is unique and fits; the
    /// one pid it maps to 0, `<0.0.0>` (init), becomes 2^28.
    static func threadID(number: UInt32, serial: UInt32) -> Int64 {
        let id = Int64(serial) << 15 + Int64(number)
        return id == 0 ? 1 << 28 : id
    }

    private mutating func appendMetrics(_ metrics: [MetricValue], _ names: [String], _ state: inout CaptureState) {
        if dialect == .portable {
            // Every event line carries the same metrics: FlameScope reuses the previous
            // line's value for a missing one.
            if state.schema == nil { state.schema = metrics.map(\.slot) }
            let schema = state.schema!
            if metrics.count != schema.count || !zip(metrics, schema).allSatisfy({ $0.slot == $1 }) {
                state.schemaScratch.removeAll(keepingCapacity: true)
                for slot in schema {
                    state.schemaScratch.append(metrics.first { $0.slot == slot } ?? MetricValue(slot: slot, value: 0, delta: 0))
                }
                state.metricsDropped += metrics.filter { !schema.contains($0.slot) }.count
                let uniform = state.schemaScratch
                for metric in uniform { appendMetric(metric, names, &state) }
                return
            }
        }
        for metric in metrics { appendMetric(metric, names, &state) }
    }

    private mutating func appendMetric(_ metric: MetricValue, _ names: [String], _ state: inout CaptureState) {
        while state.metricPrefixes.count <= metric.slot {
            state.metricPrefixes.append(Array("\tmetric_erlang_\(names[state.metricPrefixes.count]): ".utf8))
        }
        buffer.append(contentsOf: state.metricPrefixes[metric.slot])
        appendDecimal(metric.value)
        buffer.append(contentsOf: [UInt8(ascii: ","), 0x20])
        appendDecimal(metric.delta)
    }

    /// `SECONDS.MICROS`, six decimals.
    mutating func appendTime(_ micros: Int64) {
        var micros = micros
        if micros < 0 {
            buffer.append(UInt8(ascii: "-"))
            micros = -micros
        }
        appendDecimal(micros / 1_000_000)
        buffer.append(UInt8(ascii: "."))
        var fraction = micros % 1_000_000
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            for i in stride(from: 5, through: 0, by: -1) {
                raw[i] = UInt8(fraction % 10) + 0x30
                fraction /= 10
            }
            buffer.append(contentsOf: raw)
        }
    }

    @inline(__always)
    mutating func appendDecimal(_ value: Int64) {
        if value >= 0 && value < 10 {
            buffer.append(UInt8(value) + 0x30)
            return
        }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, 20 digits needed
        withUnsafeMutableBytes(of: &digits) { raw in
            var i = 24
            while magnitude > 0 {
                i -= 1
                raw[i] = UInt8(magnitude % 10) + 0x30
                magnitude /= 10
            }
            if value < 0 { buffer.append(UInt8(ascii: "-")) }
            buffer.append(contentsOf: raw[i...])
        }
    }
}
