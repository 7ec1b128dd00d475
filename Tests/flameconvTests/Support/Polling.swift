import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Waits for `pid` to end, at most `seconds`; kills it (SIGKILL) past that.
/// True when it ended by itself.
func waitForExit(_ pid: pid_t, seconds: Double) async -> Bool {
    let ended = await poll(seconds: seconds) {
        // WNOWAIT: the caller reaps it, and reads what it left.
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
    }
    if !ended { kill(pid, SIGKILL) }
    return ended
}

/// Waits for `path` to exist, at most `seconds`.
func waitForFile(_ path: String, seconds: Double) async -> Bool {
    await poll(seconds: seconds) { fileExists(path) }
}

/// Checks `done` every 10 ms, at most `seconds`, sleeping between checks without holding a thread.
func poll(seconds: Double, _ done: () -> Bool) async -> Bool {
    for _ in 0..<Int(seconds * 100) {
        if done() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return done()
}
