import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `flameconv batch` over a mixed archive made with the real tools
/// (`MixedArchive`): each capture's outputs against `flameconv convert` of its
/// files, the corrupt and hostile inputs, re-runs, shards and a torn manifest.
@Suite("Batch", .serialized, .timeLimit(.minutes(5)))
struct BatchTests {
    static let formats = ["--format", "perf", "--format", "folded", "--format", "speedscope", "--format", "pprof"]
    /// Output extension per format, as convert is asked for them.
    static let extensions = ["perf": ".perf", "folded": ".folded", "speedscope": ".speedscope.json", "pprof": ".pprof"]

    func batch(_ arguments: [String], setup: String = "") async throws -> ProcessResult {
        try await offThePool { try Flameconv.run(["batch"] + arguments, setup: setup, limited: true, timeout: 120) }
    }

    /// The manifest's capture records as text lines.
    func manifestLines(_ out: String) -> [String] {
        listDirectory("\(out)/.flameconv-batch", includingHidden: false)
            .flatMap { String(decoding: readFile("\(out)/.flameconv-batch/\($0)") ?? [], as: UTF8.self).split(separator: "\n").map(String.init) }
    }

    /// The output file name of `id` in `format`, as the manifest records it.
    func outputFile(_ out: String, id: String, format: String) throws -> String {
        let quotedID = "\"capture\":" + jsonQuoted(id) + ","
        let line = try #require(manifestLines(out).last { $0.contains(quotedID) && $0.contains("\"status\":\"done\"") }, "no record of \(id)")
        let suffix = Self.extensions[format]! + "\""
        let end = try #require(line.range(of: suffix), "no \(format) output for \(id) in \(line)")
        let start = try #require(line[..<end.lowerBound].range(of: "\"file\":\"", options: .backwards))
        return String(line[start.upperBound..<end.lowerBound]) + Self.extensions[format]!
    }

