#if canImport(Glibc)
import Glibc
#endif

/// Messages for people, on standard error.
enum Diagnostics {
    static func error(_ message: String) {
        write("flameconv: error: \(message)\n")
    }

    static func warning(_ message: String) {
        write("flameconv: warning: \(message)\n")
    }

    static func note(_ message: String) {
        write(message + "\n")
    }

    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}
