import FlameModel

/// Counts what `flameconv stats` shows of the events: ticks, samples,
/// statuses, and samples and reductions per stack as people read it.
public final class StatsSink: ProfileSink {
    public private(set) var ticks = 0
    public private(set) var samples = 0
    /// Wall-clock microseconds of the first and last tick.
    public private(set) var firstTick: Int64?
    public private(set) var lastTick: Int64?

    /// Samples per status atom id; `Symbols.none` counted apart.
    private var statusCounts: [Int] = []
    private var unknownStatus = 0
    private var tally = StackTally()
    /// The tally entry of each stack id (-1: none yet).
    private var entries: [Int32] = []

    public init() {}

    public func beginTick(wallMicros: Int64, capture: Int, in profile: Profile) throws(OutputError) {
        ticks += 1
        if firstTick == nil { firstTick = wallMicros }
        lastTick = wallMicros
    }

    public func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
        samples += 1
        let status = event.sample.status
        if status == Symbols.none {
            unknownStatus += 1
        } else {
            let index = Int(status)
            if index >= statusCounts.count { statusCounts.append(contentsOf: repeatElement(0, count: index + 1 - statusCounts.count)) }
            statusCounts[index] += 1
        }
        let stack = Int(event.stack)
        if stack >= entries.count { entries.append(contentsOf: repeatElement(-1, count: stack + 1 - entries.count)) }
        if entries[stack] < 0 {
            // Different stacks can read the same (`M:F/A:L` drops the file): rank what people see.
            let names = profile.frames(of: event.stack).reversed().map { profile.frame($0).displayName(profile.symbols) }
            entries[stack] = Int32(tally.entry(for: names))
        }
        tally.add(Int(entries[stack]), reductions: event.metrics.delta(MetricCatalogue.reductions) ?? 0)
    }

    public func finish(_ profile: Profile) throws(OutputError) {}

    public var notes: [String] { [] }

    /// Samples per status name.
    public func statuses(_ symbols: Symbols) -> [String: Int] {
        var out: [String: Int] = [:]
        if unknownStatus > 0 { out["unknown"] = unknownStatus }
        for (status, count) in statusCounts.enumerated() where count > 0 {
            out[symbols.nameText(UInt32(status)), default: 0] += count
        }
        return out
    }

    /// The `n` stacks with the most samples, and the `n` with the most reductions.
    public func top(_ n: Int) -> (bySamples: [CaptureStats.Stack], byReductions: [CaptureStats.Stack]) {
        (tally.top(n, bySamples: true), tally.top(n, bySamples: false))
    }
}
