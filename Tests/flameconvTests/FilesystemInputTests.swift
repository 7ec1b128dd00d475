import Dispatch
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What the file system can hand flameconv: link cycles, links out of the tree,
/// FIFOs and pipes, one file under several names, captures with odd seq numbers,
/// many captures, an output that is an input, and signals while writing.
/// Each run is under 512 MiB of address space and a 10 s timeout. Waiting for
/// a run happens off the few threads Swift Testing runs tests on, so that these
/// tests never hold up the others.
@Suite("Filesystem inputs", .serialized, .timeLimit(.minutes(2)))
struct FilesystemInputTests {
    let plain = "\(capturesDir)/plain/plain-000000.flame"
    let rotated = "\(capturesDir)/rotated"

    /// Runs `flameconv ARGUMENTS` after `setup` (shell commands), under the limits.
    func guarded(_ arguments: [String], setup: String = "", stdin: String = "/dev/null") async throws -> ProcessResult {
        try await offThePool { try Flameconv.run(arguments, stdin: stdin, setup: setup) }
    }

    /// `flameconv ARGUMENTS` with no limits.
    func plainRun(_ arguments: [String]) async throws -> ProcessResult {
        try await offThePool { try Flameconv.run(arguments, limited: false) }
    }

    /// The text of converting `inputs` on their own, the plain way.
    func reference(_ inputs: String...) async throws -> [UInt8] {
        let result = try await plainRun(["convert", "--quiet"] + inputs)
        try #require(result.status == 0, "\(result.err)")
        return result.stdout
    }