    @Test("each good capture of a mixed archive comes out byte for byte as convert writes it; the corrupt file is named; nothing escapes --out")
    func matchesConvert() async throws {
        let archive = try MixedArchive()
        let out = archive.dir.file("out")
        let result = try await batch([archive.inputs, "--out", out, "--jobs", "2"] + Self.formats)
        // One corrupt file and two READMEs are no dumps: exit 1, each named, the rest converted.
        #expect(result.status == 1, "\(result)")
        #expect(result.err.contains("corrupt.flame"), "\(result.err)")
        #expect(result.err.contains("hostile.tar[../README]"), "\(result.err)")
        #expect(result.err.contains("top.tar[README]"), "\(result.err)")
        #expect(result.err.contains("\(archive.goodCaptures.count) converted, 0 skipped"), "\(result.err)")
        // Control characters of ids and entry names are never sent to the terminal.
        #expect(!result.err.contains("\u{1B}"), "\(result.err)")
        for id in archive.goodCaptures {
            let sources = try #require(archive.sourcesOf(id))
            for format in ["perf", "folded", "speedscope", "pprof"] {
                let name = try outputFile(out, id: id, format: format)
                #expect(!name.contains("/") && !name.hasPrefix(".") && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F },
                        "unsafe output name \(name) for \(id)")
                let reference = archive.dir.file("reference\(Self.extensions[format]!)")
                let convert = try await offThePool { try Flameconv.run(["convert", "--quiet"] + sources + ["-o", reference], limited: false) }
                try #require(convert.status == 0, "\(convert)")
                let ours = try #require(readFile("\(out)/\(name)"), "\(id): no \(name)")
                #expect(ours == readFile(reference), "\(id) \(format): batch's \(name) differs from convert's")
            }
        }
        // Nothing outside --out: no file named after an entry anywhere.
        #expect(!fileExists("/tmp/flameconv-abs-evil.flame"))
        #expect(!fileExists(archive.dir.file("evil.flame")) && !fileExists(archive.dir.file("../evil.flame")))
        let made = listDirectory(out, includingHidden: true)
        #expect(Set(made).subtracting([".flameconv-batch"]).count == archive.goodCaptures.count * 4, "\(made)")
        // The inputs are as they were: the archive's files are never written.
        #expect(listDirectory(archive.inputs).sorted() == ["b.tar.zst", "hostile.tar", "loose", "nested", "one.tar.gz"])
    }

    @Test("a second run does no work; a touched input or another option is done again; --force redoes all")
    func rerunsSkip() async throws {
        let archive = try MixedArchive()
        let out = archive.dir.file("out")
        let first = try await batch([archive.inputs, "--out", out])
        #expect(first.status == 1, "\(first)")
        let linesAfterFirst = manifestLines(out).count
        var before = stat()
        stat("\(out)/plain.perf", &before)

        let second = try await batch([archive.inputs, "--out", out])
        #expect(second.err.contains("0 converted, \(archive.goodCaptures.count) skipped"), "\(second.err)")
        #expect(second.status == 1, "the corrupt file is still reported: \(second)")
        #expect(manifestLines(out).count == linesAfterFirst, "a run that does nothing appends nothing")
        var after = stat()
        stat("\(out)/plain.perf", &after)
        #expect(before.st_mtim.tv_nsec == after.st_mtim.tv_nsec && before.st_ino == after.st_ino, "plain.perf was rewritten")

        // A rotated file inside the .tar.zst changes: only rotated is done again.
        let touched = try await offThePool {
            try Subprocess.run(["/bin/bash", "-c", "cd '\(archive.dir.path)/stage' && touch -d '2001-02-03' r2.flame.gz && tar --zstd -cf ../archive/b.tar.zst r2.flame.gz"], timeout: 30)
        }
        try #require(touched.status == 0, "\(touched)")
        let third = try await batch([archive.inputs, "--out", out])
        #expect(third.err.contains("1 converted, \(archive.goodCaptures.count - 1) skipped"), "\(third.err)")
        #expect(third.err.contains("done rotated"), "\(third.err)")

        // Another option: every capture again (with --quiet, nothing but errors on standard error).
        let folded = try await batch([archive.inputs, "--out", out, "--format", "folded"])
        #expect(folded.err.contains("\(archive.goodCaptures.count) converted, 0 skipped"), "\(folded.err)")
        let forced = try await batch([archive.inputs, "--out", out, "--format", "folded", "--force"])
        #expect(forced.err.contains("\(archive.goodCaptures.count) converted, 0 skipped"), "\(forced.err)")
    }

    @Test("four shards cover every capture once, whichever way they get their index, and their merged report is the single run's")
    func shardsCoverOnce() async throws {
        let archive = try MixedArchive()
        let single = archive.dir.file("single")
        _ = try await batch([archive.inputs, "--out", single, "--format", "folded"])
        let sharded = archive.dir.file("sharded")
        var seen: [String] = []
        for index in 0..<4 {
            // Two by Slurm's variables, one by Kubernetes', one given outright.
            let (shard, setup): (String, String) = switch index {
            case 0, 1: ("auto", "export SLURM_ARRAY_TASK_ID=\(index) SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=4;")
            case 2: ("auto/4", "export JOB_COMPLETION_INDEX=2;")
            default: ("3/4", "")
            }
            let result = try await batch([archive.inputs, "--out", sharded, "--format", "folded", "--shard", shard], setup: setup)
            #expect(result.err.contains("shard \(index)/4"), "\(result.err)")
            seen += result.err.split(separator: "\n").compactMap { line in
                line.range(of: ": done ").map { String(line[$0.upperBound...]) }
            }
        }
        #expect(seen.count == archive.goodCaptures.count, "\(seen)")
        #expect(Set(seen).count == seen.count, "a capture converted twice: \(seen)")
        #expect(listDirectory("\(sharded)/.flameconv-batch").count == 4, "one manifest per shard")
        let mergedShards = try await batch(["--merge-manifests", "--out", sharded])
        let mergedSingle = try await batch(["--merge-manifests", "--out", single])
        #expect(mergedShards.status == 1 && mergedSingle.status == 1, "the corrupt file fails both: \(mergedShards)")
        #expect(!mergedSingle.out.isEmpty)
        #expect(mergedShards.out == mergedSingle.out, "\(mergedShards.out)\n---\n\(mergedSingle.out)")
        // And the outputs themselves.
        for name in listDirectory(single) {
            #expect(readFile("\(single)/\(name)") == readFile("\(sharded)/\(name)"), "\(name)")
        }
    }

    @Test("a manifest line cut short by a kill: the next run passes over it, redoes that capture only, and appends on a line of its own")
    func tornManifest() async throws {
        let archive = try MixedArchive()
        let out = archive.dir.file("out")
        _ = try await batch([archive.inputs, "--out", out])
        let manifest = "\(out)/.flameconv-batch/manifest-0-of-1.jsonl"
        let bytes = try #require(readFile(manifest))
        // Cut the last record in its middle, as a kill mid-write would.
        let lastStart = try #require(bytes.dropLast().lastIndex(of: UInt8(ascii: "\n"))) + 1
        let torn = Array(bytes[..<(lastStart + (bytes.count - lastStart) / 2)])
        writeFile(manifest, torn)
        let lost = String(decoding: bytes[lastStart...], as: UTF8.self)
        let again = try await batch([archive.inputs, "--out", out])
        #expect(again.err.contains("1 converted, \(archive.goodCaptures.count - 1) skipped"), "\(again.err)\nlost: \(lost)")
        let lines = String(decoding: try #require(readFile(manifest)), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "", "the manifest ends in a newline")
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") }, "every line is whole")
        let third = try await batch([archive.inputs, "--out", out])
        #expect(third.err.contains("0 converted, \(archive.goodCaptures.count) skipped"), "\(third.err)")
    }

    @Test("killed (SIGKILL) after its first capture: the next run finishes the rest, and every output is a clean run's")
    func killedMidRun() async throws {
        let archive = try MixedArchive()
        let binary = try Flameconv.requireBinary()
        let out = archive.dir.file("out")
        let manifest = "\(out)/.flameconv-batch/manifest-0-of-1.jsonl"
        let child = try Subprocess.start([binary, "batch", archive.inputs, "--out", out, "--jobs", "1", "--format", "perf", "--format", "pprof"])
        // Kill it as soon as one capture's record is on disk (the problem inputs'
        // records come first): mid-way through the next capture.
        let recorded = await poll(seconds: 60) { String(decoding: readFile(manifest) ?? [], as: UTF8.self).contains("{\"kind\":\"capture\"") }
        kill(child.pid, SIGKILL)
        let killed = try await offThePool { try child.wait(timeout: 30) }
        try #require(recorded, "no record appeared within 60 s: \(killed)")
        #expect(killed.signal == SIGKILL || killed.exitCode != nil, "\(killed)")
        let resumed = try await batch([archive.inputs, "--out", out, "--jobs", "2", "--format", "perf", "--format", "pprof"])
        #expect(resumed.status == 1, "only the corrupt file fails: \(resumed)")
        // What the killed run recorded stands; the rest is converted now.
        #expect(resumed.err.contains("skipped (up to date)") && !resumed.err.contains(" 0 skipped (up to date)"), "\(resumed.err)")
        #expect(!resumed.err.contains(" 0 converted,"), "\(resumed.err)")
        let clean = archive.dir.file("clean")
        _ = try await batch([archive.inputs, "--out", clean, "--jobs", "2", "--format", "perf", "--format", "pprof"])
        let names = listDirectory(clean)
        #expect(names.count == archive.goodCaptures.count * 2)
        #expect(listDirectory(out) == names, "visible files after the kill and the re-run: \(listDirectory(out))")
        for name in names {
            #expect(readFile("\(out)/\(name)") == readFile("\(clean)/\(name)"), "\(name) differs from a clean run's")
        }
        let third = try await batch([archive.inputs, "--out", out, "--format", "perf", "--format", "pprof"])
        #expect(third.err.contains("0 converted, \(archive.goodCaptures.count) skipped"), "\(third.err)")
    }

    @Test("a .tar.gz cut short: the member is named with its offset, what could be read is converted, and the other captures go on")
    func truncatedArchive() async throws {
        let dir = ScratchDir()
        mkdir(dir.file("in"), 0o755)
        let made = try await offThePool {
            try Subprocess.run(["/bin/bash", "-c", """
                cd '\(dir.path)' && tar -C '\(capturesDir)/rotated' -czf whole.tar.gz . \\
                && head -c $(( $(stat -c %s whole.tar.gz) * 3 / 5 )) whole.tar.gz > in/cut.tar.gz \\
                && cp '\(capturesDir)/plain/plain-000000.flame' in/
                """], timeout: 30)
        }
        try #require(made.status == 0, "\(made)")
        let out = dir.file("out")
        let result = try await batch([dir.file("in"), "--out", out, "--jobs", "2"])
        #expect(result.signal == nil && [1, 2].contains(result.status), "\(result)")
        #expect(result.err.contains("cut.tar.gz[./rotated-00000"), "the damaged member is named: \(result.err)")
        #expect(result.err.contains("offset "), "\(result.err)")
        #expect(fileExists("\(out)/plain.perf"), "the other capture was converted: \(result.err)")
        #expect(!listDirectory(out).contains { $0.contains(".partial-") }, "no partial output is left")
    }

    @Test("--compress gz and zst, --split-negative and a category: the outputs convert writes for the same options and names", arguments: ["gz", "zst"])
    func compressedOutputs(kind: String) async throws {
        let dir = ScratchDir()
        let out = dir.file("out")
        let options = ["--category", "registered_name", "--weight", "reductions_delta", "--split-negative"]
        let result = try await batch(["\(capturesDir)/rotated", "--out", out, "--format", "perf", "--format", "folded", "--compress", kind] + options)
        try #require(result.status == 0, "\(result)")
        #expect(listDirectory(out).sorted() == ["rotated.folded.\(kind)", "rotated.negative.folded.\(kind)", "rotated.perf.\(kind)"])
        let convert = try await offThePool {
            try Flameconv.run(["convert", "--quiet", "\(capturesDir)/rotated", "-o", dir.file("r.perf.\(kind)"), "-o", dir.file("r.folded.\(kind)")] + options,
                              limited: false)
        }
        try #require(convert.status == 0, "\(convert)")
        #expect(readFile("\(out)/rotated.perf.\(kind)") == readFile(dir.file("r.perf.\(kind)")))
        #expect(readFile("\(out)/rotated.folded.\(kind)") == readFile(dir.file("r.folded.\(kind)")))
        #expect(readFile("\(out)/rotated.negative.folded.\(kind)") == readFile(dir.file("r.negative.folded.\(kind)")))
    }

    @Test("bad --shard, --jobs and --out are refused before any work")
    func refusals() async throws {
        let archive = try MixedArchive()
        for (arguments, message) in [
            (["--shard", "4/4"], "not in 0..<4"),
            (["--shard", "auto"], "SLURM_ARRAY_TASK_ID"),
            (["--shard", "x"], "I/N"),
            (["--jobs", "0"], "--jobs"),
        ] {
            let result = try await batch([archive.inputs, "--out", archive.dir.file("out")] + arguments)
            #expect(result.status == 64, "\(arguments): \(result)")
            #expect(result.err.contains(message), "\(arguments): \(result.err)")
        }
        #expect(!fileExists(archive.dir.file("out")))
    }
}

/// `text` as a JSON string, as the manifest writes it (what these ids need: quotes, backslashes, controls).
func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
