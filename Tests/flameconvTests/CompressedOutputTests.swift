import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `-o NAME.gz` and `-o NAME.zst`, as a user runs them: the real tools read
/// back exactly the plain text, whatever `--threads` says.
@Suite("flameconv convert: compressed outputs", .timeLimit(.minutes(4)))
struct CompressedOutputTests {
    static let captures = ["plain", "rotated", "compressed", "top100"]
    /// Each text format, by the ending of its file.
    static let textEndings = ["perf", "folded", "speedscope.json"]

    static func zstdDecompress(_ path: String) throws -> ProcessResult {
        try Subprocess.run(["/usr/bin/zstd", "-q", "-dc", path])
    }

    /// A dump of about `megabytes` MB: the plain capture's header, its ticks
    /// again and again (the same ticks, each time later), its trailer.
    static func bigInput(_ dir: ScratchDir, megabytes: Int) throws -> String {
        let bytes = try #require(readFile("\(capturesDir)/plain/plain-000000.flame"))
        let starts = frameStarts(bytes)
        let ticks = bytes[starts[1]..<starts.last!]
        var out = Array(bytes[..<starts[1]])
        out.reserveCapacity(megabytes << 20 + bytes.count)
        for _ in 0..<max(1, (megabytes << 20) / ticks.count) { out += ticks }
        out += bytes[starts.last!...]
        return dir.write("big.flame", out)
    }

