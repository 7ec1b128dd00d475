@testable import FlameFormats
@testable import FlameModel
import FlameDump
import FlameRun
import TestSupport
import Testing

/// The agent's short samples (`{flame_unchanged, Ts}`) and skipped items
/// (`{flame_skipped, Items}`), read as docs/dump-format.md says.
@Suite("Short and skipped samples")
struct ShortSampleTests {
    /// A short sample of pid 85: fresh status, reductions and queue length, and the tick it repeats.
    func short(status: String = "runnable", reductions: Int64, queue: Int64 = 0, since ts: Int64) -> SampleSpec {
        var spec = SampleSpec()
        spec.items = [("status", E.atom(status)), ("reductions", E.int(reductions)), ("message_queue_len", E.int(queue)),
                      ("flame_unchanged", E.int(-576_460_000_000_000 + ts))]
        return spec
    }

    func stats(_ ticks: [(ts: Int64, samples: [SampleSpec])], weight: String = "memory") throws -> (StatsSink, RunSummary, Profile) {
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: ticks, unchanged: "short"))
        var catalogue = MetricCatalogue()
        let plan = RunPlan(catalogue: catalogue, weight: try Weight.parse(weight, catalogue: &catalogue).get())
        let sink = StatsSink(weight: plan.weight, groups: true)
        let run = ProfileRun(captures: CaptureCatalog.scan([path]).captures, plan: RunPlan(catalogue: catalogue, weight: plan.weight), sinks: [sink])
        let summary = try run.run()
        return (sink, summary, run.profile)
    }

    @Test("a short sample is its full sample with the fresh status, reductions and queue length")
    func expands() throws {
        let full = SampleSpec(status: "waiting", reductions: 100, memory: 5000, minorGCs: 2)
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: [(0, [full]), (10_000, [short(reductions: 101, queue: 3, since: 0)])], unchanged: "short"))
        let text = String(decoding: convert([path]).text, as: UTF8.self)
        let events = text.split(separator: "\n\n").map(String.init)
        #expect(events.count == 2)
        // The same frames, fresh comm and metrics, the rest repeated with zero deltas.
        #expect(events[1].hasPrefix("runnable\t0.85.0 "))
        #expect(events[1].contains("metric_erlang_reductions: 101, 2\tmetric_erlang_message_queue_len: 3, 3\tmetric_erlang_memory: 5000, 0"))
        // flame_prof's rule for minor_gcs: an unchanged count reads as a reset (delta = the count).
        #expect(events[1].contains("metric_erlang_minor_gcs: 2, 2"))
        #expect(events[0].split(separator: "\n").dropFirst() == events[1].split(separator: "\n").dropFirst())
    }

    @Test("a short sample whose full sample is not the one it names is skipped, not guessed")
    func wrongTick() throws {
        let (_, summary, _) = try stats([(0, [SampleSpec()]), (10_000, [short(reductions: 101, since: 5_000)]),
                                         (20_000, [short(reductions: 101, since: 0)])])
        #expect(summary.skippedSamples.mapValues(\.count) == ["unchanged sample without its full sample in the file": 1])
        #expect(summary.skippedSamples.first?.value.firstOffset ?? 0 > 0)
        #expect(summary.events == 2)
    }

    /// With `select => all` the agent's list order changes from tick to tick:
    /// another process's full sample at a place must not cost this one its own.
    @Test("a full sample of another process at the same place keeps the first one's full sample")
    func placesChange() throws {
        func spec(_ number: UInt32, reductions: Int64) -> SampleSpec { SampleSpec(pid: (number, 0), reductions: reductions) }
        func shortOf(_ number: UInt32, reductions: Int64, since ts: Int64) -> SampleSpec {
            var sample = short(reductions: reductions, since: ts)
            sample.pid = (number, 0)
            return sample
        }
        let (_, summary, _) = try stats([
            (0, [spec(85, reductions: 100), spec(86, reductions: 200)]),
            // 87's full sample takes place 0, where 85's was; 86's moves to place 0 later.
            (10_000, [spec(87, reductions: 300), shortOf(85, reductions: 101, since: 0), shortOf(86, reductions: 201, since: 0)]),
            (20_000, [shortOf(86, reductions: 202, since: 0), spec(88, reductions: 400), shortOf(85, reductions: 102, since: 0),
                      shortOf(87, reductions: 301, since: 10_000)]),
        ])
        #expect(summary.skippedSamples.isEmpty)
        #expect(summary.events == 9)
    }

    @Test("a short sample does not reach into another file: each file starts from full samples")
    func notAcrossFiles() throws {
        let dir = ScratchDir()
        dir.write("c-000000.flame", dumpBytes(capture: "c", seq: 0, ticks: [(0, [SampleSpec()])], unchanged: "short"))
        dir.write("c-000001.flame", dumpBytes(capture: "c", seq: 1, ticks: [(10_000, [short(reductions: 101, since: 0)])], unchanged: "short"))
        let converted = convert([dir.path])
        #expect(converted.summary.events == 1)
        #expect(converted.summary.skippedSamples == ["unchanged sample without its full sample in the file": 1])
    }

    @Test("a file whose header does not allow short samples keeps none: a short sample there is skipped, and says why")
    func headerSaysFull() throws {
        let dir = ScratchDir()
        let path = dir.write("t-000000.flame", dumpBytes(ticks: [(0, [SampleSpec()]), (10_000, [short(reductions: 101, since: 0)])]))
        let converted = convert([path])
        #expect(converted.summary.events == 1)
        #expect(converted.summary.skippedSamples == ["unchanged sample in a file whose header does not say unchanged => short": 1])
    }

    @Test("skipped items are absent, never zero: the sample counts, and weighs nothing by the metric it lacks")
    func skippedItems() throws {
        var lacking = SampleSpec(reductions: 300).without("memory", "total_heap_size", "garbage_collection_info")
        lacking.items.append(("flame_skipped", E.list([E.atom("memory"), E.atom("total_heap_size"), E.atom("garbage_collection_info")])))
        let (sink, summary, profile) = try stats([(0, [SampleSpec(memory: 4000)]), (10_000, [lacking]), (20_000, [SampleSpec(memory: 4500)])])
        #expect(summary.events == 3)
        let totals = sink.categoryTotals(profile)
        #expect(totals.map(\.samples) == [3])
        #expect(totals.map(\.weight) == [8500])
        #expect(totals.map(\.unweighed) == [1])
        // The next delta is against the last sample that had the metric.
        let text = convertTicks([(0, [SampleSpec(memory: 4000)]), (10_000, [lacking]), (20_000, [SampleSpec(memory: 4500)])])
        #expect(text.contains("metric_erlang_memory: 4500, 500"))
    }
}
