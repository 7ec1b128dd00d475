#if canImport(Glibc)
import Glibc
#endif

/// A FIFO whose writing end the test holds open: a reader gets the bytes written
/// so far, then waits for more, so a conversion stays mid-run for as long as the
/// test needs (to be interrupted, say), with no timing to guess.
final class HeldFIFO {
    let path: String
    private var fd: Int32

    /// `bytes` must fit in the pipe's buffer (64 KiB): nobody reads them yet.
    init(_ path: String, holding bytes: [UInt8]) {
        precondition(bytes.count < 60_000)
        self.path = path
        precondition(mkfifo(path, 0o644) == 0, "cannot make FIFO \(path)")
        // Read-write: opening does not wait for a reader, and the FIFO never reports an end.
        fd = open(path, O_RDWR | O_CLOEXEC)
        precondition(fd >= 0)
        bytes.withUnsafeBytes { raw in
            precondition(Glibc.write(fd, raw.baseAddress, raw.count) == raw.count)
        }
    }

    deinit { if fd >= 0 { close(fd) } }
}
