#if canImport(Glibc)
import Glibc
#endif

/// Output files still being written, so that SIGINT or SIGTERM can remove them
/// before the process dies. The handler only calls `unlink(2)`, which is
/// async-signal-safe, on C strings made before the signal.
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

    static func register(_ path: String) {
        withLock {
            for i in 0..<capacity where slots[i] == nil {
                slots[i] = strdup(path)
                return
            }
        }
    }

    static func unregister(_ path: String) {
        withLock {
            for i in 0..<capacity {
                if let slot = slots[i], String(cString: slot) == path {
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

    /// Installs handlers that remove every partial output, then die of the same signal.
    /// Also ignores SIGPIPE, so a closed pipe is an EPIPE write error handled quietly.
    public static func installSignalHandlers() {
        withLock {}
        signal(SIGPIPE, SIG_IGN)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { received in
                for i in 0..<PartialOutputs.capacity {
                    if let slot = PartialOutputs.slots[i] { unlink(slot) }
                }
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}
