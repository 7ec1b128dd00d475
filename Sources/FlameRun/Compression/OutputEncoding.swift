import FlameFormats
#if canImport(Glibc)
import Glibc
#endif

/// How an output's text becomes the bytes of its file.
public enum OutputEncoding: Sendable, Equatable {
    /// The text as it is.
    case plain
    /// gzip: the text cut into blocks of `CompressionSettings.gzipBlockSize`
    /// bytes, each compressed by libdeflate into a gzip member of its own, on
    /// worker threads (`GzipMemberEncoder`). A file of several members is one
    /// gzip file to gzip, zlib's gzread, Python and Go.
    case gzipMembers(level: Int32)
    /// gzip as one member, one stream through zlib (`ZlibStreamEncoder`): for
    /// pprof, whose readers include some that read a gzip file's first member
    /// only (docs/output-formats.md).
    case gzipStream(level: Int32)
    /// zstd, one frame, libzstd's workers compressing jobs of it in parallel (`ZstdEncoder`).
    case zstd(level: Int32)

    /// libdeflate's level for `.gz` text: its fastest (docs/output-formats.md
    /// has the measurements). Against the single zlib-6 stream written
    /// before, a .gz conversion of 82 MB of perf text went from 1.2-1.6 s to
    /// 0.33 s, files 41% larger; level 4 (13% larger) reached only 0.5 s on
    /// this project's 2-core machines, short of the 3x asked for. zstd is
    /// the way to small files.
    public static let gzipLevel: Int32 = 1
    /// zlib's level for pprof, as Go's runtime/pprof writes its profiles.
    public static let pprofLevel: Int32 = 1
    /// zstd's level for `.zst` text: its default, which on perf text is both
    /// faster than its 1 and 2 and 2 to 5 times smaller (its window reaches
    /// back past the repeats deflate's 32 KiB cannot see).
    public static let zstdLevel: Int32 = 3

    /// The encoding of `format` in a file named `path` (standard output when nil).
    /// `level`: instead of the text's default level (not pprof's).
    public static func of(_ format: OutputFormat, path: String?, level: Int32? = nil) -> OutputEncoding {
        format == .pprof ? .gzipStream(level: pprofLevel) : text(named: path, level: level)
    }

    /// The encoding of text in a file named `path`: as its name ends.
    public static func text(named path: String?, level: Int32? = nil) -> OutputEncoding {
        switch OutputCompression(path: path) {
        case .none: return .plain
        case .gzip: return .gzipMembers(level: level ?? gzipLevel)
        case .zstd: return .zstd(level: level ?? zstdLevel)
        }
    }
}

/// What compressing outputs may use.
public struct CompressionSettings: Sendable, Equatable {
    /// Threads that compress each compressed output beside the thread that
    /// converts: gzip members compressed at once, or libzstd's workers.
    public var threads: Int
    /// Bytes of text in each gzip member (the last one may hold fewer).
    public var gzipBlockSize: Int
    /// libdeflate's or libzstd's level for text outputs instead of
    /// `OutputEncoding.gzipLevel` and `zstdLevel`; nil for those.
    public var level: Int32?

    public static let defaultGzipBlockSize = 1 << 20
    /// The bounds of `gzipBlockSize`: below 4 KiB a member's 18 bytes of
    /// header and trailer and its fresh start cost too much; above 64 MiB
    /// the blocks in flight would hold too much memory.
    public static let gzipBlockSizes = (4 << 10)...(64 << 20)
    /// The most `threads` may say.
    public static let maxThreads = 64

    public init(threads: Int = 1, gzipBlockSize: Int = CompressionSettings.defaultGzipBlockSize, level: Int32? = nil) {
        self.level = level
        self.threads = min(max(threads, 1), Self.maxThreads)
        self.gzipBlockSize = min(max(gzipBlockSize, Self.gzipBlockSizes.lowerBound), Self.gzipBlockSizes.upperBound)
    }

    /// The processors online, at least 1.
    public static var availableProcessors: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

/// Turns the text written to an output into the bytes of its file.
protocol OutputEncoder: AnyObject {
    /// Takes more text; may write encoded bytes to `out`.
    func write(_ bytes: UnsafeRawBufferPointer, to out: DescriptorWriter) throws(OutputError)
    /// Encodes what is left and writes the end of the stream.
    func finish(to out: DescriptorWriter) throws(OutputError)
    /// Stops any work in progress, its threads ended; nothing more is written.
    func stop()
}

/// Whole buffers to a descriptor: short writes and interrupts retried.
struct DescriptorWriter {
    let fd: Int32
    /// The output's name in error messages.
    let name: String

    func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n >= 0 {
                offset += n
                continue
            }
            if errno == EINTR { continue }
            if errno == EPIPE { throw .brokenPipe }
            throw .failed(path: name, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }
}
