import FlameDump
#if canImport(Glibc)
import Glibc
#endif

/// Output files still being written, so that a signal that ends the process can
/// remove them first. The handler only calls `unlink(2)`, `sigaction(2)` and
/// `raise(3)`, which are async-signal-safe, on C strings made before the signal.
public enum PartialOutputs {
    private static let capacity = 64
    // Fixed slots of C strings, written outside the handler, read inside it.
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        return slots
    }()
    nonisolated(unsafe) private static var lock = pthread_mutex_t()
    nonisolated(unsafe) private static var lockReady = false
    /// What each signal did before our handler, restored by the handler: the
    /// default action, or another handler such as Swift's crash backtracer.
    nonisolated(unsafe) private static let previous: UnsafeMutablePointer<sigaction> = {
        let actions = UnsafeMutablePointer<sigaction>.allocate(capacity: Int(signalSlots))
        actions.initialize(repeating: sigaction(), count: Int(signalSlots))
        return actions
    }()
    private static let signalSlots: Int32 = 65

    static func register(_ path: String) {
        withLock {
            for i in 0..<capacity where slots[i] == nil {
                slots[i] = PathName.withCString(path) { strdup($0) }
                return
            }
        }
    }

    static func unregister(_ path: String) {
        withLock {
            for i in 0..<capacity {
                if let slot = slots[i], PathName.withCString(path, { strcmp(slot, $0) }) == 0 {
                    slots[i] = nil
                    free(slot)
                }
            }
        }
    }

    private static func withLock(_ body: () -> Void) {
        if !lockReady {
            pthread_mutex_init(&lock, nil)
            lockReady = true
        }
        pthread_mutex_lock(&lock)
        body()
        pthread_mutex_unlock(&lock)
    }

    /// Every signal whose default action ends the process (SIGKILL and SIGSTOP
    /// cannot be caught): interrupts, timers, user signals, and the traps and
    /// aborts of a crash.
    static var endingSignals: [Int32] {
        var signals = [SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGUSR1, SIGSEGV, SIGUSR2,
                       SIGALRM, SIGTERM, SIGSTKFLT, SIGXCPU, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS]
        signals += Array(__libc_current_sigrtmin()...__libc_current_sigrtmax())
        return signals.filter { $0 > 0 && $0 < signalSlots }
    }

    /// Installs handlers that remove every partial output, then let the signal do
    /// what it did before. A signal ignored when we started (nohup's SIGHUP)
    /// stays ignored.
    ///
    /// Also ignores SIGPIPE, so a closed pipe is an EPIPE write error handled
    /// quietly, and SIGXFSZ, so a file size limit (`ulimit -f`) is an EFBIG
    /// write error, reported and cleaned up like any other.
    public static func installSignalHandlers() {
        withLock {}
        // Made now: the handler must not be the first to touch them.
        _ = slots
        _ = previous
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
        installAlternateStack()
        for sig in endingSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { received, info, _ in
                PartialOutputs.removeAll()
                PartialOutputs.passOn(received, code: info?.pointee.si_code ?? 0, sender: info?.pointee._sifields._kill.si_pid ?? 0)
            }
            sigemptyset(&action.sa_mask)
            // On the alternate stack, so that a stack overflow (SIGSEGV) still cleans up.
            action.sa_flags = SA_SIGINFO | SA_ONSTACK
            var old = sigaction()
            guard sigaction(sig, nil, &old) == 0 else { continue }
            if old.sa_flags & SA_SIGINFO == 0,
               unsafeBitCast(old.__sigaction_handler.sa_handler, to: UnsafeRawPointer?.self) == unsafeBitCast(SIG_IGN, to: UnsafeRawPointer?.self) { continue }
            previous[Int(sig)] = old
            sigaction(sig, &action, nil)
        }
    }

    /// Unlinks every partial output. Called from signal handlers.
    private static func removeAll() {
        for i in 0..<capacity {
            if let slot = slots[i] { unlink(slot) }
        }
    }

    /// After the clean-up, the signal's own effect. Called from signal handlers.
    ///
    /// - A fault (a bad access, a trap, which a `precondition` is): the handler
    ///   from before (Swift's crash report, or the default) is put back and the
    ///   handler returns; the faulting instruction runs again and faults again.
    /// - Raised by this process (`abort()`): the handler from before takes it
    ///   once this one returns.
    /// - Anything else (`kill`, a timer, a hang-up): the default action, so the
    ///   process ends by that signal.
    private static func passOn(_ sig: Int32, code: Int32, sender: pid_t) {
        let sentByProcess = code <= 0  // SI_USER, SI_QUEUE, SI_TKILL …: sent, not raised by the kernel
        if !sentByProcess && isFault(sig) {
            sigaction(sig, previous + Int(sig), nil)
            return
        }
        if sentByProcess && sender == getpid() {
            sigaction(sig, previous + Int(sig), nil)
        } else {
            signal(sig, SIG_DFL)
        }
        // Blocked while this handler runs: delivered when it returns.
        raise(sig)
    }

    private static func isFault(_ sig: Int32) -> Bool {
        switch sig {
        case SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP: return true
        default: return false
        }
    }

    /// For a thread of the process's own (a pipelined run's reader): a stack for
    /// signal handlers, so that a stack overflow there still cleans up. Each
    /// thread has its own; a new thread has none. Nil when none was set.
    static func threadAlternateStack() -> UnsafeMutableRawPointer? {
        var current = stack_t()
        guard sigaltstack(nil, &current) == 0, Int(current.ss_flags) & Int(SS_DISABLE) != 0 else { return nil }
        let size = 64 << 10
        guard let memory = malloc(size) else { return nil }
        var stack = stack_t(ss_sp: memory, ss_flags: 0, ss_size: size)
        guard sigaltstack(&stack, nil) == 0 else {
            free(memory)
            return nil
        }
        return memory
    }

    /// Undoes `threadAlternateStack`, on the same thread, before it ends.
    static func releaseThreadAlternateStack(_ memory: UnsafeMutableRawPointer?) {
        guard let memory else { return }
        var disable = stack_t(ss_sp: nil, ss_flags: Int32(SS_DISABLE), ss_size: 0)
        sigaltstack(&disable, nil)
        free(memory)
    }

    /// A stack for signal handlers, unless one is set already (Swift's runtime may set one).
    private static func installAlternateStack() {
        var current = stack_t()
        guard sigaltstack(nil, &current) == 0, Int(current.ss_flags) & Int(SS_DISABLE) != 0 else { return }
        let size = 64 << 10
        guard let memory = malloc(size) else { return }
        var stack = stack_t(ss_sp: memory, ss_flags: 0, ss_size: size)
        if sigaltstack(&stack, nil) != 0 { free(memory) }
    }
}
