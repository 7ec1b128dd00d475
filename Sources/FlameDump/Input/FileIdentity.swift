#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file as the kernel knows it: device and inode, whatever name or link led to it.
///
/// Two paths with the same identity are the same file, so it is read once and
/// never written over by an output.
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64

    public init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// The identity of what `path` leads to (links followed), or nil when it cannot be reached.
    public init?(path: String) {
        var info = stat()
        guard PathName.withCString(path, { stat($0, &info) }) == 0 else { return nil }
        self.init(info)
    }

    /// The identity of an open descriptor, or nil when `fstat` fails.
    public init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info)
    }
}
