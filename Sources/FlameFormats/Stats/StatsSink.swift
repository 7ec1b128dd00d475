import FlameModel

/// Counts what `flameconv stats` shows of the events: ticks, samples,
/// statuses, and samples and reductions per stack as people read it.
public final class StatsSink: ProfileSink {
    // One thread reads and writes these, one access at a time: no runtime
    // exclusivity check on every sample.
    @exclusivity(unchecked) public private(set) var ticks = 0
    @exclusivity(unchecked) public private(set) var samples = 0
    public var samplesWritten: Int { samples }
    public var tableBytes: Int { tally.byteEstimate + 4 * entries.count }
    /// Wall-clock microseconds of the first and last tick.
    @exclusivity(unchecked) public private(set) var firstTick: Int64?
    @exclusivity(unchecked) public private(set) var lastTick: Int64?

    public let weight: Weight
    /// Per category path (label ids, outermost first): samples, weight, samples without the weight's metric.
    // One thread reads and writes these, one access at a time: no runtime
    // exclusivity check on every sample.
    @exclusivity(unchecked) private var categories: [[UInt32]: (samples: Int, weight: Int64, unweighed: Int)] = [:]
    @exclusivity(unchecked) private var path: [UInt32] = []

    /// Samples per status atom id; `Symbols.none` counted apart.
    @exclusivity(unchecked) private var statusCounts: [Int] = []
    @exclusivity(unchecked) private var unknownStatus = 0
    @exclusivity(unchecked) private var tally = StackTally()
    /// The tally entry of each stack id (-1: none yet).
    @exclusivity(unchecked) private var entries: [Int32] = []

    /// Whether to total the category groups: only `stats --category` or
    /// `--weight` shows them, and it costs a lookup per sample.
    public let groups: Bool

    public init(weight: Weight = .samples, groups: Bool = false) {
        self.weight = weight
        self.groups = groups
    }

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
        let weighs = weight.of(event)
        tally.add(Int(entries[stack]), reductions: event.metrics.delta(MetricCatalogue.reductions) ?? 0, weight: weighs ?? 0)
        guard groups else { return }
        path.removeAll(keepingCapacity: true)
        path.append(contentsOf: event.categories)
        var totals = categories[path] ?? (0, 0, 0)
        totals.samples += 1
        if let weighs { totals.weight = totals.weight.saturatingAdding(weighs) } else { totals.unweighed += 1 }
        categories[path] = totals
    }

    /// Every group of the category levels, heaviest first (by weight, then
    /// samples, then label).
    public func categoryTotals(_ profile: Profile) -> [CaptureStats.Category] {
        categories.map { path, totals in
            CaptureStats.Category(path: path.map { profile.categoryText($0) }, samples: totals.samples, weight: totals.weight, unweighed: totals.unweighed)
        }.sorted { a, b in
            if a.weight != b.weight { return a.weight > b.weight }
            if a.samples != b.samples { return a.samples > b.samples }
            return a.path.lexicographicallyPrecedes(b.path)
        }
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

    /// The `n` stacks with the most samples, the most reductions, and the most weight.
    public func top(_ n: Int) -> (bySamples: [CaptureStats.Stack], byReductions: [CaptureStats.Stack], byWeight: [CaptureStats.Stack]) {
        (tally.top(n, by: .samples), tally.top(n, by: .reductions), weight == .samples ? [] : tally.top(n, by: .weight))
    }
}
