import FlameModel

/// Writes events as `perf script` text, one event line and its frames per
/// sample, in either dialect (docs/perf-output.md).
///
/// Everything that repeats is made once: frame blocks per stack, comms per
/// category label, metric name prefixes per metric. A sample then costs its
/// numbers' digits and a copy of cached bytes into one reused buffer, which
/// is drained to `output` in chunks.
///
/// FlameScope's rules live here and nowhere else: flame_prof's metric set on
/// every line, comm spelling, `%XX` escapes, and the whole-second nudge of the
/// last timestamp.
public final class PerfSink: ProfileSink {
    public let dialect: PerfDialect
    /// The metrics every event line carries, in order; nil for flame_prof's set.
    public let metrics: [MetricID]?
    /// What a sample must have to be written.
    private let requirements: PerfRequirements
    private let output: any ByteOutput
    private let chunk: Int

    /// The text not yet drained, at most about `chunk` bytes, beside a tick
    /// held for the nudge (`holdingTick`).
    // One thread reads and writes these, one access at a time: no runtime
    // exclusivity check on every sample.
    private let buffer: OutputBytes
    @exclusivity(unchecked) private var tickStart = 0
    @exclusivity(unchecked) private var currentTick = -1
    @exclusivity(unchecked) private var currentWall: Int64 = 0
    /// Where in `buffer` the last digit of each timestamp of the current tick stands.
    @exclusivity(unchecked) private var timestampEnds: [Int] = []
    /// The current tick falls on a whole second and may be the last: its
    /// text is held (up to `tickHoldLimit`) so its timestamps can still move.
    @exclusivity(unchecked) private var holdingTick = false

