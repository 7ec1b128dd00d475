#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ETF
import FlameModel

/// The previous tick's sample at each place in the samples list, kept as raw
/// bytes with its metric integers marked, and what it parsed to.
///
/// On a real node most samples repeat the same process's sample of the tick
/// before in everything but their numbers: same pid, status, stack, names,
/// same item keys in the same order. Such a sample is read by comparing the
/// bytes between the marked integers and decoding only the integers, instead
/// of walking and looking up every key, atom and stack again. Any difference
/// in those bytes sends the sample to the general parser.
///
/// A status, `current_function` or `current_stacktrace` that changed is no
/// reason to parse the whole sample again: the general parser marks them as
/// holes, and a replay hands each hole back to the parser (`ReplayStep.hole`),
/// which reads just that value (through its caches) and goes on comparing.
///
/// Kept by place, as processes keep their places tick after tick. Memory is
/// bounded: one tick's list bytes (at most `byteLimit`), and per place (at
/// most `placeLimit`) one entry and `slotsPerSample` integer marks. Entries
/// are made only as places are met, so a tick of 100 samples costs ~48 KB.
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

    /// Where a replay stands: the entry's place, the next mark, and how far
    /// the old and the new bytes were compared.
    struct Cursor {
        let place: Int
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

    struct Entry {
        /// Where the sample's bytes start in `previous`, and how many; count 0: none kept.
        var start: Int32 = 0
        var count: Int32 = 0
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
    /// Places kept at most: about 480 bytes each with their marks, 32 MB in
    /// all (an agent tick holds at most max_procs_per_tick, 250 by default).
    var placeLimit = 65_536
    /// A tick whose samples list is longer than this many bytes is not kept
    /// (its bytes are copied once per tick).
    var byteLimit = 16 << 20

    private var entries: [Entry] = []
    private var slots: [Slot] = []
    /// The last tick's samples list, from its first sample to its end.
    private var previous: [UInt8] = []
    /// Places of the last tick that have entries (entries past it are stale).
    private var validPlaces = 0
    /// Samples read by replay, for tests and reports.
    private(set) var replayed = 0

    /// The sample being parsed by the general parser: its marks so far, and
    /// whether it may become an entry.
    private var pending: [Slot] = []
    private var pendingStart = 0
    private var pendingUsable = false

    /// Forgets everything (a new file: a short sample names a full one of its own file).
    mutating func removeAll() {
        validPlaces = 0
        previous.removeAll(keepingCapacity: true)
    }

    // MARK: The general parser's marks

    /// The general parser begins the sample at `place`, whose bytes start at `start`.
    @inline(__always)
    mutating func beginSample(place: Int, start: Int) {
        pending.removeAll(keepingCapacity: true)
        pendingStart = start
        pendingUsable = place < placeLimit
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

    /// The general parser finished the sample at `place`: keep it, when usable,
    /// for the next tick. `listStart`: where this tick's first sample starts.
    mutating func endSample(place: Int, end: Int, listStart: Int, sample: ProcessSample, present: MetricSet, presentInGC: MetricSet, unchangedSince: Int64?) {
        guard pendingUsable else {
            forget(place: place)
            return
        }
        while entries.count <= place {
            entries.append(Entry())
            slots.append(contentsOf: repeatElement(Slot(), count: Self.slotsPerSample))
        }
        entries[place] = Entry(start: Int32(truncatingIfNeeded: pendingStart - listStart), count: Int32(truncatingIfNeeded: end - pendingStart),
                               slotCount: Int32(pending.count), sample: sample, present: present, presentInGC: presentInGC,
                               unchangedSince: unchangedSince)
        let base = place * Self.slotsPerSample
        for (i, slot) in pending.enumerated() { slots[base + i] = slot }
    }

    /// The sample at `place` failed or was not kept.
    mutating func forget(place: Int) {
        if place < entries.count { entries[place].count = 0 }
    }

    // MARK: Replay

    /// A replay of the sample at `place`, starting at `newStart` in the new
    /// bytes, if last tick left an entry there.
    @inline(__always)
    func beginReplay(place: Int, at newStart: Int) -> Cursor? {
        guard place < validPlaces, entries[place].count > 0 else { return nil }
        let entry = entries[place]
        return Cursor(place: place, base: place * Self.slotsPerSample, slotCount: Int(entry.slotCount),
                      oldStart: Int(entry.start), oldEnd: Int(entry.start) + Int(entry.count), newStart: newStart,
                      oldAt: Int(entry.start), newAt: newStart)
    }

    /// Compares the old sample's bytes with the new ones between the marks,
    /// decoding the new integers at integer marks into `values` and moving each
    /// mark to its place in the new bytes, up to the next hole or the end.
    mutating func step(_ cursor: inout Cursor, new: UnsafeRawBufferPointer, values: inout [Int64]) -> ReplayStep {
        previous.withUnsafeBytes { old in
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
    func entry(_ cursor: Cursor) -> Entry { entries[cursor.place] }

    /// The replay matched up to `end`: the entry now describes the new bytes
    /// (`listStart`: where this tick's first sample starts) and `sample`, the
    /// sample with its holes as read now.
    mutating func finishReplay(_ cursor: Cursor, end: Int, listStart: Int, sample: ProcessSample) {
        replayed += 1
        entries[cursor.place].start = Int32(truncatingIfNeeded: cursor.newStart - listStart)
        entries[cursor.place].count = Int32(truncatingIfNeeded: end - cursor.newStart)
        entries[cursor.place].sample = sample
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

    // MARK: Ticks

    /// The tick's samples list was read whole, from `listStart` to `end` of
    /// `bytes`, over `places` places: its bytes become the next tick's
    /// previous ones.
    mutating func endTick(bytes: UnsafeRawBufferPointer, listStart: Int, end: Int, places: Int) {
        let count = end - listStart
        guard count <= byteLimit else {
            removeAll()
            return
        }
        previous.removeAll(keepingCapacity: true)
        previous.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[listStart..<end]))
        validPlaces = min(places, entries.count)
    }
}
