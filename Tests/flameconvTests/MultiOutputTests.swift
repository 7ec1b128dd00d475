import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Several outputs from one pass: formats from names or --format, all
/// written or none.
@Suite("flameconv convert: several outputs", .timeLimit(.minutes(2)))
struct MultiOutputTests {
    let rotated = "\(capturesDir)/rotated"

    @Test("two perf outputs in one pass, one gzip: each equals the single-output text")
    func twoOutputs() throws {
        let dir = ScratchDir()
        let alone = try flameconv(["convert", "--quiet", rotated])
        let both = try flameconv(["convert", rotated, "-o", dir.file("a.perf"), "-o", dir.file("b.perf.gz")])
        #expect(both.status == 0, "\(both.err)")
        #expect(readFile(dir.file("a.perf")) == alone.stdout)
        let gunzipped = try Subprocess.run(["/bin/gzip", "-dc", dir.file("b.perf.gz")])
        #expect(gunzipped.stdout == alone.stdout)
        // One summary line per output, naming it.
        #expect(both.err.contains("a.perf (perf)") && both.err.contains("b.perf.gz (perf)"), "\(both.err)")
        #expect(!dir.entries().contains { $0.contains(".partial-") }, "\(dir.entries())")
    }

    @Test("--format given once applies to every output, and wins over the name")
    func formatOnce() throws {
        let dir = ScratchDir()
        let alone = try flameconv(["convert", "--quiet", "--dialect", "flame_prof", rotated])
        let result = try flameconv(["convert", "--quiet", "--dialect", "flame_prof", "--format", "perf", rotated, "-o", dir.file("x.folded")])
        #expect(result.status == 0, "\(result.err)")
        #expect(readFile(dir.file("x.folded")) == alone.stdout)
    }

    @Test("--format given neither once nor once per -o is refused before anything is read")
    func formatCountMismatch() throws {
        let dir = ScratchDir()
        let result = try flameconv(["convert", rotated, "--format", "perf", "--format", "perf",
                                    "-o", dir.file("a.perf"), "-o", dir.file("b.perf"), "-o", dir.file("c.perf")])
        #expect(result.status == 64)
        #expect(result.err.contains("--format is given 2 times for 3 outputs"), "\(result.err)")
        #expect(dir.entries().isEmpty, "\(dir.entries())")
    }

    @Test("an unknown format is refused with the list of formats")
    func unknownFormat() throws {
        let result = try flameconv(["convert", rotated, "--format", "svg"])
        #expect(result.status == 64)
        #expect(result.err.contains("svg") && result.err.contains("perf") && result.err.contains("pprof"), "\(result.err)")
    }

    @Test("the same file named twice, or standard output twice, is refused", arguments: [["SAME", "SAME"], ["-", "-"]])
    func namedTwice(names: [String]) throws {
        let dir = ScratchDir()
        let paths = names.map { $0 == "SAME" ? dir.file("a.perf") : $0 }
        let result = try flameconv(["convert", rotated] + paths.flatMap { ["-o", $0] })
        #expect(result.status == 64)
        #expect(result.err.contains("more than once") || result.err.contains("more than one output"), "\(result.err)")
        #expect(dir.entries().isEmpty)
    }

    @Test("an output that cannot be created leaves none of the others")
    func oneFails() throws {
        let dir = ScratchDir()
        let result = try flameconv(["convert", rotated, "-o", dir.file("a.perf"), "-o", dir.file("missing/b.perf")])
        #expect(result.status == 1)
        #expect(result.err.contains("missing/b.perf"), "\(result.err)")
        #expect(dir.entries().isEmpty, "\(dir.entries())")
    }

    @Test("a write error on one output mid-run removes the others")
    func writeFailsMidRun() throws {
        let dir = ScratchDir()
        let result = try flameconv(["convert", rotated, "-o", dir.file("a.perf"), "-o", "/dev/full"])
        #expect(result.status == 1)
        #expect(result.err.contains("/dev/full") && result.err.contains("No space left"), "\(result.err)")
        #expect(dir.entries().isEmpty, "\(dir.entries())")
    }

    @Test("an output that is one of the inputs is refused, whichever -o it is")
    func outputIsInput() throws {
        let dir = ScratchDir()
        let input = dir.file("capture.flame")
        let bytes = try #require(readFile("\(capturesDir)/plain/plain-000000.flame"))
        _ = dir.write("capture.flame", bytes)
        let result = try flameconv(["convert", input, "-o", dir.file("a.perf"), "-o", input])
        #expect(result.status == 64)
        #expect(result.err.contains("is also an input"), "\(result.err)")
        #expect(readFile(input) == bytes)
        #expect(!fileExists(dir.file("a.perf")))
    }
}
