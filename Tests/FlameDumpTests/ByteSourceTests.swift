import FlameDump
import TestSupport
import Testing

/// ByteSource: plain, gzip and zstd files, told apart by their first bytes, read as one stream.
@Suite("ByteSource", .timeLimit(.minutes(1)))
struct ByteSourceTests {
    static let content = sampleBytes(300_000)

    func expectDecompressionError(_ path: String, format: String, sourceLocation: SourceLocation = #_sourceLocation) -> DumpError? {
        do {
            let source = try ByteSource(path: path)
            _ = try readAll(source)
            Issue.record("\(path) read without error", sourceLocation: sourceLocation)
            return nil
        } catch {
            guard case .decompression(let actual, let detail, _) = error.reason else {
                Issue.record("expected a \(format) decompression error, got \(error)", sourceLocation: sourceLocation)
                return nil
            }
            #expect(actual == format, sourceLocation: sourceLocation)
            #expect(!detail.isEmpty, sourceLocation: sourceLocation)
            #expect(error.path == path, sourceLocation: sourceLocation)
            return error
        }
    }

    @Test("a plain file reads back unchanged, in any chunk size", arguments: [1, 3, 4096, 1 << 20])
    func plain(chunk: Int) throws {
        let folder = ScratchDir()
        let path = folder.write("plain", Self.content)
        let source = try ByteSource(path: path)
        #expect(source.compression == .none)
        #expect(source.path == path)
        #expect(try readAll(source, chunk: chunk) == Self.content)
        // The end stays the end.
        #expect(try readAll(source) == [])
    }

    @Test("files too short for a magic number are plain", arguments: [[], [0x1F], [0x28, 0xB5, 0x2F], [0x1F, 0x8C, 0, 0]] as [[UInt8]])
    func shortFiles(bytes: [UInt8]) throws {
        let folder = ScratchDir()
        let source = try ByteSource(path: folder.write("short", bytes))
        #expect(source.compression == .none)
        #expect(try readAll(source, chunk: 1) == bytes)
    }

    @Test("gzip, including several members one after another")
    func gzip() throws {
        let folder = ScratchDir()
        let one = try folder.gzip(Self.content)
        let source = try ByteSource(path: folder.write("one.gz", one))
        #expect(source.compression == .gzip)
        #expect(try readAll(source, chunk: 1000) == Self.content)
        // What `gzip -c b >> a.gz` makes: the members read as one stream, an empty one included.
        let second = Array("and a second member".utf8)
        let joined = one + (try folder.gzip([])) + (try folder.gzip(second))
        #expect(try readAll(try ByteSource(path: folder.write("joined.gz", joined))) == Self.content + second)
        // A gzip of nothing is an empty stream.
        #expect(try readAll(try ByteSource(path: folder.write("empty.gz", try folder.gzip([])))) == [])
    }

    @Test("zstd, including concatenated frames")
    func zstd() throws {
        let folder = ScratchDir()
        let one = try folder.zstd(Self.content)
        let source = try ByteSource(path: folder.write("one.zst", one))
        #expect(source.compression == .zstd)
        #expect(try readAll(source, chunk: 777) == Self.content)
        let second = Array("second frame".utf8)
        let joined = one + (try folder.zstd(second))
        #expect(try readAll(try ByteSource(path: folder.write("joined.zst", joined))) == Self.content + second)
    }

    @Test("a truncated gzip file names where it ends")
    func truncatedGzip() throws {
        let folder = ScratchDir()
        let whole = try folder.gzip(Self.content)
        for cut in [1, 4, 8, 9, whole.count / 2] {
            let path = folder.write("cut\(cut).gz", Array(whole.dropLast(cut)))
            let error = try #require(expectDecompressionError(path, format: "gzip"))
            #expect(error.reason == .decompression(format: "gzip", detail: "the file ends inside a gzip member", compressedOffset: whole.count - cut))
            // The offset is in the decompressed stream: no further than what the file held.
            #expect(error.offset <= Self.content.count)
            #expect(error.description.hasPrefix("\(path): offset \(error.offset): gzip data is damaged at byte \(whole.count - cut) of the file"))
        }
    }

    @Test("a truncated zstd file names where it ends")
    func truncatedZstd() throws {
        let folder = ScratchDir()
        let whole = try folder.zstd(Self.content)
        for cut in [1, 4, whole.count / 2] {
            let path = folder.write("cut\(cut).zst", Array(whole.dropLast(cut)))
            let error = try #require(expectDecompressionError(path, format: "zstd"))
            #expect(error.reason == .decompression(format: "zstd", detail: "the file ends inside a zstd frame", compressedOffset: whole.count - cut))
            #expect(error.offset <= Self.content.count)
        }
    }

    /// gzip checks a CRC-32 and the length of the data, so a flipped bit in the
    /// deflate data or the trailer is an error, never a quietly different stream.
    /// Not tested: the 10-byte header's time and OS fields, which nothing checks,
    /// and the last deflate byte, whose high bits may be padding.
    @Test("a flipped bit in gzip data is a decompression error")
    func gzipBitFlips() throws {
        let folder = ScratchDir()
        let whole = try folder.gzip(Self.content)
        let positions = [10, 11, 12, 50, whole.count / 3, whole.count / 2, whole.count - 10, whole.count - 8, whole.count - 5, whole.count - 1]
        for (i, position) in positions.enumerated() {
            for bit in [0, 3, 7] {
                var damaged = whole
                damaged[position] ^= UInt8(1 << bit)
                let path = folder.write("flip\(i)-\(bit).gz", damaged)
                guard let error = expectDecompressionError(path, format: "gzip") else { continue }
                if case .decompression(_, _, let at) = error.reason {
                    #expect(at >= 0 && at <= whole.count, "byte \(position) bit \(bit): \(error)")
                }
            }
        }
    }

    @Test("a damaged zstd checksum is a decompression error")
    func zstdChecksum() throws {
        let folder = ScratchDir()
        var damaged = try folder.zstd(Self.content)
        damaged[damaged.count - 1] ^= 0x40  // the frame's trailing content checksum
        _ = expectDecompressionError(folder.write("bad.zst", damaged), format: "zstd")
    }

    @Test("gzip magic followed by garbage")
    func fakeGzip() throws {
        let folder = ScratchDir()
        _ = expectDecompressionError(folder.write("fake.gz", [0x1F, 0x8B] + sampleBytes(100)), format: "gzip")
    }

    @Test("missing files and folders are I/O errors")
    func ioErrors() throws {
        let folder = ScratchDir()
        #expect {
            _ = try ByteSource(path: folder.file("absent"))
        } throws: { error in
            guard let error = error as? DumpError, case .io(let message) = error.reason else { return false }
            return message.hasPrefix("cannot open") && error.offset == 0
        }
        #expect {
            _ = try ByteSource(path: folder.path)
        } throws: { error in
            (error as? DumpError)?.reason == .io("is a directory")
        }
    }
}