    @Test("every real capture, every text format: .gz read by gzip -d and zlib's gzread, .zst by zstd -d, give the plain output's bytes",
          arguments: captures)
    func realCaptures(_ capture: String) throws {
        let dir = ScratchDir()
        let input = "\(capturesDir)/\(capture)"
        for ending in Self.textEndings {
            let plain = try flameconv(["convert", "--quiet", input, "-o", dir.file("x.\(ending)")])
            #expect(plain.status == 0, "\(plain.stderr)")
            let text = try #require(dir.read("x.\(ending)"))
            #expect(!text.isEmpty)
            // Default blocks (one member here), then 4 KiB blocks: many members.
            for (name, extra) in [("d", [String]()), ("s", ["--gzip-block-size", "4096"])] {
                let gz = dir.file("\(name).\(ending).gz")
                let run = try flameconv(["convert", "--quiet", input, "-o", gz] + extra)
                #expect(run.status == 0, "\(run.stderr)")
                let bytes = try #require(readFile(gz))
                let gunzip = try Subprocess.run(["/bin/gzip", "-dc", gz])
                #expect(gunzip.status == 0 && gunzip.stdout == text, "gzip -d of \(gz) is not the plain \(ending) text: \(gunzip.stderr)")
                #expect(gzreadAll(gz) == text, "zlib's gzread of \(gz) is not the plain \(ending) text")
                let members = try #require(gzipMembers(bytes), "\(gz) is not a series of whole gzip members")
                let size = name == "d" ? 1 << 20 : 4096
                #expect(members.count == (text.count + size - 1) / size)
                #expect(members.dropLast().allSatisfy { $0.count == size }, "a member other than the last is not one whole block")
            }
            let zst = dir.file("x.\(ending).zst")
            let run = try flameconv(["convert", "--quiet", input, "-o", zst])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(readFile(zst)?.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) == true, "not a zstd frame")
            let unzstd = try Self.zstdDecompress(zst)
            #expect(unzstd.status == 0 && unzstd.stdout == text, "zstd -d of \(zst) is not the plain \(ending) text: \(unzstd.stderr)")
        }
        #expect(dir.partials().isEmpty)
    }

    @Test("a multi-member .gz is read whole by Python's gzip module")
    func pythonReadsEveryMember() throws {
        let dir = ScratchDir()
        let input = "\(capturesDir)/top100"
        let plain = try flameconv(["convert", "--quiet", input])
        let run = try flameconv(["convert", "--quiet", input, "-o", dir.file("x.perf.gz"), "--gzip-block-size", "8192"])
        #expect(run.status == 0, "\(run.stderr)")
        let bytes = try #require(dir.read("x.perf.gz"))
        let members = try #require(gzipMembers(bytes))
        #expect(members.count > 10)
        let python = try Subprocess.run(["/usr/bin/env", "python3", "-c",
                                         "import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())", dir.file("x.perf.gz")])
        #expect(python.status == 0, "\(python.stderr)")
        #expect(python.stdout == plain.stdout)
    }

    @Test("--threads 1, 2 and 3 write the same bytes: gzip members, zstd frames")
    func sameBytesWhateverTheThreads() throws {
        let dir = ScratchDir()
        // About 8 MB of dump, 6 MB of perf text: several zstd jobs, many 64 KiB members.
        let input = try Self.bigInput(dir, megabytes: 8)
        var outputs: [String: [[UInt8]]] = [:]
        for threads in [1, 2, 3] {
            let run = try flameconv(["convert", "--quiet", input, "--threads", "\(threads)", "--gzip-block-size", "65536",
                                     "-o", dir.file("t\(threads).perf.gz"), "-o", dir.file("t\(threads).perf.zst")])
            #expect(run.status == 0, "\(run.stderr)")
            outputs["gz", default: []].append(try #require(dir.read("t\(threads).perf.gz")))
            outputs["zst", default: []].append(try #require(dir.read("t\(threads).perf.zst")))
        }
        for (kind, files) in outputs {
            #expect(files.allSatisfy { $0 == files[0] }, "\(kind): the bytes depend on --threads")
        }
        let members = try #require(gzipMembers(outputs["gz"]![0]))
        #expect(members.count > 50)
        let plain = try flameconv(["convert", "--quiet", input])
        #expect(try Self.zstdDecompress(dir.file("t2.perf.zst")).stdout == plain.stdout)
        #expect(members.reduce(into: [UInt8]()) { $0 += $1 } == plain.stdout)
    }

    @Test("an empty output is still a valid .gz and .zst")
    func emptyOutput() throws {
        let dir = ScratchDir()
        // A status no sample has: nothing is kept.
        let input = "\(capturesDir)/plain"
        let run = try flameconv(["convert", "--quiet", input, "--status", "nosuch", "-o", dir.file("e.folded"),
                                 "-o", dir.file("e.folded.gz"), "-o", dir.file("e.folded.zst")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(dir.read("e.folded") == [])
        #expect(try Subprocess.run(["/bin/gzip", "-dc", dir.file("e.folded.gz")]).status == 0)
        #expect(gzipMembers(try #require(dir.read("e.folded.gz")))?.count == 1)
        let unzstd = try Self.zstdDecompress(dir.file("e.folded.zst"))
        #expect(unzstd.status == 0 && unzstd.stdout.isEmpty, "\(unzstd.stderr)")
    }

    @Test("--split-negative with .zst: the companion is zstd too")
    func splitNegativeZstd() throws {
        let dir = ScratchDir()
        let input = "\(capturesDir)/top100"
        let run = try flameconv(["convert", "--quiet", "--weight", "memory_delta", "--split-negative", input,
                                 "-o", dir.file("s.folded.zst"), "-o", dir.file("p.folded")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Set(dir.entries()) == ["s.folded.zst", "s.negative.folded.zst", "p.folded", "p.negative.folded"])
        for (compressed, plain) in [("s.folded.zst", "p.folded"), ("s.negative.folded.zst", "p.negative.folded")] {
            let unzstd = try Self.zstdDecompress(dir.file(compressed))
            #expect(unzstd.status == 0 && unzstd.stdout == dir.read(plain), "\(compressed)")
        }
    }

    @Test("a full disk (/dev/full behind a .gz or .zst name): exit 1, the message names the output, with or without workers",
          arguments: [("x.perf.gz", ["--threads", "1"]), ("x.perf.gz", ["--threads", "2", "--gzip-block-size", "4096"]),
                      ("x.perf.zst", ["--threads", "1"]), ("x.perf.zst", ["--threads", "2"])])
    func diskFull(_ name: String, _ extra: [String]) throws {
        let dir = ScratchDir()
        let link = dir.file(name)
        try #require(symlink("/dev/full", link) == 0)
        let run = try flameconv(["convert", "--quiet", "\(capturesDir)/plain", "-o", link] + extra)
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.contains("\(link): write failed: No space left on device"), "\(run.stderr)")
        #expect(dir.partials().isEmpty)
    }

    @Test("pprof is never zstd; --threads must be 1 to 64; the gzip block size has bounds")
    func refused() throws {
        let dir = ScratchDir()
        let input = "\(capturesDir)/plain"
        let pprof = try flameconv(["convert", input, "-o", dir.file("x.pprof.zst")])
        #expect(pprof.status == 64 && pprof.stderr.contains("pprof is written gzip-compressed"), "\(pprof.stderr)")
        for threads in ["0", "65", "-1"] {
            let run = try flameconv(["convert", input, "--threads", threads, "-o", dir.file("x.perf.gz")])
            #expect(run.status == 64 && run.stderr.contains("--threads"), "\(run.stderr)")
        }
        let block = try flameconv(["convert", input, "--gzip-block-size", "100", "-o", dir.file("x.perf.gz")])
        #expect(block.status == 64 && block.stderr.contains("--gzip-block-size"), "\(block.stderr)")
        #expect(dir.entries().isEmpty, "\(dir.entries())")
    }

    @Test("an output named .zst or .gz keeps its format from the name before it")
    func formatFromName() throws {
        let dir = ScratchDir()
        let input = "\(capturesDir)/rotated"
        let run = try flameconv(["convert", "--quiet", input, "-o", dir.file("a.speedscope.json.zst"), "-o", dir.file("b.collapsed.gz"),
                                 "-o", dir.file("c.speedscope.json"), "-o", dir.file("d.collapsed")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.zstdDecompress(dir.file("a.speedscope.json.zst")).stdout == dir.read("c.speedscope.json"))
        #expect(try Subprocess.run(["/bin/gzip", "-dc", dir.file("b.collapsed.gz")]).stdout == dir.read("d.collapsed"))
    }
}
