import CZlib
import FlameFormats

/// gzip as a single member, one zlib stream on the writing thread: for pprof
/// (`OutputEncoding.gzipStream`).
final class ZlibStreamEncoder: OutputEncoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private let compressed: UnsafeMutableRawBufferPointer
    private let name: String
    private var ended = false

    /// `level`: zlib's, 1 to 9.
    init(level: Int32, name: String) throws(OutputError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 16 + 15: gzip wrapper, 32 KiB window.
        guard czlib_deflateInit2(stream, min(max(level, 1), 9), 16 + 15) == Z_OK else {
            stream.deallocate()
            throw .failed(path: name, message: "gzip compression could not start (zlib)")
        }
        compressed = .allocate(byteCount: 256 << 10, alignment: 16)
        self.name = name
    }

    deinit {
        stop()
        stream.deallocate()
        compressed.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer, to out: DescriptorWriter) throws(OutputError) {
        try deflate(bytes, flush: Z_NO_FLUSH, to: out)
    }

    func finish(to out: DescriptorWriter) throws(OutputError) {
        try deflate(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, to: out)
    }

    func stop() {
        guard !ended else { return }
        ended = true
        deflateEnd(stream)
    }

    private func deflate(_ bytes: UnsafeRawBufferPointer, flush: Int32, to out: DescriptorWriter) throws(OutputError) {
        guard !ended else { throw .failed(path: name, message: "gzip compression already ended") }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(bytes.count)
        while true {
            stream.pointee.next_out = compressed.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(compressed.count)
            let status = CZlib.deflate(stream, flush)
            let produced = compressed.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                try out.write(UnsafeRawBufferPointer(rebasing: compressed[..<produced]))
            }
            if status == Z_STREAM_END { return }
            if status != Z_OK && status != Z_BUF_ERROR {
                throw .failed(path: name, message: "gzip compression failed (zlib status \(status))")
            }
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 && flush != Z_FINISH { return }
        }
    }
}
