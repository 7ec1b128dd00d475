@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
import FlameDump
import Foundation
import TestSupport
import Testing

@Suite("SampleFilter.parsePid")
struct ParsePidTests {
    @Test("accepted forms", arguments: [
        ("<0.85.0>", 85, 0), ("0.85.0", 85, 0), ("85", 85, 0), ("<0.85.3>", 85, 3), ("0.0.0", 0, 0),
        ("0.32767.8191", 32767, 8191), ("<85>", 85, 0), ("0.4294967295.4294967295", 4_294_967_295, 4_294_967_295),
    ] as [(String, UInt32, UInt32)])
    func accepted(text: String, number: UInt32, serial: UInt32) {
        #expect(SampleFilter.parsePid(text) == SampleFilter.pidKey(number: number, serial: serial))
    }

    @Test("rejected forms", arguments: [
        "", "<>", "abc", "0.85", "1.85.0", "<0.85.0", "0.85.0>", "0..0", "-1", "0.85.0.1", " 85", "0.85.x", "4294967296", "0.-1.0", "<0.85.0>>",
    ])
    func rejected(text: String) {
        #expect(SampleFilter.parsePid(text) == nil)
    }

    @Test("the key keeps number and serial apart")
    func keys() {
        #expect(SampleFilter.pidKey(number: 1, serial: 0) != SampleFilter.pidKey(number: 0, serial: 1))
    }
}

@Suite("SampleFilter time window")
struct TimeWindowTests {
    @Test("seconds from the capture's start; wall times 2^64 µs apart do not trap")
    func window() {
        let filter = SampleFilter(from: 1, to: 2)
        #expect(filter.keeps(tickAt: 1_500_000, captureStart: 0))
        #expect(!filter.keeps(tickAt: 500_000, captureStart: 0))
        #expect(!filter.keeps(tickAt: 2_500_000, captureStart: 0))
        // A tick at the bottom of the range, a start at the top and back: far outside, not a crash.
        #expect(!filter.keeps(tickAt: .min, captureStart: .max))
        #expect(!filter.keeps(tickAt: .max, captureStart: .min))
        #expect(SampleFilter(from: 1e12).keeps(tickAt: .max, captureStart: .min))
        #expect(SampleFilter(to: -1e12).keeps(tickAt: .min, captureStart: .max))
        #expect(SampleFilter().keeps(tickAt: .min, captureStart: .max))
    }
}

@Suite("BucketLevel")
struct BucketLevelTests {
    func level(_ spec: String) throws -> BucketLevel {
        var catalogue = MetricCatalogue()
        return try #require(try CategoryLevels.parse(spec, catalogue: &catalogue) as? BucketLevel)
    }

    func labelOf(_ spec: String, _ value: Int64) throws -> String {
        let bucket = try level(spec)
        return bucket.text(ofBucket: bucket.bucket(value))
    }

    @Test("powers of two: from 2^k up to, not including, 2^(k+1); zero and the mirror below it", arguments: [
        (Int64(0), "memory:=0B"), (1, "memory:=1B"), (2, "memory:2B..4B"), (3, "memory:2B..4B"), (4095, "memory:2KiB..4KiB"),
        (4096, "memory:4KiB..8KiB"), (1 << 20, "memory:1MiB..2MiB"), (-1, "memory:=-1B"), (-2, "memory:=-2B"),
        (-3, "memory:-4B..-2B"), (-4096, "memory:-4KiB..-2KiB"), (-4097, "memory:-8KiB..-4KiB"),
        (Int64.max, "memory:4EiB..9223372036854775807B"), (Int64.min, "memory:-8EiB..-4EiB"),
    ] as [(Int64, String)])
    func log2(value: Int64, label: String) throws {
        #expect(try labelOf("bucket(memory,log2)", value) == label)
    }

    @Test("every value lands in a bucket whose bounds hold it, for log2, log4 and decimal")
    func boundsHold() throws {
        for spec in ["bucket(message_queue_len,log2)", "bucket(message_queue_len,log4)", "bucket(message_queue_len,decimal)"] {
            let bucket = try level(spec)
            var values: [Int64] = [0, 1, -1, 2, -2, 3, 9, 10, 11, 99, 100, 101, .max, .min, .max - 1, .min + 1]
            for shift in 0..<63 { values += [1 << shift, (1 << shift) - 1, (1 << shift) + 1, -(1 << shift), -(1 << shift) + 1, -(1 << shift) - 1] }
            for value in values {
                let text = bucket.text(ofBucket: bucket.bucket(value))
                let body = text.dropFirst("message_queue_len:".count).replacingOccurrences(of: "msg", with: "")
                if body.hasPrefix("=") {
                    #expect(Int64(body.dropFirst()) == value, "\(spec): \(value) in \(text)")
                } else {
                    let parts = body.components(separatedBy: "..")
                    let low = try #require(Int64(parts[0])), high = try #require(Int64(parts[1]))
                    #expect(low <= value && (value < high || high == .max), "\(spec): \(value) in \(text)")
                }
            }
        }
    }

