import Foundation
import TestSupport
import Testing

/// Every case of Fixtures/bad (made by scripts/make-bad-inputs.sh, described in its
/// README and cases.tsv) through the real `flameconv convert` and `inspect`, as
/// child processes under `ulimit -v 524288` and a 10 s timeout.
@Suite("Bad inputs through the flameconv binary", .serialized)
struct BadInputTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var convertExit: Int32
        var inspectExit: Int32
        /// "-" none, "unnamed" (no file or offset given), "N" exact, "A..B" within,
        /// "decoder" wherever gzip/zstd gives up.
        var offset: String
        var reason: String
        var prefixOf: String
        var prefixLength: Int
        var how: String
        var description: String { name }
        var path: String { Fixtures.bad.appendingPathComponent(name).path }
    }

    static let cases: [Case] = {
        guard let text = try? String(contentsOf: Fixtures.bad.appendingPathComponent("cases.tsv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 8, let c = Int32(f[1]), let i = Int32(f[2]), let p = Int(f[6]) else { return nil }
            return Case(name: f[0], convertExit: c, inspectExit: i, offset: f[3], reason: f[4], prefixOf: f[5], prefixLength: p, how: f[7])
        }
    }()

    @Test("the corpus is there and small")
    func corpus() throws {
        #expect(Self.cases.count >= 40, "Fixtures/bad/cases.tsv missing or short: run scripts/make-bad-inputs.sh")
        let total = try FileManager.default.contentsOfDirectory(atPath: Fixtures.bad.path).reduce(0) { sum, name in
            sum + ((try? FileManager.default.attributesOfItem(atPath: Fixtures.bad.appendingPathComponent(name).path)[.size] as? Int) ?? 0)
        }
        #expect(total < 2 << 20, "Fixtures/bad holds \(total) bytes")
        for c in Self.cases { #expect(FileManager.default.fileExists(atPath: c.path), "\(c.name) listed but missing") }
    }

    @Test("convert: exit status, message, salvage, no partial file", arguments: cases)
    func convert(_ c: Case) throws {
        let dir = ScratchDir()
        let out = dir.file("out.perf")
        let run = try Flameconv.run(["convert", "--quiet", c.path, "-o", out])
        Self.log(c, "convert", run)
        try Self.expectClean(run, exit: c.convertExit)
        #expect(dir.partials().isEmpty, "left \(dir.partials())")
        if c.convertExit == 1 { #expect(!FileManager.default.fileExists(atPath: out), "exit 1 but \(out) was written") }
        let reported = try Self.expectMessage(run.stderr, c)
        // What was salvaged equals converting the good prefix.
        if let prefix = try Self.prefix(c, reportedOffset: reported) {
            let good = dir.file("prefix.flame")
            try Data(prefix).write(to: URL(fileURLWithPath: good))
            let goodRun = try Flameconv.run(["convert", "--quiet", good, "-o", dir.file("prefix.perf")])
            #expect(goodRun.exitCode == 0, "\(goodRun)")
            let salvaged = dir.read("out.perf") ?? []
            let expected = dir.read("prefix.perf") ?? []
            let same = salvaged == expected
            #expect(same, "\(c.name): salvaged \(lines(salvaged)) lines, the good prefix (\(prefix.count) bytes) gives \(lines(expected))")
        }
    }

    @Test("inspect: exit status, message, the terms before the bad spot", arguments: cases)
    func inspect(_ c: Case) throws {
        let run = try Flameconv.run(["inspect", c.path])
        Self.log(c, "inspect", run)
        try Self.expectClean(run, exit: c.inspectExit)
        guard c.inspectExit == 1 else { return }
        #expect(run.stderr.contains("flameconv: error: \(c.path): offset "), "\(run)")
        let reported = Self.reportedOffset(run.stderr, c.path)
        #expect(reported != nil)
        if c.prefixOf != "-", let reported {
            // The terms printed are those of the whole frames before the reported offset.
            let source = try Self.sourceBytes(c)
            let prefix = Self.wholeFrames(source, before: reported, concatenated: c.prefixOf == "concat.flame", knownLength: c.prefixLength)
            let dir = ScratchDir()
            let good = dir.write("prefix.flame", prefix)
            let goodRun = try Flameconv.run(["inspect", good])
            let same = run.stdout == goodRun.stdout
            #expect(same, "\(c.name): printed \(lines(run.stdout)) terms, the good prefix gives \(lines(goodRun.stdout))")
        }
    }

    // MARK: Helpers

    static func expectClean(_ run: ProcessResult, exit: Int32) throws {
        #expect(!run.timedOut, "\(run)")
        #expect(run.signal == nil, "killed by signal: \(run)")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Program crashed"), "\(run)")
        #expect(run.exitCode == exit, "\(run)")
    }

    /// Checks the message names the file, the offset and the reason; returns the offset it gives.
    static func expectMessage(_ stderr: String, _ c: Case) throws -> Int? {
        guard !c.reason.isEmpty else {
            #expect(!stderr.contains("error:"), "\(c.name): \(stderr)")
            return nil
        }
        #expect(stderr.range(of: c.reason, options: .regularExpression) != nil, "\(c.name): reason /\(c.reason)/ not in: \(stderr)")
        // A skipped sample is counted by reason in convert's summary, without file or offset.
        if c.offset == "unnamed" { return nil }
        guard c.offset != "-" else {
            #expect(stderr.contains(c.path), "\(c.name): file not named: \(stderr)")
            return nil
        }
        let reported = reportedOffset(stderr, c.path)
        #expect(reported != nil, "\(c.name): no 'FILE: offset N:' in: \(stderr)")
        guard let reported else { return nil }
        if let exact = Int(c.offset) {
            #expect(reported == exact, "\(c.name): offset \(reported), expected \(exact)")
        } else if c.offset.contains("..") {
            let bounds = c.offset.split(separator: ".", omittingEmptySubsequences: true).compactMap { Int($0) }
            #expect(bounds.count == 2 && (bounds[0]...bounds[1]).contains(reported), "\(c.name): offset \(reported) outside \(c.offset)")
        }
        return reported
    }

    static func reportedOffset(_ stderr: String, _ path: String) -> Int? {
        guard let range = stderr.range(of: "\(path): offset ") else { return nil }
        return Int(stderr[range.upperBound...].prefix { $0.isNumber })
    }

    static func sourceBytes(_ c: Case) throws -> [UInt8] {
        try Fixtures.bytes(Fixtures.bad.appendingPathComponent(c.prefixOf).standardizedFileURL)
    }

    /// The good prefix a case's salvage must equal, or nil when none applies.
    static func prefix(_ c: Case, reportedOffset: Int?) throws -> [UInt8]? {
        guard c.prefixOf != "-" else { return nil }
        let source = try sourceBytes(c)
        if c.prefixLength >= 0 { return Array(source[..<c.prefixLength]) }
        guard let reportedOffset else { return nil }
        return wholeFrames(source, before: reportedOffset, concatenated: false, knownLength: -1)
    }

    /// The bytes of the whole frames of `source` that end at or before `offset`
    /// (for the decoder cases), or the known prefix length.
    static func wholeFrames(_ source: [UInt8], before offset: Int, concatenated: Bool, knownLength: Int) -> [UInt8] {
        if knownLength >= 0 { return Array(source[..<knownLength]) }
        var end = 0
        for f in ETFBytes.frames(in: source) where f.term.endIndex <= offset { end = f.term.endIndex }
        return Array(source[..<end])
    }

    static func log(_ c: Case, _ command: String, _ run: ProcessResult) {
        print("hardening: \(command) \(c.name): exit \(run.exitCode.map(String.init) ?? "sig \(run.signal ?? 0)") \(String(format: "%.3f", run.seconds)) s, max RSS \(run.maxRSSKiB / 1024) MiB")
    }

    @Test("a warning about skipped samples names the file and the offset of the tick that held the first")
    func skippedSamplesNameTheirPlace() throws {
        let path = Fixtures.bad.appendingPathComponent("atom-bad-utf8-in-tick.flame").path
        let run = try Flameconv.run(["convert", path, "-o", "/dev/null"])
        #expect(run.status == 0, "\(run)")
        let prefix = "flameconv: warning: skipped 1 sample: atom is not valid UTF-8 (the first in the tick at byte "
        let line = try #require(run.stderr.split(separator: "\n").first { $0.hasPrefix(prefix) }, "\(run.stderr)")
        #expect(line.hasSuffix(" of \(path))"), "\(line)")
        let offset = try #require(Int(line.dropFirst(prefix.count).prefix { $0.isNumber }))
        // The offset is where a framed tick term starts, and that term holds the broken atom (C3 28).
        let bytes = try Fixtures.bytes(URL(fileURLWithPath: path))
        #expect(bytes[offset] == 131 && bytes[offset + 1] == 104, "a term tuple starts there")
        let length = Int(bytes[offset - 4]) << 24 | Int(bytes[offset - 3]) << 16 | Int(bytes[offset - 2]) << 8 | Int(bytes[offset - 1])
        let term = bytes[offset..<(offset + length)]
        #expect(term.indices.dropLast().contains { term[$0] == 0xC3 && term[$0 + 1] == 0x28 }, "the broken atom is in that tick")
    }
}

func lines(_ bytes: [UInt8]) -> Int { bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
