import ETF
import FlameDump
import TestSupport
import Testing

/// FrameReader: framed (4-byte length prefixes) and concatenated terms, told
/// apart by the first byte, from plain, gzip and zstd files.
@Suite("FrameReader", .timeLimit(.minutes(1)))
struct FrameReaderTests {
    struct Read {
        var container: FrameReader.Container?
        var frames: [(offset: Int, bytes: [UInt8])] = []
        var error: DumpError?
        var endOffset = 0
    }

    static func readFrames(_ path: String, limits: DumpLimits = .default, chunkSize: Int = 1 << 20) -> Read {
        var read = Read()
        do {
            let reader = FrameReader(source: try ByteSource(path: path), limits: limits, chunkSize: chunkSize)
            while let frame = try reader.next() {
                read.frames.append((frame.offset, Array(frame.bytes)))
            }
            read.container = reader.container
            read.endOffset = reader.offset
        } catch {
            read.error = error
        }
        return read
    }

    /// The terms of the ETF corpus's `default` set, for realistic frames.
    static let terms: [[UInt8]] = ETFBytes.frames(in: readFile("\(repositoryRoot)/Fixtures/etf/default.etf") ?? []).map { Array($0.term) }

    /// Where each term starts in a framed file (after its prefix) and in a concatenated one.
    static func framedOffsets(_ terms: [[UInt8]]) -> [Int] {
        var offsets: [Int] = []
        var at = 0
        for term in terms {
            offsets.append(at + 4)
            at += 4 + term.count
        }
        return offsets
    }

    static func concatenatedOffsets(_ terms: [[UInt8]]) -> [Int] {
        var offsets: [Int] = []
        var at = 0
        for term in terms {
            offsets.append(at)
            at += term.count
        }
        return offsets
    }

    enum Packing: String, CaseIterable { case plain, gzip, zstd }

    func pack(_ bytes: [UInt8], _ packing: Packing, in folder: ScratchDir) throws -> String {
        switch packing {
        case .plain: return folder.write("dump", bytes)
        case .gzip: return folder.write("dump.gz", try folder.gzip(bytes))
        case .zstd: return folder.write("dump.zst", try folder.zstd(bytes))
        }
    }

    @Test("the corpus's framed file, plain or compressed, in small and large chunks",
          arguments: Packing.allCases, [1000, 1 << 20])
    func framed(_ packing: Packing, chunkSize: Int) throws {
        try #require(Self.terms.count > 600, "Fixtures/etf/default.etf not found")
        let folder = ScratchDir()
        let bytes = ETFBytes.framed(Self.terms)
        let read = Self.readFrames(try pack(bytes, packing, in: folder), chunkSize: chunkSize)
        #expect(read.error == nil, "\(String(describing: read.error))")
        #expect(read.container == .framed)
        #expect(read.frames.map(\.bytes) == Self.terms)
        #expect(read.frames.map(\.offset) == Self.framedOffsets(Self.terms))
        #expect(read.endOffset == bytes.count)
    }

    @Test("the same terms concatenated, plain or compressed, in small and large chunks",
          arguments: Packing.allCases, [1000, 1 << 20])
    func concatenated(_ packing: Packing, chunkSize: Int) throws {
        try #require(Self.terms.count > 600, "Fixtures/etf/default.etf not found")
        let folder = ScratchDir()
        let bytes = Array(Self.terms.joined())
        let read = Self.readFrames(try pack(bytes, packing, in: folder), chunkSize: chunkSize)
        #expect(read.error == nil, "\(String(describing: read.error))")
        #expect(read.container == .concatenated)
        #expect(read.frames.map(\.bytes) == Self.terms)
        #expect(read.frames.map(\.offset) == Self.concatenatedOffsets(Self.terms))
        #expect(read.endOffset == bytes.count)
    }

    @Test("frames decode as terms")
    func framesDecode() throws {
        let folder = ScratchDir()
        let read = Self.readFrames(folder.write("dump", ETFBytes.framed(Array(Self.terms.prefix(50)))))
        var decoder = TermDecoder()
        var term = Term()
        for frame in read.frames {
            try frame.bytes.withUnsafeBytes { try decoder.decode($0, baseOffset: frame.offset, into: &term) }
        }
        #expect(read.frames.count == 50)
    }

    @Test("an empty file, or an empty gzip stream, is an error at offset 0")
    func empty() throws {
        let folder = ScratchDir()
        for path in [folder.write("empty", []), folder.write("empty.gz", try folder.gzip([]))] {
            let read = Self.readFrames(path)
            #expect(read.error?.reason == .empty)
            #expect(read.error?.offset == 0)
            #expect(read.frames.isEmpty)
        }
    }

