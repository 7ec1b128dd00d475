#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes that come from somewhere other than a descriptor of their own: a
/// member of an archive, read as a stream out of it (FlameBatch). Errors name
/// the member and the offset in it.
public protocol StreamedInput: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) -> Int
}

/// A file opened read-only, read with `read(2)` in the caller's chunks.
///
/// Inputs are never opened for writing, so a run cannot change them. A pipe,
/// FIFO or device can be read only once, so bytes looked at to sniff the
/// format are pushed back here rather than read again through a new `open`.
public final class FileInput {
    public let path: String
    public let identity: FileIdentity
    /// False for pipes, FIFOs and devices: their bytes can be read once only.
    public let isRegularFile: Bool
    private let fd: Int32
    /// Set instead of `fd` for bytes streamed from elsewhere (an archive member).
    private let streamed: (any StreamedInput)?
    /// Bytes read so far: the offset of the next read.
    public private(set) var offset = 0
    /// Bytes handed back by `pushBack`, served before reading on.
    private var pushedBack: [UInt8] = []

    /// Opens `path`. With `regularFileOnly` (files met while walking a directory)
    /// anything but a regular file is refused, and the open itself cannot block
    /// on a FIFO that was put in the file's place.
    public init(path: String, regularFileOnly: Bool = false) throws(DumpError) {
        self.path = path
        let fd = PathName.withCString(path) { open($0, O_RDONLY | O_CLOEXEC | (regularFileOnly ? O_NONBLOCK : 0)) }
        if fd < 0 {
            throw DumpError(path: path, offset: 0, reason: .io("cannot open: \(String(cString: strerror(errno)))"))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw DumpError(path: path, offset: 0, reason: .io("cannot stat: \(message)"))
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR {
            close(fd)
            throw DumpError(path: path, offset: 0, reason: .io("is a directory"))
        }
        if regularFileOnly && type != S_IFREG {
            close(fd)
            throw DumpError(path: path, offset: 0, reason: .io("is not a regular file"))
        }
        self.fd = fd
        streamed = nil
        identity = FileIdentity(info)
        isRegularFile = type == S_IFREG
    }

    /// Bytes streamed from `source`, shown as `path`. `identity` is the file
    /// they are kept in (an archive); they are read once, like a pipe: whoever
    /// reads them again makes a new source.
    public init(path: String, identity: FileIdentity, streaming source: any StreamedInput) {
        self.path = path
        self.identity = identity
        fd = -1
        streamed = source
        isRegularFile = false
    }

    /// Standard input, on a descriptor of its own (closing it leaves descriptor 0 alone).
    public init(standardInputNamed name: String) throws(DumpError) {
        path = name
        let fd = fcntl(0, F_DUPFD_CLOEXEC, 3)
        var info = stat()
        guard fd >= 0, fstat(fd, &info) == 0 else {
            let message = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw DumpError(path: name, offset: 0, reason: .io("cannot read standard input: \(message)"))
        }
        self.fd = fd
        streamed = nil
        identity = FileIdentity(info)
        // Read once, whatever it is: `-` is one stream, not a name to open again.
        isRegularFile = false
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Reads up to `buffer.count` bytes; 0 at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) -> Int {
        if !pushedBack.isEmpty {
            let n = min(pushedBack.count, buffer.count)
            buffer.copyBytes(from: pushedBack[..<n])
            pushedBack.removeFirst(n)
            offset += n
            return n
        }
        if let streamed {
            let n = try streamed.read(into: buffer)
            offset += n
            return n
        }
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

    /// Hands `bytes`, the last ones read, back: the next reads return them again.
    public func pushBack(_ bytes: [UInt8]) {
        pushedBack = bytes + pushedBack
        offset -= bytes.count
    }
}