    @Test("thresholds in the metric's unit: below the first, between, at or past the last", arguments: [
        (Int64(-3), "message_queue_len:<0msg"), (0, "message_queue_len:=0msg"), (1, "message_queue_len:1..10msg"),
        (9, "message_queue_len:1..10msg"), (10, "message_queue_len:10..100msg"), (999, "message_queue_len:100..1000msg"),
        (1000, "message_queue_len:>=1000msg"), (Int64.max, "message_queue_len:>=1000msg"),
    ] as [(Int64, String)])
    func thresholds(value: Int64, label: String) throws {
        #expect(try labelOf("bucket(message_queue_len,0,1,10,100,1000)", value) == label)
    }

    @Test("specs that cannot be used say why", arguments: [
        ("bucket(memory)", "needs a metric and a scale"), ("bucket(memory,log3)", "neither a scale"),
        ("bucket(memory,10,5)", "thresholds must increase"), ("bucket(Memory!,log2)", "is not a metric name"),
        ("bucket(reductions_bytes,log2)", "only a metric counted in words"), ("status(1)", "takes no arguments"),
        ("colour", "no such level"), ("bucket(memory,log2", "needs a closing"),
    ] as [(String, String)])
    func badSpecs(spec: String, problem: String) {
        var catalogue = MetricCatalogue()
        #expect(throws: CategorySpecError.self) { try CategoryLevels.parse(spec, catalogue: &catalogue) }
        do {
            _ = try CategoryLevels.parse(spec, catalogue: &catalogue)
        } catch {
            #expect(error.description.contains(problem), "\(error)")
        }
    }

    @Test("a metric counted in words is bucketed in bytes with the capture's word size; an absent one says so")
    func wordsInBytes() throws {
        var parser = TickParser()
        let tick = try parser.tick([SampleSpec(gcInfo: [("bin_vheap_size", 512)]), SampleSpec(pid: (86, 0), gcInfo: [])])
        var catalogue = parser.catalogue
        let bucket = try CategoryLevels.parse("bucket(bin_vheap_size,log2)", catalogue: &catalogue)
        parser.catalogue = catalogue
        #expect(label(bucket, tick, 0, parser) == "bin_vheap_size:4KiB..8KiB")
        #expect(label(bucket, tick, 1, parser) == "bin_vheap_size:absent")
    }
}

@Suite("Category levels")
struct CategoryLevelTests {
    @Test("status, registered_name (else what it runs), initial_call, proc_lib_initial_call, pid, process_label; unknowns named")
    func levels() throws {
        var parser = TickParser()
        let tick = try parser.tick([
            SampleSpec(status: "garbage_collecting", registeredName: E.atom("flame_deep")),
            SampleSpec(pid: (86, 0), initialCall: E.mfa("erlang", "apply", 2), dictionary: []).without("status"),
        ])
        func name(_ level: any CategoryLevel, _ i: Int) -> String { label(level, tick, i, parser) }
        #expect(name(StatusLevel(), 0) == "garbage_collecting")
        #expect(name(StatusLevel(), 1) == "unknown")
        #expect(name(RegisteredNameLevel(), 0) == "flame_deep")
        // Unregistered: what it runs.
        #expect(name(RegisteredNameLevel(), 1) == "erlang:apply/2")
        #expect(name(InitialCallLevel(), 0) == "proc_lib:init_p/5")
        #expect(name(InitialCallLevel(), 1) == "erlang:apply/2")
        #expect(name(ProcLibInitialCallLevel(), 0) == "m:init/1")
        #expect(name(ProcLibInitialCallLevel(), 1) == "erlang:apply/2")
        #expect(name(PidLevel(), 1) == "<0.86.0>")
        #expect(name(ProcessLabelLevel(), 0) == "unlabelled")
    }

