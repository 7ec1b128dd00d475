/// The last value of each metric of each process, for `DeltaCalculator`, in
/// bounded memory.
///
/// Values live in one flat arena, `stride` slots a process, with one bit a
/// slot saying whether it holds a value: a process costs 8 bytes a metric and
/// about 40 more (about 170 with 16 metrics), with no allocation of its own.
/// At most
/// `capacity` processes are kept. When a new one would pass it, the least
/// recently seen half is forgotten, so a sweep comes once per `capacity / 2`
/// new processes. A forgotten process that comes back starts over, as on its
/// first sample. Real captures (hundreds to tens of thousands of processes)
/// never get there.
public struct ProcessStates {
    /// Slots a process can hold: the "holds a value" bits are one UInt64.
    static let maxSlots = 64
    /// Most processes remembered unless a run asks otherwise: real nodes have
    /// thousands; a hostile dump may name millions.
    public static let defaultLimit = 1_000_000
    /// Bytes of values kept at most; fewer processes than `limit` are kept when
    /// a node reports unusually many metrics (a real one has about 16).
    static let valueBytesLimit = 160 << 20

    /// Most processes to keep, as asked.
    let limit: Int
    /// Slots per process: every metric slot seen so far.
    private(set) var stride: Int
    /// Processes taken in: distinct ones, a forgotten one that came back again.
    private(set) var admitted = 0
    private(set) var forgotten = 0

    private var rows: [UInt64: Int32] = [:]
    private var pids: [UInt64] = []
    /// Per row, `clock` when its process was last seen: distinct for every row.
    private var lastSeen: [UInt64] = []
    private var holds: [UInt64] = []
    /// Per row, the wall time of its process's last sample (`Int64.min`: none).
    private var times: [Int64] = []
    private var values: [Int64] = []
    private var clock: UInt64 = 0
    /// Per place in a tick's samples list, the row last found there.
    private var placeRows = PlaceMemo<Int32>()

    init(limit: Int, stride: Int) {
        self.limit = max(1, min(limit, Int(Int32.max)))
        self.stride = max(1, stride)
    }

    var count: Int { pids.count }

    var capacity: Int { max(1, min(limit, Self.valueBytesLimit / (8 * stride))) }

    /// The row of the process with key `pid`, made on first sight (after a
    /// sweep when full).
    mutating func row(for pid: UInt64) -> Int {
        clock &+= 1
        if let known = rows[pid] {
            lastSeen[Int(known)] = clock
            return Int(known)
        }
        if pids.count >= capacity { forgetLeastRecentHalf() }
        let row = pids.count
        rows[pid] = Int32(row)
        pids.append(pid)
        lastSeen.append(clock)
        holds.append(0)
        times.append(.min)
        values.append(contentsOf: repeatElement(0, count: stride))
        admitted += 1
        return row
    }

    /// The row of the process with key `pid`, seen at `place` in its tick's
    /// samples: the row found at that place last time when it is still this
    /// process's, else `row(for:)`. Either way the process counts as seen now.
    mutating func row(for pid: UInt64, place: Int) -> Int {
        if let guess = placeRows[place].map(Int.init), guess < pids.count, pids[guess] == pid {
            clock &+= 1
            lastSeen[guess] = clock
            return guess
        }
        let row = row(for: pid)
        placeRows.note(Int32(row), at: place)
        return row
    }

    /// Puts `value` in `slot` of `row`; returns the value it replaces, or nil
    /// when the slot held none.
    /// (One slot at a time, for tests; `DeltaCalculator` uses `withRow`.)
    mutating func exchange(row: Int, slot: Int, with value: Int64) -> Int64? {
        withRow(row) { slots, holds in
            let bit = UInt64(1) << UInt64(slot)
            let before = holds & bit != 0 ? slots[slot] : nil
            slots[slot] = value
            holds |= bit
            return before
        }
    }

    /// `body` gets `row`'s slots and its "holds a value" bits, to read and
    /// change many slots at once with no check per slot.
    @inline(__always)
    mutating func withRow<R>(_ row: Int, _ body: (UnsafeMutableBufferPointer<Int64>, inout UInt64) -> R) -> R {
        let stride = self.stride
        return values.withUnsafeMutableBufferPointer { values in
            holds.withUnsafeMutableBufferPointer { holds in
                body(UnsafeMutableBufferPointer(rebasing: values[row * stride..<(row + 1) * stride]), &holds[row])
            }
        }
    }

    /// The value in `slot` of `row`, or nil when it holds none.
    func peek(row: Int, slot: Int) -> Int64? {
        holds[row] & (UInt64(1) << UInt64(slot)) != 0 ? values[row * stride + slot] : nil
    }

    /// Records the time of `row`'s newest sample; returns the one before, if any.
    mutating func exchangeTime(row: Int, with time: Int64) -> Int64? {
        let before = times[row]
        times[row] = time
        return before == .min ? nil : before
    }

    /// Makes room for slots `0..<slots` (at most `maxSlots`) in every row.
    mutating func widen(to slots: Int) {
        precondition(slots <= Self.maxSlots)
        guard slots > stride else { return }
        var wider = [Int64](repeating: 0, count: pids.count * slots)
        for row in 0..<pids.count {
            for slot in 0..<stride { wider[row * slots + slot] = values[row * stride + slot] }
        }
        values = wider
        stride = slots
        while pids.count > capacity { forgetLeastRecentHalf() }
    }

    /// Forgets the processes seen least recently: half of them (all of one).
    private mutating func forgetLeastRecentHalf() {
        let dropping = max(1, pids.count / 2)
        // Clocks are distinct, so this cut keeps exactly count - dropping rows.
        let cut = dropping < pids.count ? lastSeen.sorted()[dropping] : UInt64.max
        var kept = 0
        for row in 0..<pids.count where lastSeen[row] >= cut {
            if kept != row {
                pids[kept] = pids[row]
                lastSeen[kept] = lastSeen[row]
                holds[kept] = holds[row]
                times[kept] = times[row]
                for slot in 0..<stride { values[kept * stride + slot] = values[row * stride + slot] }
            }
            kept += 1
        }
        forgotten += pids.count - kept
        pids.removeLast(pids.count - kept)
        lastSeen.removeLast(lastSeen.count - kept)
        holds.removeLast(holds.count - kept)
        times.removeLast(times.count - kept)
        values.removeLast(values.count - kept * stride)
        rows.removeAll(keepingCapacity: true)
        for row in 0..<kept { rows[pids[row]] = Int32(row) }
    }
}