    func copy(_ from: String, to: String) throws {
        writeFile(to, try #require(readFile(from)))
    }

    // MARK: Links and cycles (F14)

    @Test("a link to its own folder, three links to '.', and a link to /: each file is read once, and the walk ends")
    func linkCycles() async throws {
        let dir = ScratchDir()
        let once = try await reference(plain)
        mkdir(dir.file("loop1"), 0o755)
        try copy(plain, to: dir.file("loop1/plain-000000.flame"))
        symlink(".", dir.file("loop1/self"))
        mkdir(dir.file("loop3"), 0o755)
        try copy(plain, to: dir.file("loop3/plain-000000.flame"))
        for name in ["a", "b", "c"] { symlink(".", dir.file("loop3/\(name)")) }
        for folder in ["loop1", "loop3"] {
            let result = try await guarded(["convert", "--quiet", dir.file(folder)])
            #expect(result.status == 0, "\(folder): \(result.err)")
            #expect(identical(result.stdout, once), "\(folder): the capture was not read exactly once")
        }
        mkdir(dir.file("rootlink"), 0o755)
        try copy(plain, to: dir.file("rootlink/plain-000000.flame"))
        symlink("/", dir.file("rootlink/root"))
        let root = try await guarded(["convert", "--quiet", dir.file("rootlink")])
        // The files directly in / are no dumps, and may make it exit 1; / is not walked.
        #expect(root.signal == nil && (root.status == 0 || root.status == 1), "\(root.status): \(root.err.prefix(500))")
        #expect(identical(root.stdout, once))
        #expect(root.err.contains("rootlink/root: reached through a link, so its"), "\(root.err.prefix(500))")
        #expect(root.err.contains("not walked"))
    }

    @Test("a folder of links to capture folders: the files in them are read; their subfolders are not walked, with a warning")
    func folderOfLinks() async throws {
        let dir = ScratchDir()
        mkdir(dir.file("archive"), 0o755)
        mkdir(dir.file("archive/node1"), 0o755)
        for name in listDirectory(rotated) { try copy("\(rotated)/\(name)", to: dir.file("archive/node1/\(name)")) }
        mkdir(dir.file("archive/node1/older"), 0o755)
        try copy(plain, to: dir.file("archive/node1/older/plain-000000.flame"))
        mkdir(dir.file("links"), 0o755)
        symlink(dir.file("archive/node1"), dir.file("links/node1"))
        let result = try await guarded(["convert", "--quiet", dir.file("links")])
        #expect(result.status == 0, "\(result.err)")
        #expect(identical(result.stdout, try await reference(rotated)))
        #expect(result.err.contains("links/node1: reached through a link, so its 1 subdirectory was not walked"), "\(result.err)")
        // Named on the command line, the same link is walked all through; so is the
        // folder it leads to when a named tree holds it, even after the link.
        let everything = try await reference(rotated, plain)
        let named = try await guarded(["convert", "--quiet", dir.file("links/node1")])
        #expect(named.status == 0)
        #expect(identical(named.stdout, everything))
        let both = try await guarded(["convert", "--quiet", dir.file("links"), dir.file("archive")])
        #expect(both.status == 0, "\(both.err)")
        #expect(identical(both.stdout, everything))
    }

    // MARK: One file under several names (F18)

    @Test("the same file named twice, through a link, a hard link and as standard input, is read once")
    func sameFileOnce() async throws {
        let dir = ScratchDir()
        let once = try await reference(plain)
        mkdir(dir.file("names"), 0o755)
        let file = dir.file("names/a-000000.flame")
        try copy(plain, to: file)
        symlink(file, dir.file("names/soft.flame"))
        link(file, dir.file("names/hard.flame"))
        let result = try await guarded(["convert", "--quiet", file, file, dir.file("names/soft.flame"), dir.file("names/hard.flame"), dir.file("names")])
        #expect(result.status == 0, "\(result.err)")
        #expect(identical(result.stdout, once))
        let withStdin = try await guarded(["convert", "--quiet", file, "-"], stdin: file)
        #expect(withStdin.status == 0, "\(withStdin.err)")
        #expect(identical(withStdin.stdout, once))
    }

    @Test("two files of one capture with the same seq: the first in path order is read, and a warning names both")
    func duplicateSeq() async throws {
        let dir = ScratchDir()
        let expected = try await reference("\(rotated)/rotated-000000.flame", "\(rotated)/rotated-000001.flame")
        mkdir(dir.file("dup"), 0o755)
        for name in ["rotated-000000.flame", "rotated-000001.flame"] { try copy("\(rotated)/\(name)", to: dir.file("dup/\(name)")) }
        try copy("\(rotated)/rotated-000001.flame", to: dir.file("dup/rotated-000001.flame.copy"))
        let result = try await guarded(["convert", "--quiet", dir.file("dup")])
        #expect(result.status == 0, "\(result.err)")
        #expect(identical(result.stdout, expected))
        #expect(result.err.contains("capture rotated: \(dir.file("dup/rotated-000001.flame")) and \(dir.file("dup/rotated-000001.flame.copy")) both hold seq 1"), "\(result.err)")
        #expect(result.err.contains("skipped \(dir.file("dup/rotated-000001.flame.copy"))"))
    }

    @Test("missing seq numbers (0, 2, 4): a warning names the capture and each gap, and says deltas span it")
    func seqGaps() async throws {
        let files = [0, 2, 4].map { "\(rotated)/rotated-00000\($0).flame" }
        let result = try await guarded(["convert", "--quiet"] + files)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("capture rotated: seq 1 is missing between \(files[0]) and \(files[1]): deltas are taken across the gap"), "\(result.err)")
        #expect(result.err.contains("capture rotated: seq 3 is missing between \(files[1]) and \(files[2])"))
        #expect(!result.stdout.isEmpty)
    }

    // MARK: FIFOs and pipes (F15, F16)

