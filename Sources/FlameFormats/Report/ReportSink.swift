import FlameModel

/// Gathers what `flameconv report` shows, in the run's one pass: samples and
/// metric sums per (time cell, stack), ahead of time, so the page never sees
/// a raw sample (docs/report.md). `finish` writes the page.
///
/// A stack here is what the FlameScope fork's flame graph sees: the first
/// category label as its root, later labels below it, then the frames,
/// outermost first, named as flame_prof's perf text names them.
public final class ReportSink: ProfileSink {
    public let grid: ReportGrid
    public let weight: Weight
    /// The metrics the page offers, each with its `_delta`.
    public let metrics: [MetricID]
    public let limits: ReportLimits
    /// What a sample must carry to be shown: what the perf text of the same
    /// options needs (`RunPlan.perfMetrics`), which leaves out a sample lacking it.
    public let requirements: PerfRequirements
    private let output: (any ByteOutput)?
    private let title: String
    private let baseline: ReportTables?

    // One thread reads and writes these, one access at a time.
    @exclusivity(unchecked) private var tables = ReportTables()
    @exclusivity(unchecked) private var stackNodes: [[UInt32]: Int32] = [:]
    @exclusivity(unchecked) private var stackKey: [UInt32] = []
    @exclusivity(unchecked) private var frameNodes: [UInt64: Int32] = [:]
    @exclusivity(unchecked) private var frameNames: [ProfileFrame: Int32] = [:]
    @exclusivity(unchecked) private var labelNames: [UInt32: Int32] = [:]
    @exclusivity(unchecked) private var nameIDs: [String: Int32] = [:]
    /// Entries by process, of every process until `finish` keeps the summary's,
    /// or until they reach `ReportLimits.maxProcessEntries`: then only those of
    /// the processes with the most samples so far are kept and added to (`kept`).
    @exclusivity(unchecked) private var byProcess: ReportEntries
    @exclusivity(unchecked) private var kept: Set<UInt64>?
    @exclusivity(unchecked) private var firstSecond: Int64?
    @exclusivity(unchecked) private var lastSecond: Int64 = .min
    @exclusivity(unchecked) private var minSecond: Int64 = .max
    @exclusivity(unchecked) private var otherNode: Int32?
    @exclusivity(unchecked) private var processes = ReportProcesses()
    @exclusivity(unchecked) private var skipped: [String: Int] = [:]
    @exclusivity(unchecked) private var samplesOverCap = 0
    @exclusivity(unchecked) private var samplesUnfiltered = 0
    @exclusivity(unchecked) private var samplesOutOfSpan = 0
    @exclusivity(unchecked) private var samplesBeforeStart = 0
    @exclusivity(unchecked) private var written = 0
    @exclusivity(unchecked) private var nameBytes = 0

    /// `output`: where `finish` writes the page; nil only keeps the tables
    /// (a baseline, shown inside another report).
    public init(output: (any ByteOutput)?, weight: Weight, metrics: [MetricID], perfMetrics: [MetricID]?, rows: Int = 50,
                limits: ReportLimits = ReportLimits(), title: String = "flameconv report", baseline: ReportTables? = nil) {
        self.output = output
        requirements = PerfRequirements(metrics: perfMetrics)
        self.weight = weight
        var chosen = metrics
        if let metric = weight.metric, !chosen.contains(metric) { chosen.append(metric) }
        self.metrics = Array(chosen.prefix(ReportLimits.maxMetrics))
        self.grid = ReportGrid(rows: rows)
        self.limits = limits
        self.title = title
        self.baseline = baseline
        tables.rows = rows
        tables.entries = ReportEntries(metricCount: self.metrics.count)
        byProcess = ReportEntries(metricCount: self.metrics.count)
    }

    /// flame_prof's metric set, what the page offers when no `--metrics` is given.
    public static let defaultMetrics = [
        MetricCatalogue.reductions, MetricCatalogue.messageQueueLen, MetricCatalogue.memory, MetricCatalogue.totalHeapSize, MetricCatalogue.minorGCs,
    ]

