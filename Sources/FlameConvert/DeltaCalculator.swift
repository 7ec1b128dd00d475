import FlameDump

/// Per-process deltas with flame_prof's rules (perf-output.md), across every
/// file of one capture.
///
/// Metrics, in the order they are written: reductions, message_queue_len,
/// memory, total_heap_size, each `garbage_collection_info` entry in the
/// node's order, then minor_gcs. A process's first sample has delta 1 for
/// reductions and 0 for the rest; so does a metric the process did not report
/// before. Samples lacking what the perf output needs are skipped and counted,
/// and do not move their process's state.
public struct DeltaCalculator {
    /// Metric names by slot: the four fixed ones, `minor_gcs`, then
    /// `garbage_collection_info` names as they are first seen.
    public private(set) var metricNames: [String] = ["reductions", "message_queue_len", "memory", "total_heap_size", "minor_gcs"]
    public private(set) var skippedSamples: [String: Int] = [:]

    static let reductionsSlot = 0
    static let minorGCsSlot = 4

    private struct ProcessState {
        var values: [Int64] = []
        var seen: [Bool] = []
    }

    private var processIndex: [UInt64: Int] = [:]
    private var processes: [ProcessState] = []
    private var gcSlots: [UInt32: Int] = [:]

    public init() {}

    /// The number of distinct processes seen so far.
    public var processCount: Int { processes.count }

    /// Computes `sample`'s metrics into `out` (replacing it). False when the
    /// sample lacks an item the output needs; it is then counted and skipped.
    public mutating func metrics(for sample: ProcessSample, gcInfo: ArraySlice<MetricEntry>, symbols: Symbols, into out: inout [MetricValue]) -> Bool {
        out.removeAll(keepingCapacity: true)
        let missing = ProcessSample.Items.perfRequired.subtracting(sample.present)
        if !missing.isEmpty {
            skippedSamples["missing \(Self.firstName(missing))", default: 0] += 1
            return false
        }
        let key = UInt64(sample.pidNumber) << 32 | UInt64(sample.pidSerial)
        let index: Int
        if let known = processIndex[key] {
            index = known
        } else {
            index = processes.count
            processIndex[key] = index
            processes.append(ProcessState())
        }
        var state = processes[index]
        processes[index] = ProcessState()  // keep `state` uniquely referenced while it changes
        record(0, sample.reductions, &state, &out)
        record(1, sample.messageQueueLen, &state, &out)
        record(2, sample.memory, &state, &out)
        record(3, sample.totalHeapSize, &state, &out)
        for entry in gcInfo {
            record(gcSlot(entry.name, symbols), entry.value, &state, &out)
        }
        record(Self.minorGCsSlot, sample.minorGCs, &state, &out)
        processes[index] = state
        return true
    }

    private mutating func gcSlot(_ name: UInt32, _ symbols: Symbols) -> Int {
        if let slot = gcSlots[name] { return slot }
        let slot = metricNames.count
        metricNames.append(symbols.nameText(name))
        gcSlots[name] = slot
        return slot
    }

    private func record(_ slot: Int, _ now: Int64, _ state: inout ProcessState, _ out: inout [MetricValue]) {
        if state.values.count <= slot {
            state.values.append(contentsOf: repeatElement(0, count: slot + 1 - state.values.count))
            state.seen.append(contentsOf: repeatElement(false, count: slot + 1 - state.seen.count))
        }
        let delta: Int64
        if !state.seen[slot] {
            delta = slot == Self.reductionsSlot ? 1 : 0
        } else {
            // Saturating: a hostile dump may hold any 64-bit values (Int64.max,
            // then -1); real counters never get near the ends of the range.
            let before = state.values[slot]
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
        }
        state.values[slot] = now
        state.seen[slot] = true
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