    @Test("a FIFO, /dev/stdin and - are read once, in one pass, plain or compressed", arguments: ["cat", "gzip -c", "zstd -q -c"])
    func streams(writer: String) async throws {
        let dir = ScratchDir()
        let once = try await reference(plain)
        let fifo = dir.file("capture.fifo")
        #expect(mkfifo(fifo, 0o644) == 0)
        let viaFIFO = try await guarded(["convert", "--quiet", fifo], setup: "\(writer) '\(plain)' > '\(fifo)' &")
        #expect(viaFIFO.status == 0, "\(viaFIFO.err)")
        #expect(identical(viaFIFO.stdout, once))
        for name in ["/dev/stdin", "-"] {
            let piped = try await guarded(["convert", "--quiet", name], setup: "exec < <(\(writer) '\(plain)');")
            #expect(piped.status == 0, "\(name): \(piped.err)")
            #expect(identical(piped.stdout, once), "\(name)")
        }
    }

    @Test("a FIFO met while walking a folder is skipped with a warning, not waited on")
    func fifoInFolder() async throws {
        let dir = ScratchDir()
        mkdir(dir.file("capture"), 0o755)
        try copy(plain, to: dir.file("capture/plain-000000.flame"))
        #expect(mkfifo(dir.file("capture/nobody-writes"), 0o644) == 0)
        let result = try await guarded(["convert", "--quiet", dir.file("capture")])
        #expect(result.status == 0, "\(result.err)")
        #expect(identical(result.stdout, try await reference(plain)))
        #expect(result.err.contains("capture/nobody-writes: skipped: not a regular file"), "\(result.err)")
    }

    @Test("when every input fails, no output file is written: a pipe of text, a capture whose only tick is cut")
    func nothingReadNothingWritten() async throws {
        let dir = ScratchDir()
        let text = try await guarded(["convert", "-", "-o", dir.file("text.perf")], setup: "exec < <(printf 'hello, not a dump');")
        #expect(text.status == 1, "\(text.err)")
        #expect(text.err.contains("standard input: offset 0: not a flame dump"), "\(text.err)")
        let bytes = try #require(readFile(plain))
        let starts = frameStarts(bytes)
        let cut = dir.write("cut-000000.flame", Array(bytes[..<(starts[1] + 100)]))
        let damaged = try await guarded(["convert", cut, "-o", dir.file("cut.perf")])
        #expect(damaged.status == 2, "\(damaged.err)")
        #expect(damaged.err.contains("\(cut): offset \(starts[1])"), "\(damaged.err)")
        #expect(damaged.err.contains("cut.perf was not written"))
        #expect(!fileExists(dir.file("text.perf")) && !fileExists(dir.file("cut.perf")))
        #expect(!dir.entries().contains { $0.contains(".partial-") }, "\(dir.entries())")
    }

    @Test("a zstd file that starts with a skippable frame is zstd")
    func zstdSkippableFrame() async throws {
        let dir = ScratchDir()
        let file = dir.file("skippable.flame.zst")
        let make = try await offThePool { try Subprocess.run(["/bin/bash", "-c", "{ printf '\\x50\\x2a\\x4d\\x18\\x04\\x00\\x00\\x00note'; zstd -q -c '\(plain)'; } > '\(file)'"]) }
        try #require(make.status == 0)
        let result = try await guarded(["convert", "--quiet", file])
        #expect(result.status == 0, "\(result.err)")
        #expect(identical(result.stdout, try await reference(plain)))
    }

    // MARK: The output is an input (F17), and bad option values

    @Test("an output that is an input (same name, a link to it, a hard link, standard output appended to it) is refused: exit 64, input untouched")
    func outputIsInput() async throws {
        let dir = ScratchDir()
        let input = dir.file("in.flame")
        try copy(plain, to: input)
        let before = try #require(readFile(input))
        symlink("in.flame", dir.file("link.perf"))
        link(input, dir.file("hard.perf"))
        for output in [input, dir.file("link.perf"), dir.file("hard.perf")] {
            let result = try await guarded(["convert", input, "-o", output])
            #expect(result.status == 64, "\(output): \(result.err)")
            #expect(result.err.contains("is also an input (\(input), the same file)"), "\(result.err)")
        }
        let appended = try await guarded(["convert", input], setup: "exec >> '\(input)';")
        #expect(appended.status == 64, "\(appended.err)")
        #expect(readFile(input) == before)
        #expect(!dir.entries().contains { $0.contains(".partial-") })
    }

