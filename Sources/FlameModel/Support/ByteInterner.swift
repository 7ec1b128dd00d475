/// Gives each distinct byte string a small dense id, and keeps a copy of it.
///
/// Samples repeat: the same stack trace, function and atom bytes come back
/// tick after tick. Interning their raw encoded bytes turns parsing a known
/// one into a hash and a comparison. Open addressing, one byte arena.
///
/// The bytes come from the dump, so an attacker may choose them. The table
/// starts with a fast unkeyed hash; the first probe sequence longer than
/// `maxProbes` (which ordinary input practically never makes at half load)
/// switches it for good to SipHash-1-3 under the process's random key
/// (Swift's `Hasher`), and every entry is placed again. No input can then
/// make a lookup walk more than a bounded chain, yet ordinary dumps keep the
/// fast hash. Ids count first appearances, whatever the hash, so output
/// does not change from run to run.
public struct ByteInterner: Sendable {
    private var slots: [UInt32]  // id + 1, or 0 for empty
    private var hashes: [UInt64] = []
    /// True once flooding was seen: the keyed hash from then on.
    @usableFromInline private(set) var keyed = false
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

    /// Longest probe sequence allowed under the fast hash. At the table's
    /// load (at most one half) a sequence this long is all but impossible
    /// unless the keys were chosen to collide.
    @usableFromInline static let maxProbes = 48

    /// The id of `bytes`, and whether it was new.
    @inlinable
    public mutating func intern(_ bytes: UnsafeRawBufferPointer) -> (id: UInt32, isNew: Bool) {
        var hash = hash(bytes)
        switch find(bytes, hash: hash) {
        case .found(let id): return (id, false)
        case .absent: break
        case .tooLong:
            switchToKeyedHash()
            hash = self.hash(bytes)
            if case .found(let id) = find(bytes, hash: hash) { return (id, false) }
        }
        return (insert(bytes, hash: hash), true)
    }

    /// The id of `bytes` if it was interned before.
    @inlinable
    public func lookup(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        if case .found(let id) = find(bytes, hash: hash(bytes), probeLimit: .max) { return id }
        return nil
    }

    @inlinable
    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        keyed ? Self.keyedHash(bytes) : Self.fastHash(bytes)
    }

    @usableFromInline
    enum Probe {
        case found(UInt32)
        case absent
        /// The sequence went past `maxProbes`: flooding, or a very bad day.
        case tooLong
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
    func find(_ bytes: UnsafeRawBufferPointer, hash: UInt64, probeLimit: Int = ByteInterner.maxProbes) -> Probe {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        // Under the keyed hash no sequence is long but by chance: no limit then.
        var probesLeft = keyed ? Int.max : probeLimit
        while true {
            let slot = slots[index]
            if slot == 0 { return .absent }
            let id = Int(slot - 1)
            if hashes[id] == hash {
                let start = starts[id], end = starts[id + 1]
                if end - start == bytes.count && arena.withUnsafeBytes({ stored in
                    bytes.count == 0 || memcmp(stored.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0
                }) {
                    return .found(UInt32(id))
                }
            }
            probesLeft -= 1
            if probesLeft == 0 { return .tooLong }
            index = (index + 1) & mask
        }
    }

    /// From now on the keyed hash: every entry's hash made again from its bytes, and placed again.
    @usableFromInline
    mutating func switchToKeyedHash() {
        keyed = true
        arena.withUnsafeBytes { stored in
            for id in hashes.indices {
                hashes[id] = Self.keyedHash(UnsafeRawBufferPointer(rebasing: stored[starts[id]..<starts[id + 1]]))
            }
        }
        slots = [UInt32](repeating: 0, count: slots.count)
        for (id, hash) in hashes.enumerated() { place(UInt32(id), hash: hash) }
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

    /// A fast 64-bit hash, eight bytes at a time; unkeyed and invertible, so
    /// colliding keys are easy to make: the probe limit guards against that.
    @inlinable
    static func fastHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
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

    /// SipHash-1-3 under the process's random key (Swift's `Hasher`).
    @usableFromInline
    static func keyedHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }
}

#if canImport(Glibc)
import Glibc
#endif
