import ETF
import Foundation
import TestSupport
import Testing

/// Runs the real BEAM: a fresh random corpus from Tests/erlang/gen-etf-corpus.sh,
/// checked exactly as the committed corpus is.
///
/// Needs `erl` and `erlc` on PATH. Without them the test is skipped, except under
/// CI (`CI=true`), where a missing Erlang must not pass silently.
/// Reproduce a failure with the seed it prints: `ETF_LIVE_SEED=<seed> swift test --filter LiveBEAM`
/// (`ETF_LIVE_COUNT` sets the number of random terms per set, 300 by default).
@Suite("Live comparison with the BEAM")
struct LiveBEAMTests {
    static let environment = ProcessInfo.processInfo.environment
    static let isCI = Subprocess.inCI
    static let erlangAvailable = Subprocess.onPath("erl") != nil && Subprocess.onPath("erlc") != nil

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("erlang/gen-etf-corpus.sh")

    @Test(
        "a fresh random corpus from erl prints as erl printed it",
        .enabled(if: erlangAvailable || isCI, "erl/erlc not on PATH (install erlang-nox); required only when CI=true"),
        .timeLimit(.minutes(1)))
    func freshCorpus() throws {
        guard Self.erlangAvailable else {
            Issue.record("erl/erlc are not on PATH and CI=true: CI must install erlang-nox (apt-get install erlang-nox) so the decoder is checked against the real BEAM")
            return
        }
        let seed = Self.environment["ETF_LIVE_SEED"].flatMap(UInt32.init) ?? UInt32.random(in: 1...999_999_999)
        let count = Self.environment["ETF_LIVE_COUNT"].flatMap(Int.init) ?? 300
        let reproduce = "seed \(seed) (reproduce: ETF_LIVE_SEED=\(seed) ETF_LIVE_COUNT=\(count) swift test --filter LiveBEAM)"
        print("live BEAM corpus: \(reproduce)")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("etf-live-\(seed)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var keep = false
        defer { if !keep { try? FileManager.default.removeItem(at: directory) } }

        let run = try Self.runGenerator(output: directory, seed: seed, count: count)
        guard run.status == 0 else {
            keep = true
            Issue.record("gen-etf-corpus.sh exited with \(run.status) for \(reproduce)\n\(run.log)")
            return
        }

        let names = CorpusSet.names(in: directory)
        #expect(Set(names) == Set(CorpusSet.documentedSetNames), "the generator wrote the sets \(names)")
        var failed = false
        for name in names {
            let set = try CorpusSet.load(name, from: directory)
            // Each set is the edge terms plus `count` random ones (legacy and external are crafted, smaller).
            if !["legacy", "external"].contains(name) {
                #expect(set.frames.count > count, "\(name): \(set.frames.count) frames for \(reproduce)")
            }
            let report = CorpusComparison.check(set)
            #expect(report.exact + report.tolerated == report.lines, "\(name): \(reproduce)")
            for failure in report.failures.prefix(10) {
                Issue.record(Comment(rawValue: "\(failure)\n  \(reproduce)"))
            }
            failed = failed || !report.failures.isEmpty
            print("live \(name): \(report.lines) lines, \(report.exact) exact, \(report.tolerated) equal only up to the order of pairs in maps of more than \(CorpusComparison.flatmapLimit) keys")
        }
        if failed {
            keep = true
            Issue.record("live corpus kept in \(directory.path) for \(reproduce)")
        }
    }

    @Test(
        "the hand-made tag and order cases expect what erl prints",
        .enabled(if: erlangAvailable || isCI, "erl not on PATH (install erlang-nox); required only when CI=true"),
        .timeLimit(.minutes(1)))
    func handMadeCasesMatchErl() throws {
        guard Self.erlangAvailable else {
            Issue.record("erl is not on PATH and CI=true: CI must install erlang-nox")
            return
        }
        let entries = ErlangOracle.entries
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("etf-oracle-\(UUID().uuidString).erl")
        try Data(ErlangOracle.program(entries).utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try Subprocess.run([Subprocess.onPath("erl")!] + ErlangOracle.erlArguments(programPath: file.path))
        try #require(run.status == 0, "erl failed: \(run.log)")
        let lines = CorpusSet.splitLines(run.stdout)
        try #require(lines.count == entries.count, "erl printed \(lines.count) lines for \(entries.count) cases: \(run.log)")
        for (entry, line) in zip(entries, lines) {
            #expect(latin1String(line) == entry.expected, "\(entry.label)")
        }
    }

    static func runGenerator(output: URL, seed: UInt32, count: Int) throws -> ProcessResult {
        try Subprocess.run(["/bin/sh", script.path, output.path, String(seed), String(count)])
    }
}

extension ProcessResult {
    /// Standard output (Latin-1, as erl writes it), then standard error.
    var log: String { latin1String(stdout) + stderr }
}