    // MARK: File names are bytes, and messages are safe to show

    /// `flameconv ARGUMENTS` from bash, so arguments can hold any bytes (`$'x\\xff'`).
    func fromShell(_ arguments: String, in dir: ScratchDir) async throws -> ProcessResult {
        let binary = try Flameconv.requireBinary()
        return try await offThePool { try Subprocess.run(["/bin/bash", "-c", "cd '\(dir.path)' && exec '\(binary)' \(arguments)"], timeout: 60) }
    }

    @Test("a file whose name is not UTF-8 is read, named or met in a folder, and shown as \\xHH")
    func nonUTF8Names() async throws {
        let dir = ScratchDir()
        let make = try await offThePool { try Subprocess.run(["/bin/bash", "-c", "cd '\(dir.path)' && mkdir in && cp '\(plain)' in/$'x\\xff.flame' && cp in/$'x\\xff.flame' $'y\\xfe\\xc3.flame'"]) }
        try #require(make.status == 0)
        let expected = try await reference(plain)
        let named = try await fromShell("convert --quiet $'y\\xfe\\xc3.flame'", in: dir)
        #expect(named.status == 0, "\(named.err)")
        #expect(identical(named.stdout, expected))
        let walked = try await fromShell("convert in", in: dir)
        #expect(walked.status == 0, "\(walked.err)")
        #expect(identical(walked.stdout, expected))
        // An output named so is written under that very name.
        let out = try await fromShell("convert --quiet in -o $'out\\xff.perf'", in: dir)
        #expect(out.status == 0, "\(out.err)")
        let listed = try await offThePool { try Subprocess.run(["/bin/bash", "-c", "cd '\(dir.path)' && ls | od -An -c | tr -s ' '"]) }
        #expect(String(decoding: listed.stdout, as: UTF8.self).contains("o u t 377 . p e r f"), "\(String(decoding: listed.stdout, as: UTF8.self))")
        // A name that cannot be read is named in the message with its bytes escaped.
        let missing = try await fromShell("convert $'gone\\xff\\x1b[31m.flame'", in: dir)
        #expect(missing.status == 1)
        #expect(missing.err.contains("gone\\xFF\\e[31m.flame: offset 0: cannot read: No such file or directory"), "\(missing.err)")
    }

    @Test("names with newlines and terminal escapes are escaped in every message and in stats")
    func controlCharactersEscaped() async throws {
        let dir = ScratchDir()
        let make = try await offThePool { try Subprocess.run(["/bin/bash", "-c", "cd '\(dir.path)' && mkdir in && cp '\(plain)' in/$'a\\nb\\x1b]0;title\\x07.flame' && head -c 3000 '\(plain)' > in/$'cut\\r.flame'"]) }
        try #require(make.status == 0)
        for command in ["convert in -o out.perf", "stats in", "stats --json in"] {
            let result = try await fromShell(command, in: dir)
            let text = String(decoding: result.stdout, as: UTF8.self) + result.err
            #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x0D }, "\(command): \(text)")
            #expect(text.contains("a\\nb\\e]0;title\\x07.flame") || text.contains("a\\nb\\u001b]0;title\\u0007.flame"), "\(command): \(text)")
        }
    }

