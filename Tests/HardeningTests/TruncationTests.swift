import ETF
import FlameFormats
import FlameRun
import FlameModel
import FlameDump
import Foundation
import TestSupport
import Testing

/// A dump cut at every byte: what the reader converts is exactly the whole frames
/// before the cut, and the tail is reported at the start of the cut frame.
@Suite("Truncation at every byte", .serialized)
struct TruncationTests {
    struct Converted {
        var problems: [DumpError] = []
        var output: [UInt8] = []
        var ticks = 0
        var tail: DumpError?
        var trailer = false
    }

    /// What `flameconv convert` does, in process.
    static func convert(_ path: String) -> Converted {
        var result = Converted()
        let scan = CaptureCatalog.scan([path])
        result.problems = scan.problems
        guard !scan.captures.isEmpty else { return result }
        let output = MemoryOutput()
        let run = ProfileRun(captures: scan.captures, plan: RunPlan(), sinks: [PerfSink(dialect: .portable, output: output)])
        guard let summary = try? run.run() else { return result }
        result.output = output.bytes
        result.ticks = summary.ticks
        result.tail = summary.files.first?.tailError
        result.trailer = summary.files.first?.trailer != nil
        return result
    }

    /// base-compressed.flame (2.9 KB, every term compressed) is cut at every byte;
    /// base.flame (15.7 KB) at every 16th byte and within 3 bytes of each boundary
    /// (every byte of it takes ~45 s in a debug build).
    @Test("every prefix of base-compressed.flame, and of base.flame around its boundaries, in process",
          arguments: [("base-compressed.flame", 1), ("base.flame", 16)])
    func everyPrefix(_ name: String, _ step: Int) throws {
        let bytes = try Fixtures.bytes(Fixtures.bad.appendingPathComponent(name))
        let frames = ETFBytes.frames(in: bytes)
        try #require(frames.count >= 4 && frames.last!.term.endIndex == bytes.count)
        let dir = ScratchDir()
        let path = dir.write(name, bytes)
        // The output of each whole-frame prefix, and its tick count.
        var atBoundary: [Int: Converted] = [:]
        for end in [frames[1].start] + frames.dropFirst().map(\.term.endIndex) {
            let prefix = dir.write("prefix-\(end)", Array(bytes[..<end]))
            atBoundary[end] = Self.convert(prefix)
        }
        let fd = open(path, O_WRONLY)
        defer { close(fd) }
        let started = Date()
        // Cut from the end down, so one file is truncated in place.
        let near = Set(frames.flatMap { f in (-3...3).map { f.start + $0 } } + (bytes.count - 3...bytes.count))
        var cuts = 0
        for cut in stride(from: bytes.count, through: 0, by: -1) where cut % step == 0 || near.contains(cut) {
            cuts += 1
            try #require(ftruncate(fd, off_t(cut)) == 0)
            let got = Self.convert(path)
            let headerEnd = frames[0].term.endIndex
            if cut < headerEnd {
                try #require(got.problems.count == 1, "cut \(cut): \(got.problems)")
                let problem = got.problems[0]
                #expect(problem.offset == 0, "cut \(cut): \(problem)")
                let needed = cut < 4 ? 4 : headerEnd
                #expect(problem.reason == (cut == 0 ? .empty : .truncated(needed: needed, available: cut)), "cut \(cut): \(problem)")
                continue
            }
            #expect(got.problems.isEmpty, "cut \(cut): \(got.problems)")
            // The whole frames before the cut, and the frame it falls in.
            let whole = frames.last { $0.term.endIndex <= cut }!.term.endIndex
            let expected = atBoundary[whole]!
            #expect(got.ticks == expected.ticks, "cut \(cut): \(got.ticks) ticks, the \(whole)-byte prefix has \(expected.ticks)")
            let same = got.output == expected.output
            #expect(same, "cut \(cut): output differs from the \(whole)-byte prefix's")
            if cut == whole {
                #expect(got.tail == nil, "cut \(cut) on a boundary: \(String(describing: got.tail))")
            } else {
                #expect(got.tail?.offset == whole, "cut \(cut): tail \(String(describing: got.tail)), expected at \(whole)")
                if case .truncated? = got.tail?.reason {} else { Issue.record("cut \(cut): \(String(describing: got.tail))") }
            }
            #expect(got.trailer == (cut == bytes.count))
        }
        print("hardening: \(cuts) cuts of \(name) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    @Test("the binary at, just before and just after every frame boundary")
    func binaryAtBoundaries() throws {
        let bytes = try Fixtures.bytes(Fixtures.bad.appendingPathComponent("base.flame"))
        let frames = ETFBytes.frames(in: bytes)
        let dir = ScratchDir()
        let headerEnd = frames[0].term.endIndex
        for boundary in frames.dropFirst().map(\.start) + [bytes.count] {
            for cut in [boundary - 1, boundary, boundary + 1] where cut <= bytes.count {
                let path = dir.write("cut-\(cut).flame", Array(bytes[..<cut]))
                let run = try Flameconv.run(["convert", "--quiet", path, "-o", dir.file("out-\(cut).perf")])
                let onBoundary = frames.contains { $0.term.endIndex == cut }
                let expected: Int32 = cut < headerEnd ? 1 : (onBoundary ? 0 : 2)
                #expect(run.exitCode == expected, "cut \(cut): \(run)")
                #expect(run.signal == nil && !run.timedOut, "\(run)")
                #expect(dir.partials().isEmpty)
                if expected == 2 {
                    let start = frames.last { $0.term.endIndex <= cut }!.term.endIndex
                    #expect(run.stderr.contains("\(path): offset \(start): truncated"), "cut \(cut): \(run.stderr)")
                }
            }
        }
    }
}
