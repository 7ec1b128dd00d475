import FlameFormats
@testable import FlameRun
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// OutputFile's compressed encodings, driven directly: what the file holds
/// does not depend on how the text was cut into writes nor on the threads;
/// failures name the file and leave nothing.
@Suite("Compressed output files")
struct CompressedOutputFileTests {
    /// Text that compresses like perf text but is not one repeated line.
    static func text(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 64)
        var i = 0
        while out.count < count {
            out += Array("proc \(i % 97) 0.\(i).0 \(i * 7919 % 100_003): 1 cpu-clock:\n\tdead mod:fun/\(i % 13) ([beam])\n\n".utf8)
            i += 1
        }
        return Array(out[..<count])
    }

    /// Bytes at a fixed address, handed to the encoders without a closure
    /// (a typed-throws closure through `withUnsafeBytes` crashes Swift 6.3's IR generation).
    final class Bytes {
        let raw: UnsafeMutableRawBufferPointer
        init(_ bytes: [UInt8]) {
            raw = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
            raw.copyBytes(from: bytes)
            count = bytes.count
        }
        let count: Int
        deinit { raw.deallocate() }
        subscript(range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: raw[range]) }
        var all: UnsafeRawBufferPointer { self[0..<count] }
    }

    /// Writes `text` to `path` in pieces of the given sizes (cycled), commits, returns the file.
    static func write(_ text: [UInt8], to path: String, _ encoding: OutputEncoding, _ settings: CompressionSettings,
                      pieces: [Int] = [65536]) throws -> [UInt8] {
        let file = try OutputFile(path: path, encoding: encoding, settings: settings)
        let bytes = Bytes(text)
        var offset = 0
        var index = 0
        while offset < bytes.count {
            let n = min(pieces[index % pieces.count], bytes.count - offset)
            try file.write(bytes[offset..<(offset + n)])
            offset += n
            index += 1
        }
        try file.commit()
        return try #require(readFile(path))
    }

    @Test("gzip members: one per block, the same bytes whatever the writes' sizes and the threads (1 to 4)")
    func gzipMembersDeterministic() throws {
        let dir = ScratchDir()
        let text = Self.text(300_000)
        let block = 8192
        var files: [[UInt8]] = []
        for (threads, pieces) in [(1, [65536]), (2, [1, 7, 8192, 100_000]), (3, [8191]), (4, [8193, 3])] {
            let settings = CompressionSettings(threads: threads, gzipBlockSize: block)
            files.append(try Self.write(text, to: dir.file("t\(threads).gz"), .gzipMembers(level: OutputEncoding.gzipLevel), settings, pieces: pieces))
        }
        #expect(files.allSatisfy { $0 == files[0] })
        let members = try #require(gzipMembers(files[0]))
        #expect(members.count == (text.count + block - 1) / block)
        #expect(members.reduce(into: [UInt8]()) { $0 += $1 } == text)
        #expect(dir.partials().isEmpty)
    }

    @Test("zstd: the same frame for 1, 2 and 4 workers, and zstd -d gives the text back")
    func zstdDeterministic() throws {
        let dir = ScratchDir()
        // Several of libzstd's jobs at level 3.
        let text = Self.text(12 << 20)
        var files: [[UInt8]] = []
        for threads in [1, 2, 4] {
            files.append(try Self.write(text, to: dir.file("t\(threads).zst"), .zstd(level: OutputEncoding.zstdLevel), CompressionSettings(threads: threads)))
        }
        #expect(files.allSatisfy { $0 == files[0] })
        let unzstd = try Subprocess.run(["/usr/bin/zstd", "-q", "-dc", dir.file("t1.zst")])
        #expect(unzstd.status == 0 && unzstd.stdout == text, "\(unzstd.stderr)")
    }

    @Test("libzstd here runs workers (built with threads)")
    func zstdHasWorkers() throws {
        let encoder = try ZstdEncoder(level: 3, threads: 2, name: "x.zst")
        #expect(encoder.workers == 2)
    }

    @Test("gzip workers start only when the text outgrows one block")
    func workersOnlyForMoreThanOneBlock() throws {
        let out = DescriptorWriter(fd: open("/dev/null", O_WRONLY), name: "null.gz")
        defer { close(out.fd) }
        let text = Bytes(Self.text(20_000))
        for (count, expected) in [(4096, false), (4097, true)] {
            let encoder = try GzipMemberEncoder(level: 6, settings: CompressionSettings(threads: 2, gzipBlockSize: 4096), name: "null.gz")
            try encoder.write(text[0..<count], to: out)
            try encoder.finish(to: out)
            #expect(encoder.usedWorkers == expected, "\(count) bytes")
            #expect(encoder.membersWritten == (count + 4095) / 4096)
        }
    }

    @Test("a block libdeflate cannot compress: the error names the file, on the workers or not", arguments: [1, 3])
    func compressionFailure(_ threads: Int) throws {
        let out = DescriptorWriter(fd: open("/dev/null", O_WRONLY), name: "out.perf.gz")
        defer { close(out.fd) }
        // Room for 16 bytes: no member of 4 KiB of text fits.
        let encoder = try GzipMemberEncoder(level: 6, settings: CompressionSettings(threads: threads, gzipBlockSize: 4096),
                                            name: "out.perf.gz", memberCapacity: 16)
        let text = Bytes(Self.text(40_000))
        var failure: OutputError?
        do throws(OutputError) {
            try encoder.write(text.all, to: out)
            try encoder.finish(to: out)
        } catch {
            failure = error
        }
        let message = try #require(failure, "no error").description
        #expect(message.hasPrefix("out.perf.gz: gzip compression failed"), "\(message)")
        encoder.stop()
    }

    @Test("an unknown libdeflate level: the output is not created, the error names it")
    func badLevel() throws {
        let dir = ScratchDir()
        var failure: OutputError?
        do throws(OutputError) {
            _ = try OutputFile(path: dir.file("x.perf.gz"), encoding: .gzipMembers(level: 99))
        } catch {
            failure = error
        }
        #expect(failure?.description.hasPrefix(dir.file("x.perf.gz") + ": gzip compression could not start") == true, "\(String(describing: failure))")
        #expect(dir.entries().isEmpty, "\(dir.entries())")
    }

    @Test("abandoned with blocks in flight: the workers end, no file remains")
    func abandonMidway() throws {
        let dir = ScratchDir()
        let text = Bytes(Self.text(2 << 20))
        for encoding in [OutputEncoding.gzipMembers(level: 6), .zstd(level: 3)] {
            let file = try OutputFile(path: dir.file("x.out"), encoding: encoding, settings: CompressionSettings(threads: 3, gzipBlockSize: 4096))
            try file.write(text.all)
            file.abandon()
            #expect(dir.entries().isEmpty, "\(encoding): \(dir.entries())")
        }
    }
}
