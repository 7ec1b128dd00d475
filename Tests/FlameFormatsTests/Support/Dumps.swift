import ETF
import Testing
@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
import FlameDump
#if canImport(Glibc)
import Glibc
#endif

/// One `{Pid, Items}` of a samples term, with every item the agent asks for;
/// tests change or drop single items.
struct SampleSpec {
    var pid: (UInt32, UInt32)
    var items: [(String, [UInt8])]

    init(pid: (UInt32, UInt32) = (85, 0), status: String = "running", reductions: Int64 = 100, messageQueueLen: Int64 = 0,
         memory: Int64 = 2000, totalHeapSize: Int64 = 300, minorGCs: Int64 = 0,
         gcInfo: [(String, Int64)] = [("old_heap_block_size", 0), ("heap_block_size", 233)],
         currentFunction: [UInt8] = E.mfa("m", "loop", 1),
         stack: [[UInt8]] = [E.frame("m", "loop", 1, file: "m.erl", line: 10)],
         initialCall: [UInt8] = E.mfa("proc_lib", "init_p", 5),
         dictionary: [[UInt8]] = [E.tuple(E.atom("$initial_call"), E.mfa("m", "init", 1))],
         registeredName: [UInt8] = E.nil) {
        self.pid = pid
        items = [
            ("status", E.atom(status)),
            ("current_function", currentFunction),
            ("current_stacktrace", E.list(stack)),
            ("initial_call", initialCall),
            ("registered_name", registeredName),
            ("reductions", E.int(reductions)),
            ("message_queue_len", E.int(messageQueueLen)),
            ("memory", E.int(memory)),
            ("total_heap_size", E.int(totalHeapSize)),
            ("heap_size", E.int(233)),
            ("stack_size", E.int(12)),
            ("garbage_collection", E.list([
                E.tuple(E.atom("max_heap_size"), E.map([(E.atom("size"), E.int(0)), (E.atom("kill"), E.atom("true"))])),
                E.tuple(E.atom("min_bin_vheap_size"), E.int(46422)),
                E.tuple(E.atom("minor_gcs"), E.int(minorGCs)),
            ])),
            ("garbage_collection_info", E.list(gcInfo.map { E.tuple(E.atom($0.0), E.int($0.1)) })),
            ("dictionary", E.list(dictionary)),
        ]
    }

    func without(_ names: String...) -> SampleSpec {
        var copy = self
        copy.items.removeAll { names.contains($0.0) }
        return copy
    }

    func with(_ name: String, _ value: [UInt8]) -> SampleSpec {
        var copy = self
        if let i = copy.items.firstIndex(where: { $0.0 == name }) { copy.items[i].1 = value } else { copy.items.append((name, value)) }
        return copy
    }

    var encoded: [UInt8] { E.tuple(E.pid(pid.0, pid.1), E.list(items.map { E.tuple(E.atom($0.0), $0.1) })) }
}

/// Parses samples terms the way a dump reader does (SampleParser on the bytes),
/// keeping one parser and symbol table across ticks like a capture does.
struct TickParser {
    var parser = SampleParser()
    var symbols = Symbols()

    mutating func tick(_ samples: [SampleSpec], ts: Int64 = 1000) throws -> Tick {
        let bytes = E.term(E.tuple(E.atom("samples"), E.int(ts), E.list(samples.map(\.encoded))))
        var tick = Tick()
        try bytes.withUnsafeBytes { raw in
            var reader = ETFReader(bytes: raw)
            reader.position = 1
            #expect(try reader.readTupleArity() == 3)
            _ = try reader.readAtom()
            tick.monotonic = try reader.readInt64()
            try parser.parseSamples(&reader, into: &tick, symbols: &symbols)
        }
        return tick
    }
}

/// Runs a `DeltaCalculator` over parsed ticks.
struct DeltaHarness {
    var ticks = TickParser()
    var deltas = DeltaCalculator()

    /// Per sample of the tick: its metrics by name (`nil` when skipped).
    mutating func feed(_ samples: [SampleSpec]) throws -> [[String: (value: Int64, delta: Int64)]?] {
        let tick = try ticks.tick(samples)
        var out: [MetricValue] = []
        return tick.samples.map { sample in
            guard deltas.metrics(for: sample, gcInfo: tick.gcInfo[sample.gcInfo], symbols: ticks.symbols, into: &out) else { return nil }
            var byName: [String: (value: Int64, delta: Int64)] = [:]
            for m in out { byName[deltas.metricNames[m.slot]] = (m.value, m.delta) }
            return byName
        }
    }

