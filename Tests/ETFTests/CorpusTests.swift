import ETF
import Testing

/// Every frame of every committed corpus set prints exactly as OTP 25's
/// `io:format("~w~n")` printed it (Fixtures/etf, made by Tests/erlang/etf_gen.erl),
/// except for the documented order of pairs in maps of more than 32 keys.
@Suite("ETF corpus")
struct CorpusTests {
    static let setNames = CorpusSet.names(in: CorpusSet.fixtureDirectory)

    @Test("the corpus holds every documented set")
    func allSetsPresent() {
        for name in CorpusSet.documentedSetNames {
            #expect(Self.setNames.contains(name), "Fixtures/etf/\(name).etf is missing")
        }
    }

    @Test("frames print as the expected ~w lines", arguments: setNames)
    func setPrintsAsExpected(_ name: String) throws {
        let set = try CorpusSet.load(name)
        #expect(set.frames.count > 0, "\(name) has no frames")
        let report = CorpusComparison.check(set)
        for failure in report.failures.prefix(20) {
            Issue.record(Comment(rawValue: failure))
        }
        if report.failures.count > 20 {
            Issue.record("\(name): \(report.failures.count - 20) more failures not shown")
        }
        #expect(report.exact + report.tolerated == report.lines)
        print("corpus \(name): \(report.lines) lines, \(report.exact) exact, \(report.tolerated) equal only up to the order of pairs in maps of more than \(CorpusComparison.flatmapLimit) keys")
    }
}
