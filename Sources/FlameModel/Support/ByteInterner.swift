/// Gives each distinct byte string a small dense id, and keeps a copy of it.
///
/// Samples repeat: the same stack trace, function and atom bytes come back
/// tick after tick. Interning their raw encoded bytes turns parsing a known
/// one into a hash and a comparison. Open addressing, one byte arena.
public struct ByteInterner: Sendable {
    private var slots: [UInt32]  // id + 1, or 0 for empty
    private var hashes: [UInt64] = []
    private var starts: [Int] = [0]
    private var arena: [UInt8] = []

    public init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt32](repeating: 0, count: size)
    }

    public var count: Int { hashes.count }

    /// Bytes held for the interned strings.
    public var byteCount: Int { arena.count }

    /// Forgets everything; ids start again from 0.
    public mutating func removeAll() {
        slots = [UInt32](repeating: 0, count: 1024)
        hashes.removeAll(keepingCapacity: false)
        starts = [0]
        arena.removeAll(keepingCapacity: false)
    }

    /// The id of `bytes`, and whether it was new.
    @inlinable
    public mutating func intern(_ bytes: UnsafeRawBufferPointer) -> (id: UInt32, isNew: Bool) {
        let hash = Self.hash(bytes)
        if let id = find(bytes, hash: hash) { return (id, false) }
        return (insert(bytes, hash: hash), true)
    }

    /// The id of `bytes` if it was interned before.
    @inlinable
    public func lookup(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        find(bytes, hash: Self.hash(bytes))
    }

    /// The length of `id`'s bytes when `bytes` starts with them; nil otherwise.
    public func prefixLength(of id: UInt32, in bytes: UnsafeRawBufferPointer) -> Int? {
        let start = starts[Int(id)], count = starts[Int(id) + 1] - start
        guard count <= bytes.count, count > 0 else { return nil }
        let same = arena.withUnsafeBytes { stored in
            memcmp(stored.baseAddress! + start, bytes.baseAddress!, count) == 0
        }
        return same ? count : nil
    }

    public func bytes(of id: UInt32) -> ArraySlice<UInt8> {
        arena[starts[Int(id)]..<starts[Int(id) + 1]]
    }

    @usableFromInline
    func find(_ bytes: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return nil }
            let id = Int(slot - 1)
            if hashes[id] == hash {
                let start = starts[id], end = starts[id + 1]
                if end - start == bytes.count && arena.withUnsafeBytes({ stored in
                    bytes.count == 0 || memcmp(stored.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0
                }) {
                    return UInt32(id)
                }
            }
            index = (index + 1) & mask
        }
    }

    @usableFromInline
    mutating func insert(_ bytes: UnsafeRawBufferPointer, hash: UInt64) -> UInt32 {
        let id = UInt32(hashes.count)
        hashes.append(hash)
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        if hashes.count * 2 > slots.count {
            grow()
        } else {
            place(id, hash: hash)
        }
        return id
    }

    private mutating func grow() {
        slots = [UInt32](repeating: 0, count: slots.count * 2)
        for (id, hash) in hashes.enumerated() { place(UInt32(id), hash: hash) }
    }

    private mutating func place(_ id: UInt32, hash: UInt64) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while slots[index] != 0 { index = (index + 1) & mask }
        slots[index] = id + 1
    }

    /// A fast 64-bit hash, eight bytes at a time (not for hostile keys' sake:
    /// the table's cost is bounded by the input size either way).
    @inlinable
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ word) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return h
    }
}

#if canImport(Glibc)
import Glibc
#endif
