#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ETF
import FlameModel

/// Each process's last sample, per shape, kept as raw bytes with its
/// integers marked, and what it parsed to.
///
/// On a real node most samples repeat the same process's sample before in
/// everything but their numbers: same pid, status, stack, names, same item
/// keys in the same order. Such a sample is read by comparing the bytes
/// between the marked integers and decoding only the integers, instead of
/// walking and looking up every key, atom and stack again. Any difference in
/// those bytes sends the sample to the general parser.
///
/// A status, `current_function` or `current_stacktrace` that changed is no
/// reason to parse the whole sample again: the general parser marks them as
/// holes, and a replay hands each hole back to the parser (`ReplayStep.hole`),
/// which reads just that value (through its caches) and goes on comparing.
///
/// Kept by process and by the number of items (`Key`): the agent's short
/// samples have four items and its full ones fifteen, and a process may go
/// from one to the other and back; and not by place in the list, which moves
/// when the agent samples a node's processes a few hundred at a time. Memory
/// is bounded: at most `entryLimit` entries, each with `slotsPerSample`
/// marks, and `byteLimit` bytes of samples; past either, everything is
/// forgotten and made again as samples come.
struct SampleTemplates {
    /// One mark: where it starts in its sample, and which metric its integer
    /// sets or which value it holds (`Hole`); a hole's length, too.
    struct Slot {
        var offset: UInt32 = 0
        var width: UInt32 = 0
        var metric: UInt8 = 0
    }

    /// The integer of an item the parser does not read (`heap_size`,
    /// `stack_size` …): it may change, and is stepped over.
    static let ignoredInteger: UInt8 = 0xFC

    /// Values read by the parser, not compared: marks of these kinds.
    enum Hole: UInt8 {
        case status = 0xFD
        case currentFunction = 0xFE
        case currentStacktrace = 0xFF
    }

    /// Where a replay stands: its entry, the next mark, and how far the old
    /// and the new bytes were compared.
    struct Cursor {
        let entry: Int
        let base: Int
        let slotCount: Int
        let oldStart: Int
        let oldEnd: Int
        let newStart: Int
        var next = 0
        var oldAt: Int
        var newAt: Int
    }

    enum ReplayStep {
        /// The sample matched up to its end, at `end` in the new bytes.
        case matched(end: Int)
        /// The parser should read the value of this kind at `at`, then call `holeRead`.
        case hole(Hole, at: Int)
        case mismatch
    }

    /// What an entry is kept under: the process, and how many items its sample has.
    struct Key: Equatable {
        var pid: UInt64
        var items: Int
    }

    struct Entry {
        var key = Key(pid: 0, items: 0)
        /// Where the sample's bytes are in `bytes`, how many, and the room there.
        var start: Int32 = 0
        var count: Int32 = 0
        var capacity: Int32 = 0
        var slotCount: Int32 = 0
        /// The parse result before any short-sample completion, and the metrics it set.
        var sample = ProcessSample()
        var present = MetricSet()
        var presentInGC = MetricSet()
        var unchangedSince: Int64?
    }

    /// Marks per sample; a sample with more gets no entry (the agent writes
    /// about 18 integers and 3 holes).
    static let slotsPerSample = 32
    /// Entries kept at most: about 500 bytes each with their marks, 16 MB
    /// (a node's processes, twice for those with short samples too).
    var entryLimit = 32_768
    /// Bytes of samples kept at most; a sample longer than `sampleByteLimit`
    /// gets no entry.
    var byteLimit = 16 << 20
    static let sampleByteLimit = 64 << 10
    /// Probes of `table` at most: pids come from the dump, and a run of
    /// colliding ones only costs their replays.
    static let probes = 8

    private var entries: [Entry] = []
    private var slots: [Slot] = []
    private static let blankSlots = [Slot](repeating: Slot(), count: slotsPerSample)
    private static let zeros = [UInt8](repeating: 0, count: 16 << 10)
    /// The entries' sample bytes; a sample that outgrows its room moves to the end.
    private var bytes: [UInt8] = []
    /// Entry + 1 by key, 0 for none (open addressing); as many as twice the entry limit.
    private var table: [Int32] = []
    /// Samples read by replay, for tests and reports; and of those, the ones
    /// that repeated their entry's bytes whole (`replayWhole`).
    private(set) var replayed = 0
    private(set) var replayedWhole = 0

    /// The sample being parsed by the general parser: its key, its marks so
    /// far, and whether it may become an entry.
    private var pendingKey: Key?
    private var pending: [Slot] = []
    private var pendingStart = 0
    private var pendingUsable = false

