#if canImport(Glibc)
import Glibc
#endif

/// Starts the kernel writing an output file's pages to disk while the rest of
/// the file is still being made, so that the `fsync` of `OutputFile.commit`
/// waits only for the last few megabytes instead of the whole file.
///
/// Every `interval` bytes, `sync_file_range(SYNC_FILE_RANGE_WRITE)` asks for
/// the range written since: it starts the writeback and does not wait. It
/// changes nothing of what reaches the disk or when the output counts as
/// written (that is still the fsync, which also reports any write error of
/// the writeback). Where the call is missing or fails (a filesystem without
/// writeback, such as tmpfs), nothing happens.
struct EarlyWriteback {
    /// Bytes between two requests: large enough that the requests cost
    /// nothing, small enough that a disk keeps busy while the text is made.
    static let interval = 8 << 20

    private var started = 0

    /// The file behind `fd` now holds `size` bytes.
    mutating func wrote(upTo size: Int, fd: Int32) {
        guard size - started >= Self.interval else { return }
        if let syncFileRange = Self.syncFileRange {
            _ = syncFileRange(fd, Int64(started), Int64(size - started), Self.startWrite)
        }
        started = size
    }

    /// `SYNC_FILE_RANGE_WRITE` (linux/fs.h).
    private static let startWrite: UInt32 = 2

    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32

    /// glibc's `sync_file_range(2)`, looked up once: Swift's Glibc module does not declare it.
    private static let syncFileRange: SyncFileRange? = {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: SyncFileRange.self)
    }()
}
