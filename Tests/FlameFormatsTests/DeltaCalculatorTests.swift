@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
@testable import FlameDump
import TestSupport
import Testing

/// flame_prof's delta rules (docs/perf-output.md), on samples parsed from hand-made ETF.
@Suite("DeltaCalculator")
struct DeltaCalculatorTests {
    typealias M = [String: (value: Int64, delta: Int64)]

    func deltas(_ m: M?, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Int64] {
        guard let m else {
            Issue.record("sample was skipped", sourceLocation: sourceLocation)
            return [:]
        }
        return m.mapValues(\.delta)
    }

    @Test("a first sample: reductions delta 1, every other metric 0, values as given")
    func firstSample() throws {
        var h = DeltaHarness()
        let m = try h.feed([SampleSpec(reductions: 4473, messageQueueLen: 3, memory: 9000, totalHeapSize: 700, minorGCs: 5,
                                       gcInfo: [("old_heap_block_size", 10), ("heap_block_size", 20)])])[0]
        #expect(deltas(m) == ["reductions": 1, "message_queue_len": 0, "memory": 0, "total_heap_size": 0,
                              "old_heap_block_size": 0, "heap_block_size": 0, "minor_gcs": 0])
        #expect(m?["reductions"]?.value == 4473)
        #expect(m?["memory"]?.value == 9000)
        #expect(m?["minor_gcs"]?.value == 5)
        #expect(m?["heap_block_size"]?.value == 20)
    }

    @Test("metrics in flame_prof's order: four fixed, garbage_collection_info as the node gave it, minor_gcs last")
    func order() throws {
        let h = DeltaHarness()
        let names = try h.order(SampleSpec(gcInfo: [("zeta", 1), ("alpha", 2), ("mbuf_size", 3)]))
        #expect(names == ["reductions", "message_queue_len", "memory", "total_heap_size", "zeta", "alpha", "mbuf_size", "minor_gcs"])
    }

    @Test("reductions: d + 1 when d >= 0, -d when negative")
    func reductions() throws {
        var h = DeltaHarness()
        _ = try h.feed([SampleSpec(reductions: 100)])
        #expect(try h.feed([SampleSpec(reductions: 150)])[0]?["reductions"]?.delta == 51)
        #expect(try h.feed([SampleSpec(reductions: 150)])[0]?["reductions"]?.delta == 1)
        #expect(try h.feed([SampleSpec(reductions: 140)])[0]?["reductions"]?.delta == 10)
        // Past 2^32 and back: big integers on the wire.
        #expect(try h.feed([SampleSpec(reductions: 5_000_000_140)])[0]?["reductions"]?.delta == 5_000_000_001)
    }

    // Rows are first looked up by the sample's place in its tick; a process
    // that moves, or a place another process takes, must not borrow a row.
    @Test("processes that change places keep their own deltas")
    func processesChangingPlaces() throws {
        var h = DeltaHarness()
        let a = (UInt32(85), UInt32(0)), b = (UInt32(86), UInt32(0)), c = (UInt32(87), UInt32(0))
        _ = try h.feed([SampleSpec(pid: a, reductions: 10), SampleSpec(pid: b, reductions: 100)])
        let swapped = try h.feed([SampleSpec(pid: b, reductions: 150), SampleSpec(pid: a, reductions: 15)])
        #expect(swapped[0]?["reductions"]?.delta == 51)
        #expect(swapped[1]?["reductions"]?.delta == 6)
        // A newcomer at a known place starts over; the one it displaced keeps its row.
        let displaced = try h.feed([SampleSpec(pid: c, reductions: 7), SampleSpec(pid: a, reductions: 20), SampleSpec(pid: b, reductions: 149)])
        #expect(displaced[0]?["reductions"]?.delta == 1)
        #expect(displaced[1]?["reductions"]?.delta == 6)
        #expect(displaced[2]?["reductions"]?.delta == 1)
        let back = try h.feed([SampleSpec(pid: a, reductions: 20), SampleSpec(pid: b, reductions: 160), SampleSpec(pid: c, reductions: 9)])
        #expect(back.map { $0?["reductions"]?.delta } == [1, 12, 3])
    }

    @Test("minor_gcs: now - before when it grew, else now (a full sweep reset it)")
    func minorGCs() throws {
        var h = DeltaHarness()
        _ = try h.feed([SampleSpec(minorGCs: 10)])
        #expect(try h.feed([SampleSpec(minorGCs: 14)])[0]?["minor_gcs"]?.delta == 4)
        #expect(try h.feed([SampleSpec(minorGCs: 14)])[0]?["minor_gcs"]?.delta == 14)
        #expect(try h.feed([SampleSpec(minorGCs: 3)])[0]?["minor_gcs"]?.delta == 3)
        #expect(try h.feed([SampleSpec(minorGCs: 0)])[0]?["minor_gcs"]?.delta == 0)
    }

    @Test("other metrics: now - before, negative included")
    func others() throws {
        var h = DeltaHarness()
        _ = try h.feed([SampleSpec(messageQueueLen: 5, memory: 1000, totalHeapSize: 300, gcInfo: [("heap_block_size", 50)])])
        let m = try h.feed([SampleSpec(messageQueueLen: 2, memory: 1500, totalHeapSize: 300, gcInfo: [("heap_block_size", 20)])])[0]
        #expect(m?["message_queue_len"]?.delta == -3)
        #expect(m?["memory"]?.delta == 500)
        #expect(m?["total_heap_size"]?.delta == 0)
        #expect(m?["heap_block_size"]?.delta == -30)
    }

    @Test("deltas past the ends of Int64 saturate instead of trapping (Int64.max, then -1)")
    func saturatingDeltas() throws {
        var h = DeltaHarness()
        let nearMin = -Int64.max  // Int64.min + 1
        _ = try h.feed([SampleSpec(reductions: .max, messageQueueLen: nearMin, memory: .max, minorGCs: nearMin)])
        let m = try h.feed([SampleSpec(reductions: -1, messageQueueLen: .max, memory: -2, minorGCs: .max)])[0]
        // -1 - Int64.max is Int64.min exactly; its negation saturates.
        #expect(deltas(m)["reductions"] == .max)
        #expect(deltas(m)["message_queue_len"] == .max)
        #expect(deltas(m)["memory"] == .min)
        #expect(deltas(m)["minor_gcs"] == .max)
        _ = try h.feed([SampleSpec(reductions: nearMin)])
        // Int64.max - (Int64.min + 1) saturates, and so does its + 1.
        #expect(try h.feed([SampleSpec(reductions: .max)])[0]?["reductions"]?.delta == .max)
        #expect(try h.feed([SampleSpec(reductions: .max)])[0]?["reductions"]?.delta == 1)
    }

    @Test("state is per process: pids differing only in serial are different processes")
    func perProcess() throws {
        var h = DeltaHarness()
        let first = try h.feed([SampleSpec(pid: (85, 0), reductions: 100, memory: 10), SampleSpec(pid: (85, 1), reductions: 1000, memory: 20)])
        #expect(first.map { $0?["reductions"]?.delta } == [1, 1])
        let second = try h.feed([SampleSpec(pid: (85, 1), reductions: 1010, memory: 25), SampleSpec(pid: (85, 0), reductions: 105, memory: 7),
                                 SampleSpec(pid: (86, 0), reductions: 1, memory: 99)])
        #expect(second.map { $0?["reductions"]?.delta } == [11, 6, 1])
        #expect(second.map { $0?["memory"]?.delta } == [5, -3, 0])
        #expect(h.deltas.processCount == 3)
    }

    @Test("a metric first seen later gets the first-sample delta; one that disappears is not written")
    func metricSeenLater() throws {
        var h = DeltaHarness()
        _ = try h.feed([SampleSpec(reductions: 10, gcInfo: [("heap_block_size", 5)])])
        let m = try h.feed([SampleSpec(reductions: 20, gcInfo: [("heap_block_size", 8), ("mbuf_size", 77)])])[0]
        #expect(m?["mbuf_size"]?.value == 77)
        #expect(m?["mbuf_size"]?.delta == 0)
        #expect(m?["heap_block_size"]?.delta == 3)
        #expect(m?["reductions"]?.delta == 11)
        // Another process reporting mbuf_size for the first time: also 0.
        let other = try h.feed([SampleSpec(pid: (90, 0), gcInfo: [("mbuf_size", 5)])])[0]
        #expect(other?["mbuf_size"]?.delta == 0)
        // Gone, then back: the delta is against the last value seen.
        let gone = try h.feed([SampleSpec(reductions: 30, gcInfo: [("heap_block_size", 9)])])[0]
        #expect(gone?["mbuf_size"] == nil)
        let back = try h.feed([SampleSpec(reductions: 40, gcInfo: [("heap_block_size", 9), ("mbuf_size", 80)])])[0]
        #expect(back?["mbuf_size"]?.delta == 3)
    }

    @Test("a sample missing an item keeps the metrics it has: they move its process's state; perf leaves it out and counts it",
          arguments: ["status", "current_function", "current_stacktrace", "initial_call", "reductions", "message_queue_len",
                      "memory", "total_heap_size", "garbage_collection_info", "garbage_collection"])
    func missingItems(item: String) throws {
        var h = DeltaHarness()
        _ = try h.feed([SampleSpec(reductions: 100, memory: 1000, minorGCs: 2)])
        let lacking = try h.feed([SampleSpec(reductions: 500, memory: 5000, minorGCs: 9).without(item)])
        #expect(lacking.count == 1)
        // An absent metric is absent, never zero.
        let metric = item == "garbage_collection" ? "minor_gcs" : item
        #expect(lacking[0]?[metric] == nil)
        // The next sample's deltas are against the sample that lacked the item, metric by metric.
        let next = try h.feed([SampleSpec(reductions: 110, memory: 1100, minorGCs: 3)])[0]
        #expect(deltas(next)["reductions"] == (item == "reductions" ? 11 : 390))
        #expect(deltas(next)["memory"] == (item == "memory" ? 100 : -3900))
        #expect(deltas(next)["minor_gcs"] == (item == "garbage_collection" ? 1 : 3))
        // flame_prof's text needs every one of these: the perf output leaves the sample out and says why.
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: [(0, [SampleSpec()]), (10_000, [SampleSpec().without(item)])]))
        let converted = convert([path])
        #expect(converted.summary.events == 1)
        #expect(converted.summary.skippedSamples == ["missing \(metric)": 1])
    }

    @Test("a process whose samples all lacked reductions starts with the first-sample delta")
    func lackingFirst() throws {
        var h = DeltaHarness()
        _ = try h.feed([SampleSpec(pid: (70, 0), reductions: 100).without("reductions")])
        let m = try h.feed([SampleSpec(pid: (70, 0), reductions: 300)])[0]
        #expect(deltas(m)["reductions"] == 1)
        #expect(h.deltas.processCount == 1)
    }

    @Test("optional items (registered_name, heap_size, stack_size, dictionary) may be missing")
    func optionalItems() throws {
        var h = DeltaHarness()
        let m = try h.feed([SampleSpec().without("registered_name", "heap_size", "stack_size", "dictionary")])[0]
        #expect(m?["heap_size"] == nil)
        #expect(m?["reductions"] != nil)
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: [(0, [SampleSpec().without("registered_name", "heap_size", "stack_size", "dictionary")])]))
        #expect(convert([path]).summary.skippedSamples.isEmpty)
    }

    @Test("deltas continue across the files of a rotated capture, and across ticks in the text")
    func acrossFiles() throws {
        let dir = ScratchDir()
        let s = { (r: Int64, mem: Int64) in SampleSpec(pid: (85, 0), reductions: r, memory: mem) }
        dir.write("c-000000.flame", dumpBytes(capture: "c", seq: 0, ticks: [(0, [s(100, 10)]), (20_000, [s(130, 12)])]))
        // The second file's header has a later started_at and its own monotonic base.
        dir.write("c-000001.flame", dumpBytes(capture: "c", seq: 1, startedAt: 1_700_000_000_040_000, monotonicStart: 5_000_000,
                                              ticks: [(0, [s(200, 15)]), (20_000, [s(199, 15)])]))
        let (text, summary, problems) = convert([dir.path])
        #expect(problems.isEmpty)
        #expect(summary.events == 4)
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("running\t") }
        #expect(lines.map { String($0.split(separator: "\t")[2]) } == [
            "metric_erlang_reductions: 100, 1", "metric_erlang_reductions: 130, 31",
            "metric_erlang_reductions: 200, 71", "metric_erlang_reductions: 199, 1",
        ])
        #expect(lines.map { $0.split(separator: " ")[2] } == ["1700000000.000000:", "1700000000.020000:", "1700000000.040000:", "1700000000.060000:"])
        #expect(lines.allSatisfy { $0.contains("\tmetric_erlang_memory: ") })
        #expect(lines[2].contains("metric_erlang_memory: 15, 3"))
    }

    @Test("past the process limit the least recently seen half is forgotten; one that comes back starts over")
    func forgetsLeastRecentlySeen() throws {
        var h = DeltaHarness(deltas: DeltaCalculator(processLimit: 4))
        for number in UInt32(1)...4 { _ = try h.feed([SampleSpec(pid: (number, 0), reductions: 100, memory: 50)]) }
        #expect(try h.feed([SampleSpec(pid: (1, 0), reductions: 110, memory: 50)])[0]?["reductions"]?.delta == 11)
        // A fifth process: 2 and 3 were seen least recently, and go.
        #expect(try h.feed([SampleSpec(pid: (5, 0), reductions: 100, memory: 50)])[0]?["reductions"]?.delta == 1)
        #expect(h.deltas.forgottenProcesses == 2)
        let back = try h.feed([SampleSpec(pid: (2, 0), reductions: 150, memory: 70)])[0]
        #expect(deltas(back)["reductions"] == 1)
        #expect(deltas(back)["memory"] == 0)
        // 4 and 1 are remembered.
        #expect(try h.feed([SampleSpec(pid: (4, 0), reductions: 120)])[0]?["reductions"]?.delta == 21)
        #expect(try h.feed([SampleSpec(pid: (1, 0), reductions: 130)])[0]?["reductions"]?.delta == 21)
        #expect(h.deltas.processCount == 6)
    }

    @Test("200,000 distinct pids keep at most the limit, in one flat arena")
    func boundedProcessStates() {
        var states = ProcessStates(limit: 1000, stride: 16)
        for pid in UInt64(0)..<200_000 {
            let row = states.row(for: pid)
            _ = states.exchange(row: row, slot: 15, with: Int64(pid))
            if states.count > 1000 { Issue.record("\(states.count) processes kept"); break }
        }
        #expect(states.admitted == 200_000)
        #expect(states.forgotten == 200_000 - states.count)
        // The most recent ones are kept, with their values.
        let last = states.row(for: 199_999)
        #expect(states.exchange(row: last, slot: 15, with: 0) == 199_999)
        #expect(states.admitted == 200_000)
        // With many metrics a process costs more: fewer are kept, whatever the limit.
        #expect(ProcessStates(limit: 10_000_000, stride: 64).capacity == ProcessStates.valueBytesLimit / (64 * 8))
        #expect(ProcessStates(limit: 1_000_000, stride: 16).capacity == 1_000_000)
    }

    @Test("widening for a new metric keeps every process's values, and the new slot starts empty")
    func widening() {
        var states = ProcessStates(limit: 100, stride: 2)
        for pid in UInt64(0)..<10 {
            let row = states.row(for: pid)
            _ = states.exchange(row: row, slot: 0, with: Int64(pid) * 10)
            _ = states.exchange(row: row, slot: 1, with: Int64(pid) * 10 + 1)
        }
        states.widen(to: 5)
        for pid in UInt64(0)..<10 {
            let row = states.row(for: pid)
            #expect(states.exchange(row: row, slot: 0, with: 0) == Int64(pid) * 10)
            #expect(states.exchange(row: row, slot: 1, with: 0) == Int64(pid) * 10 + 1)
            #expect(states.exchange(row: row, slot: 4, with: 7) == nil)
        }
    }

    @Test("garbage_collection_info names past the catalogue's 64 metrics are left out and counted")
    func tooManyMetricNames() throws {
        var h = DeltaHarness()
        let names = (0..<70).map { ("gc_name_\($0)", Int64($0)) }
        let first = try h.feed([SampleSpec(reductions: 10, gcInfo: names)])[0]
        // Five process_info metrics, then room for 59 names.
        #expect(h.ticks.catalogue.count == MetricCatalogue.capacity)
        #expect(first?.count == MetricCatalogue.capacity)
        #expect(first?["gc_name_58"]?.value == 58)
        #expect(first?["gc_name_59"] == nil)
        #expect(h.ticks.parser.metricEntriesDropped.count == 11)
        let second = try h.feed([SampleSpec(reductions: 20, gcInfo: names.map { ($0.0, $0.1 + 5) })])[0]
        #expect(second?["gc_name_58"]?.delta == 5)
        #expect(second?["minor_gcs"] != nil)
        #expect(h.ticks.parser.metricEntriesDropped.count == 22)
    }

    @Test("garbage_collection_info names longer than 64 bytes are left out and counted apart, not taking a place")
    func longMetricNames() throws {
        var h = DeltaHarness()
        let long = String(repeating: "m", count: MetricCatalogue.maxNameBytes + 1)
        let exact = String(repeating: "n", count: MetricCatalogue.maxNameBytes)
        let first = try h.feed([SampleSpec(reductions: 10, gcInfo: [(long, 1), (exact, 2)])])[0]
        #expect(first?[long] == nil)
        #expect(first?[exact]?.value == 2)
        #expect(h.ticks.catalogue.id(named: long) == nil)
        #expect(h.ticks.parser.metricNamesTooLong.count == 1)
        #expect(h.ticks.parser.metricEntriesDropped.count == 0)
    }
}
