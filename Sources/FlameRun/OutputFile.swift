import CZlib
import FlameDump
import FlameFormats
#if canImport(Glibc)
import Glibc
#endif

/// Where converted text goes: standard output, or a file that appears only when
/// complete.
///
/// A file is written under a temporary name in the same directory and renamed
/// into place by `commit()`; an error, an interrupt or a crash leaves no
/// half-written output. A name ending in `.gz` is gzip-compressed. Writes go
/// through one reused buffer and `write(2)`.
public final class OutputFile: ByteOutput {
    public let displayName: String
    private let fd: Int32
    private let finalPath: String?
    private let temporaryPath: String?
    private var deflater: UnsafeMutablePointer<z_stream>?
    private var compressed = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var committed = false
    /// A descriptor opened here (not standard output), closed by `commit()` or `abandon()`.
    private var ownsDescriptor = false

    /// Standard output.
    public init() {
        displayName = "standard output"
        fd = 1
        finalPath = nil
        temporaryPath = nil
    }

    /// Standard output, gzip-compressed when `gzip` says so, at zlib's `level`.
    public static func standardOutput(gzip: Bool, level: Int32 = OutputFile.defaultLevel) throws(OutputError) -> OutputFile {
        let out = OutputFile()
        if gzip { try out.startDeflate(out.displayName, level: level) }
        return out
    }

    /// A file at `path`, gzip when `path` ends in `.gz` (or when `gzip` says so).
    ///
    /// Written directly: anything in `/proc`, an existing entry of `/dev` that is
    /// not a plain file (`/dev/null`, `/dev/full`, `/dev/stdout`, whose link may
    /// lead to a regular file), and any path that is not a regular file (a FIFO).
    /// A temporary file next to those would be created in `/dev` and renamed over
    /// the device or link. A new or regular file in a folder of `/dev` (a tmpfs
    /// such as `/dev/shm`) is written like any other. A symbolic link to a
    /// regular file stays a link: its target is replaced.
    /// `level`: zlib's compression level, when compressed.
    public init(path: String, gzip: Bool? = nil, level: Int32 = OutputFile.defaultLevel) throws(OutputError) {
        displayName = path
        var info = stat()
        let deviceEntry = path.hasPrefix("/dev/")
            && PathName.withCString(path, { lstat($0, &info) }) == 0 && (info.st_mode & S_IFMT) != S_IFREG
        if deviceEntry || path.hasPrefix("/proc/") || (PathName.withCString(path, { stat($0, &info) }) == 0 && (info.st_mode & S_IFMT) != S_IFREG) {
            let fd = PathName.withCString(path) { open($0, O_WRONLY | O_TRUNC | O_CLOEXEC) }
            if fd < 0 {
                throw .failed(path: path, message: "cannot open: \(String(cString: strerror(errno)))")
            }
            self.fd = fd
            finalPath = nil
            temporaryPath = nil
        } else {
            var path = path
            if PathName.withCString(path, { lstat($0, &info) }) == 0, (info.st_mode & S_IFMT) == S_IFLNK,
               let resolved = PathName.withCString(path, { realpath($0, nil) }) {
                path = PathName.string(fromBytes: UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self), count: strlen(resolved)))
                free(resolved)
            }
            finalPath = path
            let slash = path.lastIndex(of: "/")
            let directory = slash.map { String(path[..<$0]) } ?? "."
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            let temporary = "\(directory.isEmpty ? "/" : directory)/.\(name).partial-\(getpid())"
            // Known to the signal handlers before it exists: a signal right after
            // the file appears still removes it.
            PartialOutputs.register(temporary)
            let fd = PathName.withCString(temporary) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
            if fd < 0 {
                let message = String(cString: strerror(errno))
                PartialOutputs.unregister(temporary)
                throw .failed(path: path, message: "cannot create \(temporary): \(message)")
            }
            self.fd = fd
            temporaryPath = temporary
        }
        ownsDescriptor = true
        if gzip ?? path.hasSuffix(".gz") { try startDeflate(path, level: level) }
    }

    /// zlib's default trade-off between size and speed.
    public static let defaultLevel: Int32 = 6

    private func startDeflate(_ path: String, level: Int32) throws(OutputError) {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 16 + 15: gzip wrapper.
        guard czlib_deflateInit2(stream, min(max(level, 1), 9), 16 + 15) == Z_OK else {
            stream.deallocate()
            abandon()
            throw .failed(path: path, message: "zlib could not start")
        }
        deflater = stream
        compressed = .allocate(byteCount: 256 << 10, alignment: 16)
    }

    deinit {
        if !committed { abandon() }
        if let deflater {
            deflateEnd(deflater)
            deflater.deallocate()
        }
        compressed.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        if let deflater {
            try deflate(bytes, stream: deflater, flush: Z_NO_FLUSH)
        } else {
            try writeAll(bytes)
        }
    }

    /// Finishes the output: flushes compression, then renames the file into place.
    public func commit() throws(OutputError) {
        if let deflater {
            try deflate(UnsafeRawBufferPointer(start: nil, count: 0), stream: deflater, flush: Z_FINISH)
        }
        guard let finalPath, let temporaryPath else {
            // Standard output or a special file: nothing to rename.
            if ownsDescriptor, !committed {
                committed = true
                if close(fd) != 0 && errno != EINTR {
                    throw .failed(path: displayName, message: "cannot close: \(String(cString: strerror(errno)))")
                }
            }
            return
        }
        if fsync(fd) != 0 && errno != EINVAL {
            let message = String(cString: strerror(errno))
            abandon()
            throw .failed(path: finalPath, message: "cannot flush to disk: \(message)")
        }
        if close(fd) != 0 {
            let message = String(cString: strerror(errno))
            abandon()
            throw .failed(path: finalPath, message: "cannot close: \(message)")
        }
        if PathName.withCString(temporaryPath, { from in PathName.withCString(finalPath) { rename(from, $0) } }) != 0 {
            let message = String(cString: strerror(errno))
            _ = PathName.withCString(temporaryPath) { unlink($0) }
            PartialOutputs.unregister(temporaryPath)
            committed = true
            throw .failed(path: finalPath, message: "cannot rename into place: \(message)")
        }
        PartialOutputs.unregister(temporaryPath)
        committed = true
    }

    /// Removes the partial file; nothing of this output remains.
    public func abandon() {
        guard let temporaryPath, !committed else {
            if ownsDescriptor, !committed {
                committed = true
                close(fd)
            }
            return
        }
        close(fd)
        _ = PathName.withCString(temporaryPath) { unlink($0) }
        PartialOutputs.unregister(temporaryPath)
        committed = true
    }

    private func deflate(_ bytes: UnsafeRawBufferPointer, stream: UnsafeMutablePointer<z_stream>, flush: Int32) throws(OutputError) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(bytes.count)
        while true {
            stream.pointee.next_out = compressed.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(compressed.count)
            let status = CZlib.deflate(stream, flush)
            let produced = compressed.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                try writeAll(UnsafeRawBufferPointer(rebasing: compressed[..<produced]))
            }
            if status == Z_STREAM_END { return }
            if status != Z_OK && status != Z_BUF_ERROR {
                throw .failed(path: displayName, message: "gzip compression failed (zlib status \(status))")
            }
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 && flush != Z_FINISH { return }
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n >= 0 {
                offset += n
                continue
            }
            if errno == EINTR { continue }
            if errno == EPIPE { throw .brokenPipe }
            throw .failed(path: displayName, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }
}
