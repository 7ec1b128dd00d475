@testable import FlameBatch
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("FlameBatch parts")
struct FlameBatchTests {
    @Test("the content hash is XXH64: it agrees with xxhsum -H1 around every stripe boundary, fed whole or in pieces",
          arguments: [0, 1, 3, 4, 7, 8, 31, 32, 33, 63, 64, 65, 100, 1000, 70_000])
    func contentHash(length: Int) throws {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let dir = ScratchDir()
        let path = dir.write("data", bytes)
        let result = try Subprocess.run(["/usr/bin/xxhsum", "-H1", path], timeout: 30)
        try #require(result.status == 0, "\(result)")
        let expected = String(result.out.prefix(16))
        let whole = ContentHash()
        whole.update(bytes)
        #expect(whole.finishHex() == expected)
        // Fed in uneven pieces: the same.
        let pieces = ContentHash()
        var at = 0
        var step = 1
        while at < bytes.count {
            let end = min(bytes.count, at + step)
            pieces.update(Array(bytes[at..<end]))
            at = end
            step = step * 3 + 1
        }
        #expect(pieces.finishHex() == expected)
    }

    @Test("output names: safe ids kept, hostile ones made one safe component with a hash, never equal to a kept one")
    func names() {
        #expect(OutputNames.baseName(forCapture: "node1-2024.05.01_x") == "node1-2024.05.01_x")
        let hostile = ["../../x", "/etc/passwd", "..", ".", "", ".hidden", "a/b", "a_b\u{1B}[31m", "line\nbreak", String(repeating: "y", count: 300),
                       "caf\u{E9}", "x\u{10FF80}"]
        var seen: Set<String> = []
        for id in hostile {
            let name = OutputNames.baseName(forCapture: id)
            #expect(!name.isEmpty && !name.hasPrefix(".") && !name.contains("/") && name != ".." && name.utf8.count <= 120, "\(id) → \(name)")
            #expect(name.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x21 && $0.value < 0x7F }, "\(id) → \(name)")
            #expect(name.contains("~"), "\(id) → \(name): a replaced id carries its hash")
            #expect(seen.insert(name).inserted, "\(id) → \(name) twice")
        }
        // Two ids that read alike once replaced stay apart.
        #expect(OutputNames.baseName(forCapture: "a/b") != OutputNames.baseName(forCapture: "a:b"))
        #expect(OutputNames.fileName(forCapture: "x", format: .pprof, compression: .gzip) == "x.pprof")
        #expect(OutputNames.fileName(forCapture: "x", format: .speedscope, compression: .zstd) == "x.speedscope.json.zst")
    }

    @Test("shards: FNV-1a's published values, every id in exactly one shard, and the environment of job arrays")
    func shards() throws {
        #expect(Shard.fnv1a64([]) == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(Shard.fnv1a64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
        for id in (0..<200).map({ "capture-\($0)" }) {
            #expect((0..<4).filter { Shard(index: $0, count: 4).contains(captureID: id) }.count == 1)
        }
        #expect(try Shard.parse("2/5", environment: [:]) == Shard(index: 2, count: 5))
        #expect(try Shard.parse("auto", environment: ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 3, count: 4))
        #expect(try Shard.parse("auto/3", environment: ["JOB_COMPLETION_INDEX": "2"]) == Shard(index: 2, count: 3))
        #expect(throws: Shard.ParseError.self) { try Shard.parse("auto", environment: ["JOB_COMPLETION_INDEX": "2"]) }
        #expect(throws: Shard.ParseError.self) { try Shard.parse("3/3", environment: [:]) }
        #expect(throws: Shard.ParseError.self) { try Shard.parse("-1/3", environment: [:]) }
    }
}
