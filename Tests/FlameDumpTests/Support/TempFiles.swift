import FlameDump
import Foundation

/// A scratch folder for one test, removed when the test is done with it.
final class TempFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("flamedump-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: url.appendingPathComponent(name))
        return path(name)
    }

    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url.appendingPathComponent(name))) }

    /// `tool ARGS < input`: the bytes the command writes, e.g. `gzip -c -n`.
    func run(_ tool: String, _ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let inputPath = try write("stdin-\(UUID().uuidString)", input)
        let outputPath = path("stdout-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardInput = FileHandle(forReadingAtPath: inputPath)
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolError(description: "\(tool) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: outputPath)))
    }

    func gzip(_ bytes: [UInt8]) throws -> [UInt8] { try run("gzip", ["-c", "-n"], input: bytes) }
    func zstd(_ bytes: [UInt8]) throws -> [UInt8] { try run("zstd", ["-q", "-c"], input: bytes) }

    struct ToolError: Error, CustomStringConvertible {
        var description: String
    }
}

/// Reads a ByteSource to its end in chunks of `chunk` bytes.
func readAll(_ source: ByteSource, chunk: Int = 4096) throws(DumpError) -> [UInt8] {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 1)
    defer { buffer.deallocate() }
    var out: [UInt8] = []
    while true {
        let n = try source.read(into: buffer)
        if n == 0 { return out }
        out.append(contentsOf: buffer[..<n])
    }
}

/// Deterministic bytes that compress somewhat: a repeating pattern stirred by a xorshift.
func sampleBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    return (0..<count).map { i in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return i % 3 == 0 ? UInt8(truncatingIfNeeded: state) : UInt8(i % 251)
    }
}

/// The frames of the ETF corpus's `default` set, for realistic terms.
enum CorpusFrames {
    static let defaultSet: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/etf/default.etf")

    /// Each frame's term bytes (without the length prefix).
    static func load() throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: defaultSet))
        var frames: [[UInt8]] = []
        var i = 0
        while i + 4 <= bytes.count {
            let length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            frames.append(Array(bytes[(i + 4)..<(i + 4 + length)]))
            i += 4 + length
        }
        return frames
    }

    static func framed(_ terms: [[UInt8]]) -> [UInt8] {
        Array(terms.map { term -> [UInt8] in
            let n = UInt32(term.count)
            return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + term
        }.joined())
    }
}
