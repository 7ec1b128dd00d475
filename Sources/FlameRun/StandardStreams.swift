#if canImport(Glibc)
import Glibc
#endif

/// Text for standard output or standard error, written whole with `write(2)`
/// (no buffering to lose at exit); a closed pipe or a full disk ends it
/// quietly, as the message can go nowhere else.
public enum StandardStreams {
    public static let output: Int32 = 1
    public static let error: Int32 = 2

    public static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
