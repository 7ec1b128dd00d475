@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
import FlameDump
import TestSupport
import Testing

@Suite("PerfLineMemo")
struct PerfLineMemoTests {
    /// Converts `ticks` with the line memo on or off; the text, and what the memo served.
    private func convert(_ ticks: [(ts: Int64, samples: [SampleSpec])], dialect: PerfDialect, memo: Bool) -> (text: [UInt8], whole: Int, tails: Int) {
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks))
        let out = MemoryOutput()
        let perf = PerfSink(dialect: dialect, output: out)
        perf.usesLineMemo = memo
        _ = try! ProfileRun(captures: CaptureCatalog.scan([path]).captures, plan: RunPlan(levels: [StatusLevel()], filter: SampleFilter()), sinks: [perf]).run()
        return (out.bytes, perf.lineMemoCounts.whole, perf.lineMemoCounts.tails)
    }

    /// A pid whose slot is `pid`'s: two processes that take turns in one slot.
    private func collidingPid(with pid: (UInt32, UInt32)) -> (UInt32, UInt32) {
        let memo = PerfLineMemo()!
        defer { memo.deallocate() }
        let target = memo.slot(pid: UInt64(pid.0) << 32 | UInt64(pid.1), capture: 0).raw
        for number in UInt32(200)... where number != pid.0 {
            if memo.slot(pid: UInt64(number) << 32, capture: 0).raw == target { return (number, 0) }
        }
        fatalError("no colliding pid")
    }

    @Test("lines copied whole or by their tail spell what formatting spells", arguments: [PerfDialect.flameProf, .portable])
    func sameTextAsFormatting(dialect: PerfDialect) {
        let a = (UInt32(85), UInt32(0)), b = (UInt32(86), UInt32(0)), c = collidingPid(with: a)
        let gc: [(String, Int64)] = [("old_heap_block_size", 0), ("heap_block_size", 233)]
        let wider: [(String, Int64)] = [("old_heap_block_size", 0), ("heap_block_size", 233), ("mbuf_size", 7)]
        // Per tick: A repeats, then changes at the head (reductions, whose text
        // grows and shrinks), in the middle (memory), at the tail (a
        // garbage_collection_info entry), and in its metric set (a new plan);
        // B repeats throughout; C shares A's slot.
        let aSteps: [SampleSpec] = [
            SampleSpec(pid: a), SampleSpec(pid: a), SampleSpec(pid: a),
            SampleSpec(pid: a, reductions: 1_000_000), SampleSpec(pid: a, reductions: 1_000_000),
            SampleSpec(pid: a, reductions: 1_000_005), SampleSpec(pid: a, reductions: 1_000_005, memory: 123_456_789),
            SampleSpec(pid: a, reductions: 1_000_005, memory: 123_456_789, gcInfo: [("old_heap_block_size", 0), ("heap_block_size", 9)]),
            SampleSpec(pid: a, reductions: 1_000_005, memory: 123_456_789, gcInfo: wider),
            SampleSpec(pid: a, reductions: 1_000_005, memory: 123_456_789, gcInfo: wider),
            SampleSpec(pid: a, reductions: 1_000_005, memory: 5, gcInfo: gc),
            SampleSpec(pid: a, reductions: 1_000_005, memory: 5, gcInfo: gc),
        ]
        var ticks: [(ts: Int64, samples: [SampleSpec])] = []
        for (i, step) in aSteps.enumerated() {
            var samples = [step, SampleSpec(pid: b, status: "waiting")]
            if i % 3 == 2 { samples.append(SampleSpec(pid: c, reductions: Int64(i))) }
            ticks.append((Int64(i) * 10_000, samples))
        }
        let memo = convert(ticks, dialect: dialect, memo: true)
        let formatted = convert(ticks, dialect: dialect, memo: false)
        #expect(memo.text == formatted.text)
        #expect(!memo.text.isEmpty)
        // The memo served both ways: whole lines (B, A's repeats) and tails
        // (A's head changes). In flame_prof's dialect lines of A's wider set
        // and B's take turns and each turn is a new plan, so fewer are whole.
        #expect(memo.whole >= aSteps.count / 2)
        #expect(memo.tails >= 3)
        #expect(formatted.whole == 0 && formatted.tails == 0)
    }

    @Test("a real capture: the same text with and without the memo")
    func realCapture() throws {
        for dialect in [PerfDialect.flameProf, .portable] {
            let scan = CaptureCatalog.scan([Fixtures.captures.appendingPathComponent("rotated").path])
            var texts: [[UInt8]] = []
            for memo in [true, false] {
                let out = MemoryOutput()
                let perf = PerfSink(dialect: dialect, output: out)
                perf.usesLineMemo = memo
                _ = try ProfileRun(captures: scan.captures, plan: RunPlan(levels: [StatusLevel()], filter: SampleFilter()), sinks: [perf]).run()
                if memo { #expect(perf.lineMemoCounts.whole + perf.lineMemoCounts.tails > 0) }
                texts.append(out.bytes)
            }
            #expect(texts[0] == texts[1])
        }
    }
}
