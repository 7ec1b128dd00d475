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
/// Kept by place, as processes keep their places tick after tick. Memory is
/// bounded: one tick's list bytes (at most `byteLimit`), and per place (at
/// most `placeLimit`) one entry and `slotsPerSample` integer marks. Entries
/// are made only as places are met, so a tick of 100 samples costs ~35 KB.
struct SampleTemplates {
    /// One marked integer: where it starts in its sample and which metric it sets.
    struct Slot {
        var offset: UInt32 = 0
        var metric: UInt8 = 0
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

    /// Metric integers marked per sample; a sample with more gets no entry
    /// (the agent writes about 18).
    static let slotsPerSample = 32
    /// Places kept at most: about 350 bytes each with their marks, 23 MB in
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

    /// Reads the sample at `place` from the reader's position, if it matches
    /// last tick's sample there in all but its marked integers: the entry,
    /// with `values` set for its marked metrics and the reader past the
    /// sample. The entry's offsets move to this tick's bytes (`listStart`:
    /// where this tick's first sample starts). nil, reader unmoved, on any
    /// difference.
    mutating func replay(place: Int, reader: inout ETFReader, listStart: Int, values: inout [Int64]) -> Entry? {
        guard place < validPlaces, entries[place].count > 0 else { return nil }
        let entry = entries[place]
        let start = reader.position
        let base = place * Self.slotsPerSample
        let slotCount = Int(entry.slotCount)
        let new = reader.buffer
        let matched: Int? = previous.withUnsafeBytes { old in
            slots.withUnsafeMutableBufferPointer { marks in
                values.withUnsafeMutableBufferPointer { values in
                    Self.match(old: old, from: Int(entry.start), count: Int(entry.count),
                               new: new, at: start, marks: UnsafeMutableBufferPointer(rebasing: marks[base..<base + slotCount]),
                               values: values)
                }
            }
        }
        guard let end = matched else { return nil }
        replayed += 1
        reader.position = end
        entries[place].start = Int32(truncatingIfNeeded: start - listStart)
        entries[place].count = Int32(truncatingIfNeeded: end - start)
        return entry
    }

    /// Compares the old sample's bytes with the new ones between the marks and
    /// decodes the new integers at the marks into `values`, moving each mark
    /// to its place in the new bytes. The new sample's end, or nil.
    private static func match(old: UnsafeRawBufferPointer, from oldStart: Int, count: Int,
                              new: UnsafeRawBufferPointer, at newStart: Int,
                              marks: UnsafeMutableBufferPointer<Slot>, values: UnsafeMutableBufferPointer<Int64>) -> Int? {
        var oldAt = oldStart
        var newAt = newStart
        let oldEnd = oldStart + count
        for k in 0..<marks.count {
            let integerAt = oldStart + Int(marks[k].offset)
            guard same(old, oldAt, new, newAt, integerAt - oldAt) else { return nil }
            newAt += integerAt - oldAt
            guard let oldWidth = integerWidth(old, integerAt), let (value, newWidth) = integer(new, newAt) else { return nil }
            values[Int(marks[k].metric)] = value
            marks[k].offset = UInt32(truncatingIfNeeded: newAt - newStart)
            oldAt = integerAt + oldWidth
            newAt += newWidth
        }
        guard same(old, oldAt, new, newAt, oldEnd - oldAt) else { return nil }
        return newAt + (oldEnd - oldAt)
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
    /// it is an integer that fits in 64 bits, whole within the bytes.
    @inline(__always)
    private static func integer(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> (Int64, Int)? {
        var reader = ETFReader(bytes: bytes)
        reader.position = at
        guard let value = try? reader.readInt64() else { return nil }
        return (value, reader.position - at)
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