    @Test("a framed file cut inside its last frame or its length prefix")
    func truncatedFramed() throws {
        let folder = ScratchDir()
        let terms = Array(Self.terms.prefix(10))
        let bytes = ETFBytes.framed(terms)
        let lastStart = Self.framedOffsets(terms).last! - 4
        let lastTotal = 4 + terms.last!.count

        let cutInFrame = Self.readFrames(folder.write("a", Array(bytes.dropLast())))
        #expect(cutInFrame.frames.count == 9)
        #expect(cutInFrame.error?.offset == lastStart)
        #expect(cutInFrame.error?.reason == .truncated(needed: lastTotal, available: lastTotal - 1))

        let cutInPrefix = Self.readFrames(folder.write("b", bytes + [0, 0]))
        #expect(cutInPrefix.frames.count == 10)
        #expect(cutInPrefix.error?.offset == bytes.count)
        #expect(cutInPrefix.error?.reason == .truncated(needed: 4, available: 2))

        // The same cut inside a gzip file: the offset is still in the decompressed stream.
        let gzipped = Self.readFrames(folder.write("c.gz", try folder.gzip(Array(bytes.dropLast(5)))))
        #expect(gzipped.error?.offset == lastStart)
        #expect(gzipped.error?.reason == .truncated(needed: lastTotal, available: lastTotal - 5))
        #expect(gzipped.error.map { "\($0)" }?.hasPrefix(folder.file("c.gz") + ": offset \(lastStart): truncated") == true)
    }

    @Test("concatenated terms cut inside the last one")
    func truncatedConcatenated() throws {
        let folder = ScratchDir()
        let terms = Array(Self.terms.prefix(10))
        let bytes = Array(terms.joined())
        let lastStart = Self.concatenatedOffsets(terms).last!
        let available = terms.last!.count - 3
        let read = Self.readFrames(folder.write("a", Array(bytes.dropLast(3))))
        #expect(read.frames.count == 9)
        #expect(read.error?.offset == lastStart)
        #expect(read.error?.reason == .truncated(needed: available + 1, available: available))
    }

    @Test("a zero-length frame")
    func emptyFrame() throws {
        let folder = ScratchDir()
        let bytes = ETFBytes.framed([[131, 106]]) + [0, 0, 0, 0]
        let read = Self.readFrames(folder.write("a", bytes))
        #expect(read.frames.count == 1)
        #expect(read.error?.reason == .emptyFrame)
        #expect(read.error?.offset == 6)
    }

    @Test("a frame claiming 4 GiB is refused before anything is buffered")
    func hugeFrame() throws {
        let folder = ScratchDir()
        let start = ContinuousClock.now
        let read = Self.readFrames(folder.write("a", [255, 255, 255, 255, 131, 106]))
        #expect(read.error?.reason == .frameTooLarge(claimed: 4_294_967_295, limit: DumpLimits.default.maxFrameBytes))
        #expect(read.error?.offset == 0)
        #expect(ContinuousClock.now - start < .seconds(5))
        // The limit is inclusive, and applies to the frame after the prefix.
        let frame = ETFBytes.framed([[131, 107, 0, 3, 1, 2, 3]])  // a 7-byte term
        #expect(Self.readFrames(folder.write("b", frame), limits: DumpLimits(maxFrameBytes: 7)).error == nil)
        #expect(Self.readFrames(folder.write("c", frame), limits: DumpLimits(maxFrameBytes: 6)).error?.reason
            == .frameTooLarge(claimed: 7, limit: 6))
    }

    @Test("a concatenated term claiming more than maxFrameBytes is refused by its claim")
    func hugeConcatenatedTerm() throws {
        let folder = ScratchDir()
        let read = Self.readFrames(folder.write("a", [131, 106, 131, 109, 255, 255, 255, 255, 0]))
        #expect(read.frames.count == 1)
        #expect(read.error?.offset == 3)
        guard case .term(let error)? = read.error?.reason else {
            Issue.record("expected a term error, got \(String(describing: read.error))")
            return
        }
        #expect(error == ETFError(offset: 3, tag: 109, reason: .lengthExceedsInput(field: "binary length", claimed: 4_294_967_295, available: DumpLimits.default.maxFrameBytes - 6)))
        // A term with no 32-bit length claim that is longer than the limit. Its true
        // length is unknown when the reader gives up; `claimed` is what it had
        // buffered (here the whole file), at least the limit.
        let long = [131, 107, 0, 200] + [UInt8](repeating: 1, count: 200)
        let limited = Self.readFrames(folder.write("b", long), limits: DumpLimits(maxFrameBytes: 100))
        #expect(limited.error?.offset == 0)
        guard case .frameTooLarge(let claimed, let limit)? = limited.error?.reason else {
            Issue.record("expected frameTooLarge, got \(String(describing: limited.error))")
            return
        }
        #expect(limit == 100 && claimed > 100)
        #expect(Self.readFrames(folder.write("c", long), limits: DumpLimits(maxFrameBytes: 204)).frames.count == 1)
    }

    @Test("bytes that do not start a term between concatenated terms")
    func notATerm() throws {
        let folder = ScratchDir()
        let read = Self.readFrames(folder.write("a", [131, 97, 1, 131, 106, 7, 8, 9]))
        #expect(read.frames.map(\.bytes) == [[131, 97, 1], [131, 106]])
        #expect(read.error?.reason == .notATerm(firstByte: 7))
        #expect(read.error?.offset == 5)
    }
}
