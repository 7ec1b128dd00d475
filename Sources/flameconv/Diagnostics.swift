import FlameModel
#if canImport(Glibc)
import Glibc
#endif

/// Messages for people, on standard error.
enum Diagnostics {
    // Messages name files, capture ids and nodes from outside: their control
    // characters and raw bytes are shown escaped, never sent to the terminal.
    static func error(_ message: String) {
        write("flameconv: error: \(DisplayText.escaped(message))\n")
    }

    static func warning(_ message: String) {
        write("flameconv: warning: \(DisplayText.escaped(message))\n")
    }

    static func note(_ message: String) {
        write(DisplayText.escaped(message) + "\n")
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
