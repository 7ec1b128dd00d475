import TestSupport
import Testing

/// `flameconv convert` writing folded stacks, as a user runs it.
@Suite("flameconv convert: folded stacks", .timeLimit(.minutes(2)))
struct FoldedCLITests {
    let top100 = "\(capturesDir)/top100"

    /// Lines as (stack, count); the count is what follows the last blank.
    func lines(_ bytes: [UInt8]) -> [(stack: Substring, count: Int64)] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
            let space = line.lastIndex(of: " ")!
            return (line[..<space], Int64(line[line.index(after: space)...])!)
        }
    }

    @Test("-o x.folded writes what --format folded writes to standard output; one line per stack, weights adding up to the samples")
    func fileAndStdout() throws {
        let dir = ScratchDir()
        let toStdout = try flameconv(["convert", "--quiet", "--format", "folded", top100])
        #expect(toStdout.status == 0, "\(toStdout.stderr)")
        let toFile = try flameconv(["convert", top100, "-o", dir.file("x.folded")])
        #expect(toFile.status == 0, "\(toFile.stderr)")
        #expect(toFile.stderr.contains("wrote 9450 samples"), "\(toFile.stderr)")
        let bytes = try #require(dir.read("x.folded"))
        #expect(bytes == toStdout.stdout)
        let parsed = lines(bytes)
        #expect(parsed.reduce(0) { $0 + $1.count } == 9450)
        #expect(Set(parsed.map(\.stack)).count == parsed.count)
        // The default level is status: every stack starts with one.
        #expect(parsed.allSatisfy { ["running", "runnable", "waiting", "garbage_collecting", "exiting", "suspended"].contains($0.stack.prefix { $0 != ";" }) })
        #expect(!dir.entries().contains { $0.contains(".partial-") })
    }

    @Test(".collapsed is folded too, and .gz compresses the same text")
    func gzip() throws {
        let dir = ScratchDir()
        let result = try flameconv(["convert", "--quiet", top100, "-o", dir.file("x.collapsed"), "-o", dir.file("y.folded.gz")])
        #expect(result.status == 0, "\(result.stderr)")
        let gz = try #require(dir.read("y.folded.gz"))
        #expect(gz.starts(with: [0x1F, 0x8B]))
        let gunzipped = try Subprocess.run(["/bin/gzip", "-dc", dir.file("y.folded.gz")])
        #expect(gunzipped.status == 0)
        #expect(gunzipped.stdout == dir.read("x.collapsed"))
        #expect(!gunzipped.stdout.isEmpty)
    }

    @Test("--split-negative: the falling deltas go to NAME.negative.folded, without the negative root; otherwise under it")
    func splitNegative() throws {
        let dir = ScratchDir()
        let together = try flameconv(["convert", "--quiet", "--weight", "memory_delta", top100, "-o", dir.file("t.folded")])
        #expect(together.status == 0, "\(together.stderr)")
        let split = try flameconv(["convert", "--quiet", "--weight", "memory_delta", "--split-negative", top100, "-o", dir.file("s.folded.gz")])
        #expect(split.status == 0, "\(split.stderr)")
        let all = lines(try #require(dir.read("t.folded")))
        let main = lines(try Subprocess.run(["/bin/gzip", "-dc", dir.file("s.folded.gz")]).stdout)
        let negative = lines(try Subprocess.run(["/bin/gzip", "-dc", dir.file("s.negative.folded.gz")]).stdout)
        let under = all.filter { $0.stack.hasPrefix("negative;") }
        #expect(!under.isEmpty && !negative.isEmpty)
        #expect(negative.map { "negative;" + $0.stack } == under.map { String($0.stack) })
        #expect(negative.map(\.count) == under.map(\.count))
        #expect(main.map(\.stack) == all.filter { !$0.stack.hasPrefix("negative;") }.map(\.stack))
        #expect((all + main + negative).allSatisfy { $0.count > 0 })
        #expect(Set(dir.entries()) == ["t.folded", "s.folded.gz", "s.negative.folded.gz"])
    }

    @Test("--split-negative needs a file name, and its second file must not be named as another output")
    func splitNegativeRefusals() throws {
        let dir = ScratchDir()
        let toStdout = try flameconv(["convert", "--split-negative", "--format", "folded", top100])
        #expect(toStdout.status != 0)
        #expect(toStdout.stderr.contains("--split-negative writes a second file"), "\(toStdout.stderr)")
        let clash = try flameconv(["convert", "--split-negative", top100, "-o", dir.file("a.folded"), "-o", dir.file("a.negative.folded")])
        #expect(clash.status != 0)
        #expect(clash.stderr.contains("named as more than one output"), "\(clash.stderr)")
        #expect(dir.entries().isEmpty, "\(dir.entries())")
    }

    @Test("samples without the weight's metric are left out and counted; the rest are written")
    func missingMetric() throws {
        let dir = ScratchDir()
        let result = try flameconv(["convert", "--weight", "reductions_per_second", top100, "-o", dir.file("x.folded")])
        #expect(result.status == 0, "\(result.stderr)")
        let skipped = try #require(result.stderr.firstMatch(of: /skipped (\d+) samples: missing reductions_per_second/))
        let wrote = try #require(result.stderr.firstMatch(of: /wrote (\d+) samples/))
        #expect(Int(skipped.1)! > 0)
        #expect(Int(skipped.1)! + Int(wrote.1)! == 9450)
        #expect(!lines(try #require(dir.read("x.folded"))).isEmpty)
    }

    @Test("perf and folded in one pass: the folded file is the one written alone")
    func besidePerf() throws {
        let dir = ScratchDir()
        let both = try flameconv(["convert", "--quiet", top100, "-o", dir.file("a.perf"), "-o", dir.file("a.folded")])
        #expect(both.status == 0, "\(both.stderr)")
        let alone = try flameconv(["convert", "--quiet", top100, "-o", dir.file("b.folded")])
        #expect(alone.status == 0)
        #expect(dir.read("a.folded") == dir.read("b.folded"))
        #expect(dir.read("a.perf")?.isEmpty == false)
    }
}
