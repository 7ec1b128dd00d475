@testable import FlameModel
import TestSupport
import Testing

/// Strings an attacker built to collide in the byte interner: against its
/// fast unkeyed hash every one of them hashes alike, and before the probe
/// limit each new string walked the chain of all the earlier ones (a 981 KB
/// dump took 52 s).
@Suite("Byte interner: hash flooding")
struct HashFloodingTests {
    /// The interner's fast hash, written out again: the model the attack is built against.
    static func formerHash(_ bytes: [UInt8]) -> UInt64 {
        precondition(bytes.count % 8 == 0, "whole words only: the attack needs no tail")
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var i = 0
        while i + 8 <= bytes.count {
            var word: UInt64 = 0
            for k in 0..<8 { word |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            h = (h ^ word) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return h
    }

    /// `count` distinct 16-byte strings with one former hash: any first word,
    /// then the second word that brings the state back to zero.
    static func colliding(_ count: Int) -> [[UInt8]] {
        (0..<count).map { i in
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ 16
            let first = UInt64(i) &* 0x0123_4567_89AB_CDEF
            h = (h ^ first) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            let second = h  // (h ^ second) == 0
            return (0..<8).map { UInt8(truncatingIfNeeded: first >> (8 * UInt64($0))) }
                + (0..<8).map { UInt8(truncatingIfNeeded: second >> (8 * UInt64($0))) }
        }
    }

    static func internAll(_ strings: [[UInt8]]) -> ByteInterner {
        var interner = ByteInterner()
        for s in strings { _ = s.withUnsafeBytes { interner.intern($0) } }
        return interner
    }

    @Test("strings built to collide under the fast hash are distinct and do collide; the table then changes to the keyed hash")
    func theAttackIsReal() {
        let strings = Self.colliding(1000)
        #expect(Set(strings).count == 1000)
        #expect(Set(strings.map(Self.formerHash)).count == 1)
        #expect(strings.allSatisfy { s in s.withUnsafeBytes { ByteInterner.fastHash($0) } == Self.formerHash(s) })
        // The interner keeps them apart and finds each again.
        let interner = Self.internAll(strings)
        #expect(interner.count == 1000)
        #expect(interner.keyed)
        for (index, s) in strings.enumerated() {
            #expect(s.withUnsafeBytes { interner.lookup($0) } == UInt32(index))
        }
    }

    @Test("interning them takes linear time: 16 times the strings, about 16 times as long")
    func linearUnderAttack() {
        let small = Self.colliding(2_000), large = Self.colliding(32_000)
        let ratio = GrowthCheck.ratio(tries: 5, small: { _ = Self.internAll(small) }, large: { _ = Self.internAll(large) })
        // A shared chain is quadratic: 256 times as long. The bound sits
        // halfway (geometric) so that a loaded machine's noise, which once
        // made 4 times the strings take 8.2 times as long, cannot fail it.
        #expect(ratio < 64, "16 times the colliding strings took \(ratio) times as long")
    }

    @Test("ordinary input keeps the fast hash")
    func ordinaryInputStaysFast() {
        let words: [[UInt8]] = (0..<200_000).map { Array("lists:foldl/3:\($0)".utf8) }
        let interner = Self.internAll(words)
        #expect(interner.count == 200_000)
        #expect(!interner.keyed)
    }

    @Test("ids count first appearances, whatever the hash's key")
    func idsDoNotDependOnTheHash() {
        var interner = ByteInterner(capacity: 4)
        let words: [[UInt8]] = (0..<500).map { Array("frame \($0 % 137)".utf8) }
        let ids = words.map { w in w.withUnsafeBytes { interner.intern($0).id } }
        var firstSeen: [[UInt8]: UInt32] = [:]
        for w in words where firstSeen[w] == nil { firstSeen[w] = UInt32(firstSeen.count) }
        #expect(ids == words.map { firstSeen[$0]! })
    }
}
