/// Samples, reductions and the run's weight per stack as people read it
/// (frame display names, outermost first), and the top of each ranking.
///
/// A stack is kept as the ids of its frame names, so a distinct stack costs
/// four bytes a frame, not its text; texts are made only for the stacks
/// reported, and for ties that the ranking has to break by text.
struct StackTally {
    private var names: [String] = []
    private var nameIDs: [String: UInt32] = [:]
    private var entries: [[UInt32]: Int] = [:]
    private var frames: [[UInt32]] = []
    private var samples: [Int] = []
    private var reductions: [Int64] = []
    private var weights: [Int64] = []
    /// About the bytes held: names twice (text and key), frame ids twice (list and key), counters.
    private(set) var byteEstimate = 0

    /// What a ranking orders by first; ties go to the samples (or, by
    /// samples, to the reductions), then to the text.
    enum Ranking {
        case samples, reductions, weight
    }

    var count: Int { frames.count }

    /// The entry of the stack with these frame names, made on first sight.
    mutating func entry(for frameNames: [String]) -> Int {
        var ids: [UInt32] = []
        ids.reserveCapacity(frameNames.count)
        for name in frameNames {
            if let id = nameIDs[name] {
                ids.append(id)
            } else {
                let id = UInt32(names.count)
                byteEstimate += 2 * name.utf8.count + 64
                names.append(name)
                nameIDs[name] = id
                ids.append(id)
            }
        }
        if let known = entries[ids] { return known }
        let entry = frames.count
        byteEstimate += 8 * ids.count + 96
        entries[ids] = entry
        frames.append(ids)
        samples.append(0)
        reductions.append(0)
        weights.append(0)
        return entry
    }

    /// One sample of `entry`'s stack with this reductions delta and weight.
    mutating func add(_ entry: Int, reductions delta: Int64, weight: Int64 = 0) {
        samples[entry] += 1
        // Saturating: deltas of a hostile dump may each be near Int64.max.
        reductions[entry] = reductions[entry].saturatingAdding(delta)
        weights[entry] = weights[entry].saturatingAdding(weight)
    }

    /// A stack in a ranking: the figure ranked by, the other one, then the
    /// frames' text joined without separator (ascending), then first sight.
    private struct Ranked {
        var first: Int64
        var second: Int64
        var text: String
        var entry: Int

        func ranksBefore(_ other: Ranked) -> Bool {
            if first != other.first { return first > other.first }
            if second != other.second { return second > other.second }
            if text != other.text { return text < other.text }
            return entry < other.entry
        }
    }

    /// The `n` stacks ranking highest by `ranking`, in order.
    ///
    /// One pass keeps the best `n` in a heap whose root is the worst of them,
    /// so the cost is `count · log n` number comparisons; a text is made for a
    /// stack only when it enters the heap or ties with the root.
    func top(_ n: Int, by ranking: Ranking) -> [CaptureStats.Stack] {
        guard n > 0 else { return [] }
        var heap: [Ranked] = []
        heap.reserveCapacity(min(n, count))
        for entry in 0..<count {
            let sampleCount = Int64(samples[entry])
            let first: Int64, second: Int64
            switch ranking {
            case .samples: (first, second) = (sampleCount, reductions[entry])
            case .reductions: (first, second) = (reductions[entry], sampleCount)
            case .weight: (first, second) = (weights[entry], sampleCount)
            }
            if heap.count == n {
                let worst = heap[0]
                if (first, second) < (worst.first, worst.second) { continue }
                let candidate = Ranked(first: first, second: second, text: tieText(entry), entry: entry)
                guard candidate.ranksBefore(worst) else { continue }
                heap[0] = candidate
                Self.siftDown(&heap, from: 0)
            } else {
                heap.append(Ranked(first: first, second: second, text: tieText(entry), entry: entry))
                Self.siftUp(&heap, from: heap.count - 1)
            }
        }
        return heap.sorted { $0.ranksBefore($1) }.map { ranked in
            CaptureStats.Stack(frames: frames[ranked.entry].map { names[Int($0)] }, samples: samples[ranked.entry], reductions: reductions[ranked.entry],
                               weight: weights[ranked.entry])
        }
    }

    private func tieText(_ entry: Int) -> String {
        frames[entry].map { names[Int($0)] }.joined()
    }

    // A max-heap by rank from the bottom: each parent ranks after its children.

    private static func siftUp(_ heap: inout [Ranked], from index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent].ranksBefore(heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private static func siftDown(_ heap: inout [Ranked], from index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var last = parent
            if left < heap.count && heap[last].ranksBefore(heap[left]) { last = left }
            if right < heap.count && heap[last].ranksBefore(heap[right]) { last = right }
            if last == parent { return }
            heap.swapAt(parent, last)
            parent = last
        }
    }
}