    /// Forgets everything.
    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        table.removeAll(keepingCapacity: true)
    }

    // MARK: The general parser's marks

    /// The general parser begins a sample whose bytes start at `start`;
    /// `key`, when its pid and items were seen.
    @inline(__always)
    mutating func beginSample(key: Key?, start: Int) {
        pending.removeAll(keepingCapacity: true)
        pendingStart = start
        pendingKey = key
        pendingUsable = key != nil
    }

    /// A metric integer read at `position` for `metric`.
    @inline(__always)
    mutating func mark(_ metric: MetricID, at position: Int) {
        guard pendingUsable else { return }
        guard pending.count < Self.slotsPerSample else {
            pendingUsable = false
            return
        }
        pending.append(Slot(offset: UInt32(truncatingIfNeeded: position - pendingStart), metric: UInt8(truncatingIfNeeded: metric.index)))
    }

    /// An integer at `position` that no metric takes.
    @inline(__always)
    mutating func markIgnoredInteger(at position: Int) {
        guard pendingUsable else { return }
        guard pending.count < Self.slotsPerSample else {
            pendingUsable = false
            return
        }
        pending.append(Slot(offset: UInt32(truncatingIfNeeded: position - pendingStart), metric: Self.ignoredInteger))
    }

    /// A value of kind `hole` read from `start` to `end`.
    @inline(__always)
    mutating func mark(_ hole: Hole, from start: Int, to end: Int) {
        guard pendingUsable else { return }
        guard pending.count < Self.slotsPerSample else {
            pendingUsable = false
            return
        }
        pending.append(Slot(offset: UInt32(truncatingIfNeeded: start - pendingStart), width: UInt32(truncatingIfNeeded: end - start), metric: hole.rawValue))
    }

    /// The sample cannot be replayed from its bytes (it noted a skipped entry, …).
    @inline(__always)
    mutating func spoil() { pendingUsable = false }

    /// The general parser finished the sample, whose bytes `new` ends at
    /// `end`: keep it, when usable, for the process's next sample.
    mutating func endSample(new: UnsafeRawBufferPointer, end: Int, sample: ProcessSample, present: MetricSet, presentInGC: MetricSet, unchangedSince: Int64?) {
        guard let key = pendingKey else { return }
        let count = end - pendingStart
        guard pendingUsable, count <= Self.sampleByteLimit else {
            forget(key)
            return
        }
        let index: Int
        if let known = find(key) {
            index = known
        } else {
            if entries.count >= entryLimit { removeAll() }
            guard let made = add(key) else { return }
            index = made
        }
        entries[index].slotCount = Int32(pending.count)
        entries[index].sample = sample
        entries[index].present = present
        entries[index].presentInGC = presentInGC
        entries[index].unchangedSince = unchangedSince
        let base = index * Self.slotsPerSample
        for (i, slot) in pending.enumerated() { slots[base + i] = slot }
        keepBytes(index, UnsafeRawBufferPointer(rebasing: new[pendingStart..<end]))
    }

    /// The sample of `key` failed or was not kept: its entry goes.
    mutating func forget(_ key: Key) {
        if let index = find(key) { entries[index].slotCount = -1 }
    }

    // MARK: Replay

    /// A replay of the sample under `key`, starting at `newStart` in the new
    /// bytes, if an earlier sample left an entry.
    @inline(__always)
    func beginReplay(_ key: Key, at newStart: Int) -> Cursor? {
        guard let index = find(key), entries[index].slotCount >= 0 else { return nil }
        let entry = entries[index]
        return Cursor(entry: index, base: index * Self.slotsPerSample, slotCount: Int(entry.slotCount),
                      oldStart: Int(entry.start), oldEnd: Int(entry.start) + Int(entry.count), newStart: newStart,
                      oldAt: Int(entry.start), newAt: newStart)
    }

    /// The new sample, when its bytes are the old one's, every one: its
    /// integers decoded into `values`, and where it ends in `new`. Nothing
    /// moves and nothing is copied (the entry already holds these bytes, and
    /// the parse result of its holes). nil when any byte differs.
    ///
    /// With `select => all`, 81-91 % of samples repeat their process's last
    /// sample of their shape byte for byte (idle processes' short samples).
    @inline(__always)
    mutating func replayWhole(_ cursor: Cursor, new: UnsafeRawBufferPointer, values: inout [Int64]) -> Int? {
        let count = cursor.oldEnd - cursor.oldStart
        let end = cursor.newStart + count
        guard end <= new.count else { return nil }
        // Self is not changed inside: its arrays need no extra reference.
        let same = bytes.withUnsafeBytes { old in
            memcmp(old.baseAddress! + cursor.oldStart, new.baseAddress! + cursor.newStart, count) == 0
        }
        guard same else { return nil }
        let decoded = slots.withUnsafeBufferPointer { marks in
            values.withUnsafeMutableBufferPointer { values in
                for k in cursor.base..<cursor.base + cursor.slotCount {
                    let metric = marks[k].metric
                    guard metric < Self.ignoredInteger else { continue }
                    guard let (value, _) = Self.integer(new, cursor.newStart + Int(marks[k].offset)) else { return false }
                    values[Int(metric)] = value
                }
                return true
            }
        }
        guard decoded else { return nil }
        replayed += 1
        replayedWhole += 1
        return end
    }

    /// Compares the old sample's bytes with the new ones between the marks,
    /// decoding the new integers at integer marks into `values` and moving each
    /// mark to its place in the new bytes, up to the next hole or the end.
    mutating func step(_ cursor: inout Cursor, new: UnsafeRawBufferPointer, values: inout [Int64]) -> ReplayStep {
        bytes.withUnsafeBytes { old in
            slots.withUnsafeMutableBufferPointer { marks in
                values.withUnsafeMutableBufferPointer { values in
                    while cursor.next < cursor.slotCount {
                        let k = cursor.base + cursor.next
                        let markAt = cursor.oldStart + Int(marks[k].offset)
                        let gap = markAt - cursor.oldAt
                        if let hole = Hole(rawValue: marks[k].metric) {
                            let width = Int(marks[k].width)
                            // Mostly the value is as before: the gap and the hole in one
                            // comparison (ETF is prefix-free: the same bytes, the same value).
                            if Self.same(old, cursor.oldAt, new, cursor.newAt, gap + width) {
                                marks[k].offset = UInt32(truncatingIfNeeded: cursor.newAt + gap - cursor.newStart)
                                cursor.oldAt = markAt + width
                                cursor.newAt += gap + width
                                cursor.next += 1
                                continue
                            }
                            guard Self.same(old, cursor.oldAt, new, cursor.newAt, gap) else { return .mismatch }
                            cursor.newAt += gap
                            marks[k].offset = UInt32(truncatingIfNeeded: cursor.newAt - cursor.newStart)
                            cursor.oldAt = markAt
                            // The parser reads it; `holeRead` moves on past it.
                            return .hole(hole, at: cursor.newAt)
                        }
                        guard Self.same(old, cursor.oldAt, new, cursor.newAt, gap) else { return .mismatch }
                        cursor.newAt += gap
                        guard let oldWidth = Self.integerWidth(old, markAt), let (value, newWidth) = Self.integer(new, cursor.newAt) else { return .mismatch }
                        if marks[k].metric != Self.ignoredInteger { values[Int(marks[k].metric)] = value }
                        marks[k].offset = UInt32(truncatingIfNeeded: cursor.newAt - cursor.newStart)
                        cursor.oldAt = markAt + oldWidth
                        cursor.newAt += newWidth
                        cursor.next += 1
                    }
                    guard Self.same(old, cursor.oldAt, new, cursor.newAt, cursor.oldEnd - cursor.oldAt) else { return .mismatch }
                    return .matched(end: cursor.newAt + (cursor.oldEnd - cursor.oldAt))
                }
            }
        }
    }

    /// The parser read the hole `step` gave, up to `end` in the new bytes.
    mutating func holeRead(_ cursor: inout Cursor, end: Int) {
        let k = cursor.base + cursor.next
        cursor.oldAt += Int(slots[k].width)
        slots[k].width = UInt32(truncatingIfNeeded: end - cursor.newAt)
        cursor.newAt = end
        cursor.next += 1
    }

    /// The entry a replay started from (its sample as last parsed).
    func entry(_ cursor: Cursor) -> Entry { entries[cursor.entry] }

    /// The replay matched up to `end` of `new`: the entry now holds the new
    /// bytes and `sample`, the sample with its holes as read now.
    mutating func finishReplay(_ cursor: Cursor, new: UnsafeRawBufferPointer, end: Int, sample: ProcessSample) {
        replayed += 1
        entries[cursor.entry].sample = sample
        keepBytes(cursor.entry, UnsafeRawBufferPointer(rebasing: new[cursor.newStart..<end]))
    }

    // MARK: Entries

    /// Copies `sample` into entry `index`'s room, or to the end of `bytes`
    /// with some room to grow; past `byteLimit`, everything is forgotten but
    /// this entry.
    private mutating func keepBytes(_ index: Int, _ sample: UnsafeRawBufferPointer) {
        let count = sample.count
        if count > Int(entries[index].capacity) {
            guard count + count / 4 <= byteLimit else {
                entries[index].slotCount = -1  // it would not fit even alone
                return
            }
            if bytes.count + count + count / 4 > byteLimit {
                let entry = entries[index]
                let marks = Array(slots[index * Self.slotsPerSample..<(index + 1) * Self.slotsPerSample])
                removeAll()
                guard let made = add(entry.key) else { return }
                var moved = entry
                moved.start = 0
                moved.capacity = 0
                entries[made] = moved
                slots.replaceSubrange(made * Self.slotsPerSample..<(made + 1) * Self.slotsPerSample, with: marks)
                return keepBytes(made, sample)
            }
            entries[index].start = Int32(bytes.count)
            entries[index].capacity = Int32(count + count / 4)
            var room = count + count / 4
            // Whole arrays, not repeatElement: appending a generic sequence goes
            // a byte at a time where the standard library is not specialised.
            while room > 0 {
                bytes.append(contentsOf: Self.zeros[..<min(room, Self.zeros.count)])
                room -= min(room, Self.zeros.count)
            }
        }
        let start = Int(entries[index].start)
        bytes.withUnsafeMutableBytes { kept in
            (kept.baseAddress! + start).copyMemory(from: sample.baseAddress!, byteCount: count)
        }
        entries[index].count = Int32(count)
    }

    @inline(__always)
    private func find(_ key: Key) -> Int? {
        guard !table.isEmpty else { return nil }
        let mask = table.count - 1
        var slot = Self.hash(key) & mask
        for _ in 0..<Self.probes {
            let held = Int(table[slot])
            if held == 0 { return nil }
            if entries[held - 1].key == key { return held - 1 }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// A new entry under `key`, or nil when its probe run is full.
    private mutating func add(_ key: Key) -> Int? {
        if table.count < max(64, (entries.count + 1) * 2) { rehash(to: max(64, table.count * 2)) }
        let mask = table.count - 1
        var slot = Self.hash(key) & mask
        for _ in 0..<Self.probes {
            if table[slot] == 0 {
                entries.append(Entry(key: key))
                slots.append(contentsOf: Self.blankSlots)
                table[slot] = Int32(entries.count)
                return entries.count - 1
            }
            slot = (slot + 1) & mask
        }
        return nil
    }

    private mutating func rehash(to size: Int) {
        table = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for (index, entry) in entries.enumerated() {
            var slot = Self.hash(entry.key) & mask
            for _ in 0..<Self.probes {
                if table[slot] == 0 {
                    table[slot] = Int32(index + 1)
                    break
                }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    private static func hash(_ key: Key) -> Int {
        Int(truncatingIfNeeded: ((key.pid ^ UInt64(truncatingIfNeeded: key.items) &* 0xFF51_AFD7_ED55_8CCD) &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    @inline(__always)
    private static func same(_ a: UnsafeRawBufferPointer, _ aAt: Int, _ b: UnsafeRawBufferPointer, _ bAt: Int, _ count: Int) -> Bool {
        guard count >= 0, bAt + count <= b.count else { return false }
        return count == 0 || memcmp(a.baseAddress! + aAt, b.baseAddress! + bAt, count) == 0
    }

    /// The encoded length of the integer term at `at` (kept bytes: well formed).
    @inline(__always)
    private static func integerWidth(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> Int? {
        switch bytes[at] {
        case ETFTag.smallInteger: return 2
        case ETFTag.integer: return 5
        case ETFTag.smallBig: return 3 + Int(bytes[at + 1])
        default: return nil
        }
    }

    /// The integer term at `at` of unchecked bytes, and its length; nil unless
    /// it is an integer that fits in 64 bits, whole within the bytes. The two
    /// common tags are read here; the rest by the reader's rules.
    @inline(__always)
    private static func integer(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> (Int64, Int)? {
        let end = bytes.count
        guard at < end else { return nil }
        switch bytes[at] {
        case ETFTag.smallInteger:
            guard at + 2 <= end else { return nil }
            return (Int64(bytes[at + 1]), 2)
        case ETFTag.integer:
            guard at + 5 <= end else { return nil }
            let raw = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: at + 1, as: UInt32.self))
            return (Int64(Int32(bitPattern: raw)), 5)
        default:
            var reader = ETFReader(bytes: bytes)
            reader.position = at
            guard let value = try? reader.readInt64() else { return nil }
            return (value, reader.position - at)
        }
    }
}
