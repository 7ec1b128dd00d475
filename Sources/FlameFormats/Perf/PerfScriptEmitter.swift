import FlameDump
import FlameModel

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
        /// Frame blocks, each a range of `blockBytes`.
        var blocks: [FrameText.Key: Range<Int>] = [:]
        var blockBytes: [UInt8] = []
        var blocksEpoch = 0
        /// The last key looked up and its block: consecutive samples often share one.
        var lastKey: FrameText.Key?
        var lastBlock: Range<Int> = 0..<0
        /// `\tmetric_erlang_NAME: ` per slot, each a range of `prefixBytes`.
        var metricPrefixes: [Range<Int>] = []
        var prefixBytes: [UInt8] = []
        var comms: [UInt32: [UInt8]] = [:]
        /// Portable dialect: the metric slots every event line carries, fixed by the first one.
        var schema: [Int]?
        var schemaScratch: [MetricValue] = []
        public internal(set) var metricsDropped = 0
        public init() {}
    }

    /// Where an event line is put together before one copy into `buffer`.
    private let line = LineScratch()

    public init(dialect: PerfDialect, categoriser: Categoriser = Categoriser()) {
        self.dialect = dialect
        self.categoriser = categoriser
        buffer.reserveCapacity(2 << 20)
    }

    final class LineScratch {
        var base: UnsafeMutablePointer<UInt8>
        var capacity: Int
        init() {
            capacity = 4096
            base = .allocate(capacity: capacity)
        }
        func reserve(_ n: Int) {
            guard n > capacity else { return }
            base.deallocate()
            capacity = max(n, capacity * 2)
            base = .allocate(capacity: capacity)
        }
        deinit { base.deallocate() }
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
        // The rest of the event line: put together in the scratch, copied once.
        let uniform = portable ? uniformMetrics(metrics, &state) : metrics
        var bound = 128
        for metric in uniform {
            while state.metricPrefixes.count <= metric.slot {
                let start = state.prefixBytes.count
                state.prefixBytes.append(contentsOf: "\tmetric_erlang_\(metricNames[state.metricPrefixes.count]): ".utf8)
                state.metricPrefixes.append(start..<state.prefixBytes.count)
            }
            bound += state.metricPrefixes[metric.slot].count + 44
        }
        line.reserve(bound)
        var p = line.base
        if portable {
            let tid = Self.threadID(number: sample.pidNumber, serial: sample.pidSerial)
            p.put(0x20)
            p.putDecimal(tid)
            p.put(UInt8(ascii: "/"))
            p.putDecimal(tid)
        } else {
            p.put(0x09); p.put(UInt8(ascii: "0")); p.put(UInt8(ascii: "."))
            p.putDecimal(Int64(sample.pidNumber))
            p.put(UInt8(ascii: "."))
            p.putDecimal(Int64(sample.pidSerial))
        }
        p.put(Self.cpuField)
        p.putTime(wallMicros)
        let timestampEnd = buffer.count + (p - line.base) - 1
        p.put(portable ? Self.portableEvent : Self.flameProfEvent)
        state.prefixBytes.withUnsafeBufferPointer { prefixes in
            for metric in uniform {
                let range = state.metricPrefixes[metric.slot]
                p.put(UnsafeBufferPointer(rebasing: prefixes[range]))
                p.putDecimal(metric.value)
                p.put(UInt8(ascii: ","))
                p.put(0x20)
                p.putDecimal(metric.delta)
            }
        }
        p.put(0x0A)
        buffer.append(contentsOf: UnsafeBufferPointer(start: line.base, count: p - line.base))
        timestampEnds.append(timestampEnd)

        if state.blocksEpoch != symbols.stackEpoch {
            state.blocks.removeAll()
            state.blockBytes.removeAll()
            state.lastKey = nil
            state.blocksEpoch = symbols.stackEpoch
        }
        let key = FrameText.Key(currentFunction: sample.currentFunction, stack: sample.stack, initialCall: sample.initialCall, dictionaryInitialCall: sample.dictionaryInitialCall)
        let range: Range<Int>
        if key == state.lastKey {
            range = state.lastBlock
        } else if let known = state.blocks[key] {
            range = known
        } else {
            let block = FrameText.block(key, symbols: symbols, dialect: dialect)
            if state.blockBytes.count + block.count > Self.blockCacheLimit {
                // Dumps whose stacks rarely repeat would grow the cache to the next
                // stack epoch; start it over instead (its capacity is kept).
                state.blocks.removeAll(keepingCapacity: true)
                state.blockBytes.removeAll(keepingCapacity: true)
            }
            let start = state.blockBytes.count
            state.blockBytes.append(contentsOf: block)
            range = start..<state.blockBytes.count
            state.blocks[key] = range
        }
        state.lastKey = key
        state.lastBlock = range
        state.blockBytes.withUnsafeBufferPointer { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
        // Later levels are pseudo frames at the root, the second level outermost.
        if categoriser.levels.count > 1 {
            for level in categoriser.levels.dropFirst().reversed() {
                buffer.append(contentsOf: FrameText.categoryLine(level.category(for: sample, symbols: symbols), dialect: dialect))
            }
        }
        buffer.append(0x0A)
    }

    /// Bytes of frame block text kept; real captures' blocks fit many times over.
    static let blockCacheLimit = 4 << 20

    private static let cpuField: StaticString = " [000] "
    private static let flameProfEvent: StaticString = ": cpu-clock:"
    private static let portableEvent: StaticString = ": 1 cpu-clock:"

    /// A positive thread id for `<0.number.serial>`: the readers need integers,
    /// and some treat 0 as "none". OTP's local pid numbers are below 2^15 and
    /// serials below 2^13, so `serial * 2^15 + number` is unique and fits; the
    /// one pid it maps to 0, `<0.0.0>` (init), becomes 2^28.
    static func threadID(number: UInt32, serial: UInt32) -> Int64 {
        let id = Int64(serial) << 15 + Int64(number)
        return id == 0 ? 1 << 28 : id
    }

    /// Portable dialect: every event line carries the same metrics (FlameScope
    /// reuses the previous line's value for a missing one), the first line's.
    private func uniformMetrics(_ metrics: [MetricValue], _ state: inout CaptureState) -> [MetricValue] {
        if state.schema == nil { state.schema = metrics.map(\.slot) }
        let schema = state.schema!
        if metrics.count == schema.count && zip(metrics, schema).allSatisfy({ $0.slot == $1 }) { return metrics }
        state.schemaScratch.removeAll(keepingCapacity: true)
        for slot in schema {
            state.schemaScratch.append(metrics.first { $0.slot == slot } ?? MetricValue(slot: slot, value: 0, delta: 0))
        }
        state.metricsDropped += metrics.filter { !schema.contains($0.slot) }.count
        return state.schemaScratch
    }

    /// `SECONDS.MICROS`, six decimals.
    mutating func appendTime(_ micros: Int64) {
        appendScratch { $0.putTime(micros) }
    }

    mutating func appendDecimal(_ value: Int64) {
        appendScratch { $0.putDecimal(value) }
    }

    /// Up to 40 bytes written by `body`, appended to `buffer`.
    private mutating func appendScratch(_ body: (inout UnsafeMutablePointer<UInt8>) -> Void) {
        var scratch: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { raw in
            let start = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var p = start
            body(&p)
            buffer.append(contentsOf: UnsafeBufferPointer(start: start, count: p - start))
        }
    }
}

