import Foundation
import FuzzDumpHarness
import FuzzETFHarness
import TestSupport
import Testing

/// Every input a fuzz target ever crashed on (Fuzz/FailCases/<target>/), run again
/// through the target's own body (Fuzz/Harness, the FuzzETFHarness and
/// FuzzDumpHarness targets). A crash
/// takes the test process down, which fails the run. The bad-input corpus goes
/// through the same paths as a bonus.
@Suite("Fuzz fail cases replay")
struct FuzzReplayTests {
    static let failCases = Fixtures.root.appendingPathComponent("Fuzz/FailCases")

    static func files(_ folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") && !$0.hasSuffix(".tsv") }
            .map { folder.appendingPathComponent($0) }
    }

    @Test("FuzzETFDecode fail cases and the ETF corpus's terms")
    func etf() throws {
        var count = 0
        for url in Self.files(Self.failCases.appendingPathComponent("FuzzETFDecode")) {
            let bytes = try Fixtures.bytes(url)
            bytes.withUnsafeBytes { ETFHarness.run($0) }
            count += 1
        }
        // Each frame of each bad dump as a lone term too.
        for url in Self.files(Fixtures.bad) {
            for f in ETFBytes.frames(in: try Fixtures.bytes(url)) {
                Array(f.term).withUnsafeBytes { ETFHarness.run($0) }
            }
        }
        print("hardening: replayed \(count) FuzzETFDecode fail cases")
    }

    @Test("FuzzDumpConvert fail cases and Fixtures/bad")
    func dump() throws {
        var count = 0
        for url in Self.files(Self.failCases.appendingPathComponent("FuzzDumpConvert")) + Self.files(Fixtures.bad) {
            let bytes = try Fixtures.bytes(url)
            bytes.withUnsafeBytes { DumpHarness.run($0) }
            count += 1
        }
        print("hardening: replayed \(count) inputs through FuzzDumpConvert's body")
    }
}