    @Test("inspect and stats refuse standard output that is one of their inputs (appended, opened read-write, through stdin): exit 64, input untouched",
          arguments: [["inspect"], ["stats"], ["stats", "--json"]])
    func reportIntoInput(command: [String]) async throws {
        let dir = ScratchDir()
        let input = dir.file("in.flame")
        try copy(plain, to: input)
        let before = try #require(readFile(input))
        for setup in ["exec >> '\(input)';", "exec 1<> '\(input)';"] {
            let result = try await guarded(command + [input], setup: setup)
            #expect(result.status == 64, "\(command) \(setup): \(result.err)")
            #expect(result.err.contains("standard output is also an input (\(input), the same file)"), "\(result.err)")
        }
        let throughStdin = try await guarded(command + ["-"], setup: "exec < '\(input)' >> '\(input)';")
        #expect(throughStdin.status == 64, "\(throughStdin.err)")
        #expect(readFile(input) == before)
        // Another file as standard output is fine.
        let elsewhere = try await guarded(command + [input], setup: "exec > '\(dir.file("report.txt"))';")
        #expect(elsewhere.status == 0, "\(elsewhere.err)")
        #expect((readFile(dir.file("report.txt"))?.count ?? 0) > 0)
    }

    @Test("-o '' and non-finite --from/--to are usage errors before any work; -o - is standard output",
          arguments: [["-o", ""], ["--from", "nan"], ["--to", "inf"], ["--from", "-inf"]])
    func badValues(arguments: [String]) async throws {
        let dir = ScratchDir()
        let result = try await guarded(["convert", plain] + arguments)
        #expect(result.status == 64, "\(arguments): \(result.err)")
        #expect(result.stdout.isEmpty)
        // In the scratch folder, where a file named '-' would show.
        let dash = try await guarded(["convert", "--quiet", plain, "-o", "-"], setup: "cd '\(dir.path)';")
        #expect(dash.status == 0)
        #expect(identical(dash.stdout, try await reference(plain)))
        #expect(!fileExists(dir.file("-")))
    }

    // MARK: Many captures (F19)