    @Test("later levels are root pseudo frames, the second level outermost")
    func grouping() {
        let text = convertTicks([(0, [SampleSpec(registeredName: E.atom("srv"))])], dialect: .flameProf,
                                levels: categoryLevels("status", "registered_name", "bucket(memory,log4)"))
        #expect(text.hasPrefix("running\t0.85.0 "))
        #expect(text.hasSuffix("\tffffffff (m:init/1) (m.erl)\n\tffffffff memory:1KiB..4KiB (category)\n\tffffffff srv (category)\n\n"))
        let byName = convertTicks([(0, [SampleSpec(registeredName: E.atom("srv"))])], dialect: .portable, levels: categoryLevels("registered_name"))
        #expect(byName.hasPrefix("srv 85/85 [000] "))
    }
}

@Suite("PerfSink")
struct EmitterTests {
    /// What `write` puts into a scratch buffer, as text.
    func written(_ write: (inout UnsafeMutablePointer<UInt8>) -> Void) -> String {
        var scratch = [UInt8](repeating: 0, count: 40)
        let count = scratch.withUnsafeMutableBufferPointer { buffer in
            var p = buffer.baseAddress!
            write(&p)
            return p - buffer.baseAddress!
        }
        return String(decoding: scratch[..<count], as: UTF8.self)
    }

    func time(_ micros: Int64) -> String { written { $0.putTime(micros) } }

    func decimal(_ value: Int64) -> String { written { $0.putDecimal(value) } }

