import FlameModel

/// The last full sample of each process in the file being read, for the
/// agent's short samples: `[{status, S}, {reductions, R},
/// {message_queue_len, Q}, {flame_unchanged, Ts}]` stands for the full sample
/// the same process had at tick `Ts`, with those three items fresh
/// (docs/dump-format.md).
///
/// Kept by place in the samples list, as processes keep their places tick
/// after tick; a pid found elsewhere is looked up by pid. At most `limit`
/// places and `valuesPerSample` metric values each, so memory is bounded
/// whatever the node; a short sample whose full one was not kept is skipped
/// and counted, never guessed.
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
    mutating func remember(_ sample: ProcessSample, values sampleValues: UnsafeBufferPointer<Int64>, tick: Int64, place: Int) {
        guard place < limit, sampleValues.count <= Self.valuesPerSample else { return }
        while entries.count <= place {
            entries.append(Entry())
            values.append(contentsOf: repeatElement(0, count: Self.valuesPerSample))
        }
        let pid = sample.pidKey
        if entries[place].pid != pid {
            if entries[place].pid != .max, places[entries[place].pid] == Int32(place) { places[entries[place].pid] = nil }
            places[pid] = Int32(place)
        }
        entries[place] = Entry(pid: pid, tick: tick, sample: sample, valueCount: sampleValues.count)
        values.withUnsafeMutableBufferPointer { all in
            for (i, value) in sampleValues.enumerated() { all[place * Self.valuesPerSample + i] = value }
        }
    }

    /// The full sample of `pid` taken at tick `tick`, expected at `place`; nil when not kept.
    func recall(pid: UInt64, tick: Int64, place: Int) -> (sample: ProcessSample, values: ArraySlice<Int64>)? {
        var index = place
        if index >= entries.count || entries[index].pid != pid {
            guard let found = places[pid] else { return nil }
            index = Int(found)
        }
        let entry = entries[index]
        guard entry.pid == pid, entry.tick == tick else { return nil }
        let start = index * Self.valuesPerSample
        return (entry.sample, values[start..<start + entry.valueCount])
    }
}
