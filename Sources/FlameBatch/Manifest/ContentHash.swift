/// The content hashes of the batch manifest: XXH64 (xxHash's 64-bit hash,
/// seed 0), streamed. Inputs and outputs are recognised by content, whatever
/// their names and times say. A change, not an attacker, is what the hash
/// must notice, and XXH64 does that at memory speed, written here from its
/// published definition: a SHA-256 in Swift took three quarters of a batch's
/// instructions (perf text is ten times its dump, and both are hashed), and
/// the system libraries the project links have no hash of that strength.
/// Tests check it against `xxhsum -H1` (Debian's xxhash).
final class ContentHash {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    private var v1 = p1 &+ p2
    private var v2 = p2
    private var v3: UInt64 = 0
    private var v4 = 0 &- p1
    private var total = 0
    /// Bytes not yet part of a 32-byte stripe.
    private var tail: [UInt8] = []

    init() { tail.reserveCapacity(32) }

    /// The name the manifest gives this hash.
    static let name = "xxh64"

    @inline(__always)
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        let mixed = acc &+ input &* p2
        return ((mixed << 31) | (mixed >> 33)) &* p1
    }

    @inline(__always)
    private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        ((acc ^ round(0, value)) &* p1) &+ p4
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        total += bytes.count
        var at = 0
        if !tail.isEmpty {
            let take = min(32 - tail.count, bytes.count)
            tail.append(contentsOf: UnsafeRawBufferPointer(start: base, count: take))
            at = take
            guard tail.count == 32 else { return }
            tail.withUnsafeBytes { stripes($0.baseAddress!, 1) }
            tail.removeAll(keepingCapacity: true)
        }
        let whole = (bytes.count - at) / 32
        if whole > 0 { stripes(base + at, whole) }
        at += whole * 32
        if at < bytes.count { tail.append(contentsOf: UnsafeRawBufferPointer(start: base + at, count: bytes.count - at)) }
    }

    func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    private func stripes(_ base: UnsafeRawPointer, _ count: Int) {
        var a = v1, b = v2, c = v3, d = v4
        var p = base
        for _ in 0..<count {
            a = Self.round(a, UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
            b = Self.round(b, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            c = Self.round(c, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
            d = Self.round(d, UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
            p += 32
        }
        v1 = a; v2 = b; v3 = c; v4 = d
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    /// The hash of everything given so far.
    func finish() -> UInt64 {
        var h: UInt64
        if total >= 32 {
            h = Self.rotl(v1, 1) &+ Self.rotl(v2, 7) &+ Self.rotl(v3, 12) &+ Self.rotl(v4, 18)
            h = Self.merge(h, v1)
            h = Self.merge(h, v2)
            h = Self.merge(h, v3)
            h = Self.merge(h, v4)
        } else {
            h = Self.p5
        }
        h &+= UInt64(total)
        tail.withUnsafeBytes { rest in
            var i = 0
            while i + 8 <= rest.count {
                h ^= Self.round(0, UInt64(littleEndian: rest.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                h = Self.rotl(h, 27) &* Self.p1 &+ Self.p4
                i += 8
            }
            if i + 4 <= rest.count {
                h ^= UInt64(UInt32(littleEndian: rest.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* Self.p1
                h = Self.rotl(h, 23) &* Self.p2 &+ Self.p3
                i += 4
            }
            while i < rest.count {
                h ^= UInt64(rest[i]) &* Self.p5
                h = Self.rotl(h, 11) &* Self.p1
                i += 1
            }
        }
        h ^= h >> 33
        h &*= Self.p2
        h ^= h >> 29
        h &*= Self.p3
        h ^= h >> 32
        return h
    }

    /// The hash as 16 lowercase hex digits, as `xxhsum -H1` prints it.
    func finishHex() -> String {
        let value = finish()
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<16).map { digits[Int((value >> UInt64(60 - 4 * $0)) & 0xF)] }, as: UTF8.self)
    }
}
