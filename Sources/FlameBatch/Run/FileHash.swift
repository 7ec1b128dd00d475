import FlameDump
#if canImport(Glibc)
import Glibc
#endif

/// XXH64 and size of a file on disk: an output, read back once it is in place.
public enum FileHash {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    public static func of(_ path: String) throws(Failure) -> (contentHash: String, bytes: Int64) {
        let fd = PathName.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw Failure(description: "\(path): cannot read back: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { buffer.deallocate() }
        let hash = ContentHash()
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "\(path): cannot read back: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hash.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
        return (hash.finishHex(), total)
    }

    /// Size of a file, or nil when there is none.
    static func size(_ path: String) -> Int64? {
        var info = stat()
        guard PathName.withCString(path, { stat($0, &info) }) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(info.st_size)
    }
}