    /// The plain capture cut into one-tick captures, each with an id of its
    /// own, `spacing` µs after the one before (0: all at the same time).
    func oneTickCaptures(_ count: Int, spacing: Int64, in folder: String) throws {
        let capture = CaptureEditor(try #require(readFile(plain)))
        try #require(capture.terms.count >= 3)
        let startedAt: Int64 = 1_795_582_443_222_658
        mkdir(folder, 0o755)
        for i in 0..<count {
            var file = capture
            file.keepTicks([i % capture.ticks.count])
            // The tick is at started_at: monotonic_start is its own Ts.
            file.setHeader("capture", encoded: ETFBytes.binary("slice-\(i)"))
            file.setHeader("started_at", startedAt + Int64(i) * spacing)
            file.setHeader("monotonic_start", file.tickTs(0))
            writeFile("\(folder)/c\(i).flame", file.bytes)
        }
    }

    /// Before, every capture was opened at once, each with a descriptor and a
    /// 1 MiB buffer: 300 of them ran out of 100 descriptors.
    @Test("300 captures one after another convert with 100 open files: each is opened when the merge reaches it")
    func manyCaptures() async throws {
        let dir = ScratchDir()
        try oneTickCaptures(300, spacing: 20_000, in: dir.file("many"))
        let result = try await guarded(["convert", dir.file("many"), "-o", dir.file("many.perf")], setup: "ulimit -n 100;")
        #expect(result.status == 0, "\(result.err.prefix(1000))")
        #expect(result.err.contains("from 300 ticks of 300 captures (300 files)"), "\(result.err.prefix(1000))")
        let text = String(decoding: try #require(readFile(dir.file("many.perf"))), as: UTF8.self)
        #expect(text.contains("cpu-clock:"))
    }

    @Test("more overlapping captures than --max-open-captures: a clear stop, exit 1, no output; within the bound they merge")
    func overlapBound() async throws {
        let dir = ScratchDir()
        try oneTickCaptures(12, spacing: 0, in: dir.file("same-time"))
        let stopped = try await guarded(["convert", dir.file("same-time"), "--max-open-captures", "8", "-o", dir.file("out.perf")])
        #expect(stopped.status == 1, "\(stopped.err)")
        #expect(stopped.err.contains("at most 8 captures that overlap in time are merged at once"), "\(stopped.err)")
        #expect(stopped.err.contains("out.perf was not written"))
        #expect(!fileExists(dir.file("out.perf")))
        #expect(!dir.entries().contains { $0.contains(".partial-") })
        let merged = try await guarded(["convert", dir.file("same-time"), "--max-open-captures", "12", "-o", dir.file("out.perf")])
        #expect(merged.status == 0, "\(merged.err)")
        #expect(merged.err.contains("from 12 ticks of 12 captures"))
    }

    // MARK: Signals while writing (F21)

    @Test("a signal while writing -o leaves no partial file, and the process still ends by that signal",
          arguments: [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP])
    func signalled(_ sig: Int32) async throws {
        let binary = try #require(Flameconv.binary)
        let dir = ScratchDir()
        // The header and a few ticks, then nothing more until the FIFO is closed: the job waits mid-run.
        let bytes = try #require(readFile(plain))
        let fifo = HeldFIFO(dir.file("capture.fifo"), holding: Array(bytes[..<frameStarts(bytes)[3]]))
        let child = try Subprocess.start([binary, "convert", fifo.path, "-o", dir.file("out.perf")])
        let pid = child.pid
        let partial = dir.file(".out.perf.partial-\(pid)")
        let started = await waitForFile(partial, seconds: 10)
        kill(pid, sig)
        let ended = await waitForExit(pid, seconds: 10)
        let result = try child.wait()
        #expect(started, "no partial output appeared: \(result.err)")
        #expect(ended, "still running after the signal")
        #expect(result.signal == sig, "ended with \(result.status), signal \(result.signal.map(String.init) ?? "none")")
        #expect(!fileExists(dir.file("out.perf")))
        #expect(!dir.entries().contains { $0.contains(".partial-") }, "\(dir.entries())")
    }

    @Test("a file size limit (SIGXFSZ) is a write error: exit 1, a clear message, nothing left")
    func fileSizeLimit() async throws {
        let dir = ScratchDir()
        let result = try await guarded(["convert", "\(capturesDir)/top100", "-o", dir.file("out.perf")], setup: "ulimit -f 64;")
        #expect(result.status == 1 && result.signal == nil, "\(result.status) \(result.err)")
        #expect(result.err.contains("out.perf: write failed: File too large"), "\(result.err)")
        #expect(!fileExists(dir.file("out.perf")))
        #expect(!dir.entries().contains { $0.contains(".partial-") }, "\(dir.entries())")
    }

    @Test("a crash (an allocation that fails, then abort) leaves no partial file", .enabled(if: !Flameconv.underASan, "needs the address space limit"))
    func crash() async throws {
        let dir = ScratchDir()
        let bytes = try #require(readFile(plain))
        // The header and some ticks (the output is being written), then a frame that claims
        // 1.8 GB, allowed by --max-frame-bytes: its buffer cannot be had in 512 MiB.
        let claim: UInt32 = 1800 << 20
        let bomb = dir.write("bomb-000000.flame", Array(bytes[..<frameStarts(bytes)[4]])
            + [UInt8(claim >> 24), UInt8(claim >> 16 & 0xFF), UInt8(claim >> 8 & 0xFF), UInt8(claim & 0xFF)] + [UInt8](repeating: 131, count: 64))
        let result = try await guarded(["convert", bomb, "--max-frame-bytes", "4000000000", "-o", dir.file("out.perf")])
        #expect(result.signal == SIGABRT, "\(result.status): \(result.err.prefix(300))")
        #expect(!fileExists(dir.file("out.perf")))
        #expect(!dir.entries().contains { $0.contains(".partial-") }, "\(dir.entries())")
    }
}

/// Whether two outputs are the same bytes. Not `==` inside `#expect`: on a
/// failure it would print and diff two arrays of megabytes.
func identical(_ output: [UInt8], _ expected: [UInt8]) -> Bool {
    output == expected
}
