@testable import FlameFormats
@testable import FlameModel
@testable import FlameRun
import FlameDump
import SwiftProtobuf
import TestSupport
import Testing

/// The pprof sink, read back with swift-protobuf and checked against sums
/// made directly over the events.
@Suite("pprof output")
struct PprofTests {
    /// Sums each event's weight and metrics per category path and stack, the
    /// way the pprof file should hold them.
    final class DirectSums: ProfileSink {
        struct Key: Hashable { var path: [String]; var frames: [UInt64] }
        let weight: Weight
        let columns: [Weight]
        var totals: [Key: [Int64]] = [:]
        var samples = 0
        var skipped = 0
        init(weight: Weight, columns: [Weight]) {
            self.weight = weight
            self.columns = columns
        }
        func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
            guard weight.of(event) != nil else { skipped += 1; return }
            samples += 1
            let key = Key(path: event.categories.map { profile.categoryText($0) }, frames: profile.frames(of: event.stack).map { UInt64($0) + 1 })
            let values = columns.map { $0.of(event) ?? 0 }
            totals[key] = zip(totals[key] ?? Array(repeating: 0, count: values.count), values).map(+)
        }
        func finish(_ profile: Profile) throws(OutputError) {}
        var notes: [String] { [] }
        var samplesWritten: Int { samples }
    }

    struct Conversion {
        var bytes: [UInt8]
        var decoded: Perftools_Profiles_Profile
        var sink: PprofSink
        var direct: DirectSums
        var profile: Profile?
    }

    /// Runs `capture` through a pprof sink (uncompressed, into memory) and a `DirectSums`.
    static func convert(_ capture: String, levels: [String], weight: String = "samples", metrics: [String]? = nil, chunk: Int = 1 << 20) throws -> Conversion {
        var catalogue = MetricCatalogue()
        let parsedLevels = try levels.map { try CategoryLevels.parse($0, catalogue: &catalogue) }
        let parsedWeight = try Weight.parse(weight, catalogue: &catalogue).get()
        let metricIDs = try metrics.map { try $0.map { try catalogue.resolve($0).get() } }
        let out = MemoryOutput()
        let sink = PprofSink(output: out, weight: parsedWeight, metrics: metricIDs, catalogue: catalogue, levelSpecs: parsedLevels.map(\.spec), chunk: chunk)
        let columns = sink.layoutColumns
        let direct = DirectSums(weight: parsedWeight, columns: columns)
        let scan = CaptureCatalog.scan(["\(repositoryRoot)/Fixtures/captures/\(capture)"])
        let plan = RunPlan(levels: parsedLevels, catalogue: catalogue, metrics: metricIDs, weight: parsedWeight)
        _ = try ProfileRun(captures: scan.captures, plan: plan, sinks: [sink, direct]).run()
        let decoded = try Perftools_Profiles_Profile(serializedBytes: out.bytes)
        return Conversion(bytes: out.bytes, decoded: decoded, sink: sink, direct: direct)
    }

    /// The decoded file's totals per category path (from the level labels) and stack.
    static func totals(_ p: Perftools_Profiles_Profile, levelKeys: [String]) -> [DirectSums.Key: [Int64]] {
        let strings = p.stringTable
        var totals: [DirectSums.Key: [Int64]] = [:]
        for sample in p.sample {
            var byKey: [String: String] = [:]
            for label in sample.label where label.str != 0 { byKey[strings[Int(label.key)]] = strings[Int(label.str)] }
            let key = DirectSums.Key(path: levelKeys.map { byKey[$0] ?? "?" }, frames: sample.locationID)
            totals[key] = zip(totals[key] ?? Array(repeating: 0, count: sample.value.count), sample.value).map(+)
        }
        return totals
    }

    static let choices: [(levels: [String], weight: String, metrics: [String]?)] = [
        (["status"], "samples", nil),
        (["registered_name"], "reductions_delta", nil),
        (["bucket(memory,log2)", "status"], "memory_delta", ["reductions", "memory", "message_queue_len"]),
        (["pid"], "total_heap_size", ["minor_gcs", "total_heap_size_bytes"]),
        (["proc_lib_initial_call"], "reductions_per_second", nil),
    ]

    @Test("totals per category path and stack equal the sums over the events", arguments: 0..<PprofTests.choices.count)
    func totalsAgree(choice: Int) throws {
        let (levels, weight, metrics) = Self.choices[choice]
        let run = try Self.convert("top100", levels: levels, weight: weight, metrics: metrics)
        let p = run.decoded
        #expect(p.stringTable.first == "")
        #expect(p.sample.count == run.direct.samples)
        #expect(run.sink.samplesWritten == run.direct.samples)
        #expect(run.direct.samples > 0)
        let keys = levels.map { PprofLayout.labelKey($0) }
        let decoded = Self.totals(p, levelKeys: keys)
        #expect(decoded.count == run.direct.totals.count)
        #expect(decoded == run.direct.totals)
        // Column names and the default: the weight's.
        let names = p.sampleType.map { p.stringTable[Int($0.type)] }
        #expect(names.first == "samples")
        #expect(names == run.sink.columnNames)
        #expect(p.stringTable[Int(p.defaultSampleType)] == weight)
        if run.direct.skipped > 0 {
            #expect(run.sink.notes.contains { $0.hasPrefix("skipped \(run.direct.skipped) sample") && $0.hasSuffix(": missing reductions_per_second") })
        } else {
            #expect(!run.sink.notes.contains { $0.hasPrefix("skipped") })
        }
    }

    @Test("a derived weight absent from first samples leaves them out, and says so")
    func skipsWithoutWeight() throws {
        let run = try Self.convert("top100", levels: ["status"], weight: "reductions_per_second")
        #expect(run.direct.skipped > 0)
        #expect(run.decoded.sample.count == run.direct.samples)
        #expect(run.sink.notes == ["skipped \(run.direct.skipped) samples: missing reductions_per_second"])
    }

    @Test("each streamed sample is byte for byte what swift-protobuf writes for it")
    func samplesAreCanonical() throws {
        let run = try Self.convert("top100", levels: ["bucket(memory,log2)", "status"], weight: "memory_delta", metrics: ["reductions", "memory"])
        // The file: `sample` fields (tag 0x12), then the rest of the Profile.
        var reader = run.bytes[...]
        var samples = 0
        while reader.first == 0x12 {
            reader.removeFirst()
            var length = 0, shift = 0
            while true {
                let byte = reader.removeFirst()
                length |= Int(byte & 0x7F) << shift
                shift += 7
                if byte < 0x80 { break }
            }
            let body = Array(reader.prefix(length))
            reader.removeFirst(length)
            let sample = try Perftools_Profiles_Sample(serializedBytes: body)
            let again: [UInt8] = try sample.serializedBytes()
            #expect(again == body)
            if again != body { break }
            samples += 1
        }
        #expect(samples == run.decoded.sample.count)
        #expect(samples > 1000)
        // What follows is one Profile with no sample, as swift-protobuf writes it.
        let rest = try Perftools_Profiles_Profile(serializedBytes: Array(reader))
        #expect(rest.sample.isEmpty)
        let reencoded: [UInt8] = try rest.serializedBytes()
        #expect(reencoded == Array(reader))
    }

    @Test("labels: pid, status, registered name, one per level and the time; locations name their functions and lines")
    func labelsAndLocations() throws {
        let run = try Self.convert("plain", levels: ["status", "bucket(memory,log2)"])
        let p = run.decoded
        let strings = p.stringTable
        let keys = Set(p.sample.flatMap { $0.label.map { strings[Int($0.key)] } })
        #expect(keys.isSuperset(of: ["pid", "status", "bucket_memory_log2", "time"]))
        let start = p.timeNanos
        #expect(start > 1_600_000_000 * 1_000_000_000)
        #expect(p.durationNanos > 0)
        for sample in p.sample {
            let pid = sample.label.first { strings[Int($0.key)] == "pid" }.map { strings[Int($0.str)] }
            #expect(pid?.hasPrefix("<0.") == true && pid?.hasSuffix(">") == true)
            let time = try #require(sample.label.first { strings[Int($0.key)] == "time" })
            #expect(strings[Int(time.numUnit)] == "microseconds")
            #expect(time.num >= 0 && time.num * 1000 <= p.durationNanos)
        }
        // Every location id a sample names exists, and its function too.
        let locations = Dictionary(uniqueKeysWithValues: p.location.map { ($0.id, $0) })
        let functions = Dictionary(uniqueKeysWithValues: p.function.map { ($0.id, $0) })
        #expect(locations.count == p.location.count && functions.count == p.function.count)
        for id in Set(p.sample.flatMap(\.locationID)) {
            let location = try #require(locations[id])
            #expect(location.line.count == 1)
            let function = try #require(functions[location.line[0].functionID])
            #expect(!strings[Int(function.name)].isEmpty)
            #expect(location.line[0].line >= 0)
        }
    }

    @Test("frame names and lines are the other formats' frame names")
    func frameNames() throws {
        var catalogue = MetricCatalogue()
        let level = try CategoryLevels.parse("status", catalogue: &catalogue)
        let out = MemoryOutput()
        let sink = PprofSink(output: out, weight: .samples, metrics: nil, catalogue: catalogue, levelSpecs: [level.spec])
        let scan = CaptureCatalog.scan(["\(repositoryRoot)/Fixtures/captures/plain"])
        let keeper = ProfileKeeper()
        _ = try ProfileRun(captures: scan.captures, plan: RunPlan(levels: [level], catalogue: catalogue), sinks: [sink, keeper]).run()
        let profile = try #require(keeper.profile)
        let p = try Perftools_Profiles_Profile(serializedBytes: out.bytes)
        let functions = Dictionary(uniqueKeysWithValues: p.function.map { ($0.id, $0) })
        #expect(!p.location.isEmpty)
        for location in p.location {
            let frame = profile.frame(UInt32(location.id - 1))
            let function = try #require(functions[location.line[0].functionID])
            var name = p.stringTable[Int(function.name)]
            if location.line[0].line > 0 { name += ":\(location.line[0].line)" }
            #expect(name == frame.displayName(profile.symbols))
        }
    }

    /// Keeps the run's `Profile`, to look names up after the run.
    final class ProfileKeeper: ProfileSink {
        var profile: Profile?
        func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {}
        func finish(_ profile: Profile) throws(OutputError) { self.profile = profile }
        var notes: [String] { [] }
        var samplesWritten: Int { 0 }
    }

    @Test("samples are drained as they come: the buffer never holds much more than a chunk")
    func streams() throws {
        final class Counting: ByteOutput {
            var writes: [Int] = []
            func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) { writes.append(bytes.count) }
        }
        var catalogue = MetricCatalogue()
        let level = try CategoryLevels.parse("status", catalogue: &catalogue)
        let out = Counting()
        let sink = PprofSink(output: out, weight: .samples, metrics: nil, catalogue: catalogue, levelSpecs: [level.spec], chunk: 4096)
        let scan = CaptureCatalog.scan(["\(repositoryRoot)/Fixtures/captures/top100"])
        _ = try ProfileRun(captures: scan.captures, plan: RunPlan(levels: [level], catalogue: catalogue), sinks: [sink]).run()
        #expect(out.writes.count > 10)
        // Every write but the last (which holds the tables) is one chunk and at most one sample more.
        for size in out.writes.dropLast() { #expect(size >= 4096 && size < 4096 + 1024) }
    }

    @Test("the layout: samples first, counters as deltas, gauges as values, the weight last unless it is one of them")
    func layout() {
        var catalogue = MetricCatalogue()
        let memory = MetricCatalogue.memory, reductions = MetricCatalogue.reductions
        var l = PprofLayout(weight: .samples, metrics: nil, catalogue: catalogue, levelSpecs: ["status"])
        #expect(l.columns.map(\.name) == ["samples"])
        #expect(l.columns.map(\.unit) == ["count"])
        #expect(l.defaultColumn == 0)
        l = PprofLayout(weight: .value(memory), metrics: [reductions, memory], catalogue: catalogue, levelSpecs: ["status"])
        #expect(l.columns.map(\.name) == ["samples", "reductions_delta", "memory"])
        #expect(l.columns.map(\.unit) == ["count", "reductions", "bytes"])
        #expect(l.defaultColumn == 2)
        l = PprofLayout(weight: .delta(memory), metrics: nil, catalogue: catalogue, levelSpecs: ["pid", "status", "registered_name"])
        #expect(l.columns.map(\.name) == ["samples", "memory", "memory_delta"])
        #expect(l.defaultColumn == 2)
        #expect(!l.pidLabel && !l.statusLabel && !l.registeredNameLabel)
        let heap = try! catalogue.resolve("total_heap_size").get()
        l = PprofLayout(weight: .value(heap), metrics: nil, catalogue: catalogue,
                        levelSpecs: ["bucket(memory,log2)", "bucket(memory,log2)", "bucket(message_queue_len,0,1,10)", "time"])
        #expect(l.columns.map(\.unit) == ["count", "words"])
        #expect(l.levelKeys == ["bucket_memory_log2", "bucket_memory_log2_2", "bucket_message_queue_len_0_1_10", "time_2"])
        #expect(l.pidLabel && l.statusLabel && l.registeredNameLabel)
    }
}
