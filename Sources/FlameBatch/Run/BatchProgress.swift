import FlameModel
import FlameRun
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Progress on standard error: on a terminal a bar redrawn in place
/// (captures done of total, bytes, rate, time left); otherwise one plain
/// line per capture finished, which a log collector reads as it comes.
public final class BatchProgress: Sendable {
    public enum Style: Sendable { case bar, lines, none }

    private struct State {
        var done = 0
        var bytes: Int64 = 0
        var lastDrawn = 0.0
    }

    private let style: Style
    private let total: Int
    private let totalBytes: Int64
    private let started: Double
    private let state = Mutex(State())

    public init(style: Style, captures: Int, bytes: Int64) {
        self.style = style
        total = captures
        totalBytes = bytes
        started = Self.now()
    }

    /// The style for standard error: a bar on a terminal, lines otherwise.
    public static func automatic(quiet: Bool) -> Style {
        quiet ? .none : (isatty(2) == 1 ? .bar : .lines)
    }

    /// One capture finished (converted or failed), of `bytes` bytes of input.
    func finished(_ capture: String, bytes: Int64, failed: Bool) {
        guard style != .none else { return }
        let text: String? = state.withLock { state in
            state.done += 1
            state.bytes += bytes
            let now = Self.now()
            switch style {
            case .none:
                return nil
            case .lines:
                return "flameconv batch: \(line(state, now: now)): \(failed ? "failed" : "done") \(DisplayText.escaped(capture))\n"
            case .bar:
                guard now - state.lastDrawn >= 0.1 || state.done == total else { return nil }
                state.lastDrawn = now
                return "\r\u{1B}[K" + bar(state, now: now)
            }
        }
        if let text { Self.write(text) }
    }

    /// Ends the bar's line.
    public func finish() {
        if style == .bar, total > 0 { Self.write("\n") }
    }

    private func line(_ state: State, now: Double) -> String {
        let elapsed = max(now - started, 0.001)
        let rate = Double(state.bytes) / elapsed
        let left = state.done == 0 ? nil : elapsed / Double(state.done) * Double(total - state.done)
        return "\(state.done)/\(total) captures, \(Self.megabytes(state.bytes)) of \(Self.megabytes(totalBytes)), \(Self.megabytes(Int64(rate)))/s, ETA \(left.map(Self.duration) ?? "?")"
    }

    private func bar(_ state: State, now: Double) -> String {
        let width = 24
        let filled = total == 0 ? width : width * state.done / total
        return "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] " + line(state, now: now)
    }

    static func megabytes(_ bytes: Int64) -> String {
        let mb = Double(bytes) / 1_000_000
        let tenths = Int((mb * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) MB"
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func write(_ text: String) {
        StandardStreams.write(text, to: StandardStreams.error)
    }
}
