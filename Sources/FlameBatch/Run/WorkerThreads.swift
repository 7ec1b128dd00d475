import FlameRun
#if canImport(Glibc)
import Glibc
#endif

/// Runs `count` threads of `body` (each given its number) and waits for them.
///
/// Plain threads rather than the concurrency pool: every job blocks on file
/// reads and writes, and `--jobs` must mean that many at once whatever the
/// pool's width. Each is a `QuietThread`: the signals that end the process
/// reach the main thread, whose handler removes partial outputs.
enum WorkerThreads {
    static let stackBytes = 8 << 20

    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var threads: [pthread_t] = []
        var inline: [Int] = []
        for number in 0..<count {
            if let thread = QuietThread.start(stackBytes: stackBytes, { body(number) }) {
                threads.append(thread)
            } else {
                inline.append(number)
            }
        }
        // A thread that could not be made: its share is done here.
        for number in inline { body(number) }
        for thread in threads { pthread_join(thread, nil) }
    }
}
