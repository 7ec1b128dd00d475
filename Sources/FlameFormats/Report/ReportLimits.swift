/// What bounds a report's size, whatever the input (docs/LIMITS.md, "Report").
public struct ReportLimits: Sendable {
    /// Distinct (time cell, stack, edge, metric set) entries kept; past it a
    /// new stack's samples go to its cell's "[other stacks]".
    public var maxEntries: Int
    /// Seconds from the first sample a report spans; later (or earlier) samples
    /// are left out. 32,000 (8.9 hours): one pixel a second, the heat map stays
    /// within the 32,767 pixels a browser's canvas may be wide.
    public var maxSeconds: Int
    /// Processes listed in the summary.
    public var maxProcesses: Int
    /// Distinct (time cell, stack, process) entries kept for the summary's
    /// process filter (about 200 bytes each while the run lasts).
    public var maxProcessEntries: Int

    public init(maxEntries: Int = 2_000_000, maxSeconds: Int = 32_000, maxProcesses: Int = 50, maxProcessEntries: Int = 250_000) {
        self.maxEntries = maxEntries
        self.maxSeconds = maxSeconds
        self.maxProcesses = maxProcesses
        self.maxProcessEntries = maxProcessEntries
    }

    /// Metrics a page offers: each adds three numbers to every entry.
    public static let maxMetrics = 32
}