    /// Frame blocks by stack id: a range of `blockBytes`, empty when not made yet.
    @exclusivity(unchecked) private var blocks: [Range<Int>] = []
    private let blockBytes = OutputBytes(capacity: 64 << 10)
    /// Comms (first category level) by label id: a range of `commBytes`, empty when not made yet.
    @exclusivity(unchecked) private var comms: [Range<Int>] = []
    private let commBytes = OutputBytes(capacity: 4 << 10)
    /// Root pseudo frames (later levels) by label id.
    @exclusivity(unchecked) private var categoryLines: [[UInt8]?] = []
    /// Portable dialect: what the thread id adds to the process id, by
    /// first-level label id (`threadOffset(ordinal:)`), set with the label's comm.
    @exclusivity(unchecked) private var threadOffsets: [Int64] = []
    /// First-level labels seen so far: the next one's ordinal.
    @exclusivity(unchecked) private var firstLevelLabels = 0
    /// `\tmetric_erlang_NAME: ` by metric id, each a range of `prefixBytes`.
    @exclusivity(unchecked) private var metricPrefixes: [Range<Int>?] = Array(repeating: nil, count: MetricCatalogue.capacity)
    private let prefixBytes = OutputBytes(capacity: 4 << 10)
    /// What an event line of `planMetrics` writes after its timestamp: per
    /// metric, its prefix in `prefixBytes` and its index; and the most bytes
    /// such a line takes. Made again only when the metrics change.
    private let plan = UnsafeMutablePointer<LinePlanEntry>.allocate(capacity: MetricCatalogue.capacity)
    @exclusivity(unchecked) private var planCount = 0
    @exclusivity(unchecked) private var planMetrics: [MetricID] = []
    @exclusivity(unchecked) private var planBound = 0
    /// Which plan this is, for `lineMemo`: a new number for every plan made.
    @exclusivity(unchecked) private var planNumber: Int32 = 0
    /// A line's numbers in plan order (value and delta per metric), and
    /// where each metric's text ends: scratch for one line.
    private let lineNumbers = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * MetricCatalogue.capacity)
    private let lineEnds = UnsafeMutablePointer<UInt16>.allocate(capacity: MetricCatalogue.capacity)
    /// Each process's last metrics text (`PerfLineMemo`), made at the first
    /// line; nil before, or when its memory could not be had.
    @exclusivity(unchecked) private var lineMemo: PerfLineMemo?
    @exclusivity(unchecked) private var lineMemoTried = false
    /// Tests turn the memo off to compare; and count what it served.
    @exclusivity(unchecked) var usesLineMemo = true
    @exclusivity(unchecked) private(set) var lineMemoCounts = (whole: 0, tails: 0)
    /// The current tick's timestamp, `SECONDS.MICROS`: every line of a tick has it.
    private let timeText = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
    @exclusivity(unchecked) private var timeCount = 0
    /// What the plan was last chosen for: the capture and the sample's
    /// `garbage_collection_info` set, which alone decide the metrics of a line
    /// (`lineMetrics`); and the metrics the portable dialect left out of such a line.
    @exclusivity(unchecked) private var planCapture = -1
    @exclusivity(unchecked) private var planGCSet = MetricSet()
    @exclusivity(unchecked) private var planDropped = 0
    /// The metrics of the last event line, and the `garbage_collection_info` set it was made for.
    @exclusivity(unchecked) private var lineMetrics: [MetricID] = []
    @exclusivity(unchecked) private var lineMetricsMask = MetricSet(rawValue: .max)
    /// Portable dialect: per capture, the metrics every event line carries, fixed by the first one.
    @exclusivity(unchecked) private var schemas: [[MetricID]?] = []
    @exclusivity(unchecked) private var metricsDropped = 0
    @exclusivity(unchecked) private var missing: [String: Int] = [:]
    @exclusivity(unchecked) private var written = 0
    private var nudged = false

    /// flame_prof's metrics come first in this order, `garbage_collection_info` after them, `minor_gcs` last.
    private static let leadingMetrics = [MetricCatalogue.reductions, MetricCatalogue.messageQueueLen, MetricCatalogue.memory, MetricCatalogue.totalHeapSize]

    /// `metrics`: what each event line carries (a sample lacking one is left
    /// out and counted); nil for flame_prof's metrics (docs/perf-output.md).
    public init(dialect: PerfDialect, output: any ByteOutput, metrics: [MetricID]? = nil, chunk: Int = 1 << 20) {
        self.dialect = dialect
        self.metrics = metrics
        requirements = PerfRequirements(metrics: metrics)
        self.output = output
        self.chunk = chunk
        buffer = OutputBytes(capacity: chunk + (1 << 20))
    }

    deinit {
        plan.deallocate()
        lineNumbers.deallocate()
        lineEnds.deallocate()
        timeText.deallocate()
        lineMemo?.deallocate()
    }

    public func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
        if let reason = requirements.missingReason(event, profile) {
            missing[reason, default: 0] += 1
            return
        }
        if event.tick != currentTick {
            // The tick before is not the last: none of it need stay.
            if buffer.count >= chunk { try drain(upTo: buffer.count) }
            currentTick = event.tick
            currentWall = event.wallMicros
            holdingTick = dialect == .portable && event.wallMicros % 1_000_000 == 0
            tickStart = buffer.count
            timestampEnds.removeAll(keepingCapacity: true)
            var t = timeText
            t.putTime(event.wallMicros)
            timeCount = t - timeText
        }
        writeEventLine(event, profile)
        writeFrames(event, profile)
        written += 1
        // Streamed per sample: only a tick that may need the nudge is held, and only so far.
        if buffer.count >= chunk {
            if !holdingTick {
                try drain(upTo: buffer.count)
            } else if buffer.count - tickStart > Self.tickHoldLimit {
                // Too much to hold: move this tick now, whether or not it is the last.
                nudgeCurrentTick()
                holdingTick = false
                try drain(upTo: buffer.count)
            } else if tickStart > 0 {
                try drain(upTo: tickStart)
            }
        }
    }

    /// Moves the current tick's timestamps 1 µs later (".000000" -> ".000001").
    private func nudgeCurrentTick() {
        for end in timestampEnds { buffer.set(end, to: UInt8(ascii: "1")) }
        if !timestampEnds.isEmpty { nudged = true }
        timestampEnds.removeAll(keepingCapacity: true)
    }

    public func finish(_ profile: Profile) throws(OutputError) {
        // FlameScope's heat map fails when the last event falls exactly on a whole
        // second: move the last tick's timestamps 1 µs later (".000000" -> ".000001").
        if holdingTick, written > 0 { nudgeCurrentTick() }
        try drain(upTo: buffer.count)
    }

    public var notes: [String] {
        var notes: [String] = []
        for (reason, count) in missing.sorted(by: { $0.key < $1.key }) {
            notes.append("skipped \(count) sample\(count == 1 ? "" : "s"): \(reason)")
        }
        if dialect == .portable, firstLevelLabels > Self.threadLabelLimit {
            notes.append("\(firstLevelLabels) first-level category labels: past \(Self.threadLabelLimit) their thread ids repeat, so the Firefox Profiler may show a process's samples of two labels in one thread")
        }
        if metricsDropped > 0 {
            notes.append("\(metricsDropped) metrics not present in the first sample were left out, so every event line carries the same metrics")
        }
        if written == 1 {
            notes.append("only one sample was written: FlameScope cannot draw a flame graph from a single sample")
        }
        return notes
    }

    /// Samples written.
    public var events: Int { written }
    public var samplesWritten: Int { written }
    /// Samples not written, by why: flame_prof's text needs what they lack.
    public var skippedSamples: [String: Int] { missing }
    /// True when the last tick's timestamps were moved off a whole second.
    public var nudgedLastTimestamp: Bool { nudged }

    private func drain(upTo end: Int) throws(OutputError) {
        guard end > 0 else { return }
        try output.write(UnsafeRawBufferPointer(start: buffer.base, count: end))
        buffer.removeFirst(end)
        for i in timestampEnds.indices { timestampEnds[i] -= end }
        tickStart -= end
    }

    // MARK: Event line

    private func writeEventLine(_ event: borrowing ProfileEvent, _ profile: Profile) {
        let portable = dialect == .portable
        let label = event.categories[0]
        let commRange = comm(label, profile)
        if event.capture != planCapture || event.sample.garbageCollectionMetrics != planGCSet || planCount == 0 {
            choosePlan(event, profile)
        }
        metricsDropped += planDropped
        let start = buffer.reserve(commRange.count + planBound)
        var p = start
        p.put(commBytes.bytes(commRange))
        let sample = event.sample
        if portable {
            let pid = Self.threadID(number: sample.pidNumber, serial: sample.pidSerial)
            p.put(0x20)
            p.putDecimal(pid)
            p.put(UInt8(ascii: "/"))
            p.putDecimal(pid + threadOffsets[Int(label)])
        } else {
            p.put(0x09); p.put(UInt8(ascii: "0")); p.put(UInt8(ascii: "."))
            p.putDecimal(Int64(sample.pidNumber))
            p.put(UInt8(ascii: "."))
            p.putDecimal(Int64(sample.pidSerial))
        }
        p.put(Self.cpuField)
        p.put(UnsafeBufferPointer(start: timeText, count: timeCount))
        let timestampEnd = buffer.count + (p - start) - 1
        p.put(portable ? Self.portableEvent : Self.flameProfEvent)
        let count = planCount, numbers = lineNumbers
        let present = event.metrics.present
        event.metrics.values.withUnsafeBufferPointer { values in
            event.metrics.deltas.withUnsafeBufferPointer { deltas in
                for i in 0..<count {
                    let index = Int(plan[i].metric)
                    // A metric a portable line carries but this sample lacks: 0, 0.
                    let has = present.contains(MetricID(index))
                    numbers[2 &* i] = has ? values[index] : 0
                    numbers[2 &* i &+ 1] = has ? deltas[index] : 0
                }
            }
        }
        putMetrics(count, numbers, pid: sample.pidKey, capture: event.capture, at: &p)
        p.put(0x0A)
        buffer.commit(p)
        if holdingTick { timestampEnds.append(timestampEnd) }
    }

    /// The line's metrics, spelling `numbers`: copied from the process's
    /// line before (`PerfLineMemo`) from the first metric on which all are
    /// as they were, formatted up to it.
    @inline(__always)
    private func putMetrics(_ count: Int, _ numbers: UnsafeMutablePointer<Int64>, pid: UInt64, capture: Int,
                            at p: inout UnsafeMutablePointer<UInt8>) {
        if !lineMemoTried {
            lineMemo = usesLineMemo ? PerfLineMemo() : nil
            lineMemoTried = true
        }
        let start = p
        guard let lineMemo, PerfLineMemo.keeps(count: count, textBound: planBound - Self.lineHeadBound) else {
            putMetrics(0..<count, numbers, at: &p, from: start)
            return
        }
        let slot = lineMemo.slot(pid: pid, capture: capture)
        guard slot.holds(pid: pid, capture: capture, plan: planNumber) else {
            putMetrics(0..<count, numbers, at: &p, from: start)
            slot.replace(pid: pid, capture: capture, plan: planNumber, count: count, text: start, ends: lineEnds, numbers: numbers)
            return
        }
        let head = slot.equalTail(numbers, count: count)
        let oldHeadEnd = head == 0 ? 0 : Int(slot.ends[head - 1])
        putMetrics(0..<head, numbers, at: &p, from: start)
        p.put(UnsafeBufferPointer(start: slot.text + oldHeadEnd, count: slot.textCount - oldHeadEnd))
        if head == 0 {
            lineMemoCounts.whole += 1
        } else {
            slot.store(head: head, count: count, headText: start, headEnds: lineEnds, oldHeadEnd: oldHeadEnd, numbers: numbers)
            if head < count { lineMemoCounts.tails += 1 }
        }
    }

    /// The metrics `range` of the plan, spelling `numbers`, with where each
    /// one's text ends (from `start`) in `lineEnds`.
    @inline(__always)
    private func putMetrics(_ range: Range<Int>, _ numbers: UnsafeMutablePointer<Int64>, at p: inout UnsafeMutablePointer<UInt8>,
                            from start: UnsafeMutablePointer<UInt8>) {
        let prefixes = prefixBytes.base
        for i in range {
            let entry = plan[i]
            p.put(UnsafeBufferPointer(start: prefixes + Int(entry.prefixStart), count: Int(entry.prefixCount)))
            p.putDecimal(numbers[2 &* i])
            p.put(UInt8(ascii: ","))
            p.put(0x20)
            p.putDecimal(numbers[2 &* i &+ 1])
            lineEnds[i] = UInt16(truncatingIfNeeded: p - start)
        }
    }

    /// The metrics of `event`'s line, and the plan for them (made again only
    /// when they changed).
    private func choosePlan(_ event: borrowing ProfileEvent, _ profile: Profile) {
        let dropped = metricsDropped
        let metrics = self.metrics ?? (dialect == .portable ? uniformMetrics(event, profile) : eventMetrics(event, profile))
        planDropped = metricsDropped - dropped
        metricsDropped = dropped
        planCapture = event.capture
        planGCSet = event.sample.garbageCollectionMetrics
        // The same storage as last time, mostly: == is then one comparison.
        if metrics != planMetrics || planCount == 0 { makePlan(metrics, profile) }
    }

    /// The plan of an event line carrying `metrics`, and its bound: the
    /// comm aside, 128 bytes for pid, time and event name, and per metric its
    /// prefix and two numbers of at most 20 digits and a sign, with ", ".
    private func makePlan(_ metrics: [MetricID], _ profile: Profile) {
        var bound = Self.lineHeadBound
        for (i, metric) in metrics.enumerated() {
            let range = prefix(metric, profile)
            plan[i] = LinePlanEntry(prefixStart: Int32(range.lowerBound), prefixCount: Int32(range.count), metric: Int32(metric.index))
            bound += range.count + 44
        }
        planCount = metrics.count
        planMetrics = metrics
        planBound = bound
        planNumber &+= 1
        if planNumber <= 0 {
            // Numbers are not used twice: slots of an old plan must not match.
            planNumber = 1
            lineMemo?.removeAll()
        }
    }

    /// Room for an event line's comm, pid, time and event name.
    private static let lineHeadBound = 128

    struct LinePlanEntry {
        var prefixStart: Int32
        var prefixCount: Int32
        var metric: Int32
    }

    /// flame_prof's metrics of one sample: the four fixed ones, its
    /// `garbage_collection_info` entries in the node's order, then minor_gcs.
    private func eventMetrics(_ event: borrowing ProfileEvent, _ profile: Profile) -> [MetricID] {
        let inGC = event.sample.garbageCollectionMetrics
        if inGC != lineMetricsMask {
            lineMetrics = Self.leadingMetrics
            for id in profile.catalogue.garbageCollectionOrder where inGC.contains(id) { lineMetrics.append(id) }
            lineMetrics.append(MetricCatalogue.minorGCs)
            lineMetricsMask = inGC
        }
        return lineMetrics
    }

    /// Portable dialect: every event line of a capture carries the same
    /// metrics (FlameScope reuses the previous line's value for a missing one),
    /// those of its first line.
    private func uniformMetrics(_ event: borrowing ProfileEvent, _ profile: Profile) -> [MetricID] {
        let metrics = eventMetrics(event, profile)
        if event.capture >= schemas.count { schemas.append(contentsOf: repeatElement(nil, count: event.capture + 1 - schemas.count)) }
        guard let schema = schemas[event.capture] else {
            schemas[event.capture] = metrics
            return metrics
        }
        if metrics == schema { return schema }
        metricsDropped += metrics.filter { !schema.contains($0) }.count
        return schema
    }

    private func prefix(_ metric: MetricID, _ profile: Profile) -> Range<Int> {
        if let known = metricPrefixes[metric.index] { return known }
        let start = prefixBytes.count
        Array("\tmetric_erlang_\(profile.catalogue[metric].name): ".utf8).withUnsafeBufferPointer { prefixBytes.append($0) }
        metricPrefixes[metric.index] = start..<prefixBytes.count
        return start..<prefixBytes.count
    }

    private func comm(_ label: UInt32, _ profile: Profile) -> Range<Int> {
        let index = Int(label)
        if index < comms.count, !comms[index].isEmpty { return comms[index] }
        if index >= comms.count { comms.append(contentsOf: repeatElement(0..<0, count: index + 1 - comms.count)) }
        let name = Array(profile.categoryName(label))
        let comm = dialect == .portable ? FrameText.portableComm(name) : name
        let start = commBytes.count
        comm.withUnsafeBufferPointer { commBytes.append($0) }
        comms[index] = start..<commBytes.count
        if index >= threadOffsets.count { threadOffsets.append(contentsOf: repeatElement(0, count: index + 1 - threadOffsets.count)) }
        threadOffsets[index] = Self.threadOffset(ordinal: firstLevelLabels)
        firstLevelLabels += 1
        return comms[index]
    }

    // MARK: Frames

    private func writeFrames(_ event: borrowing ProfileEvent, _ profile: Profile) {
        let stack = Int(event.stack)
        if stack >= blocks.count { blocks.append(contentsOf: repeatElement(0..<0, count: stack + 1 - blocks.count)) }
        var range = blocks[stack]
        if range.isEmpty {
            let block = FrameText.block(profile.frames(of: event.stack), profile: profile, dialect: dialect)
            if blockBytes.count + block.count > Self.blockCacheLimit {
                // Dumps whose stacks rarely repeat would grow the cache without
                // end; start it over instead (its capacity is kept).
                for i in blocks.indices { blocks[i] = 0..<0 }
                blockBytes.removeAll()
            }
            let start = blockBytes.count
            block.withUnsafeBufferPointer { blockBytes.append($0) }
            range = start..<blockBytes.count
            blocks[stack] = range
        }
        buffer.append(blockBytes.bytes(range))
        // Later levels are pseudo frames at the root, the second level outermost.
        if event.categories.count > 1 {
            for label in event.categories.dropFirst().reversed() {
                categoryLine(label, profile).withUnsafeBufferPointer { buffer.append($0) }
            }
        }
        buffer.append(0x0A)
    }

    private func categoryLine(_ label: UInt32, _ profile: Profile) -> [UInt8] {
        let index = Int(label)
        if index < categoryLines.count, let known = categoryLines[index] { return known }
        if index >= categoryLines.count { categoryLines.append(contentsOf: repeatElement(nil, count: index + 1 - categoryLines.count)) }
        let text = FrameText.categoryLine(Array(profile.categoryName(label)), dialect: dialect)
        categoryLines[index] = text
        return text
    }

    /// Most text of one tick held for the whole-second nudge (docs/LIMITS.md);
    /// past it the tick is moved at once, last or not.
    public static let tickHoldLimit = 64 << 20

    /// Bytes of frame block text kept; real captures' blocks fit many times over.
    static let blockCacheLimit = 4 << 20

    private static let cpuField: StaticString = " [000] "
    private static let flameProfEvent: StaticString = ": cpu-clock:"
    private static let portableEvent: StaticString = ": 1 cpu-clock:"

    /// The portable process id (PID) of `<0.number.serial>`, and the thread id
    /// of its first-level label first seen (`threadOffset`): the readers need integers,
    /// and some treat 0 as "none". OTP's local pid numbers are below 2^15 and
    /// serials below 2^13, so `serial * 2^15 + number` is unique and fits; the
    /// one pid it maps to 0, `<0.0.0>` (init), becomes 2^28.
    static func threadID(number: UInt32, serial: UInt32) -> Int64 {
        let id = Int64(serial) << 15 + Int64(number)
        return id == 0 ? 1 << 28 : id
    }

    /// What the portable thread id adds to the process id for the first-level
    /// label first met after `ordinal` others: `ordinal * 10^9`. Process ids
    /// stay below 10^9, so the tid is unique per (process, label) and shows
    /// the process id in its last nine digits; the first label seen keeps
    /// tid = pid. The Firefox Profiler keeps one thread per tid and names it
    /// after its latest sample's comm, so a process whose status changes needs
    /// one tid per status. Ordinals wrap at `threadLabelLimit`, which keeps
    /// every tid below 2^53, where JavaScript's numbers stop being exact.
    static func threadOffset(ordinal: Int) -> Int64 {
        Int64(ordinal % threadLabelLimit) * 1_000_000_000
    }

    /// First-level labels with a thread id of their own: the largest tid,
    /// `(threadLabelLimit - 1) * 10^9 + 2^28`, stays below 2^53.
    static let threadLabelLimit = 9_007_199
}
