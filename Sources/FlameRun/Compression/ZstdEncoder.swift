import CZstd
import FlameFormats

/// zstd, one frame with a content checksum, through libzstd's streaming API
/// (`OutputEncoding.zstd`).
///
/// With `threads` workers (`ZSTD_c_nbWorkers`) libzstd cuts the text into
/// jobs and compresses them on threads of its own while the converting
/// thread goes on; its memory stays bounded by the jobs it keeps in flight.
/// The frame depends on the text and level, not on the number of workers
/// (from 1 up: libzstd's multi-threaded format is the same whatever their
/// count; `CompressedOutputTests` checks it).
final class ZstdEncoder: OutputEncoder {
    private var context: OpaquePointer?
    private let buffer: UnsafeMutableRawBufferPointer
    private let name: String
    /// The workers libzstd took (0 when it was built without threads).
    let workers: Int
    private var started = false

    init(level: Int32, threads: Int, name: String) throws(OutputError) {
        guard let context = ZSTD_createCCtx() else {
            throw .failed(path: name, message: "zstd compression could not start (no memory)")
        }
        self.context = context
        self.name = name
        buffer = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        let workers = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(threads))
        self.workers = ZSTD_isError(workers) != 0 ? 0 : threads
        for (parameter, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, 1)] {
            let status = ZSTD_CCtx_setParameter(context, parameter, value)
            if ZSTD_isError(status) != 0 {
                ZSTD_freeCCtx(context)
                self.context = nil
                buffer.deallocate()
                throw .failed(path: name, message: "zstd compression could not start: \(String(cString: ZSTD_getErrorName(status)))")
            }
        }
    }

    deinit {
        stop()
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer, to out: DescriptorWriter) throws(OutputError) {
        guard !bytes.isEmpty else { return }
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            _ = try compress(&input, ZSTD_e_continue, to: out)
        }
    }

    func finish(to out: DescriptorWriter) throws(OutputError) {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        // ZSTD_e_end returns how much is left to flush: done at 0.
        while try compress(&input, ZSTD_e_end, to: out) != 0 {}
        stop()
    }

    func stop() {
        guard let context else { return }
        ZSTD_freeCCtx(context)  // ends its worker threads
        self.context = nil
    }

    /// One call of ZSTD_compressStream2; writes what it gave. Returns its hint
    /// (for ZSTD_e_end, the bytes still to flush).
    private func compress(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective, to out: DescriptorWriter) throws(OutputError) -> Int {
        guard let context else { throw .failed(path: name, message: "zstd compression already ended") }
        var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        var status = 0
        if started {
            status = ZSTD_compressStream2(context, &output, &input, directive)
        } else {
            // The first call starts libzstd's workers: like ours, they leave
            // the signals that end the process to the converting thread.
            withAsyncSignalsBlocked { status = ZSTD_compressStream2(context, &output, &input, directive) }
            started = true
        }
        if ZSTD_isError(status) != 0 {
            throw .failed(path: name, message: "zstd compression failed: \(String(cString: ZSTD_getErrorName(status)))")
        }
        if output.pos > 0 {
            try out.write(UnsafeRawBufferPointer(start: buffer.baseAddress, count: output.pos))
        }
        return status
    }
}
