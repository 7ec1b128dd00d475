import TestSupport
import Testing

let haveErlang = ["erl", "erlc", "escript"].allSatisfy { Subprocess.onPath($0) != nil }

/// Tests/erlang/e2e.sh: a real BEAM, the agent rotating a capture over several
/// files, dump_check.escript, and flameconv's text checked. Skipped without
/// Erlang, except on CI (CI=true), where a missing `erl` is a failure.
@Suite("End to end with a real BEAM", .timeLimit(.minutes(2)))
struct EndToEndTests {
    @Test("agent → rotated dump files → flameconv: functions, statuses, metrics, deltas across files",
          .enabled(if: haveErlang || Subprocess.inCI, "erl, erlc and escript are not installed"))
    func agentToPerf() throws {
        guard haveErlang else {
            Issue.record("CI=true but erl, erlc or escript is missing: the end-to-end test cannot run")
            return
        }
        let binary = try #require(Flameconv.binary, "no flameconv binary: build it (swift build) or set FLAMECONV")
        let result = try Subprocess.run(["/usr/bin/env", "FLAMECONV=\(binary)", "/bin/bash", "\(repositoryRoot)/Tests/erlang/e2e.sh"])
        #expect(result.status == 0, "e2e.sh failed:\n\(result.out)\n\(result.err)")
        #expect(result.out.contains(": OK"), "\(result.out)")
    }
}
