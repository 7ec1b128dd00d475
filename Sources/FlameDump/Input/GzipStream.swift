import CZlib

/// Inflates a gzip file as a stream. Concatenated members (what appending to a
/// .gz produces) are one stream.
final class GzipStream {
    private let input: FileInput
    private var stream = z_stream()
    private var inputBuffer: UnsafeMutableRawBufferPointer
    private var finished = false
    /// True once a member has ended and no byte of another has been read.
    private var atMemberBoundary = false
    /// Damage found after some bytes of this read were inflated: those bytes are
    /// handed out first, the error on the next read.
    private var pendingError: DumpError?

    /// 64 KiB of compressed input at a time: enough for zlib's speed, and small
    /// because every capture open in a merge holds one.
    init(input: FileInput, chunkSize: Int = 64 << 10) throws(DumpError) {
        self.input = input
        inputBuffer = .allocate(byteCount: chunkSize, alignment: 16)
        // 16 + 15: a gzip wrapper around a 32 KiB window.
        guard czlib_inflateInit2(&stream, 16 + 15) == Z_OK else {
            inputBuffer.deallocate()
            throw DumpError(path: input.path, offset: 0, reason: .io("zlib could not start"))
        }
    }

    deinit {
        inflateEnd(&stream)
        inputBuffer.deallocate()
    }

    private var compressedOffset: Int { input.offset - Int(stream.avail_in) }

    func read(into buffer: UnsafeMutableRawBufferPointer, streamOffset: Int) throws(DumpError) -> Int {
        if let pendingError {
            self.pendingError = nil
            throw pendingError
        }
        if finished { return 0 }
        stream.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(clamping: buffer.count)
        while stream.avail_out == UInt32(clamping: buffer.count) {
            if stream.avail_in == 0 {
                let n = try input.read(into: inputBuffer)
                if n == 0 {
                    finished = true
                    if atMemberBoundary { break }
                    return try fail(DumpError(path: input.path, offset: streamOffset + produced(buffer), reason: .decompression(format: "gzip", detail: "the file ends inside a gzip member", compressedOffset: input.offset)), buffer)
                }
                stream.next_in = inputBuffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = UInt32(n)
            }
            if atMemberBoundary {
                // Another member follows the last one.
                guard inflateReset(&stream) == Z_OK else { break }
                atMemberBoundary = false
            }
            let status = inflate(&stream, Z_NO_FLUSH)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                atMemberBoundary = true
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                finished = true
                return try fail(DumpError(path: input.path, offset: streamOffset + produced(buffer), reason: .decompression(format: "gzip", detail: detail, compressedOffset: compressedOffset)), buffer)
            }
        }
        return produced(buffer)
    }

    /// Throws `error` now, or after handing out the bytes this read already inflated.
    private func fail(_ error: DumpError, _ buffer: UnsafeMutableRawBufferPointer) throws(DumpError) -> Int {
        let count = produced(buffer)
        if count == 0 { throw error }
        pendingError = error
        return count
    }

    private func produced(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        buffer.count - Int(stream.avail_out)
    }
}
