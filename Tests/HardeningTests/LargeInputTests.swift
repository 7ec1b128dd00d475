import Foundation
import TestSupport
import Testing

/// Valid dumps of hostile shapes (Tests/erlang/hostile_dumps.escript, made
/// here: they are large or quick to make) through the real `flameconv`,
/// under the address-space limit the outside attack used (512 MiB).
@Suite("Large ticks, long metric names, many distinct frames", .serialized, .timeLimit(.minutes(5)))
struct LargeInputTests {
    static let haveEscript = Subprocess.onPath("escript") != nil

    /// Writes a hostile dump of `kind` with `size` into `dir`.
    static func make(_ kind: String, _ size: Int, in dir: ScratchDir) throws -> String {
        let path = dir.file("\(kind).flame")
        let script = Fixtures.root.appendingPathComponent("Tests/erlang/hostile_dumps.escript").path
        let made = try Subprocess.run(["/bin/bash", "-c", "cd '\(dir.path)' && exec escript '\(script)' \(kind) \(size) '\(path)'"], timeout: 240)
        try #require(made.status == 0, "\(made)")
        return path
    }

    @Test("one tick of 100,000 samples converts in both dialects and to every format, streamed, under 512 MiB",
          .enabled(if: haveEscript || Subprocess.inCI))
    func bigTick() throws {
        let dir = ScratchDir()
        let dump = try Self.make("big_tick", 100_000, in: dir)
        for arguments in [["-o", dir.file("p.perf")], ["--dialect", "flame_prof", "-o", dir.file("f.perf.gz")],
                          ["-o", dir.file("a.folded"), "-o", dir.file("a.speedscope.json"), "-o", dir.file("a.pprof")]] {
            let run = try Flameconv.run(["convert", dump] + arguments, timeout: Flameconv.underASan ? 600 : 120)
            #expect(run.status == 0, "\(arguments): \(run)")
            #expect(run.err.contains("wrote 100000 samples from 1 ticks"), "\(run.err)")
        }
        let perf = try #require(readFile(dir.file("p.perf")))
        #expect(lines(perf.filter { _ in true }) > 100_000)
        let stats = try Flameconv.run(["stats", "--json", dump], timeout: Flameconv.underASan ? 600 : 120)
        #expect(stats.status == 0, "\(stats)")
    }

    @Test("64 metric names of 255 characters: left out, counted, the place named; the text stays small",
          .enabled(if: haveEscript || Subprocess.inCI))
    func longMetricNames() throws {
        let dir = ScratchDir()
        let dump = try Self.make("long_metric_names", 300, in: dir)
        let run = try Flameconv.run(["convert", dump, "-o", dir.file("out.perf")])
        #expect(run.status == 0, "\(run)")
        #expect(run.err.contains("whose names are longer than 64 bytes (the first in the tick at byte "), "\(run.err)")
        #expect(run.err.contains(" of \(dump))"), "\(run.err)")
        // 6,001 samples: with the names, each event line would carry 64 × 270 bytes of them.
        let size = try #require(readFile(dir.file("out.perf"))).count
        #expect(size < 6_001 * 4_000, "\(size) bytes")
    }

    @Test("distinct frames past --max-symbol-bytes end with a clear error naming the file and the offset, and no output",
          .enabled(if: haveEscript || Subprocess.inCI))
    func distinctFrames() throws {
        let dir = ScratchDir()
        let dump = try Self.make("distinct_frames", 200_000, in: dir)
        for command in [["convert", dump, "-o", dir.file("out.perf")], ["stats", dump]] {
            let run = try Flameconv.run(command + ["--max-symbol-bytes", "\(8 << 20)"], timeout: Flameconv.underASan ? 600 : 120)
            #expect(run.status == 1 || run.status == 2, "\(command): \(run)")
            #expect(run.err.contains("\(dump): ") && run.err.contains("--max-symbol-bytes"), "\(run.err)")
            #expect(run.err.contains("byte ") || run.err.contains("offset "), "\(run.err)")
        }
        #expect(!fileExists(dir.file("out.perf")))
        #expect(!dir.entries().contains { $0.contains(".partial-") })
    }
}
