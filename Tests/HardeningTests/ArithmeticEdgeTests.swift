import Foundation
import TestSupport
import Testing

/// Real captures with integers moved to the ends of Int64 (and clocks stepped
/// back), through the flameconv binary under the hardening limits: each gives
/// a clear result, never a trap.
@Suite("Arithmetic at the ends of Int64", .serialized)
struct ArithmeticEdgeTests {
    static let plain = "plain"
    static let rotated = "rotated"

    /// Writes the edited files of one capture into `dir` (names as the fixture's) and returns `dir`'s path.
    static func write(_ files: [CaptureEditor], _ dir: ScratchDir, name: String) throws -> String {
        let folder = dir.file(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (seq, file) in files.enumerated() {
            try Data(file.bytes).write(to: URL(fileURLWithPath: "\(folder)/\(name)-\(String(format: "%06d", seq)).flame"))
        }
        return folder
    }

    static func run(_ arguments: [String], timeout: Double? = nil) throws -> ProcessResult {
        let run = try Flameconv.run(arguments, timeout: timeout)
        print("hardening: flameconv \(arguments.dropLast().joined(separator: " ")): exit \(run.exitCode ?? -1) \(String(format: "%.2f", run.seconds)) s")
        #expect(run.signal == nil && !run.timedOut, "\(run)")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("arithmetic overflow"), "\(run)")
        return run
    }

    /// Event lines of flame_prof text.
    static func events(_ run: ProcessResult) -> [Substring] {
        run.out.split(separator: "\n").filter { !$0.hasPrefix("\t") }
    }

    /// The wall time of a file's tick `n`, as docs/dump-format.md defines it (no overflow in these tests).
    static func wall(_ file: CaptureEditor, tick n: Int) -> Int64 {
        file.header("started_at") + (file.tickTs(n) - file.header("monotonic_start"))
    }

    /// `stats --json`, parsed by Foundation: the first capture's object.
    static func statsJSON(_ path: String) throws -> (text: String, capture: [String: Any]) {
        let run = try run(["stats", "--json", path])
        #expect(run.exitCode == 0, "\(run)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout))
        let captures = try #require((object as? [String: Any])?["captures"] as? [[String: Any]])
        return (run.out, try #require(captures.first))
    }

    // MARK: Deltas and sums (F01, F02, F08)

    @Test("reductions Int64.max then -1: the delta -d of d = Int64.min saturates to Int64.max")
    func reductionsDeltaAtInt64Min() throws {
        var file = try CaptureEditor.capture(Self.plain)[0]
        file.setItem(tick: 0, "reductions", ETFBytes.int(.max))
        file.setItem(tick: 1, "reductions", ETFBytes.int(-1))
        let dir = ScratchDir()
        let path = try Self.write([file], dir, name: "delta")
        let convert = try Self.run(["convert", "--quiet", "--dialect", "flame_prof", path])
        #expect(convert.exitCode == 0, "\(convert)")
        let tick1 = Self.events(convert).filter { $0.contains("metric_erlang_reductions: -1, ") }
        // The processes sampled in both ticks (the agent's top 8 change little tick to tick).
        #expect(!tick1.isEmpty)
        #expect(tick1.contains { $0.contains("metric_erlang_reductions: -1, 9223372036854775807\t") }, "\(tick1)")
        let stats = try Self.run(["stats", path])
        #expect(stats.exitCode == 0, "\(stats)")
    }

    @Test("a stack's reductions summed past Int64.max saturate in stats")
    func stackReductionsSumSaturates() throws {
        var file = try CaptureEditor.capture(Self.plain)[0]
        // Every process: 0, then Int64.max - 1 (delta Int64.max), then 0 (delta Int64.max - 1) ...
        for n in 0..<file.ticks.count { file.setItem(tick: n, "reductions", ETFBytes.int(n % 2 == 0 ? 0 : .max - 1)) }
        let dir = ScratchDir()
        let path = try Self.write([file], dir, name: "sum")
        let stats = try Self.run(["stats", path])
        #expect(stats.exitCode == 0, "\(stats)")
        let byReductions = stats.out.components(separatedBy: "stacks by reductions delta:\n").last ?? ""
        #expect(byReductions.hasPrefix("  9223372036854775807  "), "\(byReductions)")
        let (_, capture) = try Self.statsJSON(path)
        let top = try #require((capture["top_by_reductions"] as? [[String: Any]])?.first)
        #expect((top["reductions_delta"] as? NSNumber)?.int64Value == .max)
    }

    @Test("the trailers' overruns summed across rotated files saturate (2^62 × 5, Int64.min × 5)",
          arguments: [(Int64(1) << 62, Int64.max), (Int64.min, Int64.min)])
    func overrunsSumSaturates(_ each: Int64, _ total: Int64) throws {
        var files = try CaptureEditor.capture(Self.rotated)
        try #require(files.count >= 3)
        for i in files.indices { files[i].setTrailer("overruns", each) }
        let dir = ScratchDir()
        let path = try Self.write(files, dir, name: "overruns")
        let stats = try Self.run(["stats", path])
        #expect(stats.exitCode == 0, "\(stats)")
        #expect(stats.out.contains("\noverruns   \(total)\n"), "\(stats.out)")
        let (text, _) = try Self.statsJSON(path)
        #expect(text.contains("\"overruns\": \(total),"))
    }

    // MARK: Wall time (F03, F03b, F04, F05)

    @Test("started_at = Int64.max: every tick's wall time saturates at Int64.max µs; --from/--to still filter")
    func startedAtInt64Max() throws {
        var file = try CaptureEditor.capture(Self.plain)[0]
        file.setHeader("started_at", .max)
        let dir = ScratchDir()
        let path = try Self.write([file], dir, name: "started")
        let all = try Self.run(["convert", "--quiet", "--dialect", "flame_prof", path])
        #expect(all.exitCode == 0, "\(all)")
        let events = Self.events(all)
        #expect(events.count == 400)
        #expect(events.allSatisfy { $0.contains(" [000] 9223372036854.775807: cpu-clock:") }, "\(events.prefix(2))")
        // The capture starts at Int64.max too: every tick is 0 s into it.
        let window = try Self.run(["convert", "--quiet", "--dialect", "flame_prof", "--from", "0", "--to", "1", path])
        #expect(window.exitCode == 0 && Self.events(window).count == 400, "\(window)")
    }

    @Test("monotonic_start = Int64.min: Ts - monotonic_start is past Int64, the wall time saturates; --to excludes it")
    func monotonicStartInt64Min() throws {
        var file = try CaptureEditor.capture(Self.plain)[0]
        file.setHeader("monotonic_start", .min)
        let dir = ScratchDir()
        let path = try Self.write([file], dir, name: "monotonic")
        let all = try Self.run(["convert", "--quiet", "--dialect", "flame_prof", path])
        #expect(all.exitCode == 0, "\(all)")
        #expect(Self.events(all).allSatisfy { $0.contains(" 9223372036854.775807: ") })
        // Every tick is about 292,000 years after started_at.
        let early = try Self.run(["convert", "--quiet", "--dialect", "flame_prof", "--to", "10", path])
        #expect(early.exitCode == 0 && Self.events(early).isEmpty, "\(early)")
        let late = try Self.run(["convert", "--quiet", "--dialect", "flame_prof", "--from", "1e12", path])
        #expect(late.exitCode == 0 && Self.events(late).count == 400, "\(late)")
    }

    @Test("a tick at wall time Int64.min µs: written as -9223372036854.775808; stats give its UTC date")
    func wallInt64Min() throws {
        var file = try CaptureEditor.capture(Self.plain)[0]
        file.setHeader("started_at", .min)
        file.setHeader("monotonic_start", file.tickTs(0))
        let last = file.tickTs(file.ticks.count - 1) - file.tickTs(0)
        let dir = ScratchDir()
        let path = try Self.write([file], dir, name: "wallmin")
        let convert = try Self.run(["convert", "--quiet", "--dialect", "flame_prof", path])
        #expect(convert.exitCode == 0, "\(convert)")
        #expect(Self.events(convert).first?.contains(" [000] -9223372036854.775808: cpu-clock:") == true, "\(Self.events(convert).prefix(1))")
        // `date -u -d @-9223372036855` (GNU date, proleptic Gregorian): -290308-12-21 19:59:05; the fraction is .224192.
        let stats = try Self.run(["stats", path])
        #expect(stats.exitCode == 0, "\(stats)")
        #expect(stats.out.contains("span       -290308-12-21 19:59:05.224192 UTC to "), "\(stats.out)")
        #expect(stats.out.contains("  (0.\(String(format: "%06lld", last)) s)\n"), "\(stats.out)")
    }

    @Test("a tick at wall time Int64.max µs: stats give 294247-01-10 04:00:54.775807 UTC")
    func wallInt64Max() throws {
        var file = try CaptureEditor.capture(Self.plain)[0]
        file.setHeader("started_at", .max)
        let dir = ScratchDir()
        let path = try Self.write([file], dir, name: "wallmax")
        let stats = try Self.run(["stats", path])
        #expect(stats.exitCode == 0, "\(stats)")
        // `date -u -d @9223372036854`: 294247-01-10 04:00:54.
        #expect(stats.out.contains("span       294247-01-10 04:00:54.775807 UTC to 294247-01-10 04:00:54.775807 UTC  (0.000000 s)\n"),
                "\(stats.out)")
    }

    // MARK: Spans (F06, F06b, F07)

    @Test("a clock stepped back between rotated files: a negative span, printed and in valid JSON")
    func rotatedClockStep() throws {
        var files = try CaptureEditor.capture(Self.rotated)
        // The last file's clock stepped back: its last tick reads 10.25 s before the first tick of the first file.
        let first = Self.wall(files[0], tick: 0)
        let lastFile = files.count - 1
        let lastTick = files[lastFile].ticks.count - 1
        let sinceOpen = files[lastFile].tickTs(lastTick) - files[lastFile].header("monotonic_start")
        files[lastFile].setHeader("started_at", first - 10_250_000 - sinceOpen)
        let dir = ScratchDir()
        let path = try Self.write(files, dir, name: "clockstep")
        let stats = try Self.run(["stats", path])
        #expect(stats.exitCode == 0, "\(stats)")
        #expect(stats.out.contains(" UTC  (-10.250000 s)\n"), "\(stats.out)")
        let (text, capture) = try Self.statsJSON(path)
        #expect(text.contains("\"span_seconds\": -10.250000,"))
        #expect((capture["span_seconds"] as? NSNumber)?.doubleValue == -10.25)
    }

    @Test("spans of odd sizes: text and JSON numbers read back as the span",
          arguments: [(Int64(-5), "-0.000005"), (5, "0.000005"), (0, "0.000000"), (-1_000_000, "-1.000000"),
                      (-1_500_001, "-1.500001"), (-999_999, "-0.999999"), (12_000_001, "12.000001")])
    func oddSpans(_ span: Int64, _ text: String) throws {
        var file = try CaptureEditor.capture(Self.plain)[0]
        let last = file.ticks.count - 1
        file.setTickTs(last, file.tickTs(0) + span)
        let dir = ScratchDir()
        let path = try Self.write([file], dir, name: "span")
        let stats = try Self.run(["stats", path])
        #expect(stats.out.contains(" UTC  (\(text) s)\n"), "\(stats.out)")
        let (json, capture) = try Self.statsJSON(path)
        #expect(json.contains("\"span_seconds\": \(text),"))
        #expect((capture["span_seconds"] as? NSNumber)?.doubleValue == Double(text))
        let firstTick = (capture["first_tick_us"] as? NSNumber)?.int64Value
        let lastTick = (capture["last_tick_us"] as? NSNumber)?.int64Value
        #expect(firstTick == Self.wall(file, tick: 0) && lastTick == Self.wall(file, tick: last))
    }

    @Test("a span from Int64.min µs to Int64.max µs saturates; every number of the JSON still parses")
    func widestSpan() throws {
        var files = try CaptureEditor.capture(Self.rotated)
        files[0].setHeader("started_at", .min)
        files[0].setHeader("monotonic_start", files[0].tickTs(0))
        files[files.count - 1].setHeader("started_at", .max)
        let dir = ScratchDir()
        let path = try Self.write(files, dir, name: "widest")
        let (text, capture) = try Self.statsJSON(path)
        #expect(text.contains("\"first_tick_us\": -9223372036854775808, \"last_tick_us\": 9223372036854775807, \"span_seconds\": 9223372036854.775807,"), "\(text)")
        // Foundation parses this many digits to within a few ms; the text above is exact.
        let parsed = (capture["span_seconds"] as? NSNumber)?.doubleValue ?? 0
        #expect(abs(parsed - 9223372036854.775807) < 0.01, "\(parsed)")
        let stats = try Self.run(["stats", path])
        #expect(stats.out.contains(" UTC  (9223372036854.775807 s)\n"), "\(stats.out)")
    }

    // MARK: Integers (F13)

    @Test("a tick Ts of exactly Int64.min is an integer within 64 bits: converted, not a damaged tail")
    func tickTsInt64Min() throws {
        var file = try CaptureEditor.capture(Self.plain)[0]
        file.setTickTs(1, .min)
        let dir = ScratchDir()
        let path = try Self.write([file], dir, name: "tsmin")
        let convert = try Self.run(["convert", "--dialect", "flame_prof", path])
        #expect(convert.exitCode == 0, "\(convert)")
        #expect(!convert.stderr.contains("64 bits"), "\(convert.stderr)")
        #expect(Self.events(convert).count == 400)
        // Its wall time: started_at + (Int64.min - monotonic_start), which fits.
        let wall = file.header("started_at") + (Int64.min - file.header("monotonic_start"))
        #expect(convert.out.contains(" [000] -\(wall.magnitude / 1_000_000).\(String(format: "%06llu", wall.magnitude % 1_000_000)): cpu-clock:"))
        // Ticks must reach FlameScope in time order: the step back is reported.
        #expect(convert.stderr.contains("1 ticks were earlier than the tick before them"), "\(convert.stderr)")
    }

    // MARK: Cost (F12)

    /// The plain capture with `stacks` samples whose stacks are all different,
    /// `depth` frames each (drawn from 64 functions, no two neighbours alike, so
    /// collapsing recursion changes none of them).
    static func distinctStacks(_ stacks: Int, depth: Int) throws -> [UInt8] {
        var file = try CaptureEditor.capture(Self.plain)[0]
        let perTick = file.sampleCount(tick: 0)
        let pool = (0..<64).map { ETFBytes.frame("hostile_mod", "f\($0)", 0) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func stack() -> [UInt8] {
            var frames: [[UInt8]] = []
            frames.reserveCapacity(depth)
            var previous = -1
            for _ in 0..<depth {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                var f = Int(state >> 58)
                if f == previous { f = (f + 1) % 64 }
                previous = f
                frames.append(pool[f])
            }
            return ETFBytes.list(frames)
        }
        file.appendCopies(of: 0, count: (stacks + perTick - 1) / perTick, step: 20_000) { file, tick in
            for sample in 0..<perTick { file.setItem(tick: tick, sample: sample, "current_stacktrace", stack()) }
        }
        return file.bytes
    }

    @Test("stats on 2,000 distinct 100-frame stacks costs about what convert costs (the ranking does not rebuild texts per comparison)",
          .disabled(if: Flameconv.underASan, "AddressSanitizer changes what costs what"))
    func distinctStacksRankQuickly() throws {
        let dir = ScratchDir()
        let path = dir.write("distinct.flame", try Self.distinctStacks(2_000, depth: 100))
        // The quickest of three runs each, taken in turn, and time to spare: this
        // compares costs on a machine that may be busy with other work.
        var convert = Double.infinity, stats = Double.infinity
        for _ in 0..<3 {
            let c = try Self.run(["convert", "--quiet", path, "-o", dir.file("out.perf")], timeout: 60)
            let s = try Self.run(["stats", path], timeout: 60)
            #expect(c.exitCode == 0 && s.exitCode == 0, "\(c)\n\(s)")
            convert = min(convert, c.seconds)
            stats = min(stats, s.seconds)
        }
        print("hardening: distinct stacks: convert \(String(format: "%.2f", convert)) s, stats \(String(format: "%.2f", stats)) s")
        // Sorting with texts joined in the comparator made stats ~1.7x convert here (4.5x on 40,000 stacks); now ~1x.
        #expect(stats < 1.3 * convert, "stats \(stats) s, convert \(convert) s")
    }

    // MARK: Memory per process (F20)

    /// The plain capture, then `ticks` copies of its first tick whose samples are
    /// all new processes, then that first tick again (its processes long forgotten
    /// under a small --max-processes).
    static func manyProcesses(ticks: Int) throws -> [UInt8] {
        var file = try CaptureEditor.capture(Self.plain)[0]
        let perTick = file.sampleCount(tick: 0)
        file.appendCopies(of: 0, count: ticks, step: 20_000) { file, tick in
            for sample in 0..<perTick {
                let n = UInt32(tick * perTick + sample)
                file.setPid(tick: tick, sample: sample, number: 1000 + n % 30_000, serial: 100 + n / 30_000)
            }
        }
        file.appendCopies(of: 0, count: 1, step: 20_000)
        return file.bytes
    }

    @Test("past --max-processes the least recently seen processes are forgotten, counted in the summary and in stats; one that comes back starts over")
    func forgetsProcesses() throws {
        let dir = ScratchDir()
        let path = dir.write("many.flame", try Self.manyProcesses(ticks: 500))
        let limited = try Self.run(["convert", "--dialect", "flame_prof", "--max-processes", "500", path])
        #expect(limited.exitCode == 0, "\(limited)")
        // 8 + 4,000 + 8 processes taken in; a sweep of 250 at the 501st and every 250 after: 15 sweeps.
        #expect(limited.stderr.contains("warning: forgot 3750 processes not seen lately, to remember at most 500 (--max-processes); any that came back started over with first-sample deltas"),
                "\(limited.stderr)")
        let lastTick = Self.events(limited).suffix(8)
        #expect(lastTick.count == 8 && lastTick.allSatisfy { $0.contains("\tmetric_erlang_reductions: ") && $0.contains(", 1\tmetric_erlang_message_queue_len: ") },
                "\(lastTick)")
        // Remembered, the same processes' deltas are against their samples 500 ticks earlier.
        let unlimited = try Self.run(["convert", "--dialect", "flame_prof", path])
        #expect(unlimited.exitCode == 0 && !unlimited.stderr.contains("forgot"), "\(unlimited)")
        #expect(!Self.events(unlimited).suffix(8).allSatisfy { $0.contains(", 1\tmetric_erlang_message_queue_len: ") })
        let stats = try Self.run(["stats", "--max-processes", "500", path])
        #expect(stats.out.contains("\nprocesses  4016 (3750 forgotten past --max-processes; any that came back counted again)\n"), "\(stats.out)")
        let (json, _) = try Self.statsJSON(path)
        #expect(json.contains("\"processes\": 4008, \"processes_forgotten\": 0,"))
    }
}
