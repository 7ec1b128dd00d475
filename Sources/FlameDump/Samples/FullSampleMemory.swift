import FlameModel

/// The last full sample of each process in the file being read, for the
/// agent's short samples: `[{status, S}, {reductions, R},
/// {message_queue_len, Q}, {flame_unchanged, Ts}]` stands for the full sample
/// the same process had at tick `Ts`, with those three items fresh
/// (docs/dump-format.md).
///
/// One entry per process, found first at the process's place in the samples
/// list (processes mostly keep their places tick after tick), else by pid.
/// At most `limit` processes and `valuesPerSample` metric values each, so
/// memory is bounded whatever the node; a short sample whose full one was
/// not kept is skipped and counted, never guessed.
struct FullSampleMemory {
    struct Entry {
        var pid: UInt64 = .max
        var tick: Int64 = 0
        var sample = ProcessSample()
        var valueCount = 0
    }

    /// Metric values kept per sample; a sample with more is not kept.
    static let valuesPerSample = 32
    /// Places kept at most (about 400 bytes each).
    var limit = 200_000

    private var entries: [Entry] = []
    private var values: [Int64] = []
    /// Where each pid's entry is, for pids met away from their place.
    private var places: [UInt64: Int32] = [:]

    /// Forgets everything: a short sample refers to a full one in the same file.
    mutating func beginFile() {
        entries.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        places.removeAll(keepingCapacity: true)
    }

    /// Remembers the full sample at `place` of tick `tick`, its metric values given in catalogue order.
    ///
    /// Each process keeps its own entry: a process's entry is updated where it
    /// is; a new process takes the entry at its place when that one is free,
    /// else a new one. (Taking the place's entry from another process lost that
    /// process's full sample whenever the list's order changed, as it does
    /// with `select => all`, and its short samples were then skipped.) Past
    /// `limit` entries every entry is forgotten and counting starts over.
    mutating func remember(_ sample: ProcessSample, values sampleValues: UnsafeBufferPointer<Int64>, tick: Int64, place: Int) {
        guard sampleValues.count <= Self.valuesPerSample else { return }
        let pid = sample.pidKey
        let slot: Int
        if place < entries.count, entries[place].pid == pid {
            slot = place
        } else if let kept = places[pid] {
            slot = Int(kept)
        } else {
            let placeFree = place < limit && (place >= entries.count || entries[place].pid == .max)
            if places.count >= limit || (!placeFree && entries.count >= limit) { beginFile() }
            if place < limit, place >= entries.count || entries[place].pid == .max {
                slot = place
            } else {
                slot = entries.count
            }
            grow(to: slot + 1)
            places[pid] = Int32(slot)
        }
        entries[slot] = Entry(pid: pid, tick: tick, sample: sample, valueCount: sampleValues.count)
        values.withUnsafeMutableBufferPointer { all in
            for (i, value) in sampleValues.enumerated() { all[slot * Self.valuesPerSample + i] = value }
        }
    }

    private mutating func grow(to count: Int) {
        while entries.count < count {
            entries.append(Entry())
            values.append(contentsOf: repeatElement(0, count: Self.valuesPerSample))
        }
    }

    /// Where the full sample of `pid` taken at tick `tick` is kept, expected
    /// at `place`; nil when not kept. Read it with `sample(at:)` and
    /// `copyValues(at:into:except:)`.
    func recall(pid: UInt64, tick: Int64, place: Int) -> Int? {
        var index = place
        if index >= entries.count || entries[index].pid != pid {
            guard let found = places[pid] else { return nil }
            index = Int(found)
        }
        let entry = entries[index]
        guard entry.pid == pid, entry.tick == tick else { return nil }
        return index
    }

    /// The sample kept at `index` (from `recall`).
    @inline(__always)
    func sample(at index: Int) -> ProcessSample { entries[index].sample }

    /// Copies the metric values kept at `index` into `row` (indexed by
    /// metric), but for the metrics in `except`.
    @inline(__always)
    func copyValues(at index: Int, into row: inout [Int64], except: MetricSet) {
        let metrics = entries[index].sample.metrics
        let start = index * Self.valuesPerSample
        values.withUnsafeBufferPointer { kept in
            row.withUnsafeMutableBufferPointer { row in
                var at = start
                for id in metrics {
                    if !except.contains(id) { row[id.index] = kept[at] }
                    at += 1
                }
            }
        }
    }
}
