
/// Per-process deltas with flame_prof's rules (docs/perf-output.md), across every
/// file of one capture.
///
/// Metrics, in the order they are written: reductions, message_queue_len,
/// memory, total_heap_size, each `garbage_collection_info` entry in the
/// node's order, then minor_gcs. A process's first sample has delta 1 for
/// reductions and 0 for the rest; so does a metric the process did not report
/// before. Samples lacking what the perf output needs are skipped and counted,
/// and do not move their process's state. At most `processLimit` processes are
/// remembered (see `ProcessStates`): one forgotten and seen again starts over
/// with first-sample deltas.
public struct DeltaCalculator {
    /// Metric names by slot: the four fixed ones, `minor_gcs`, then
    /// `garbage_collection_info` names as they are first seen.
    public private(set) var metricNames: [String] = ["reductions", "message_queue_len", "memory", "total_heap_size", "minor_gcs"]
    public private(set) var skippedSamples: [String: Int] = [:]
    /// `garbage_collection_info` entries left out: their names came after the
    /// first `maxMetrics` metrics.
    public private(set) var metricEntriesDropped = 0

    /// Most metric names kept (a real node reports about 16).
    public static let maxMetrics = ProcessStates.maxSlots

    public static let reductionsSlot = 0
    static let minorGCsSlot = 4

    private var states: ProcessStates
    /// The slot of each `garbage_collection_info` name, by name id (-1: none):
    /// an index, not a hash, per entry per sample.
    private var gcSlotByName: [Int32] = []

    public init(processLimit: Int = ProcessStates.defaultLimit) {
        states = ProcessStates(limit: processLimit, stride: 5)
    }

    /// Processes taken in so far: the distinct ones, except that a process
    /// forgotten and seen again counts again.
    public var processCount: Int { states.admitted }
    /// Processes forgotten to stay within the limit.
    public var forgottenProcesses: Int { states.forgotten }

    /// Computes `sample`'s metrics into `out` (replacing it). False when the
    /// sample lacks an item the output needs; it is then counted and skipped.
    public mutating func metrics(for sample: ProcessSample, gcInfo: ArraySlice<MetricEntry>, symbols: Symbols, into out: inout [MetricValue]) -> Bool {
        out.removeAll(keepingCapacity: true)
        let missing = ProcessSample.Items.perfRequired.subtracting(sample.present)
        if !missing.isEmpty {
            skippedSamples["missing \(Self.firstName(missing))", default: 0] += 1
            return false
        }
        // Slots first: widening the arena may forget processes, rows included.
        for entry in gcInfo where gcSlot(entry.name) == nil { addGCSlot(entry.name, symbols) }
        let row = states.row(for: UInt64(sample.pidNumber) << 32 | UInt64(sample.pidSerial))
        record(0, sample.reductions, row, &out)
        record(1, sample.messageQueueLen, row, &out)
        record(2, sample.memory, row, &out)
        record(3, sample.totalHeapSize, row, &out)
        for entry in gcInfo {
            guard let slot = gcSlot(entry.name) else {
                metricEntriesDropped += 1
                continue
            }
            record(slot, entry.value, row, &out)
        }
        record(Self.minorGCsSlot, sample.minorGCs, row, &out)
        return true
    }

    @inline(__always)
    private func gcSlot(_ name: UInt32) -> Int? {
        let index = Int(name)
        guard index < gcSlotByName.count, gcSlotByName[index] >= 0 else { return nil }
        return Int(gcSlotByName[index])
    }

    /// A slot for a new `garbage_collection_info` name, unless all are taken.
    private mutating func addGCSlot(_ name: UInt32, _ symbols: Symbols) {
        guard metricNames.count < Self.maxMetrics, name != Symbols.none else { return }
        let index = Int(name)
        if index >= gcSlotByName.count { gcSlotByName.append(contentsOf: repeatElement(-1, count: index + 1 - gcSlotByName.count)) }
        gcSlotByName[index] = Int32(metricNames.count)
        metricNames.append(symbols.nameText(name))
        states.widen(to: metricNames.count)
    }

    private mutating func record(_ slot: Int, _ now: Int64, _ row: Int, _ out: inout [MetricValue]) {
        let delta: Int64
        if let before = states.exchange(row: row, slot: slot, with: now) {
            // Saturating: a hostile dump may hold any 64-bit values (Int64.max,
            // then -1); real counters never get near the ends of the range.
            switch slot {
            case Self.reductionsSlot:
                let d = now.saturatingSubtracting(before)
                delta = d >= 0 ? d.saturatingAdding(1) : d.saturatingNegation
            case Self.minorGCsSlot:
                // A full sweep resets the counter.
                delta = now > before ? now.saturatingSubtracting(before) : now
            default:
                delta = now.saturatingSubtracting(before)
            }
        } else {
            delta = slot == Self.reductionsSlot ? 1 : 0
        }
        out.append(MetricValue(slot: slot, value: now, delta: delta))
    }

    private static func firstName(_ items: ProcessSample.Items) -> String {
        let names: [(ProcessSample.Items, String)] = [
            (.status, "status"), (.currentFunction, "current_function"), (.currentStacktrace, "current_stacktrace"),
            (.initialCall, "initial_call"), (.reductions, "reductions"), (.messageQueueLen, "message_queue_len"),
            (.memory, "memory"), (.totalHeapSize, "total_heap_size"), (.garbageCollectionInfo, "garbage_collection_info"),
            (.minorGCs, "minor_gcs"),
        ]
        return names.first { items.contains($0.0) }?.1 ?? "items"
    }
}