    public func beginTick(wallMicros: Int64, capture: Int, in profile: Profile) throws(OutputError) {
        // The fork's grid starts at the first sample, not at a tick without one.
        tables.ticks += 1
    }

    public func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
        let ts = ReportGrid.seconds(event.wallMicros)
        let (second, bucket) = grid.cell(ts)
        let first = firstSecond ?? second
        if firstSecond == nil { firstSecond = second }
        if second - first >= Int64(limits.maxSeconds) || first - second >= Int64(limits.maxSeconds) {
            samplesOutOfSpan += 1
            return
        }
        if second < first { samplesBeforeStart += 1 }
        minSecond = min(minSecond, second)
        let index = Int(second - first) * grid.rows + bucket
        let edges = index >= 0 ? grid.edges(ts, index: index, base: Double(first)) : (starts: 0, ends: 0)
        if let reason = requirements.missingReason(event, profile) {
            // The perf text leaves such a sample out, so FlameScope never sees it: nor does the report.
            skipped[reason, default: 0] += 1
            return
        }
        var key = ReportEntries.Key(second: second, bucket: Int32(bucket), node: leaf(event, profile), edges: UInt8((edges.starts + 1) * 3 + edges.ends + 1))
        addByProcess(key, event)
        var entry = tables.entries.entry(key, limit: limits.maxEntries)
        if entry == nil {
            // Past the cap a new (cell, stack) adds to its cell's "other stacks".
            samplesOverCap += 1
            key.node = otherStacks()
            entry = tables.entries.entry(key, limit: .max)
        }
        tables.entries.add(entry!, metrics: metrics, row: event.metrics)
        lastSecond = max(lastSecond, second)
        processes.add(event, profile)
        written += 1
    }

    public func finish(_ profile: Profile) throws(OutputError) {
        tables.firstSecond = written == 0 ? 0 : minSecond
        tables.columns = written == 0 ? 0 : Int(lastSecond - minSecond) + 1
        tables.metricNames = metrics.map { "erlang_" + profile.catalogue[$0].name }
        tables.weightName = Self.weightName(weight, profile)
        tables.processes = processes.top(limits.maxProcesses, profile)
        var index: [UInt64: Int] = [:]
        for (i, process) in tables.processes.enumerated() {
            index[process.key] = i
            if let kept, !kept.contains(process.key) { tables.processes[i].partial = true }
        }
        tables.processEntries = byProcess.only(index)
        tables.notes = notes
        guard let output else { return }
        let page = ReportPage.html(title: title, tables: tables, baseline: baseline)
        try output.write(page)
    }

    /// The tables gathered, for a baseline shown inside another report.
    public var gathered: ReportTables { tables }

    public var notes: [String] {
        var notes: [String] = []
        for (name, count) in skipped.sorted(by: { $0.key < $1.key }) {
            notes.append("report: skipped \(count) sample\(count == 1 ? "" : "s"): \(name) (as the perf text of the same options does)")
        }
        if samplesOverCap > 0 {
            notes.append("report: \(samplesOverCap) samples of stacks past the first \(limits.maxEntries) (time cell, stack) pairs are shown as \"\(Self.otherName)\" (--max-report-entries)")
        }
        if samplesUnfiltered > 0 {
            notes.append("report: \(samplesUnfiltered) samples are left out of the summary's process filter: its \(limits.maxProcessEntries) (time cell, stack, process) entries were reached (processes marked partial)")
        }
        if samplesOutOfSpan > 0 {
            notes.append("report: left out \(samplesOutOfSpan) samples more than \(limits.maxSeconds) s from the first one (--max-report-seconds)")
        }
        if samplesBeforeStart > 0 {
            notes.append("report: \(samplesBeforeStart) samples came before the first tick's second (the clock stepped back?): their range edges may differ from FlameScope's")
        }
        return notes
    }

    /// The sample in the process filter's entries, within their bound.
    private func addByProcess(_ key: ReportEntries.Key, _ event: borrowing ProfileEvent) {
        let pid = event.sample.pidKey
        if let kept, !kept.contains(pid) {
            samplesUnfiltered += 1
            return
        }
        var byPid = key
        byPid.pid = pid
        if byProcess.count >= limits.maxProcessEntries, kept == nil {
            // Full: keep the leading processes so far, drop the others' entries.
            let leaders = Set(processes.topKeys(limits.maxProcesses))
            kept = leaders
            byProcess = byProcess.only(Dictionary(uniqueKeysWithValues: leaders.map { ($0, 0) }), renumber: false)
            if !leaders.contains(pid) {
                samplesUnfiltered += 1
                return
            }
        }
        guard let entry = byProcess.entry(byPid, limit: limits.maxProcessEntries) else {
            samplesUnfiltered += 1
            return
        }
        byProcess.add(entry, metrics: metrics, row: event.metrics)
    }

    public var samplesWritten: Int { written }
    // The process filter's entries have a bound of their own (ReportLimits.maxProcessEntries).
    public var tableBytes: Int { nameBytes + tables.byteEstimate + 48 * (stackNodes.count + frameNodes.count) }

    /// The weight as the fork names its scaling: samples, erlang_NAME or erlang_NAME_delta.
    static func weightName(_ weight: Weight, _ profile: Profile) -> String {
        switch weight {
        case .samples: return "samples"
        case .value(let id): return "erlang_" + profile.catalogue[id].name
        case .delta(let id): return "erlang_" + profile.catalogue[id].name + "_delta"
        }
    }

    static let otherName = "[other stacks]"

    // MARK: Stacks

    /// The node of the event's whole stack, its labels and frames.
    private func leaf(_ event: borrowing ProfileEvent, _ profile: Profile) -> Int32 {
        stackKey.removeAll(keepingCapacity: true)
        stackKey.append(event.stack)
        stackKey.append(contentsOf: event.categories)
        if let known = stackNodes[stackKey] { return known }
        var node: Int32 = -1
        for label in event.categories { node = child(node, name: labelName(label, profile)) }
        for frame in profile.frames(of: event.stack).reversed() { node = child(node, name: frameName(frame, profile)) }
        stackNodes[stackKey] = node
        return node
    }

    private func otherStacks() -> Int32 {
        if let otherNode { return otherNode }
        let node = child(-1, name: intern(Self.otherName))
        otherNode = node
        return node
    }

    private func child(_ parent: Int32, name: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: parent)) << 32 | UInt64(UInt32(bitPattern: name))
        if let known = frameNodes[key] { return known }
        let node = Int32(tables.nodeParents.count)
        tables.nodeParents.append(parent)
        tables.nodeNames.append(name)
        frameNodes[key] = node
        return node
    }

    private func labelName(_ label: UInt32, _ profile: Profile) -> Int32 {
        if let known = labelNames[label] { return known }
        let id = intern(profile.categoryText(label))
        labelNames[label] = id
        return id
    }

    /// The frame's name as the fork shows it: flame_prof's frame text up to
    /// its ` (file)`, cut at a `+` (the fork strips instruction offsets).
    private func frameName(_ frame: UInt32, _ profile: Profile) -> Int32 {
        let value = profile.frame(frame)
        if let known = frameNames[value] { return known }
        var text: [UInt8] = []
        FrameText.text(value, profile.symbols, .flameProf, &text)
        var name = text[...]
        if let open = Self.lastFileOpen(text) { name = text[..<open] }
        if let plus = name.firstIndex(of: UInt8(ascii: "+")), plus > name.startIndex { name = name[..<plus] }
        let id = intern(String(decoding: name, as: UTF8.self))
        frameNames[value] = id
        return id
    }

    /// Where ` (` of the last `(file)` begins, the fork's frame pattern splits there.
    private static func lastFileOpen(_ text: [UInt8]) -> Int? {
        guard text.last == UInt8(ascii: ")"), text.count >= 3 else { return nil }
        var i = text.count - 2
        while i > 0 {
            if text[i] == UInt8(ascii: "("), text[i - 1] == 0x20 { return i - 1 }
            i -= 1
        }
        return nil
    }

    private func intern(_ name: String) -> Int32 {
        if let known = nameIDs[name] { return known }
        let id = Int32(tables.names.count)
        tables.names.append(name)
        nameIDs[name] = id
        nameBytes += name.utf8.count + 32
        return id
    }
}
