import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The built `flameconv` binary, run as a user runs it.
@Suite("flameconv CLI", .timeLimit(.minutes(2)))
struct CLITests {
    let plain = "\(capturesDir)/plain/plain-000000.flame"

    // MARK: Output files

    @Test("-o out.perf: the file equals standard output, and no partial file is left")
    func outputFile() throws {
        let dir = ScratchDir()
        let toStdout = try flameconv(["convert", "--quiet", plain])
        #expect(toStdout.status == 0)
        let result = try flameconv(["convert", plain, "-o", dir.file("out.perf")])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.stdout.isEmpty)
        #expect(readFile(dir.file("out.perf")) == toStdout.stdout)
        #expect(!toStdout.stdout.isEmpty)
        #expect(!dir.entries().contains { $0.contains(".partial-") }, "\(dir.entries())")
        #expect(result.err.contains("out.perf"))
    }

    @Test("-o out.perf.gz: valid gzip of the same text")
    func gzipOutput() throws {
        let dir = ScratchDir()
        let toStdout = try flameconv(["convert", "--quiet", "\(capturesDir)/rotated"])
        let result = try flameconv(["convert", "--quiet", "\(capturesDir)/rotated", "-o", dir.file("out.perf.gz")])
        #expect(result.status == 0, "\(result.err)")
        let gz = try #require(readFile(dir.file("out.perf.gz")))
        #expect(gz.starts(with: [0x1F, 0x8B]))
        #expect(gz.count < toStdout.stdout.count / 3)
        #expect(try Subprocess.run(["/bin/gzip", "-t", dir.file("out.perf.gz")]).status == 0)
        let gunzipped = try Subprocess.run(["/bin/gzip", "-dc", dir.file("out.perf.gz")])
        #expect(gunzipped.status == 0)
        #expect(gunzipped.stdout == toStdout.stdout)
        #expect(!dir.entries().contains { $0.contains(".partial-") })
    }

    @Test("-o: the file appears only when complete; SIGTERM mid-run leaves nothing behind")
    func onlyWhenComplete() async throws {
        let binary = try #require(Flameconv.binary)
        let dir = ScratchDir()
        // A capture that stays mid-run: its header and some ticks come through a FIFO
        // whose writer stays open. (The same file linked many times is read once.)
        let bytes = try #require(readFile(plain))
        let fifo = HeldFIFO(dir.file("capture.fifo"), holding: Array(bytes[..<frameStarts(bytes)[5]]))
        let child = try Subprocess.start([binary, "convert", "--quiet", "--dialect", "flame_prof", fifo.path, "-o", dir.file("out.perf")])
        let pid = child.pid
        let partial = dir.file(".out.perf.partial-\(pid)")
        let sawPartial = await waitForFile(partial, seconds: 10)
        // Give it time to convert what it has, then check the final name is not there yet.
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(!fileExists(dir.file("out.perf")), "the output is visible before it is complete")
        kill(pid, SIGTERM)
        #expect(await waitForExit(pid, seconds: 10))
        let result = try child.wait()
        #expect(sawPartial, "no partial file \(partial) was seen while converting")
        #expect(result.signal == SIGTERM)
        #expect(!fileExists(dir.file("out.perf")))
        #expect(!dir.entries().contains { $0.contains(".partial-") }, "\(dir.entries())")
    }

    // MARK: Exit codes

    @Test("stats --threads 1 and the default give the same figures; --threads 0 is refused")
    func statsThreads() throws {
        let args = ["stats", "--json", "--category", "status", "--weight", "reductions_delta"] + ["plain", "rotated", "compressed", "top100"].map { "\(capturesDir)/\($0)" }
        let one = try flameconv(args + ["--threads", "1"])
        let two = try flameconv(args + ["--threads", "2"])
        #expect(one.status == 0 && two.status == 0, "\(one.err)\(two.err)")
        #expect(one.out == two.out)
        #expect(one.out.contains("\"samples\""))
        let zero = try flameconv(["stats", "--threads", "0", plain])
        #expect(zero.status == 64)
        #expect(zero.err.contains("--threads must be 1 to"))
    }

    @Test("exit 0 for a clean capture (directory, files, compressed, rotated)")
    func clean() throws {
        for input in ["plain", "compressed", "rotated", "top100"] {
            let result = try flameconv(["convert", "\(capturesDir)/\(input)"])
            #expect(result.status == 0, "\(input): \(result.err)")
            #expect(!result.err.contains("error") && !result.err.contains("warning"), "\(input): \(result.err)")
            #expect(result.err.contains("wrote "))
        }
    }

    @Test("exit 2 for a truncated tail: the file and byte offset are named, the ticks before it converted")
    func truncatedTail() throws {
        let dir = ScratchDir()
        let bytes = try #require(readFile(plain))
        let starts = frameStarts(bytes)
        try #require(starts.count > 30)
        let cutFrame = 20
        let length = starts[cutFrame + 1] - starts[cutFrame]
        let cut = dir.write("cut-000000.flame", Array(bytes[..<(starts[cutFrame] + length / 2)]))
        let prefix = dir.write("prefix-000000.flame", Array(bytes[..<starts[cutFrame]]))
        let result = try flameconv(["convert", "--dialect", "flame_prof", cut])
        #expect(result.status == 2, "\(result.err)")
        #expect(result.err.contains(cut))
        #expect(result.err.contains("offset \(starts[cutFrame])"), "\(result.err)")
        #expect(result.err.contains("truncated"))
        // Everything before the cut, exactly as converting the complete frames alone.
        let whole = try flameconv(["convert", "--dialect", "flame_prof", "--quiet", prefix])
        #expect(whole.status == 0)
        #expect(whole.err.contains("no trailer"))
        #expect(!result.stdout.isEmpty)
        #expect(result.stdout == whole.stdout)
        let full = try flameconv(["convert", "--dialect", "flame_prof", "--quiet", plain])
        #expect(full.stdout.starts(with: result.stdout))
        #expect(full.stdout.count > result.stdout.count)
    }

    @Test("exit 1 for a missing file, a file that is no dump, an empty file", arguments: ["missing", "notadump", "empty", "directory"])
    func unreadable(kind: String) throws {
        let dir = ScratchDir()
        let path: String
        switch kind {
        case "missing": path = dir.file("no-such.flame")
        case "notadump": path = dir.write("README.md", Array("# not a dump\n".utf8))
        case "empty": path = dir.write("empty.flame", [])
        default:
            mkdir(dir.file("nothing"), 0o755)
            path = dir.file("nothing")
        }
        let result = try flameconv(["convert", path])
        #expect(result.status == 1, "\(kind): \(result.err)")
        #expect(result.err.contains("error"))
        if kind != "directory" { #expect(result.err.contains(path)) }
        #expect(result.stdout.isEmpty)
        // Next to a good capture, the good one is still converted, and the status says something was wrong
        // (an empty directory next to a capture is no problem: it just holds no dumps).
        if kind == "directory" { return }
        let mixed = try flameconv(["convert", path, plain])
        #expect(mixed.status == 1)
        #expect(!mixed.stdout.isEmpty)
    }

    @Test("exit 64 for a bad option", arguments: [
        ["convert", "--group-by", "nonsense"], ["convert", "--dialect", "perl"], ["convert", "--pid", "<1.2>"],
        ["convert", "--from", "5", "--to", "2"], ["convert", "--bogus"], ["inspect", "--encoding", "ebcdic"],
    ])
    func badOption(arguments: [String]) throws {
        let result = try flameconv(arguments + [plain])
        #expect(result.status == 64, "\(arguments): \(result.err)")
        #expect(!result.err.isEmpty)
        #expect(result.stdout.isEmpty)
    }

    // MARK: Filters

    /// The capture's events, and its start (the first file's `started_at`).
    func events(_ input: String, _ extra: [String] = []) throws -> [Substring] {
        let result = try flameconv(["convert", "--dialect", "flame_prof", "--quiet", input] + extra)
        #expect(result.status == 0, "\(extra): \(result.err)")
        return eventBlocks(result.out)
    }

    func startedAt(_ file: String) throws -> Int64 {
        let header = try flameconv(["inspect", file]).out.prefix { $0 != "\n" }
        let value = try #require(header.firstRange(of: "started_at => ")).upperBound
        return try #require(Int64(header[value...].prefix { $0.isNumber || $0 == "-" }))
    }

    @Test("--from/--to keep the ticks in that window, with the same text (deltas taken before filtering)")
    func timeWindow() throws {
        let input = "\(capturesDir)/rotated"
        let all = try events(input)
        let start = try startedAt("\(input)/rotated-000000.flame")
        let window = try events(input, ["--from", "0.4", "--to", "0.9"])
        let expected = all.filter {
            let t = eventHeader($0).micros - start
            return t >= 400_000 && t <= 900_000
        }
        #expect(!window.isEmpty && window.count < all.count)
        #expect(window == expected)
        #expect(try events(input, ["--from", "1000"]).isEmpty)
        #expect(try events(input, ["--to", "0"]).count <= 5)
    }

    @Test("--pid keeps one process, in any of its spellings")
    func pidFilter() throws {
        let all = try events(plain)
        let pid = eventHeader(all[all.count / 2]).pid  // 0.N.S
        let expected = all.filter { eventHeader($0).pid == pid }
        let parts = pid.split(separator: ".")
        #expect(try events(plain, ["--pid", "<\(pid)>"]) == expected)
        #expect(try events(plain, ["--pid", pid]) == expected)
        if parts[2] == "0" { #expect(try events(plain, ["--pid", String(parts[1])]) == expected) }
        let other = eventHeader(all.first { eventHeader($0).pid != pid }!).pid
        #expect(try events(plain, ["--pid", "\(pid), \(other)"]) == all.filter { [pid, other].contains(eventHeader($0).pid) })
        #expect(try events(plain, ["--pid", "0.99999.0"]).isEmpty)
    }

    @Test("--status keeps those statuses")
    func statusFilter() throws {
        let input = "\(capturesDir)/top100"
        let all = try events(input)
        let statuses = Set(all.map { eventHeader($0).comm })
        #expect(statuses.contains("running") && statuses.contains("waiting"), "\(statuses)")
        let running = try events(input, ["--status", "running"])
        #expect(running == all.filter { eventHeader($0).comm == "running" })
        let two = try events(input, ["--status", "running,waiting"])
        #expect(two == all.filter { ["running", "waiting"].contains(eventHeader($0).comm) })
        #expect(try events(input, ["--status", "no_such_status"]).isEmpty)
    }

    // MARK: inspect

    @Test("inspect prints the header first and exits 0")
    func inspect() throws {
        let result = try flameconv(["inspect", plain])
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n")
        #expect(lines.first?.hasPrefix("{flame_dump,1,#{") == true)
        #expect(lines.first?.contains("capture => <<112,108,97,105,110>>") == true)  // ~w: <<"plain">>
        #expect(lines.last?.hasPrefix("{flame_dump_end,#{") == true)
        #expect(lines.count == frameStarts(try #require(readFile(plain))).count)
        #expect(lines.dropFirst().first?.hasPrefix("{samples,") == true)
    }

    @Test("inspect on a truncated file prints the terms before the bad spot, then the error with its offset; exit 1")
    func inspectTruncated() throws {
        let dir = ScratchDir()
        let bytes = try #require(readFile(plain))
        let starts = frameStarts(bytes)
        let cutFrame = 7
        let cut = dir.write("cut.flame", Array(bytes[..<(starts[cutFrame] + 9)]))
        let full = try flameconv(["inspect", plain])
        let result = try flameconv(["inspect", cut])
        #expect(result.status == 1)
        let lines = result.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(Array(lines) == Array(full.out.split(separator: "\n").prefix(cutFrame)))
        #expect(result.err.contains(cut))
        #expect(result.err.contains("offset \(starts[cutFrame])"), "\(result.err)")
    }

    // MARK: Pipes and help

    @Test("convert … | head -1 ends quietly: exit 0, nothing on standard error")
    func brokenPipe() throws {
        let binary = try #require(Flameconv.binary)
        let dir = ScratchDir()
        let script = "'\(binary)' convert --dialect flame_prof '\(capturesDir)/top100' 2>'\(dir.file("err"))' | head -1 >'\(dir.file("out"))'; echo ${PIPESTATUS[0]} >'\(dir.file("status"))'"
        #expect(try Subprocess.run(["/bin/bash", "-c", script]).status == 0)
        #expect(String(decoding: readFile(dir.file("status")) ?? [], as: UTF8.self) == "0\n")
        #expect(readFile(dir.file("err")) == [])
        let out = String(decoding: readFile(dir.file("out")) ?? [], as: UTF8.self)
        #expect(out.hasSuffix(": cpu-clock:") == false && out.contains("cpu-clock:") && out.split(separator: "\n").count == 1)
        // inspect too.
        let inspect = "'\(binary)' inspect '\(capturesDir)/top100/top100-000000.flame' 2>'\(dir.file("err2"))' | head -1 >/dev/null; echo ${PIPESTATUS[0]} >'\(dir.file("status2"))'"
        #expect(try Subprocess.run(["/bin/bash", "-c", inspect]).status == 0)
        #expect(String(decoding: readFile(dir.file("status2")) ?? [], as: UTF8.self) == "0\n")
        #expect(readFile(dir.file("err2")) == [])
    }

    @Test("--help of the tool and of each subcommand shows examples")
    func help() throws {
        let top = try flameconv(["--help"])
        #expect(top.status == 0)
        #expect(top.out.contains("Examples"))
        // The subcommands listed under SUBCOMMANDS.
        let section = try #require(top.out.firstRange(of: "SUBCOMMANDS:"))
        // Entries are indented by two spaces, their wrapped descriptions by more; a blank line ends the list.
        let names = top.out[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
            .prefix { !$0.isEmpty }
            .compactMap { line -> String? in
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let word = line.split(separator: " ").first else { return nil }
                return String(word)
            }.filter { $0 != "help" }
        #expect(names.contains("convert") && names.contains("inspect"), "\(names)")
        for name in names {
            let result = try flameconv([name, "--help"])
            #expect(result.status == 0, "\(name)")
            #expect(result.out.contains("Examples:"), "\(name) --help has no examples")
            #expect(result.out.contains("flameconv \(name) "), "\(name) --help examples do not show \(name)")
        }
    }

    // A subcommand is parsed on its own first (RootCommand.parsedSubcommand);
    // whatever that parse refuses must still read as the root's answer.
    @Test("a subcommand's usage errors and help read as the tool's, whichever way they are parsed")
    func subcommandErrorsNameTheTool() throws {
        for arguments in [["convert", "--no-such-flag", plain], ["stats", "--threads", "x", plain], ["inspect"], ["convert", "--dialect", "nope", plain]] {
            let result = try flameconv(arguments)
            #expect(result.status == 64, "\(arguments): \(result.status) \(result.err)")
            #expect(result.err.contains("Usage: flameconv \(arguments[0])"), "\(arguments): \(result.err)")
        }
        let viaHelp = try flameconv(["help", "convert"])
        let viaFlag = try flameconv(["convert", "--help"])
        #expect(viaHelp.status == 0 && viaFlag.status == 0)
        #expect(viaHelp.out == viaFlag.out)
        #expect(viaFlag.out.contains("USAGE: flameconv convert"))
        // --version belongs to the root, which answers it after a subcommand too.
        let version = try flameconv(["convert", "--version"])
        #expect(version.status == 0, "\(version.err)")
        #expect(version.out == (try flameconv(["--version"])).out)
    }
}
