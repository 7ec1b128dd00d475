import ETF
import Testing
@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
import FlameDump
import TestSupport

/// The ETF builder, by the short name these tests use.
typealias E = ETFBytes

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

    var encoded: [UInt8] { E.tuple(E.samplePid(pid.0, pid.1), E.list(items.map { E.tuple(E.atom($0.0), $0.1) })) }
}

/// Parses samples terms the way a dump reader does (SampleParser on the bytes),
/// keeping one parser and symbol table across ticks like a capture does.
struct TickParser {
    var parser = SampleParser()
    var symbols = Symbols()
    var catalogue = MetricCatalogue()

    mutating func tick(_ samples: [SampleSpec], ts: Int64 = 1000) throws -> Tick {
        let bytes = E.term(E.tuple(E.atom("samples"), E.int(ts), E.list(samples.map(\.encoded))))
        var tick = Tick()
        try bytes.withUnsafeBytes { raw in
            var reader = ETFReader(bytes: raw)
            reader.position = 1
            #expect(try reader.readTupleArity() == 3)
            _ = try reader.readAtom()
            tick.monotonic = try reader.readInt64()
            try parser.parseSamples(&reader, into: &tick, symbols: &symbols, catalogue: &catalogue)
        }
        return tick
    }
}

/// Runs a `DeltaCalculator` over parsed ticks.
struct DeltaHarness {
    var ticks = TickParser()
    var deltas = DeltaCalculator()
    var time: Int64 = 1_000_000

    /// Per sample of the tick: its metrics by name.
    mutating func feed(_ samples: [SampleSpec]) throws -> [[String: (value: Int64, delta: Int64)]?] {
        var tick = try ticks.tick(samples)
        time += 1_000_000
        tick.wallMicros = time
        var row = MetricRow()
        return tick.samples.indices.map { place in
            let sample = tick.samples[place]
            deltas.compute(sample, at: place, in: tick, wordSize: 8, metricCount: ticks.catalogue.count, into: &row)
            var byName: [String: (value: Int64, delta: Int64)] = [:]
            for id in row.present { byName[ticks.catalogue[id].name] = (row.values[id.index], row.deltas[id.index]) }
            return byName
        }
    }

    /// The metric names of one sample's perf event line, in the order written.
    func order(_ sample: SampleSpec) throws -> [String] {
        let text = convertTicks([(0, [sample])])
        let line = text.split(separator: "\n").first ?? ""
        return line.split(separator: "\t").compactMap { field in
            field.hasPrefix("metric_erlang_") ? String(field.dropFirst("metric_erlang_".count).prefix { $0 != ":" }) : nil
        }
    }
}

/// A framed dump file's bytes: header, the ticks, then (by default) a trailer.
func dumpBytes(capture: String = "test", seq: Int64 = 0, startedAt: Int64 = 1_700_000_000_000_000, monotonicStart: Int64 = -576_460_000_000_000,
               ticks: [(ts: Int64, samples: [SampleSpec])], trailer: Bool = true, unchanged: String? = nil) -> [UInt8] {
    var terms = [E.dumpHeader(capture: capture, seq: seq, startedAt: startedAt, monotonicStart: monotonicStart, unchanged: unchanged)]
    for tick in ticks {
        terms.append(E.tick(ts: monotonicStart + tick.ts, samples: tick.samples.map(\.encoded)))
    }
    if trailer {
        terms.append(E.trailer(ticks: Int64(ticks.count), samples: Int64(ticks.reduce(0) { $0 + $1.samples.count })))
    }
    return E.framed(terms)
}

/// What an in-process conversion did: the run's summary, with the perf
/// sink's samples written and skipped folded in.
struct ConversionSummary {
    var run: RunSummary
    var events: Int
    var skippedSamples: [String: Int]
    var nudgedLastTimestamp: Bool
    var files: [CaptureReader.FileReport] { run.files }
    var ticks: Int { run.ticks }
    var ticksOutOfOrder: Int { run.ticksOutOfOrder }
    var processesForgotten: Int { run.processesForgotten }
}

/// The category levels `names` stand for (`status`, `registered_name` …).
func categoryLevels(_ names: String...) -> [any CategoryLevel] {
    var catalogue = MetricCatalogue()
    return names.map { try! CategoryLevels.parse($0, catalogue: &catalogue) }
}

/// The label `level` gives sample `index` of a parsed tick.
func label(_ level: any CategoryLevel, _ tick: Tick, _ index: Int, _ parser: TickParser) -> String {
    let profile = Profile(catalogue: parser.catalogue, levels: [level])
    profile.symbols = parser.symbols
    _ = profile.addCapture(CaptureInfo(id: "test", node: "test@host", wordSize: nil))
    var event = ProfileEvent()
    event.sample = tick.samples[index]
    var deltas = DeltaCalculator()
    deltas.compute(event.sample, at: index, in: tick, wordSize: 8, metricCount: parser.catalogue.count, into: &event.metrics)
    return profile.categoryText(level.label(of: event, in: profile))
}

/// Converts `paths` (files or directories) in-process, through the catalogue, a `ProfileRun` and a `PerfSink`.
func convert(_ paths: [String], dialect: PerfDialect = .flameProf, levels: [any CategoryLevel] = [StatusLevel()], filter: SampleFilter = SampleFilter()) -> (text: [UInt8], summary: ConversionSummary, problems: [DumpError]) {
    let scan = CaptureCatalog.scan(paths)
    let out = MemoryOutput()
    let perf = PerfSink(dialect: dialect, output: out)
    let run = ProfileRun(captures: scan.captures, plan: RunPlan(levels: levels, filter: filter), sinks: [perf])
    let summary = try! run.run()
    let skipped = summary.skippedSamples.mapValues(\.count).merging(perf.skippedSamples, uniquingKeysWith: +)
    return (out.bytes, ConversionSummary(run: summary, events: perf.events, skippedSamples: skipped, nudgedLastTimestamp: perf.nudgedLastTimestamp), scan.problems)
}

/// Converts hand-made ticks of one capture and returns the text.
func convertTicks(_ ticks: [(ts: Int64, samples: [SampleSpec])], dialect: PerfDialect = .flameProf, levels: [any CategoryLevel] = [StatusLevel()]) -> String {
    let dir = ScratchDir()
    let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks))
    return String(decoding: convert([path], dialect: dialect, levels: levels).text, as: UTF8.self)
}
