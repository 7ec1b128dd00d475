/// A growable run of bytes written through a raw pointer: a sink reserves
/// room for a whole line, writes it in place and commits it, with no
/// reference counting, bounds check or second copy per byte.
///
/// One thread uses it at a time (the sink that owns it).
final class OutputBytes {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Where the next byte goes, with room for at least `n` bytes after it.
    /// Bytes written there count once `commit` is told where they end.
    @inline(__always)
    func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if capacity - count < n { grow(to: count + n) }
        return base + count
    }

    /// The bytes up to `end` (a pointer from `reserve`, moved on) are written.
    @inline(__always)
    func commit(_ end: UnsafeMutablePointer<UInt8>) {
        count = end - base
    }

    @inline(__always)
    func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        var p = reserve(bytes.count)
        p.put(bytes)
        commit(p)
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        var p = reserve(1)
        p.put(byte)
        commit(p)
    }

    /// The bytes in `range`, written so far.
    @inline(__always)
    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Changes the written byte at `index`.
    @inline(__always)
    func set(_ index: Int, to byte: UInt8) {
        precondition(index >= 0 && index < count)
        base[index] = byte
    }

    /// Drops the first `n` bytes; the rest move to the front.
    func removeFirst(_ n: Int) {
        precondition(n >= 0 && n <= count)
        // copyMemory allows the two ranges to overlap.
        if n < count { UnsafeMutableRawPointer(base).copyMemory(from: base + n, byteCount: count - n) }
        count -= n
    }

    /// Drops every byte; the room stays.
    func removeAll() { count = 0 }

    private func grow(to needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}
