@testable import FlameDump
import FlameModel
import TestSupport
import Testing

/// A sample that repeats the same process's last sample of its shape in all
/// but its integers (and holes) is read by replaying it (`SampleTemplates`);
/// everything read must be exactly what the general parser reads.
@Suite("Replaying repeated samples")
struct SampleReplayTests {
    /// Every tick of every capture under `paths`, as text: each sample's
    /// fields and metric values, then what was skipped and why.
    static func read(_ paths: [String], replay: Bool, entryLimit: Int? = nil, byteLimit: Int? = nil) -> (text: String, replayed: Int) {
        let scan = CaptureCatalog.scan(paths)
        var symbols = Symbols()
        var catalogue = MetricCatalogue()
        var lines: [String] = []
        var replayed = 0
        for capture in scan.captures {
            let reader = CaptureReader(capture: capture, replaysRepeatedSamples: replay)
            if let entryLimit { reader.parser.templates.entryLimit = entryLimit }
            if let byteLimit { reader.parser.templates.byteLimit = byteLimit }
            var tick = Tick()
            while reader.nextTick(into: &tick, symbols: &symbols, catalogue: &catalogue) {
                lines.append("tick \(tick.monotonic) \(tick.samples.count)")
                for sample in tick.samples {
                    let values = sample.metrics.enumerated().map { "\($0.element.index)=\(tick.metricValues[sample.firstValue + $0.offset])" }
                    lines.append("\(sample) \(values.joined(separator: ","))")
                }
            }
            lines.append("skipped \(reader.skippedSamples.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.count)" })")
            lines.append("dropped \(reader.metricEntriesDropped?.count ?? 0) \(reader.metricNamesTooLong?.count ?? 0)")
            replayed += reader.parser.templates.replayed
        }
        lines.append("symbols \(symbols.byteEstimate) catalogue \(catalogue.count)")
        return (lines.joined(separator: "\n"), replayed)
    }

    /// The number of samples replayed.
    @discardableResult
    static func sameWithAndWithoutReplay(_ paths: [String], entryLimit: Int? = nil, byteLimit: Int? = nil,
                                         sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let general = read(paths, replay: false)
        let replayed = read(paths, replay: true, entryLimit: entryLimit, byteLimit: byteLimit)
        #expect(general.text == replayed.text, sourceLocation: sourceLocation)
        #expect(general.text.count > 100, sourceLocation: sourceLocation)
        #expect(general.replayed == 0, sourceLocation: sourceLocation)
        return replayed.replayed
    }

    @Test("the real captures read the same", arguments: ["plain", "rotated", "compressed", "top100"])
    func captures(_ name: String) {
        let path = "\(repositoryRoot)/Fixtures/captures/\(name)"
        let replayed = Self.sameWithAndWithoutReplay([path])
        // Many samples of a real capture repeat their place's last one in all but their integers
        // (fewer in these short ones: every file starts anew, and a tick's first samples find none).
        let samples = Self.read([path], replay: false).text.split(separator: "\n").count { $0.hasPrefix("ProcessSample") }
        #expect(replayed * 4 > samples, "\(replayed) of \(samples) samples replayed")
    }

    @Test("the reference test data and the hand-made bad inputs read the same")
    func testdataAndBadInputs() {
        Self.sameWithAndWithoutReplay(["\(repositoryRoot)/Tests/reference/testdata/dumps"])
        Self.sameWithAndWithoutReplay(["\(repositoryRoot)/Fixtures/bad"])
    }

    /// Pairs of ticks where the second sample differs from the first in one
    /// way each: every difference outside the integers must fall back, and
    /// integers of any width must replay.
    @Test("integers of any width replay; any other difference falls back")
    func variations() throws {
        let base = SampleSpec(reductions: 100, memory: 2000)
        let variants: [SampleSpec] = [
            base,
            SampleSpec(reductions: 101, memory: 2000),                 // small integer to small integer
            SampleSpec(reductions: 70_000, memory: 2000),              // small integer to INTEGER_EXT
            SampleSpec(reductions: 9_000_000_000, memory: 2000),       // to a 64-bit bignum
            SampleSpec(reductions: -5, memory: 3_000_000_000),
            SampleSpec(status: "waiting", reductions: 100),            // an atom differs
            SampleSpec(pid: (86, 0), reductions: 100),                 // another process at the place
            SampleSpec(reductions: 100, stack: [E.frame("m", "loop", 1, file: "m.erl", line: 11)]),  // an integer that is not a metric
            SampleSpec(reductions: 100, gcInfo: [("old_heap_block_size", 0)]),                    // fewer entries
            SampleSpec(reductions: 100, gcInfo: [("old_heap_block_size", 0), ("heap_block_size", 70_000)]),
            base.with("reductions", E.atom("oops")),                   // a metric that is not an integer
            base.without("memory"),
        ]
        var replayed = 0
        for first in variants {
            for second in variants {
                let ticks: [(ts: Int64, samples: [SampleSpec])] = [(0, [first, base]), (10_000, [second, base]), (20_000, [first, second]), (30_000, [second])]
                let dir = ScratchDir()
                let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks))
                replayed += Self.sameWithAndWithoutReplay([path])
            }
        }
        // The unchanged `base` in every tick, and the pairs that differ in integers only.
        #expect(replayed > variants.count * variants.count * 2)
    }

    /// The values real samples change most besides their metrics: the
    /// parser reads them in place and the rest is still compared.
    @Test("a changed status, current function or stack, or an unread integer item, still replays")
    func holes() throws {
        let base = SampleSpec(reductions: 100)
        let changed: [SampleSpec] = [
            SampleSpec(status: "waiting", reductions: 101),
            SampleSpec(reductions: 102, currentFunction: E.mfa("m", "wait", 2)),
            SampleSpec(reductions: 103, currentFunction: E.atom("undefined")),
            SampleSpec(reductions: 104, stack: [E.frame("m", "loop", 1, file: "m.erl", line: 11), E.frame("m", "start", 0, file: "m.erl", line: 3)]),
            SampleSpec(reductions: 105, stack: []),
            base.with("heap_size", E.int(70_000)).with("stack_size", E.int(9_000_000_000)),
            SampleSpec(status: "runnable", reductions: 106, currentFunction: E.mfa("n", "f", 0), stack: [E.frame("n", "f", 0, file: "n.erl", line: 1)]),
        ]
        // Each one after `base`, and `base` again after it: every sample but the first replays.
        var ticks: [(ts: Int64, samples: [SampleSpec])] = [(0, [base])]
        for (i, sample) in changed.enumerated() {
            ticks.append((Int64(20_000 * i + 10_000), [sample]))
            ticks.append((Int64(20_000 * i + 20_000), [base]))
        }
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks))
        #expect(Self.sameWithAndWithoutReplay([path]) == ticks.count - 1)
        // A value of another shape in the hole's place is no replay: the general parser says what it is.
        let odd = base.with("current_stacktrace", E.atom("oops"))
        let oddPath = dir.write("u-000000.flame", dumpBytes(ticks: [(0, [base]), (10_000, [odd]), (20_000, [base])]))
        #expect(Self.sameWithAndWithoutReplay([oddPath]) == 0)
    }

    /// With `select => all` the agent samples a node's processes a few
    /// hundred a tick, round robin: a process's sample comes back at another
    /// place, ticks later.
    @Test("a process's sample replays at another place and ticks later, and past the limits all is forgotten, nothing misread")
    func movingPlaces() throws {
        let pids: [(UInt32, UInt32)] = (0..<6).map { (UInt32(80 + $0), 0) }
        func tick(_ n: Int, _ order: [Int]) -> (ts: Int64, samples: [SampleSpec]) {
            (Int64(n) * 10_000, order.map { SampleSpec(pid: pids[$0], reductions: Int64(100 + n), stack: [E.frame("m", "f\($0)", 0)]) })
        }
        let ticks = [tick(0, [0, 1, 2]), tick(1, [3, 4, 5]), tick(2, [2, 0, 1]), tick(3, [5, 3]), tick(4, [1, 2, 0, 4])]
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks))
        // Every sample after each process's first.
        #expect(Self.sameWithAndWithoutReplay([path]) == 15 - 6)
        // Two entries at most, or a few hundred bytes: forgotten again and again, still read right.
        #expect(Self.sameWithAndWithoutReplay([path], entryLimit: 2) < 9)
        #expect(Self.sameWithAndWithoutReplay([path], byteLimit: 900) < 9)
        for name in ["plain", "rotated", "compressed", "top100"] {
            Self.sameWithAndWithoutReplay(["\(repositoryRoot)/Fixtures/captures/\(name)"], entryLimit: 3, byteLimit: 4096)
        }
    }

    /// The agent's short sample of pid <0.85.0> naming the full sample of tick `ts` (µs after the capture's start).
    static func short(_ status: String, _ reductions: Int64, since ts: Int64) -> SampleSpec {
        var spec = SampleSpec()
        spec.items = [("status", E.atom(status)), ("reductions", E.int(reductions)), ("message_queue_len", E.int(0)),
                      ("flame_unchanged", E.int(-576_460_000_000_000 + ts))]
        return spec
    }

    @Test("short samples replay against the full sample they name")
    func shortSamples() throws {
        let full = SampleSpec(status: "waiting", reductions: 100, memory: 5000)
        let ticks: [(ts: Int64, samples: [SampleSpec])] = [
            (0, [full]), (10_000, [Self.short("waiting", 101, since: 0)]), (20_000, [Self.short("waiting", 300, since: 0)]),
            (30_000, [Self.short("runnable", 70_000, since: 0)]), (40_000, [full]), (50_000, [Self.short("waiting", 100, since: 0)]),
            (60_000, [Self.short("waiting", 100, since: 40_000)]), (70_000, [Self.short("waiting", 101, since: 40_000)]),
        ]
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks, unchanged: "short"))
        // 20 ms and 70 ms: the same short sample as the one before but for its
        // reductions; 30 ms and 50 ms: and for its status (a hole); 40 ms: the
        // full sample of 0 ms again (kept apart from the short ones). 60 ms
        // names another full sample.
        #expect(Self.sameWithAndWithoutReplay([path]) == 5)
    }

    @Test("a short sample that repeats the last one byte for byte is replayed whole, and reads the same")
    func wholeRepeats() throws {
        let full = SampleSpec(status: "waiting", reductions: 100, memory: 5000)
        let other = SampleSpec(pid: (86, 0), status: "waiting", reductions: 7, memory: 300)
        let ticks: [(ts: Int64, samples: [SampleSpec])] = [
            (0, [full, other]), (10_000, [Self.short("waiting", 101, since: 0), other]), (20_000, [Self.short("waiting", 101, since: 0), other]),
            (30_000, [other, Self.short("waiting", 101, since: 0)]), (40_000, [Self.short("runnable", 101, since: 0)]),
            (50_000, [Self.short("waiting", 101, since: 0)]), (60_000, [Self.short("waiting", 101, since: 0)]),
            // A new full sample: the same short bytes as before now name a full sample no longer kept.
            (70_000, [full]), (80_000, [Self.short("waiting", 101, since: 0)]), (90_000, [Self.short("waiting", 101, since: 70_000)]),
            (100_000, [Self.short("waiting", 101, since: 70_000)]),
        ]
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks, unchanged: "short"))
        #expect(Self.sameWithAndWithoutReplay([path]) >= 8)
        // Whole: 20 ms and 30 ms (at another place), 60 ms, 80 ms (then skipped:
        // its full sample is gone) and 100 ms.
        let reader = CaptureReader(capture: CaptureCatalog.scan([path]).captures[0], replaysRepeatedSamples: true)
        var tick = Tick(), symbols = Symbols(), catalogue = MetricCatalogue()
        var samples = 0
        while reader.nextTick(into: &tick, symbols: &symbols, catalogue: &catalogue) { samples += tick.samples.count }
        #expect(reader.parser.templates.replayedWhole == 5)
        #expect(samples == 14)
        #expect(reader.skippedSamples.values.map(\.count).reduce(0, +) == 1)
    }
}
