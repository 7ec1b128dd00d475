import TestSupport

extension ScratchDir {
    /// `tool ARGS < input`: the bytes the command writes, e.g. `gzip -c -n`.
    func run(_ tool: String, _ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let inputPath = write("stdin-\(UInt64.random(in: 0...UInt64.max))", input)
        let result = try Subprocess.run(["/usr/bin/env", tool] + arguments, stdin: inputPath)
        guard result.exitCode == 0 else {
            throw Subprocess.Failure("\(tool) \(arguments.joined(separator: " ")) exited with \(result.status): \(result.err)")
        }
        return result.stdout
    }

    func gzip(_ bytes: [UInt8]) throws -> [UInt8] { try run("gzip", ["-c", "-n"], input: bytes) }
    func zstd(_ bytes: [UInt8]) throws -> [UInt8] { try run("zstd", ["-q", "-c"], input: bytes) }
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