    @Test("decimals: every digit count and both signs, as Swift prints them")
    func decimals() {
        var values: [Int64] = [0, 9, 10, 99, 100, -1, -9, -10, Int64.max, Int64.min, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -(power - 1), -power, power / 2 * 3]
        }
        // Random values of every length (a fixed LCG: the same values every run).
        var state: UInt64 = 7
        for _ in 0..<10_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.append(Int64(bitPattern: state) >> Int64(state % 64))
        }
        for value in values { #expect(decimal(value) == String(value)) }
    }

    @Test("time: seconds, a point, exactly six decimals", arguments: [
        (Int64(0), "0.000000"), (1, "0.000001"), (999_999, "0.999999"), (1_000_000, "1.000000"), (1_500_000, "1.500000"),
        (1_795_579_939_787_634, "1795579939.787634"), (1_700_000_000_000_010, "1700000000.000010"),
        (Int64.max, "9223372036854.775807"),
    ] as [(Int64, String)])
    func timeFormat(micros: Int64, text: String) {
        #expect(time(micros) == text)
    }

    @Test("a negative time (never expected: wall clock before 1970) still reads as a number")
    func negativeTime() {
        #expect(time(-1) == "-0.000001")
        #expect(time(-1_500_000) == "-1.500000")
        // Int64.min has no positive counterpart: written from its magnitude.
        #expect(time(.min) == "-9223372036854.775808")
        #expect(time(-Int64.max) == "-9223372036854.775807")
    }

    @Test("times in the text come from started_at + (Ts - monotonic_start), a negative monotonic_start included")
    func wallTime() {
        let dir = ScratchDir()
        dir.write("a.flame", dumpBytes(startedAt: 1_700_000_000_123_456, monotonicStart: -576_460_752_000_000,
                                       ticks: [(0, [SampleSpec()]), (1_876_544, [SampleSpec()])]))
        let text = String(decoding: convert([dir.path]).text, as: UTF8.self)
        let times = text.split(separator: "\n").filter { $0.hasPrefix("running") }.map { $0.split(separator: " ")[2] }
        #expect(times == ["1700000000.123456:", "1700000002.000000:"])
    }

    @Test("thread ids: never 0, serial * 2^15 + number, unique for number < 2^15 and serial < 2^13")
    func threadIDs() {
        #expect(PerfSink.threadID(number: 0, serial: 0) == 1 << 28)
        #expect(PerfSink.threadID(number: 85, serial: 0) == 85)
        #expect(PerfSink.threadID(number: 85, serial: 2) == 2 << 15 + 85)
        var seen = Set<Int64>()
        var pids = Set<UInt64>()
        func add(_ number: UInt32, _ serial: UInt32) {
            let id = PerfSink.threadID(number: number, serial: serial)
            if id <= 0 || id > 1 << 28 { Issue.record("thread id \(id) for <0.\(number).\(serial)>") }
            seen.insert(id)
            pids.insert(SampleFilter.pidKey(number: number, serial: serial))
        }
        for number in UInt32(0)..<(1 << 15) {
            for serial: UInt32 in [0, 1, 2, 4095, 8191] { add(number, serial) }
        }
        for serial in UInt32(0)..<(1 << 13) {
            for number: UInt32 in [0, 1, 2, 16383, 32767] { add(number, serial) }
        }
        #expect(seen.count == pids.count)
    }

    @Test("portable thread ids: PID + k * 10^9 for the k-th first-level label, below 2^53, wrapping past the limit")
    func threadOffsets() {
        #expect(PerfSink.threadOffset(ordinal: 0) == 0)
        #expect(PerfSink.threadOffset(ordinal: 1) == 1_000_000_000)
        #expect(PerfSink.threadOffset(ordinal: 2) == 2_000_000_000)
        let last = PerfSink.threadOffset(ordinal: PerfSink.threadLabelLimit - 1)
        // the largest process id plus the largest offset is still exact as a JavaScript number
        #expect(last + PerfSink.threadID(number: 0, serial: 0) < 1 << 53)
        #expect(last + 1_000_000_000 + (1 << 28) >= 1 << 53)
        #expect(PerfSink.threadOffset(ordinal: PerfSink.threadLabelLimit) == 0)
        // the process id never reaches the next label's offset
        #expect(PerfSink.threadID(number: 32767, serial: 8191) < 1_000_000_000)
    }

    @Test("portable: metrics first seen after a capture's first line are left out, counted on every line that had them")
    func droppedMetricsNote() {
        let dir = ScratchDir()
        let lateOne = SampleSpec(gcInfo: [("heap_block_size", 2), ("mbuf_size", 5)])
        let path = dir.write("t-000000.flame", dumpBytes(ticks: [
            (0, [SampleSpec(gcInfo: [("heap_block_size", 1)])]),
            (10_000, [lateOne, SampleSpec(pid: (86, 0), gcInfo: [("heap_block_size", 2), ("mbuf_size", 5), ("bin_vheap_size", 3)])]),
            (20_000, [lateOne]),
            (30_000, [lateOne, SampleSpec(pid: (86, 0), gcInfo: [("heap_block_size", 1)])]),
        ]))
        let perf = PerfSink(dialect: .portable, output: MemoryOutput())
        _ = try! ProfileRun(captures: CaptureCatalog.scan([path]).captures, plan: RunPlan(levels: [StatusLevel()], filter: SampleFilter()), sinks: [perf]).run()
        // mbuf_size on four lines, bin_vheap_size on one.
        #expect(perf.notes.contains("5 metrics not present in the first sample were left out, so every event line carries the same metrics"))
    }

    @Test("portable event line: `comm PID/TID [000] TIME: 1 cpu-clock:` and every metric on every line")
    func portableLine() {
        let text = convertTicks([
            (0, [SampleSpec(pid: (85, 2), gcInfo: [("heap_block_size", 1)])]),
            (10_000, [SampleSpec(pid: (85, 2), status: "waiting", gcInfo: [("heap_block_size", 2), ("mbuf_size", 5)]),
                      SampleSpec(pid: (0, 0), gcInfo: [])]),
        ], dialect: .portable)
        let events = text.split(separator: "\n").filter { !$0.hasPrefix("\t") }
        #expect(events.count == 3)
        // TID: the process id, plus 10^9 for the second status seen, so each status of a process is a thread of its own
        let pid = 2 << 15 + 85
        #expect(events[0].hasPrefix("running \(pid)/\(pid) [000] 1700000000.000000: 1 cpu-clock:\tmetric_erlang_reductions: 100, 1\t"))
        #expect(events[1].hasPrefix("waiting \(pid)/\(pid + 1_000_000_000) [000] 1700000000.010000: 1 cpu-clock:"))
        #expect(events[2].hasPrefix("running 268435456/268435456 [000] 1700000000.010000: 1 cpu-clock:"))
        // The metrics of the first line on every line: mbuf_size (first seen later) is left out,
        // heap_block_size (missing on the last line) is written as 0, 0.
        let metricNames = events.map { $0.split(separator: "\t").dropFirst().map { String($0.split(separator: ":")[0]) } }
        #expect(metricNames.allSatisfy { $0 == metricNames[0] })
        #expect(metricNames[0] == ["metric_erlang_reductions", "metric_erlang_message_queue_len", "metric_erlang_memory",
                                   "metric_erlang_total_heap_size", "metric_erlang_heap_block_size", "metric_erlang_minor_gcs"])
        #expect(events[2].contains("\tmetric_erlang_heap_block_size: 0, 0\t"))
    }
}
