import Foundation
import TestSupport
import Testing

/// Inputs too big to commit, made at test time: an honest 64 MiB compressed term,
/// a million levels of nesting (as a whole term and inside a tick), three million
/// (over --max-depth). Each through convert and inspect under the same limits.
@Suite("Hostile inputs made at test time", .serialized)
struct HostileInputTests {
    static func base() throws -> (frames: [(start: Int, term: ArraySlice<UInt8>)], bytes: [UInt8]) {
        let bytes = try Fixtures.bytes(Fixtures.bad.appendingPathComponent("base.flame"))
        return (ETFBytes.frames(in: bytes), bytes)
    }

    /// base.flame with `term` as a frame after its first tick.
    static func dump(inserting term: [UInt8]) throws -> [UInt8] {
        let (frames, bytes) = try base()
        let at = frames[2].start
        return Array(bytes[..<at]) + ETFBytes.framed([term]) + Array(bytes[at...])
    }

    /// `{system, 1, X}`.
    static func system(_ value: [UInt8]) -> [UInt8] { ETFBytes.term(ETFBytes.tuple(ETFBytes.atom("system"), ETFBytes.int(1), value)) }

    /// `depth` nested one-element tuples around [], written straight into one buffer.
    static func nested(_ depth: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: depth * 2 + 1)
        for i in 0..<depth { bytes[2 * i] = 104; bytes[2 * i + 1] = 1 }
        bytes[depth * 2] = 106
        return bytes
    }

    /// `{samples, 1, [{<a@b.85.0>, [{status, running}, {deep_item, X}]}]}`.
    static func tick(withItem value: [UInt8]) -> [UInt8] {
        typealias E = ETFBytes
        let pid = E.pid(node: E.atom("a@b"), id: 85, serial: 0)
        let items = E.list([E.tuple(E.atom("status"), E.atom("running")), E.tuple(E.atom("deep_item"), value)])
        return E.tick(ts: 1, samples: [E.tuple(pid, items)])
    }

    static func runBoth(_ name: String, _ bytes: [UInt8], convertExit: Int32, inspectExit: Int32, reason: String? = nil, inspectTimeout: Double? = nil) throws {
        let dir = ScratchDir()
        let path = dir.write(name, bytes)
        let convert = try Flameconv.run(["convert", "--quiet", path, "-o", dir.file("out.perf")])
        print("hardening: convert \(name) (\(bytes.count) bytes): exit \(convert.exitCode ?? -1) \(String(format: "%.2f", convert.seconds)) s, max RSS \(convert.maxRSSKiB / 1024) MiB")
        #expect(convert.exitCode == convertExit && convert.signal == nil && !convert.timedOut, "\(convert)")
        #expect(dir.partials().isEmpty)
        if let reason { #expect(convert.stderr.contains(reason), "\(convert.stderr)") }
        // inspect's text goes to /dev/null (a 64 MiB binary prints as 200 MB of ~w).
        if inspectTimeout != nil && Flameconv.underASan {
            print("hardening: inspect \(name): skipped under AddressSanitizer (printing 200 MB takes minutes there)")
            return
        }
        let inspect = try Flameconv.run(["inspect", path], stdout: "/dev/null", timeout: inspectTimeout)
        print("hardening: inspect \(name): exit \(inspect.exitCode ?? -1) \(String(format: "%.2f", inspect.seconds)) s, max RSS \(inspect.maxRSSKiB / 1024) MiB")
        #expect(inspect.exitCode == inspectExit && inspect.signal == nil && !inspect.timedOut, "\(inspect)")
    }

    /// `{system, 1, <<N MiB of zeros>>}` as term_to_binary(T, [compressed]); zlib via python3.
    func honestCompressed(mebibytes: Int) throws -> [UInt8] {
        let size = UInt32(mebibytes << 20)
        // The term up to the binary's bytes (python adds those), without the version byte.
        let inner = Self.system([109] + ETFBytes.u32(size)).dropFirst()
        let dir = ScratchDir()
        let script = """
            import sys, zlib, struct
            inner = open(sys.argv[1], 'rb').read() + bytes(int(sys.argv[2]) << 20)
            sys.stdout.buffer.write(bytes([131, 80]) + struct.pack('>I', len(inner)) + zlib.compress(inner, 1))
            """
        let innerPath = dir.write("inner", Array(inner))
        let term = try python(script, [innerPath, String(mebibytes)])
        try #require(term.count < 2 << 20, "compressed: \(term.count) bytes")
        return term
    }

    @Test("an honest 64 MiB compressed term converts and prints within 512 MiB")
    func honest64MiB() throws {
        try Self.runBoth("honest-64mib.flame", try Self.dump(inserting: try honestCompressed(mebibytes: 64)), convertExit: 0, inspectExit: 0,
                         inspectTimeout: 30)  // ~200 MB of ~w text: 3 s alone, 6 s beside other tests (debug build)
    }

    @Test("an honest 250 MiB compressed term, just under --max-term-bytes, converts within 512 MiB")
    func honest250MiB() throws {
        let dir = ScratchDir()
        let path = dir.write("honest-250mib.flame", try Self.dump(inserting: try honestCompressed(mebibytes: 250)))
        let run = try Flameconv.run(["convert", "--quiet", path, "-o", dir.file("out.perf")])
        print("hardening: convert honest-250mib.flame: exit \(run.exitCode ?? -1) \(String(format: "%.2f", run.seconds)) s, max RSS \(run.maxRSSKiB / 1024) MiB")
        #expect(run.exitCode == 0 && run.signal == nil && !run.timedOut, "\(run)")
    }

    @Test("a million levels of nesting: as a whole term and inside a tick")
    func millionDeep() throws {
        try Self.runBoth("deep-term.flame", try Self.dump(inserting: Self.system(Self.nested(1_000_000))), convertExit: 0, inspectExit: 0)
        try Self.runBoth("deep-tick.flame", try Self.dump(inserting: Self.tick(withItem: Self.nested(1_000_000))), convertExit: 0, inspectExit: 0)
    }

    @Test("three million levels are over --max-depth: reported, not a crash")
    func overMaxDepth() throws {
        try Self.runBoth("too-deep.flame", try Self.dump(inserting: Self.system(Self.nested(3_000_000))),
                         convertExit: 2, inspectExit: 1, reason: "nests deeper than the limit of 2000000 levels")
    }

    @Test("a plain run on a good capture passes under ulimit -v 524288")
    func goodUnderLimit() throws {
        let dir = ScratchDir()
        for capture in ["plain", "compressed", "rotated", "top100"] {
            let run = try Flameconv.run(["convert", "--quiet", Fixtures.captures.appendingPathComponent(capture).path, "-o", dir.file("\(capture).perf")])
            print("hardening: convert \(capture): exit \(run.exitCode ?? -1) \(String(format: "%.2f", run.seconds)) s, max RSS \(run.maxRSSKiB / 1024) MiB")
            #expect(run.exitCode == 0 && run.signal == nil, "\(run)")
        }
    }

    func python(_ script: String, _ arguments: [String]) throws -> [UInt8] {
        let run = try Subprocess.run(["/usr/bin/env", "python3", "-c", script] + arguments)
        try #require(run.exitCode == 0, "python3 failed")
        return run.stdout
    }
}
