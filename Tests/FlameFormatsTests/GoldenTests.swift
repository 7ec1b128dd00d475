@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
import FlameDump
import TestSupport
import Testing

/// The flame_prof dialect against the independent oracle's outputs
/// (Tests/reference/flame_prof_ref.escript → Fixtures/golden), byte for byte.
@Suite("Golden outputs")
struct GoldenTests {
    static let captures = "\(repositoryRoot)/Fixtures/captures"
    static let golden = "\(repositoryRoot)/Fixtures/golden"
    static let testdata = "\(repositoryRoot)/Tests/reference/testdata"

    static let captureNames: [String] = listDirectory(captures).filter { isDirectory("\(captures)/\($0)") }

    static func files(of capture: String) -> [String] { listDirectory("\(captures)/\(capture)").map { "\(captures)/\(capture)/\($0)" } }

    static func goldenText(_ capture: String) throws -> [UInt8] {
        let plain = "\(golden)/\(capture).flame_prof.perf"
        if let bytes = readFile(plain) { return bytes }
        let gz = plain + ".gz"
        guard readFile(gz) != nil else {
            Issue.record("no golden for \(capture): run Tests/reference/make-golden.sh")
            return []
        }
        return try readDecompressed(gz)
    }

    /// Where two texts part, for a readable failure.
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let n = zip(a, b).prefix { $0 == $1 }.count
        let lineStart = a[..<n].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        func line(_ t: [UInt8]) -> String {
            let end = t[lineStart...].firstIndex(of: 0x0A) ?? t.count
            return String(decoding: t[lineStart..<min(end, t.count)], as: UTF8.self)
        }
        return "sizes \(a.count) vs \(b.count); first difference at byte \(n):\n  got:      \(line(a))\n  expected: \(line(b))"
    }

    static func eventTimes(_ text: [UInt8]) -> [Double] {
        String(decoding: text, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("\t") }.compactMap { line in
            line.split(separator: " ").first { $0.hasSuffix(":") && $0.contains(".") && $0.first!.isNumber }.flatMap { Double($0.dropLast()) }
        }
    }

    @Test("there are captures to check")
    func capturesExist() {
        #expect(Self.captureNames.count >= 4, "Fixtures/captures: \(Self.captureNames)")
    }

    @Test("each capture converts to its golden, byte for byte", arguments: captureNames)
    func capture(name: String) throws {
        let (text, summary, problems) = convert(["\(Self.captures)/\(name)"])
        #expect(problems.isEmpty)
        #expect(summary.skippedSamples.isEmpty)
        #expect(summary.files.allSatisfy { $0.tailError == nil && !$0.truncated })
        #expect(summary.ticksOutOfOrder == 0)
        let expected = try Self.goldenText(name)
        #expect(text == expected, "\(name): \(Self.firstDifference(text, expected))")
    }

    @Test("the files of two captures given as one shuffled set merge in time order, each as its golden")
    func mixedSet() throws {
        let plain = Self.files(of: "plain"), rotated = Self.files(of: "rotated")
        try #require(plain.count == 1 && rotated.count >= 3)
        // Interleaved and out of seq order.
        let mixed = [rotated[2], plain[0], rotated[0]] + rotated[3...].reversed() + [rotated[1]]
        let (text, summary, problems) = convert(mixed)
        #expect(problems.isEmpty)
        #expect(summary.files.count == rotated.count + 1)
        let goldenPlain = try Self.goldenText("plain"), goldenRotated = try Self.goldenText("rotated")
        // The captures were taken one after the other, so merged by time they follow each other whole.
        let (first, second) = Self.eventTimes(goldenPlain)[0] < Self.eventTimes(goldenRotated)[0] ? (goldenPlain, goldenRotated) : (goldenRotated, goldenPlain)
        #expect(text == first + second, "\(Self.firstDifference(text, first + second))")
        let times = Self.eventTimes(text)
        #expect(times == times.sorted())
        // Given as two directories in the other order: the same.
        #expect(convert(["\(Self.captures)/rotated", "\(Self.captures)/plain"]).text == text)
    }

    @Test("a rotated capture's files in reverse order on the command line convert identically (seq order)")
    func rotatedReversed() throws {
        let files = Self.files(of: "rotated")
        try #require(files.count >= 3)
        let (text, summary, _) = convert(files.reversed())
        #expect(summary.files.map(\.path) == files)
        #expect(summary.files.map(\.header.seq) == Array(0..<Int64(files.count)))
        let expected = try Self.goldenText("rotated")
        #expect(text == expected, "\(Self.firstDifference(text, expected))")
    }

    @Test("captures whose ticks interleave merge tick by tick, each keeping its own deltas")
    func interleaved() {
        let dir = ScratchDir()
        let s = { (r: Int64) in SampleSpec(pid: (85, 0), reductions: r) }
        dir.write("a.flame", dumpBytes(capture: "a", ticks: [(0, [s(100)]), (20_000, [s(110)]), (40_000, [s(130)])]))
        // Same node, same pid, another capture: its deltas start over.
        dir.write("b.flame", dumpBytes(capture: "b", startedAt: 1_700_000_000_010_000, ticks: [(0, [s(5000)]), (20_000, [s(5005)])]))
        let (text, summary, _) = convert([dir.path])
        #expect(summary.events == 5)
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("running") }
        #expect(lines.map { $0.split(separator: " ")[2] } == [
            "1700000000.000000:", "1700000000.010000:", "1700000000.020000:", "1700000000.030000:", "1700000000.040000:",
        ])
        #expect(lines.map { String($0.split(separator: "\t")[2]) } == [
            "metric_erlang_reductions: 100, 1", "metric_erlang_reductions: 5000, 1", "metric_erlang_reductions: 110, 11",
            "metric_erlang_reductions: 5005, 6", "metric_erlang_reductions: 130, 21",
        ])
    }

    @Test("the oracle's hand-made dumps convert to its hand-written expected texts", arguments: [
        ("basic.flame", "basic"), ("basic_concat.flame", "basic"), ("basic_compressed_terms.flame", "basic"),
        ("basic.flame.gz", "basic"), ("basic_members.flame.gz", "basic"), ("rotated", "basic"), ("odd.flame", "odd"),
    ])
    func handMade(dump: String, expected: String) throws {
        let (text, summary, problems) = convert(["\(Self.testdata)/dumps/\(dump)"])
        #expect(problems.isEmpty)
        let want = try #require(readFile("\(Self.testdata)/\(expected).expected.perf"))
        #expect(text == want, "\(Self.firstDifference(text, want))")
        #expect(summary.files.allSatisfy { $0.tailError == nil })
        if expected == "basic" {
            #expect(summary.skippedSamples == ["missing memory": 1])
        } else {
            #expect(summary.skippedSamples.values.reduce(0, +) == 3, "\(summary.skippedSamples)")
        }
    }

    @Test("a dump cut mid-frame converts the ticks before the cut and names the offset")
    func truncatedHandMade() throws {
        let (text, summary, _) = convert(["\(Self.testdata)/dumps/truncated.flame"])
        let want = try #require(readFile("\(Self.testdata)/basic.expected.perf"))
        #expect(!text.isEmpty && Array(want.prefix(text.count)) == text)
        #expect(summary.events == 3)
        let tail = try #require(summary.files.first?.tailError)
        #expect(tail.offset == 3226)
        guard case .truncated = tail.reason else {
            Issue.record("expected a truncated tail, got \(tail)")
            return
        }
    }
}
