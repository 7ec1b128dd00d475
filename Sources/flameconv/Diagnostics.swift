import FlameModel
import FlameRun
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
        StandardStreams.write(text, to: StandardStreams.error)
    }
}
