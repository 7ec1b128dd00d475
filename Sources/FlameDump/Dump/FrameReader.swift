import ETF

/// Splits a byte stream into frames, each holding one external term.
///
/// The container is told by the first byte: 131 starts a plain concatenation of
/// terms, anything else a 4-byte big-endian length prefix. Frames are served
/// from one reused buffer that grows only to the largest frame, so memory stays
/// bounded whatever the file's size. The buffer starts small and doubles up to
/// `chunkSize` as the file turns out to be longer, so the many small files of
/// a merge cost little and a long file is still read in large chunks.
public final class FrameReader {
    public enum Container: String, Sendable {
        case framed, concatenated
    }

    /// One frame's term: its bytes stay valid until the next call to `next()`.
    public struct Frame {
        /// Offset of the term's first byte (the version byte) in the stream.
        public let offset: Int
        public let bytes: UnsafeRawBufferPointer
    }

    public let source: ByteSource
    public let limits: DumpLimits
    public private(set) var container: Container?

    private var buffer: UnsafeMutableRawBufferPointer
    /// The buffer size that long files are read with; it starts smaller.
    private let chunkSize: Int
    private var head = 0  // first unconsumed byte
    private var tail = 0  // one past the last valid byte
    private var headOffset = 0  // stream offset of `head`
    private var endOfInput = false

    public init(source: ByteSource, limits: DumpLimits = .default, chunkSize: Int = 1 << 20) {
        self.source = source
        self.limits = limits
        self.chunkSize = chunkSize
        self.buffer = .allocate(byteCount: min(chunkSize, Self.initialBufferSize), alignment: 16)
    }

    static let initialBufferSize = 64 << 10

    deinit { buffer.deallocate() }

    public var path: String { source.path }

    /// The bytes the reader holds: what a frame costs on top of decoding it,
    /// for the memory budget (`ETFLimits.maxTermMemory`).
    public var bufferBytes: Int { buffer.count }

    /// A buffer grown past this for a large frame goes back to the chunk size
    /// once that frame is done, so one large frame does not keep its memory.
    static let keptBufferBytes = 16 << 20

    /// Stream offset just past the last frame returned.
    public var offset: Int { headOffset }

    /// Up to `count` of the stream's first bytes while none has been consumed yet
    /// (to describe a file that is no dump), else nil.
    public func leadingBytes(_ count: Int) -> [UInt8]? {
        guard headOffset == 0 else { return nil }
        return Array(buffer[head..<(head + min(count, available))])
    }

    /// The next frame, or nil at a clean end of the stream. Throws at a
    /// truncated or corrupt tail, naming the frame's offset.
    public func next() throws(DumpError) -> Frame? {
        if buffer.count > Self.keptBufferBytes, available <= chunkSize { shrinkBuffer() }
        if container == nil {
            // One byte tells the container; eight show the start of a file that is no dump.
            try fill(atLeast: 8)
            if available == 0 {
                throw DumpError(path: path, offset: 0, reason: .empty)
            }
            container = buffer[head] == ETFTag.version ? .concatenated : .framed
        }
        try fill(atLeast: 1)
        if available == 0 { return nil }
        switch container! {
        case .framed: return try nextFramed()
        case .concatenated: return try nextConcatenated()
        }
    }

    private var available: Int { tail - head }

    private func bytes(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[start..<(start + count)])
    }

    private func nextFramed() throws(DumpError) -> Frame {
        let frameOffset = headOffset
        try fill(atLeast: 4)
        guard available >= 4 else {
            throw DumpError(path: path, offset: frameOffset, reason: .truncated(needed: 4, available: available))
        }
        let length = UInt32(buffer[head]) << 24 | UInt32(buffer[head + 1]) << 16 | UInt32(buffer[head + 2]) << 8 | UInt32(buffer[head + 3])
        guard length > 0 else {
            throw DumpError(path: path, offset: frameOffset, reason: .emptyFrame)
        }
        guard Int(length) <= limits.maxFrameBytes else {
            throw DumpError(path: path, offset: frameOffset, reason: .frameTooLarge(claimed: UInt64(length), limit: limits.maxFrameBytes))
        }
        let total = 4 + Int(length)
        try fill(atLeast: total)
        guard available >= total else {
            throw DumpError(path: path, offset: frameOffset, reason: .truncated(needed: total, available: available))
        }
        let frame = Frame(offset: frameOffset + 4, bytes: bytes(head + 4, Int(length)))
        consume(total)
        return frame
    }

    private func nextConcatenated() throws(DumpError) -> Frame {
        let termOffset = headOffset
        var want = min(available, limits.maxFrameBytes)
        while true {
            let measured: TermExtent.Result
            do throws(ETFError) {
                measured = try TermExtent.measure(bytes(head, min(available, limits.maxFrameBytes)), baseOffset: termOffset, maxBytes: limits.maxFrameBytes, limits: limits.term)
            } catch {
                if case .badVersion(let byte) = error.reason {
                    throw DumpError(path: path, offset: termOffset, reason: .notATerm(firstByte: byte))
                }
                throw DumpError(path: path, offset: error.offset, reason: .term(error))
            }
            switch measured {
            case .complete(let length):
                let frame = Frame(offset: termOffset, bytes: bytes(head, length))
                consume(length)
                return frame
            case .needMore:
                if endOfInput || available >= limits.maxFrameBytes {
                    if available >= limits.maxFrameBytes {
                        throw DumpError(path: path, offset: termOffset, reason: .frameTooLarge(claimed: UInt64(available), limit: limits.maxFrameBytes))
                    }
                    throw DumpError(path: path, offset: termOffset, reason: .truncated(needed: available + 1, available: available))
                }
                // Grow geometrically so a large term is measured O(log n) times.
                want = min(limits.maxFrameBytes, max(want * 2, available + (64 << 10)))
                try fill(atLeast: want)
            }
        }
    }

    private func shrinkBuffer() {
        let smaller = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        smaller.baseAddress!.copyMemory(from: buffer.baseAddress! + head, byteCount: available)
        buffer.deallocate()
        buffer = smaller
        tail = available
        head = 0
    }

    private func consume(_ count: Int) {
        head += count
        headOffset += count
    }

    /// Reads until `count` bytes are buffered or the input ends.
    private func fill(atLeast count: Int) throws(DumpError) {
        if available >= count || endOfInput { return }
        if head + count > buffer.count {
            // Move the unconsumed bytes to the front, growing for a larger frame,
            // or (doubling, up to chunkSize) because the file goes on.
            let pending = available
            let wanted = max(count, min(chunkSize, buffer.count * 2))
            if wanted > buffer.count {
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: wanted, alignment: 16)
                larger.baseAddress!.copyMemory(from: buffer.baseAddress! + head, byteCount: pending)
                buffer.deallocate()
                buffer = larger
            } else if head > 0 {
                buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + head, byteCount: pending)
            }
            head = 0
            tail = pending
        }
        while available < count {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[tail...]))
            if n == 0 {
                endOfInput = true
                return
            }
            tail += n
        }
    }
}
