#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Each process's last event line after its event name (the metrics text),
/// with the numbers it spells, so that a line repeating it is copied, not
/// formatted again.
///
/// Most processes of a node are idle most of the time. With `select => all`,
/// 82-90 % of a process's event lines spell every metric (value and delta)
/// as its line before did, and most of the rest share a tail of metrics with
/// it; with `{top, N}` about a third of the metrics sit in such a tail. The
/// sink formats a line's metrics up to the first from which all are as
/// before, and copies the text from there on (`equalTail`, `store`).
///
/// Slots are direct-mapped by process and capture: a slot holds the line of
/// whichever process came to it last, and two processes sharing one only
/// cost formatting. A slot's text is used only where every number it spells
/// equals the new line's, under the same line plan, so what is written never
/// depends on which process left the slot. Memory is fixed: `slotCount` slots
/// of `slotBytes`, touched only as processes come (docs/LIMITS.md).
struct PerfLineMemo {
    /// Metrics a line may carry and still be kept (flame_prof's set is about 16).
    static let maxMetrics = 32
    /// Bytes of metrics text a slot holds; a plan whose lines may be longer is not kept.
    static let maxTextBytes = 2048
    /// Slots: a node's processes, beyond which some share one.
    static let slotBits = 12
    static let slotCount = 1 << slotBits

    // A slot: header, the numbers (value and delta per metric), where each
    // metric's text ends, then the text.
    private static let headerBytes = 24
    private static let numbersOffset = headerBytes
    private static let endsOffset = numbersOffset + maxMetrics * 16
    private static let textOffset = endsOffset + maxMetrics * 2
    static let slotBytes = textOffset + maxTextBytes

    private let base: UnsafeMutableRawPointer

    /// Nil when the memory cannot be had: lines are then all formatted.
    init?() {
        // calloc: zeroed (every slot empty) by the kernel, and pages that no
        // process touches never become resident.
        guard let memory = calloc(Self.slotCount, Self.slotBytes) else { return nil }
        base = memory
    }

    func deallocate() { free(base) }

    /// Empties every slot.
    func removeAll() {
        for slot in 0..<Self.slotCount { Slot(base + slot * Self.slotBytes).plan = 0 }
    }

    /// Whether lines of `count` metrics, at most `textBound` bytes of text, can be kept.
    static func keeps(count: Int, textBound: Int) -> Bool {
        count <= maxMetrics && textBound <= maxTextBytes
    }

    /// The slot for process `pid` of capture `capture`.
    @inline(__always)
    func slot(pid: UInt64, capture: Int) -> Slot {
        let mixed = (pid ^ UInt64(truncatingIfNeeded: capture) &* 0xFF51_AFD7_ED55_8CCD) &* 0x9E37_79B9_7F4A_7C15
        return Slot(base + Int(truncatingIfNeeded: mixed >> UInt64(64 - Self.slotBits)) * Self.slotBytes)
    }

    /// One slot's fields, in place.
    struct Slot {
        let raw: UnsafeMutableRawPointer

        init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

        /// The process whose line it holds.
        var pid: UInt64 {
            get { raw.load(as: UInt64.self) }
            nonmutating set { raw.storeBytes(of: newValue, as: UInt64.self) }
        }
        var capture: Int32 {
            get { raw.load(fromByteOffset: 8, as: Int32.self) }
            nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 8, as: Int32.self) }
        }
        /// The line plan its text was made under (`PerfSink`'s plan number); 0: empty.
        var plan: Int32 {
            get { raw.load(fromByteOffset: 12, as: Int32.self) }
            nonmutating set { raw.storeBytes(of: newValue, toByteOffset: 12, as: Int32.self) }
        }
        /// Bytes of text.
        var textCount: Int {
            get { Int(raw.load(fromByteOffset: 16, as: Int32.self)) }
            nonmutating set { raw.storeBytes(of: Int32(truncatingIfNeeded: newValue), toByteOffset: 16, as: Int32.self) }
        }

        /// Value and delta of the plan's metrics, in plan order.
        var numbers: UnsafeMutablePointer<Int64> {
            (raw + PerfLineMemo.numbersOffset).assumingMemoryBound(to: Int64.self)
        }
        /// Where the text of each metric ends, in plan order.
        var ends: UnsafeMutablePointer<UInt16> {
            (raw + PerfLineMemo.endsOffset).assumingMemoryBound(to: UInt16.self)
        }
        var text: UnsafeMutablePointer<UInt8> {
            (raw + PerfLineMemo.textOffset).assumingMemoryBound(to: UInt8.self)
        }

        @inline(__always)
        func holds(pid: UInt64, capture: Int, plan: Int32) -> Bool {
            self.plan == plan && self.pid == pid && Int(self.capture) == capture
        }

        /// The first metric from which the slot's numbers equal `numbers`
        /// (value and delta per metric, `count` metrics) to the end: `count`
        /// when the last differs, 0 when all are equal.
        @inline(__always)
        func equalTail(_ numbers: UnsafePointer<Int64>, count: Int) -> Int {
            let held = self.numbers
            // Mostly every number is as before: one comparison of them all.
            if memcmp(held, numbers, 16 &* count) == 0 { return 0 }
            var k = count
            while k > 0, held[2 &* k &- 2] == numbers[2 &* k &- 2], held[2 &* k &- 1] == numbers[2 &* k &- 1] { k -= 1 }
            return k
        }

        /// Takes a new line whose first `head` metrics were formatted to
        /// `text` (`headEnds` their ends) and the rest copied from this slot,
        /// from `oldHeadEnd` on. `numbers` are the whole line's.
        @inline(__always)
        func store(head: Int, count: Int, headText: UnsafePointer<UInt8>, headEnds: UnsafePointer<UInt16>,
                   oldHeadEnd: Int, numbers: UnsafePointer<Int64>) {
            let headCount = head == 0 ? 0 : Int(headEnds[head - 1])
            let tailCount = textCount - oldHeadEnd
            if headCount != oldHeadEnd, tailCount > 0 {
                // Overlapping ranges: copyMemory is a memmove.
                UnsafeMutableRawPointer(text + headCount).copyMemory(from: text + oldHeadEnd, byteCount: tailCount)
                let shift = headCount - oldHeadEnd
                for i in head..<count { ends[i] = UInt16(truncatingIfNeeded: Int(ends[i]) + shift) }
            }
            text.update(from: headText, count: headCount)
            ends.update(from: headEnds, count: head)
            self.numbers.update(from: numbers, count: 2 * head)
            textCount = headCount + tailCount
        }

        /// Takes a whole new line of `count` metrics for `pid`.
        @inline(__always)
        func replace(pid: UInt64, capture: Int, plan: Int32, count: Int, text: UnsafePointer<UInt8>, ends: UnsafePointer<UInt16>,
                     numbers: UnsafePointer<Int64>) {
            self.pid = pid
            self.capture = Int32(truncatingIfNeeded: capture)
            self.plan = plan
            let textCount = count == 0 ? 0 : Int(ends[count - 1])
            self.text.update(from: text, count: textCount)
            self.ends.update(from: ends, count: count)
            self.numbers.update(from: numbers, count: 2 * count)
            self.textCount = textCount
        }
    }
}
