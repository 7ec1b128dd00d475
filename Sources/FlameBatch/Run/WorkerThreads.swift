#if canImport(Glibc)
import Glibc
#endif

/// Runs `count` threads of `body` (each given its number) and waits for them.
///
/// Plain threads rather than the concurrency pool: every job blocks on file
/// reads and writes, and `--jobs` must mean that many at once whatever the
/// pool's width. Signals that end the process are blocked in the workers, so
/// they reach the main thread (whose handler removes partial outputs, as in
/// convert); faults stay with the thread that faults.
enum WorkerThreads {
    static let stackBytes = 8 << 20

    private final class Context {
        let body: @Sendable (Int) -> Void
        let number: Int
        init(body: @escaping @Sendable (Int) -> Void, number: Int) {
            self.body = body
            self.number = number
        }
    }

    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackBytes)
        var blocked = sigset_t(), previous = sigset_t()
        sigfillset(&blocked)
        for fault in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT, SIGSYS] { sigdelset(&blocked, fault) }
        var threads: [pthread_t] = []
        var inline: [Int] = []
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        for number in 0..<count {
            let context = Unmanaged.passRetained(Context(body: body, number: number)).toOpaque()
            var thread = pthread_t()
            let started = pthread_create(&thread, &attributes, { raw in
                let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
                context.body(context.number)
                return nil
            }, context)
            if started == 0 {
                threads.append(thread)
            } else {
                Unmanaged<Context>.fromOpaque(context).release()
                inline.append(number)
            }
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        // A thread that could not be made: its share is done here.
        for number in inline { body(number) }
        for thread in threads { pthread_join(thread, nil) }
    }
}
