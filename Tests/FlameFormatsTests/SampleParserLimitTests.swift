@testable import FlameDump
import Testing

/// SampleParser's per-position memory (the stack each list position had last
/// tick) is bounded like the per-process state.
@Suite("SampleParser stack guesses")
struct SampleParserLimitTests {
    @Test("positions past stackGuessLimit get no guess, and parse the same")
    func boundedGuesses() throws {
        var ticks = TickParser()
        ticks.parser.stackGuessLimit = 3
        let samples = (0..<10).map { i in
            SampleSpec(pid: (UInt32(100 + i), 0), stack: [E.frame("m", "f\(i % 4)", 1, file: "m.erl", line: Int64(i))])
        }
        let first = try ticks.tick(samples)
        let second = try ticks.tick(samples, ts: 2000)
        #expect(ticks.parser.stackGuessCount == 3)
        #expect(first.samples.count == 10)
        #expect(first.samples.map(\.stack) == second.samples.map(\.stack))
        #expect(Set(first.samples.map(\.stack)).count == 10)
    }
}
