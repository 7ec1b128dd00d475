#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own for long work beside the run's thread (the reader,
/// batch's jobs). The signals that end the process are blocked in it, so they
/// reach the thread that started it, whose handler removes partial outputs;
/// faults stay with the thread that faults, on an alternate signal stack.
public enum QuietThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts `body` on a new thread of `stackBytes`; nil when no thread could
    /// be made (the caller then does the work itself).
    public static func start(stackBytes: Int, _ body: @escaping () -> Void) -> pthread_t? {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackBytes)
        // The new thread inherits the signal mask it is started with.
        var blocked = sigset_t(), previous = sigset_t()
        sigfillset(&blocked)
        for fault in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT, SIGSYS] { sigdelset(&blocked, fault) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            let stack = PartialOutputs.threadAlternateStack()
            body.run()
            PartialOutputs.releaseThreadAlternateStack(stack)
            return nil
        }, context)
        guard started == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return nil
        }
        return thread
    }
}
