import CZstd

/// Decompresses a zstd file as a stream. Concatenated frames are one stream.
final class ZstdStream {
    private let input: FileInput
    private let context: OpaquePointer
    private var inputBuffer: UnsafeMutableRawBufferPointer
    private var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private var finished = false
    /// zstd's hint: 0 when the last frame is complete.
    private var frameRemaining = 0
    /// Damage found after some bytes of this read were decompressed: those bytes
    /// are handed out first, the error on the next read.
    private var pendingError: DumpError?

    init(input: FileInput) throws(DumpError) {
        self.input = input
        guard let context = ZSTD_createDCtx() else {
            throw DumpError(path: input.path, offset: 0, reason: .io("zstd could not start"))
        }
        self.context = context
        // Refuse frames whose window would need more than 128 MiB (zstd's default limit).
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, 27)
        inputBuffer = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDCtx(context)
        inputBuffer.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, streamOffset: Int) throws(DumpError) -> Int {
        if let pendingError {
            self.pendingError = nil
            throw pendingError
        }
        if finished { return 0 }
        // At most one block's worth per call: given room for a whole frame, zstd
        // decodes it in one go and, on a bad checksum or block, returns none of it;
        // this way the blocks before the damage are handed out.
        var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: min(buffer.count, ZSTD_DStreamOutSize()), pos: 0)
        while out.pos == 0 {
            if inBuffer.pos == inBuffer.size {
                let n = try input.read(into: inputBuffer)
                if n == 0 {
                    finished = true
                    if frameRemaining != 0 {
                        throw DumpError(path: input.path, offset: streamOffset, reason: .decompression(format: "zstd", detail: "the file ends inside a zstd frame", compressedOffset: input.offset))
                    }
                    break
                }
                inBuffer = ZSTD_inBuffer(src: inputBuffer.baseAddress, size: n, pos: 0)
            }
            let result = ZSTD_decompressStream(context, &out, &inBuffer)
            if ZSTD_isError(result) != 0 {
                let detail = String(cString: ZSTD_getErrorName(result))
                let at = input.offset - (inBuffer.size - inBuffer.pos)
                let error = DumpError(path: input.path, offset: streamOffset + out.pos, reason: .decompression(format: "zstd", detail: detail, compressedOffset: at))
                finished = true
                if out.pos == 0 { throw error }
                pendingError = error
                return out.pos
            }
            frameRemaining = result
        }
        return out.pos
    }
}
