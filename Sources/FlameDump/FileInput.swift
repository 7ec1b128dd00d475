#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened read-only, read with `read(2)` in the caller's chunks.
///
/// Inputs are never opened for writing, so a run cannot change them.
public final class FileInput {
    public let path: String
    private let fd: Int32
    /// Bytes read so far: the offset of the next read.
    public private(set) var offset = 0

    public init(path: String) throws(DumpError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw DumpError(path: path, offset: 0, reason: .io("cannot open: \(String(cString: strerror(errno)))"))
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw DumpError(path: path, offset: 0, reason: .io("is a directory"))
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Reads up to `buffer.count` bytes; 0 at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 {
                offset += n
                return n
            }
            if errno == EINTR { continue }
            throw DumpError(path: path, offset: offset, reason: .io("read failed: \(String(cString: strerror(errno)))"))
        }
    }
}
