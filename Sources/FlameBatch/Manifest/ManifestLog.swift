import FlameDump
import FlameModel
#if canImport(Glibc)
import Glibc
#endif

/// A shard's manifest, open for appending: JSON Lines, one record a line.
///
/// Why it survives a kill at any moment: a record is appended with one
/// `write`, only after the capture's outputs were synced and renamed into
/// place; nothing already written is ever rewritten. A killed process's
/// writes are in the kernel already; a kill can leave at most a last line
/// cut short: readers ignore a line that does not end in a newline or is not
/// a record, and the next writer cuts it off before appending. A capture
/// whose record was not written is simply done again.
///
/// Records are not synced one by one: the file is synced once at the end of
/// a run (`sync`). A power cut can lose the last records, never an output
/// they name (each output is synced before its record is written), so it
/// costs converting those captures again. A sync per record added about an
/// eighth to a batch's sync waits (docs/batch.md).
/// An exclusive `flock` keeps two runs of one shard from appending to one
/// file at once.
public final class ManifestLog: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    private let fd: Int32

    public init(out: String, shard: Shard) throws(Failure) {
        let folder = ManifestFiles.directory(in: out)
        _ = PathName.withCString(folder) { mkdir($0, 0o755) }
        path = ManifestFiles.path(in: out, shard: shard)
        let fd = PathName.withCString(path) { open($0, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw Failure(description: "\(path): cannot open the manifest: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw Failure(description: "\(path): another flameconv batch is writing this shard's manifest (same --out and --shard)")
        }
        self.fd = fd
        try cutTornTail()
        // The folder's entry for a new manifest is made durable too.
        let dirFD = PathName.withCString(folder) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    deinit { close(fd) }

    /// Appends a capture's record.
    public func append(_ record: CaptureRecord) throws(Failure) { try append(record.json) }

    /// Appends a problem input's record.
    public func append(problem: ProblemRecord) throws(Failure) { try append(problem.json) }

    private func append(_ value: JSONValue) throws(Failure) {
        var line = Array((value.jsonText + "\n").utf8)
        let total = line.count
        let written = line.withUnsafeMutableBytes { bytes -> Int in
            var offset = 0
            while offset < total {
                let n = write(fd, bytes.baseAddress! + offset, total - offset)
                if n < 0 { if errno == EINTR { continue }; return -1 }
                offset += n
            }
            return offset
        }
        guard written == total else {
            throw Failure(description: "\(path): cannot write the manifest: \(String(cString: strerror(errno)))")
        }
    }

    /// Makes every record appended so far durable.
    public func sync() throws(Failure) {
        guard fdatasync(fd) == 0 else {
            throw Failure(description: "\(path): cannot sync the manifest: \(String(cString: strerror(errno)))")
        }
    }

    /// A line a kill cut short is removed, so the next record starts a line of its own.
    private func cutTornTail() throws(Failure) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return }
        let size = Int(info.st_size)
        guard size > 0 else { return }
        var keep = size
        var last: UInt8 = 0
        guard pread(fd, &last, 1, off_t(size - 1)) == 1 else { return }
        if last == UInt8(ascii: "\n") { return }
        // Back to the last newline.
        var chunk = [UInt8](repeating: 0, count: 4096)
        var end = size
        keep = 0
        search: while end > 0 {
            let start = max(0, end - chunk.count)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, end - start, off_t(start)) }
            guard n == end - start else { break }
            for i in stride(from: n - 1, through: 0, by: -1) where chunk[i] == UInt8(ascii: "\n") {
                keep = start + i + 1
                break search
            }
            end = start
        }
        guard ftruncate(fd, off_t(keep)) == 0, fdatasync(fd) == 0 else {
            throw Failure(description: "\(path): cannot cut off a torn last line: \(String(cString: strerror(errno)))")
        }
    }
}