    /// The metric names of the last kept sample, in the order written.
    mutating func order(_ sample: SampleSpec) throws -> [String] {
        let tick = try ticks.tick([sample])
        var out: [MetricValue] = []
        guard deltas.metrics(for: tick.samples[0], gcInfo: tick.gcInfo[tick.samples[0].gcInfo], symbols: ticks.symbols, into: &out) else { return [] }
        return out.map { deltas.metricNames[$0.slot] }
    }
}

/// A framed dump file's bytes: header, the ticks, then (by default) a trailer.
func dumpBytes(capture: String = "test", seq: Int64 = 0, startedAt: Int64 = 1_700_000_000_000_000, monotonicStart: Int64 = -576_460_000_000_000,
               ticks: [(ts: Int64, samples: [SampleSpec])], trailer: Bool = true) -> [UInt8] {
    var terms: [[UInt8]] = []
    terms.append(E.term(E.tuple(E.atom("flame_dump"), E.int(1), E.map([
        (E.atom("node"), E.atom("test@host")),
        (E.atom("otp_release"), E.binary("25")),
        (E.atom("started_at"), E.int(startedAt)),
        (E.atom("monotonic_start"), E.int(monotonicStart)),
        (E.atom("sample_interval_ms"), E.int(20)),
        (E.atom("capture"), E.binary(capture)),
        (E.atom("seq"), E.int(seq)),
        (E.atom("agent"), E.binary("test")),
    ]))))
    for tick in ticks {
        terms.append(E.term(E.tuple(E.atom("samples"), E.int(monotonicStart + tick.ts), E.list(tick.samples.map(\.encoded)))))
    }
    if trailer {
        let samples = ticks.reduce(0) { $0 + $1.samples.count }
        terms.append(E.term(E.tuple(E.atom("flame_dump_end"), E.map([(E.atom("ticks"), E.int(Int64(ticks.count))), (E.atom("samples"), E.int(Int64(samples)))]))))
    }
    return terms.flatMap { E.u32(UInt32($0.count)) + $0 }
}

/// A scratch directory, removed at deinit.
final class ScratchDir {
    let path: String

    init() {
        var template = Array("/tmp/flameconvert-tests.XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { removeTree(path) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let full = "\(path)/\(name)"
        writeFile(full, bytes)
        return full
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot create \(path)")
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            precondition(n > 0)
            offset += n
        }
    }
    close(fd)
}

func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return out }
        out.append(contentsOf: chunk[..<n])
    }
}

/// A file's bytes after gzip decompression when it is gzip (FlameDump's ByteSource detects it).
func readDecompressed(_ path: String) throws -> [UInt8] {
    let source = try ByteSource(path: path)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
    defer { buffer.deallocate() }
    var out: [UInt8] = []
    while true {
        let n = try source.read(into: buffer)
        if n == 0 { return out }
        out.append(contentsOf: buffer[..<n])
    }
}

func removeTree(_ path: String) {
    guard path.hasPrefix("/tmp/") else { return }
    var pid: pid_t = 0
    let args = ["/bin/rm", "-rf", path]
    var cArgs = args.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    if posix_spawn(&pid, "/bin/rm", nil, nil, &cArgs, environ) == 0 {
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// Converts `paths` (files or directories) in-process, through the catalogue and `ConvertJob`.
func convert(_ paths: [String], dialect: PerfDialect = .flameProf, categoriser: Categoriser = Categoriser(), filter: SampleFilter = SampleFilter()) -> (text: [UInt8], summary: ConvertSummary, problems: [DumpError]) {
    let scan = CaptureCatalog.scan(paths)
    let job = ConvertJob(captures: scan.captures, options: ConvertOptions(dialect: dialect, categoriser: categoriser, filter: filter))
    var text: [UInt8] = []
    let summary = job.run(drain: { (bytes: [UInt8]) -> Void in text.append(contentsOf: bytes) })
    return (text, summary, scan.problems)
}

/// Converts hand-made ticks of one capture and returns the text.
func convertTicks(_ ticks: [(ts: Int64, samples: [SampleSpec])], dialect: PerfDialect = .flameProf, categoriser: Categoriser = Categoriser()) -> String {
    let dir = ScratchDir()
    let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks))
    return String(decoding: convert([path], dialect: dialect, categoriser: categoriser).text, as: UTF8.self)
}

/// The repository root, from this file's place in it.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(4)  // Tests/FlameConvertTests/Support/Dumps.swift -> root
    return parts.joined(separator: "/")
}()
