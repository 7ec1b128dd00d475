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
/// half-written output. The text is written as it is, or compressed
/// (`OutputEncoding`: gzip members on worker threads, one zlib stream for
/// pprof, zstd), through `write(2)`.
public final class OutputFile: ByteOutput {
    public let displayName: String
    private let fd: Int32
    private let finalPath: String?
    private let temporaryPath: String?
    private var encoder: (any OutputEncoder)?
    private var committed = false
    /// A descriptor opened here (not standard output), closed by `commit()` or `abandon()`.
    private var ownsDescriptor = false
    /// The temporary file's pages go to disk as it grows, not all at the fsync.
    private var writeback = EarlyWriteback()

    /// Standard output, as it is.
    public init() {
        displayName = "standard output"
        fd = 1
        finalPath = nil
        temporaryPath = nil
    }

    /// Standard output, encoded as `encoding` says.
    public static func standardOutput(_ encoding: OutputEncoding, settings: CompressionSettings = CompressionSettings()) throws(OutputError) -> OutputFile {
        let out = OutputFile()
        try out.startEncoding(encoding, settings: settings)
        return out
    }

    /// A file at `path`.
    ///
    /// Written directly: anything in `/proc`, an existing entry of `/dev` that is
    /// not a plain file (`/dev/null`, `/dev/full`, `/dev/stdout`, whose link may
    /// lead to a regular file), and any path that is not a regular file (a FIFO).
    /// A temporary file next to those would be created in `/dev` and renamed over
    /// the device or link. A new or regular file in a folder of `/dev` (a tmpfs
    /// such as `/dev/shm`) is written like any other. A symbolic link to a
    /// regular file stays a link: its target is replaced.
    /// `encoding`: how the text is written (compressed); by default as the
    /// name says for text (`.gz`, `.zst`, else as it is).
    public init(path: String, encoding: OutputEncoding? = nil, settings: CompressionSettings = CompressionSettings()) throws(OutputError) {
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
        try startEncoding(encoding ?? OutputEncoding.text(named: path), settings: settings)
    }

    private func startEncoding(_ encoding: OutputEncoding, settings: CompressionSettings) throws(OutputError) {
        do throws(OutputError) {
            switch encoding {
            case .plain: encoder = nil
            case .gzipMembers(let level): encoder = try GzipMemberEncoder(level: level, settings: settings, name: displayName)
            case .gzipStream(let level): encoder = try ZlibStreamEncoder(level: level, name: displayName)
            case .zstd(let level): encoder = try ZstdEncoder(level: level, threads: settings.threads, name: displayName)
            }
        } catch {
            abandon()
            throw error
        }
    }

    private var writer: DescriptorWriter { DescriptorWriter(fd: fd, name: displayName) }

    deinit {
        if !committed { abandon() }
        encoder?.stop()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        if let encoder {
            try encoder.write(bytes, to: writer)
        } else {
            try writer.write(bytes)
        }
        // Only a file that commit() fsyncs; the encoders may hold bytes back,
        // so the file's own size says what was written.
        if temporaryPath != nil {
            let size = lseek(fd, 0, SEEK_CUR)
            if size > 0 { writeback.wrote(upTo: Int(size), fd: fd) }
        }
    }

    /// Finishes the output: the end of the compressed stream written, the file
    /// flushed to disk, then renamed into place.
    public func commit() throws(OutputError) {
        if let encoder {
            try encoder.finish(to: writer)
            self.encoder = nil
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

    /// Removes the partial file; nothing of this output remains. Compression
    /// in progress stops first (its threads ended).
    public func abandon() {
        encoder?.stop()
        encoder = nil
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
}