/// Unchecked writes into `PerfScriptEmitter`'s line scratch, which is reserved
/// for the whole line beforehand.
extension UnsafeMutablePointer where Pointee == UInt8 {
    @inline(__always)
    mutating func put(_ byte: UInt8) {
        pointee = byte
        self += 1
    }

    @inline(__always)
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        update(from: base, count: bytes.count)
        self += bytes.count
    }

    @inline(__always)
    mutating func put(_ text: StaticString) {
        update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        self += text.utf8CodeUnitCount
    }

    @inline(__always)
    mutating func putDecimal(_ value: Int64) {
        if value >= 0 && value < 10 {
            put(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        if value < 0 { put(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var q = self + digits
        self = q
        repeat {
            q -= 1
            q.pointee = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
            magnitude /= 10
        } while magnitude > 0
    }

    /// `SECONDS.MICROS`, six decimals.
    @inline(__always)
    mutating func putTime(_ micros: Int64) {
        // From the magnitude: -Int64.min does not fit in Int64.
        if micros < 0 { put(UInt8(ascii: "-")) }
        let magnitude = micros.magnitude
        putDecimal(Int64(magnitude / 1_000_000))
        put(UInt8(ascii: "."))
        var fraction = magnitude % 1_000_000
        var q = self + 6
        self = q
        for _ in 0..<6 {
            q -= 1
            q.pointee = UInt8(truncatingIfNeeded: fraction % 10) &+ 0x30
            fraction /= 10
        }
    }
}
