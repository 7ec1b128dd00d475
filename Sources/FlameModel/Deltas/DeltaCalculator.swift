/// Per-process deltas with flame_prof's rules (docs/perf-output.md), across
/// every file of one capture, for every metric a sample holds.
///
/// A process's first sample has delta 1 for reductions and 0 for the rest;
/// so does a metric the process did not report before. Later: reductions
/// `d + 1` when `d = now - before` is at least 0, else `-d`; minor_gcs
/// `now - before` when it grew, else `now` (a full sweep reset it); every
/// other metric `now - before`. A metric a sample lacks is absent from its
/// row and leaves its process's last value alone. Derived metrics the run
/// asked for are computed first and get gauge deltas like the rest. At most
/// `processLimit` processes are remembered (see `ProcessStates`): one
/// forgotten and seen again starts over with first-sample deltas.
public struct DeltaCalculator {
    private var states: ProcessStates
    /// Derived metrics to compute, with what they come from.
    private let derived: [(id: MetricID, derivation: Metric.Derivation)]

    public init(processLimit: Int = ProcessStates.defaultLimit, derived: [(id: MetricID, derivation: Metric.Derivation)] = []) {
        states = ProcessStates(limit: processLimit, stride: 8)
        self.derived = derived
    }

    /// Processes taken in so far: the distinct ones, except that a process
    /// forgotten and seen again counts again.
    public var processCount: Int { states.admitted }
    /// Processes forgotten to stay within the limit.
    public var forgottenProcesses: Int { states.forgotten }

    /// Fills `row` with `sample`'s metrics and their deltas. `wordSize` is
    /// the capture's bytes per word, for sizes in bytes; `metricCount` the
    /// catalogue's size (a process keeps a slot per metric).
    /// `place` is the sample's index in `tick.samples`: processes mostly keep
    /// theirs, which finds a process's row without hashing its pid.
    public mutating func compute(_ sample: ProcessSample, at place: Int, in tick: Tick, wordSize: Int64, metricCount: Int, into row: inout MetricRow) {
        // Slots first: widening the arena may forget processes, rows included.
        if metricCount > states.stride { states.widen(to: metricCount) }
        let process = states.row(for: sample.pidKey, place: place)
        let previousTime = states.exchangeTime(row: process, with: tick.wallMicros)
        var present = sample.metrics
        row.values.withUnsafeMutableBufferPointer { values in
            tick.metricValues.withUnsafeBufferPointer { source in
                var index = sample.firstValue
                for id in sample.metrics {
                    values[id.index] = source[index]
                    index += 1
                }
            }
            for (id, derivation) in derived {
                switch derivation {
                case .bytes(let source):
                    guard present.contains(source) else { continue }
                    values[id.index] = values[source.index].multipliedClamped(by: wordSize)
                    present.insert(id)
                case .perSecond(let source):
                    guard present.contains(source), let previousTime, tick.wallMicros > previousTime,
                          let before = states.peek(row: process, slot: source.index) else { continue }
                    let perMicro = Double(values[source.index].saturatingSubtracting(before)) / Double(tick.wallMicros.saturatingSubtracting(previousTime))
                    values[id.index] = Int64(exactly: (perMicro * 1_000_000).rounded()) ?? (perMicro > 0 ? .max : .min)
                    present.insert(id)
                }
            }
        }
        row.present = present
        row.values.withUnsafeBufferPointer { now in
            row.deltas.withUnsafeMutableBufferPointer { deltas in
                states.withRow(process) { slots, holds in
                    Self.deltas(present: present.rawValue, now: now, held: slots, holds: &holds, into: deltas)
                }
            }
        }
    }

    /// Deltas of the metrics `present` (a bit per slot) from the process's
    /// held values to `now`, which then become the held ones.
    ///
    /// One pass takes every metric's `now - before`; the metrics the process
    /// did not hold are then set to their first-sample deltas, and the two
    /// metrics with rules of their own are mended from that difference: no
    /// branch on the metric in the loop.
    @inline(__always)
    private static func deltas(present: UInt64, now: UnsafeBufferPointer<Int64>, held: UnsafeMutableBufferPointer<Int64>,
                               holds: inout UInt64, into deltas: UnsafeMutableBufferPointer<Int64>) {
        let had = holds
        var bits = present
        while bits != 0 {
            let slot = bits.trailingZeroBitCount
            bits &= bits &- 1
            let value = now[slot]
            // Saturating: a hostile dump may hold any 64-bit values (Int64.max,
            // then -1); real counters never get near the ends of the range. A
            // slot not held yet holds anything: its delta is set below.
            deltas[slot] = value.saturatingSubtracting(held[slot])
            held[slot] = value
        }
        holds = had | present
        var fresh = present & ~had
        while fresh != 0 {
            deltas[fresh.trailingZeroBitCount] = 0
            fresh &= fresh &- 1
        }
        // reductions: d + 1 when d >= 0, else -d; 1 on a first sample.
        let reductions = MetricCatalogue.reductions.index
        if present & (1 << UInt64(reductions)) != 0 {
            let d = deltas[reductions]
            deltas[reductions] = had & (1 << UInt64(reductions)) == 0 ? 1 : (d >= 0 ? d.saturatingAdding(1) : d.saturatingNegation)
        }
        // minor_gcs: the difference when it grew, else the count (a full sweep reset it).
        let minorGCs = MetricCatalogue.minorGCs.index
        if present & had & (1 << UInt64(minorGCs)) != 0, deltas[minorGCs] <= 0 {
            deltas[minorGCs] = now[minorGCs]
        }
    }
}
