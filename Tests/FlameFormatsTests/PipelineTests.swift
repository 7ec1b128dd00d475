import Foundation
import Testing
@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
import FlameDump
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A pipelined run (`RunPlan.threads` 2: a reader thread parses, the calling
/// thread converts) against the same run on one thread: every output's
/// bytes, the summary and the run's tables must be the same, for every
/// input and option, and wherever the run stops.
@Suite("Pipelined runs: two threads give what one gives")
struct PipelineTests {
    /// A run's options beside its threads.
    struct Options: CustomStringConvertible, Sendable {
        var name: String
        var levels: [String] = ["status"]
        var weight = "samples"
        var metrics: [String]?
        var filter = SampleFilter()
        var limits = DumpLimits.default
        var maxOpenCaptures = RunPlan.defaultMaxOpenCaptures
        var description: String { name }

        static let plain = Options(name: "status, samples")
        /// Two levels, a weight that falls (folded's negative file), every metric column, a time window.
        static let grouped = Options(name: "registered_name + bucket, memory_delta", levels: ["registered_name", "bucket(message_queue_len,0,1,10)"],
                                     weight: "memory_delta", metrics: ["reductions", "memory", "heap_block_size", "total_heap_size_bytes"],
                                     filter: SampleFilter(from: 0.0005))
        static let all = [plain, grouped]
    }

    /// What a run gave.
    struct Outcome: Equatable {
        /// Each output's bytes, by name.
        var outputs: [String: [UInt8]] = [:]
        var summary = ""
        /// The run's tables and captures after it, written out.
        var tables = ""
        var error: String?
        var ticks = 0
        var stopped = false
        /// Where a pipelined run took the reading over (not compared).
        var handOffTick: Int?

        static func == (a: Outcome, b: Outcome) -> Bool {
            (a.outputs, a.summary, a.tables, a.error, a.ticks, a.stopped) == (b.outputs, b.summary, b.tables, b.error, b.ticks, b.stopped)
        }
    }

    /// Runs `paths` through every format at once (each perf dialect, folded with
    /// a negative file, speedscope both ways, pprof, stats) on `threads`.
    /// `afterScan` may change the files between the scan and the run.
    static func run(_ paths: [String], _ options: Options, threads: Int, shape: ProfileRun.PipelineShape = .init(),
                    afterScan: () -> Void = {}) -> Outcome {
        var catalogue = MetricCatalogue()
        let levels = options.levels.map { try! CategoryLevels.parse($0, catalogue: &catalogue) }
        let weight = try! Weight.parse(options.weight, catalogue: &catalogue).get()
        let metrics = options.metrics.map { names in names.map { try! catalogue.resolve($0).get() } }
        let plan = RunPlan(levels: levels, catalogue: catalogue, metrics: metrics, weight: weight, filter: options.filter,
                           limits: options.limits, maxOpenCaptures: options.maxOpenCaptures, threads: threads)
        let names = ["perf", "perf-portable", "folded", "folded-negative", "speedscope", "speedscope-process", "pprof"]
        let outs = names.map { _ in MemoryOutput() }
        let perf = PerfSink(dialect: .flameProf, output: outs[0], metrics: plan.perfMetrics, chunk: 4096)
        let portable = PerfSink(dialect: .portable, output: outs[1], metrics: plan.perfMetrics, chunk: 4096)
        let folded = FoldedSink(output: outs[2], negativeOutput: outs[3], weight: weight, chunk: 4096)
        let speedscope = SpeedscopeSink(output: outs[4], weight: weight, grouping: .category, exporter: "test")
        let byProcess = SpeedscopeSink(output: outs[5], weight: weight, grouping: .process, exporter: "test")
        let pprof = PprofSink(output: outs[6], weight: weight, metrics: metrics, catalogue: plan.catalogue, levelSpecs: plan.levels.map(\.spec))
        let stats = StatsSink(weight: weight, groups: true)
        let sinks: [any ProfileSink] = [perf, portable, folded, speedscope, byProcess, pprof, stats]
        let scan = CaptureCatalog.scan(paths, limits: options.limits)
        afterScan()
        let run = ProfileRun(captures: scan.captures, plan: plan, sinks: sinks)
        run.pipelineShape = shape
        var outcome = Outcome()
        do {
            let summary = try run.run()
            outcome.summary = describe(summary)
            outcome.ticks = summary.ticks
            outcome.stopped = summary.stoppedEarly != nil
        } catch {
            outcome.error = "\(error)"
        }
        for (name, out) in zip(names, outs) { outcome.outputs[name] = out.bytes }
        let profile = run.profile
        var notes = sinks.map { "\($0.notes) \($0.samplesWritten) \($0.tableBytes)" }
        notes.append("\(stats.top(10)) \(stats.statuses(profile.symbols).sorted { $0.key < $1.key }) \(stats.categoryTotals(profile))")
        outcome.outputs["notes"] = Array(notes.joined(separator: "\n").utf8)
        outcome.tables = describe(profile)
        outcome.handOffTick = run.handOffTick
        return outcome
    }

    /// The summary, every field, dictionaries in key order.
    static func describe(_ summary: RunSummary) -> String {
        var lines = ["events \(summary.events) ticks \(summary.ticks) out of order \(summary.ticksOutOfOrder)",
                     "processes \(summary.processes) forgotten \(summary.processesForgotten)",
                     "dropped \(String(describing: summary.metricEntriesDropped)) too long \(String(describing: summary.metricNamesTooLong))",
                     "stopped \(summary.stoppedEarly?.description ?? "no")"]
        for (reason, seen) in summary.skippedSamples.sorted(by: { $0.key < $1.key }) { lines.append("skipped \(reason): \(seen)") }
        for file in summary.files { lines.append("file \(file)") }
        for error in summary.openErrors { lines.append("open error \(error)") }
        return lines.joined(separator: "\n")
    }

    /// The run's tables: every name, function, frame, stack, metric and capture, by id.
    static func describe(_ profile: Profile) -> String {
        let symbols = profile.symbols
        var lines = ["\(symbols.counts) \(symbols.byteEstimate) \(profile.stacks.byteEstimate)"]
        lines.append((0..<symbols.names.count).map { symbols.nameText(UInt32($0)) }.joined(separator: "|"))
        lines.append("\(symbols.functions) \(symbols.frames) \(symbols.stacks)")
        lines.append("\(profile.catalogue.metrics) \(profile.catalogue.garbageCollectionOrder)")
        lines.append("\(profile.captures)")
        lines.append((0..<profile.categoryNames.count).map { profile.categoryText(UInt32($0)) }.joined(separator: "|"))
        return lines.joined(separator: "\n")
    }

    /// Two batches of one tick each: the reader hands over after every tick
    /// and waits for the run after every second one.
    static let tiny = ProfileRun.PipelineShape(batches: 2, batchTicks: 1, batchBytes: 1 << 20)
    /// The reader hands its reading over once its tables pass a few kilobytes.
    static let handingOff = ProfileRun.PipelineShape(batches: 3, batchTicks: 2, batchBytes: 1 << 20, handOffBytes: 6_000)

    /// One run on one thread, compared with one on two threads, in batches
    /// of the usual shape, of `tiny`'s and of `handingOff`'s; the one-thread outcome.
    @discardableResult
    static func compare(_ paths: [String], _ options: Options, shape: ProfileRun.PipelineShape = .init(), afterScan: () -> Void = {},
                        sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        let one = run(paths, options, threads: 1, afterScan: afterScan)
        for twoShape in [shape, tiny, handingOff] {
            let two = run(paths, options, threads: 2, shape: twoShape, afterScan: afterScan)
            var options = options
            options.name += " (batches \(twoShape.batches) of \(twoShape.batchTicks) ticks, \(twoShape.batchBytes) bytes, hand-off past \(twoShape.handOffBytes))"
            expectSame(one, two, options, sourceLocation: sourceLocation)
        }
        return one
    }

    static func expectSame(_ one: Outcome, _ two: Outcome, _ options: Options, sourceLocation: SourceLocation) {
        #expect(one.error == two.error, "\(options)", sourceLocation: sourceLocation)
        for (what, a, b) in [("summary", one.summary, two.summary), ("tables", one.tables, two.tables)] where a != b {
            let first = zip(a.split(separator: "\n"), b.split(separator: "\n")).first { $0 != $1 }
            Issue.record("\(options): \(what) differs: \(first.map { "\($0.prefix(300)) / \($1.prefix(300))" } ?? "in length")",
                         sourceLocation: sourceLocation)
        }
        // PIPELINE_DEBUG=DIR: both sides' outputs of a comparison that fails, to diff.
        if var dir = getenv("PIPELINE_DEBUG").map({ String(cString: $0) }), one != two {
            dir += "/" + options.name.filter { $0.isLetter || $0.isNumber }
            mkdir(dir, 0o755)
            for (name, bytes) in one.outputs { _ = try? Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name).1")) }
            for (name, bytes) in two.outputs { _ = try? Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name).2")) }
            _ = try? Data((one.summary + "\n" + one.tables).utf8).write(to: URL(fileURLWithPath: "\(dir)/summary.1"))
            _ = try? Data((two.summary + "\n" + two.tables).utf8).write(to: URL(fileURLWithPath: "\(dir)/summary.2"))
        }
        for (name, bytes) in one.outputs where two.outputs[name] != bytes {
            Issue.record("\(options): \(name) differs (\(bytes.count) bytes on one thread, \(two.outputs[name]?.count ?? -1) on two)",
                         sourceLocation: sourceLocation)
        }
    }

    static func files(in folder: String, matching keep: (String) -> Bool = { _ in true }) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter(keep).sorted().map { "\(folder)/\($0)" }
    }

    static let captures = files(in: Fixtures.captures.path) { !$0.hasSuffix(".md") }
    static let referenceFolder = "\(repositoryRoot)/Tests/reference/testdata/dumps"
    static let badFiles = files(in: Fixtures.bad.path) { $0.contains(".flame") }

    @Test("every real capture, alone and all together, through every format", arguments: captures + ["all"])
    func realCaptures(_ capture: String) {
        #expect(Self.captures.count == 4)
        let paths = capture == "all" ? Self.captures : [capture]
        for options in Options.all {
            let one = Self.compare(paths, options)
            #expect(one.ticks > 0 && one.error == nil && !one.stopped)
        }
    }

    @Test("every reference dump, alone and the folder at once", arguments: files(in: referenceFolder) + [referenceFolder])
    func referenceDumps(_ path: String) {
        for options in Options.all { Self.compare([path], options) }
    }

    @Test("every bad input, alone and all at once", arguments: badFiles + ["all"])
    func badInputs(_ path: String) {
        #expect(Self.badFiles.count > 40)
        for options in Options.all { Self.compare(path == "all" ? Self.badFiles : [path], options) }
    }

    @Test("stats reports (what `flameconv stats` prints) of every capture are the same")
    func statsReports() {
        for paths in [Self.captures, [Self.referenceFolder], Self.badFiles] {
            var reports: [String] = []
            for threads in [1, 2] {
                var catalogue = MetricCatalogue()
                let levels = ["status", "bucket(message_queue_len,0,1,10)"].map { try! CategoryLevels.parse($0, catalogue: &catalogue) }
                let weight = try! Weight.parse("reductions_delta", catalogue: &catalogue).get()
                let plan = RunPlan(levels: levels, catalogue: catalogue, weight: weight, threads: threads)
                let stats = CaptureCatalog.scan(paths).captures.map { CaptureStats.collect($0, plan: plan, top: 10, grouped: true) }
                reports.append(StatsReport.json(stats) + StatsReport.text(stats))
            }
            #expect(reports[0] == reports[1], "\(paths.count) paths")
            #expect(reports[0].count > 1000)
        }
    }

    /// The symbol budget is checked after every tick, against the run's
    /// tables as they stand: the mirrored ones must stop at the same tick,
    /// with the same message, summary (the captures still open) and output.
    @Test("a symbol budget stops both at the same tick, wherever it falls")
    func symbolBudgetStops() {
        let inputs = [Self.captures, [Self.referenceFolder], Self.badFiles]
        for paths in inputs {
            var stops: Set<Int> = []
            // 1, then 8,000 to 3.2 MB by steps of 35 %.
            for budget in [1] + (0...20).map({ Int(8_000 * pow(1.35, Double($0))) }) {
                var options = Options.plain
                options.name = "budget \(budget)"
                options.limits.maxSymbolBytes = budget
                let one = Self.compare(paths, options)
                if one.stopped { stops.insert(one.ticks) }
            }
            // Stops at the first tick and later ones: the mirror is checked mid-run.
            #expect(stops.count >= 3, "\(paths.count) paths stopped at ticks \(stops.sorted())")
        }
    }

    // MARK: - Captures made here

    /// Samples of a tick that name things no tick named before (a new frame,
    /// function and file per tick), a garbage_collection_info entry that
    /// appears mid-capture, and, where asked, a sample with a bad shape.
    static func samples(_ capture: String, tick: Int, count: Int, bad: Bool = false) -> [SampleSpec] {
        var samples = (0..<count).map { n in
            SampleSpec(pid: (UInt32(100 + n), 0), status: n % 3 == 0 ? "running" : "waiting", reductions: Int64(tick * 100 + n),
                       messageQueueLen: Int64(n % 12), memory: Int64(2000 + (tick * 37 + n * 11) % 900),
                       gcInfo: tick >= 3 ? [("old_heap_block_size", 0), ("heap_block_size", 233), ("gc_\(capture)_\(tick / 3)", Int64(n))]
                                         : [("old_heap_block_size", 0), ("heap_block_size", 233)],
                       stack: [E.frame("mod_\(capture)", "f\(n % 5)", 1, file: "\(capture)_\(tick).erl", line: Int64(tick)),
                               E.frame("mod_\(capture)", "loop", 0, file: "\(capture).erl", line: Int64(n % 3))],
                       registeredName: n % 4 == 0 ? E.atom("reg_\(capture)_\(n)") : E.nil)
        }
        if bad { samples.append(SampleSpec(pid: (7, 0)).with("current_stacktrace", E.atom("not_a_list"))) }
        return samples
    }

    /// A capture's file: ticks at `times` (µs after `startedAt`).
    static func file(_ dir: ScratchDir, _ capture: String, seq: Int64, startedAt: Int64, times: [Int64], samples: Int = 6,
                     trailer: Bool = true) -> String {
        let ticks = times.enumerated().map { index, time in
            (ts: time, samples: Self.samples(capture, tick: Int(seq) * 100 + index, count: samples, bad: index % 5 == 4))
        }
        return dir.write("\(capture)-\(seq).flame", dumpBytes(capture: capture, seq: seq, startedAt: startedAt, ticks: ticks, trailer: trailer))
    }

    /// Five captures: a and b overlap, with ties between their ticks (the
    /// lower capture first); c starts when a and b are done; d has no tick;
    /// e overlaps a, b and c, and its second file is replaced after the scan
    /// (an open error). Each has two files, some without a trailer.
    static func overlapping(_ dir: ScratchDir) -> (paths: [String], replace: () -> Void) {
        let base: Int64 = 1_700_000_000_000_000
        var paths = [
            file(dir, "a", seq: 0, startedAt: base, times: (0..<12).map { $0 * 100_000 }),
            file(dir, "a", seq: 1, startedAt: base + 1_200_000, times: (0..<10).map { $0 * 100_000 }, trailer: false),
            file(dir, "b", seq: 0, startedAt: base + 50_000, times: (0..<12).map { $0 * 100_000 + 50_000 }),
            // b's second file ticks at a's times: ties.
            file(dir, "b", seq: 1, startedAt: base + 1_250_000, times: (0..<10).map { $0 * 100_000 - 50_000 }),
            file(dir, "c", seq: 0, startedAt: base + 2_300_000, times: (0..<8).map { $0 * 70_000 }),
            file(dir, "c", seq: 1, startedAt: base + 2_900_000, times: [0, 10_000, 5_000, 20_000]),
            file(dir, "d", seq: 0, startedAt: base + 500_000, times: []),
            file(dir, "e", seq: 0, startedAt: base + 700_000, times: (0..<20).map { $0 * 90_000 }, samples: 3),
        ]
        let second = file(dir, "e", seq: 1, startedAt: base + 2_500_000, times: [0, 1_000], samples: 3)
        paths.append(second)
        let bytes = [UInt8](try! Data(contentsOf: URL(fileURLWithPath: second)))
        let replace = {
            // The same bytes in another file (made while the old one still
            // exists, so another inode) under the same name: the reader
            // refuses it, as the file it scanned was replaced.
            _ = rename(dir.write("e-1.flame.new", bytes), second)
        }
        return (paths, replace)
    }

    @Test("overlapping captures merged by time, with ties, an empty one and an open error")
    func overlappingCaptures() {
        let dir = ScratchDir()
        let (paths, replace) = Self.overlapping(dir)
        for options in Options.all {
            let one = Self.compare(paths, options, afterScan: replace)
            #expect(one.ticks == 22 + 22 + 12 + 20 && one.error == nil && !one.stopped)
            #expect(one.summary.contains("open error") && one.summary.contains("skipped"))
        }
        // Fewer captures open at once than overlap: both stop at the same capture.
        for most in 1...3 {
            var options = Options.plain
            options.name = "at most \(most) open"
            options.maxOpenCaptures = most
            let one = Self.compare(paths, options, afterScan: replace)
            #expect(one.stopped == (most < 3), "\(options)")
        }
        for budget in stride(from: 20_000, through: 80_000, by: 4_000) {
            var options = Options.grouped
            options.name = "budget \(budget)"
            options.limits.maxSymbolBytes = budget
            Self.compare(paths, options, afterScan: replace)
        }
    }

    /// Past `handOffBytes` of mirrored tables the run's thread takes the
    /// reader's tables and merge over: wherever that falls, the run goes on
    /// alone and ends as one thread would have.
    @Test("the reading is handed over to the run's thread at any tick, and the outputs stay the same")
    func handOffAnywhere() {
        let dir = ScratchDir()
        let (paths, replace) = Self.overlapping(dir)
        for options in Options.all {
            let one = Self.run(paths, options, threads: 1, afterScan: replace)
            var handOffs: Set<Int> = []
            for bytes in stride(from: 0, through: 24_000, by: 600) {
                let shape = ProfileRun.PipelineShape(batches: 2, batchTicks: 3, batchBytes: 1 << 20, handOffBytes: bytes)
                let two = Self.run(paths, options, threads: 2, shape: shape, afterScan: replace)
                var named = options
                named.name += " (hand-off past \(bytes) bytes)"
                Self.expectSame(one, two, named, sourceLocation: #_sourceLocation)
                if let tick = two.handOffTick { handOffs.insert(tick) }
            }
            // Right after the first tick (the step that read it made the tables grow), and at many ticks after.
            #expect(handOffs.min() == 1 && handOffs.count >= 10, "\(options): hand-offs at ticks \(handOffs.sorted())")
            print("pipeline: \(options): hand-offs at ticks \(handOffs.sorted())")
        }
    }

    @Test("many batches: ticks past a batch's count, and ticks past its bytes")
    func manyBatches() {
        let dir = ScratchDir()
        let base: Int64 = 1_700_000_000_000_000
        let paths = [
            Self.file(dir, "many", seq: 0, startedAt: base, times: (0..<300).map { $0 * 10_000 }, samples: 3),
            // Each of these ticks is over a batch's bytes (64 KiB here) on its own.
            Self.file(dir, "large", seq: 0, startedAt: base + 15_000, times: [0, 1_000_000, 2_000_000], samples: 600),
        ]
        for options in Options.all {
            let one = Self.compare(paths, options, shape: ProfileRun.PipelineShape(batches: 4, batchTicks: 64, batchBytes: 64 << 10))
            #expect(one.ticks == 303 && one.error == nil)
        }
    }

    // MARK: - A sink that fails

    /// Throws at its `failAt`-th event (counting from 1), or at the first tick's start when 0.
    final class FailingSink: ProfileSink {
        let failAt: Int
        var events = 0
        var threads: Set<UInt> = []
        init(failAt: Int) { self.failAt = failAt }
        func beginTick(wallMicros: Int64, capture: Int, in profile: Profile) throws(OutputError) {
            threads.insert(UInt(pthread_self()))
            if failAt == 0 { throw .failed(path: "failing", message: "fails before the first event") }
        }
        func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
            threads.insert(UInt(pthread_self()))
            events += 1
            if events == failAt { throw .failed(path: "failing", message: "fails at event \(events)") }
        }
        func finish(_ profile: Profile) throws(OutputError) {}
        var notes: [String] { [] }
        var samplesWritten: Int { events }
    }

    /// Descriptors of this process open on `path`.
    static func descriptors(on path: String) -> Int {
        files(in: "/proc/self/fd").filter { link in
            var target = [CChar](repeating: 0, count: 4096)
            let n = readlink(link, &target, target.count - 1)
            return n > 0 && String(decoding: target.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) == path
        }.count
    }

    /// 600 ticks of 2 samples (and a bad one every fifth tick): far more than the batches in flight hold.
    static let long: [UInt8] = {
        let dir = ScratchDir()
        let path = file(dir, "long", seq: 0, startedAt: 1_700_000_000_000_000, times: (0..<600).map { $0 * 1_000 }, samples: 2)
        return [UInt8](try! Data(contentsOf: URL(fileURLWithPath: path)))
    }()

    @Test("a sink that throws stops the reader thread: the same error, at once, its files closed", arguments: [0, 1, 300, 1_000, 1_199])
    func failingSink(_ failAt: Int) throws {
        // A file of its own: the cases run at once, and each counts descriptors on its file.
        let dir = ScratchDir()
        let path = dir.write("long.flame", Self.long)
        var errors: [String] = []
        for threads in [1, 2] {
            let sink = FailingSink(failAt: failAt)
            let perf = MemoryOutput()
            let plan = RunPlan(threads: threads)
            let run = ProfileRun(captures: CaptureCatalog.scan([path]).captures, plan: plan, sinks: [PerfSink(dialect: .flameProf, output: perf), sink])
            var started = timespec(), ended = timespec()
            clock_gettime(CLOCK_MONOTONIC, &started)
            do {
                _ = try run.run()
                Issue.record("the run did not throw")
            } catch {
                errors.append("\(error) after \(sink.events) events, \(perf.bytes.count) bytes")
            }
            clock_gettime(CLOCK_MONOTONIC, &ended)
            let seconds = Double(ended.tv_sec - started.tv_sec) + Double(ended.tv_nsec - started.tv_nsec) / 1e9
            #expect(seconds < 20, "\(threads) threads took \(seconds) s")
            // The reader let go of the file before the run returned.
            #expect(Self.descriptors(on: path) == 0, "\(threads) threads")
            // Sinks are called on the run's thread only.
            #expect(sink.threads == [UInt(pthread_self())], "\(threads) threads")
        }
        #expect(errors.count == 2 && errors[0] == errors[1], "\(errors)")
    }

    @Test("the default is two threads where there are two cores")
    func defaultThreads() {
        #expect(RunPlan().threads == (sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 ? 2 : 1))
        #expect(RunPlan(threads: 1).threads == 1)
    }
}

