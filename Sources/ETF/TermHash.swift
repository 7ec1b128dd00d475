/// Hashes of term values that equal terms share whatever their encoding: what
/// `TermValidator` finds repeated map keys with, without sorting them.
///
/// "Equal" is `Term.compare`'s `0` (exact equality, `=:=`): 5 as
/// SMALL_INTEGER_EXT or SMALL_BIG_EXT, an atom in Latin-1 or UTF-8, "ab" as
/// STRING_EXT or as a LIST_EXT of two integers, [1,2] or [1|[2]], a map's pairs
/// in any order, a reference with or without high zero words, and funs that
/// differ only where the BEAM does not compare them. Unequal terms may collide;
/// the validator then leaves the verdict to the decoder.
enum TermHash {
    /// Odd, so powers of it never reach zero: list hashes are polynomials in it,
    /// which makes `[1,2]` and `[1|[2]]` hash alike (see `ListHash`).
    static let listBase: UInt64 = 0x9E37_79B9_7F4A_7C15

    // Distinct starting points per kind of term.
    static let integerSeed: UInt64 = 0x1
    static let bignumSeed: UInt64 = 0x2
    static let floatSeed: UInt64 = 0x3
    static let atomSeed: UInt64 = 0x4
    static let tupleSeed: UInt64 = 0x5
    static let listSeed: UInt64 = 0x6
    static let emptyList: UInt64 = mix(0x7)
    static let binarySeed: UInt64 = 0x8
    static let bitstringSeed: UInt64 = 0x9
    static let mapSeed: UInt64 = 0xA
    static let pidSeed: UInt64 = 0xB
    static let portSeed: UInt64 = 0xC
    static let referenceSeed: UInt64 = 0xD
    static let exportSeed: UInt64 = 0xE
    static let funSeed: UInt64 = 0xF

    /// SplitMix64's finalizer.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Order matters: combine(a, b) is not combine(b, a).
    @inline(__always)
    static func combine(_ h: UInt64, _ v: UInt64) -> UInt64 {
        mix(h &+ 0x9E37_79B9_7F4A_7C15 &+ mix(v))
    }

    static func integer(_ value: Int64) -> UInt64 {
        combine(integerSeed, UInt64(bitPattern: value))
    }

    /// Bytes and their count, eight at a time.
    static func bytes(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = combine(seed, UInt64(bytes.count))
        var i = 0
        while i + 8 <= bytes.count {
            h = combine(h, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        var last: UInt64 = 0
        while i < bytes.count {
            last = last << 8 | UInt64(bytes[i])
            i += 1
        }
        return combine(h, last)
    }

    /// An atom by its characters: Latin-1 bytes past ASCII are hashed as the
    /// UTF-8 they stand for, so both encodings of one atom agree.
    static func atom(_ text: UnsafeRawBufferPointer, isUTF8: Bool) -> UInt64 {
        if isUTF8 || UTF8Validation.isASCII(text) { return bytes(text, seed: atomSeed) }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(2 * text.count)
        for byte in text {
            if byte < 0x80 {
                utf8.append(byte)
            } else {
                utf8.append(0xC0 | byte >> 6)
                utf8.append(0x80 | byte & 0x3F)
            }
        }
        return utf8.withUnsafeBytes { bytes($0, seed: atomSeed) }
    }

    /// A list: its elements as a polynomial in `listBase` (so a list continued by
    /// its tail hashes as the whole), `listBase` to the number of elements, and
    /// the hash of its final tail ([] for a proper list).
    struct ListHash {
        var poly: UInt64 = 0
        var power: UInt64 = 1
        var tail: UInt64 = TermHash.emptyList

        mutating func append(element: UInt64) {
            poly = poly &* TermHash.listBase &+ element
            power = power &* TermHash.listBase
        }

        /// The rest of the list, as a tail that is itself a list.
        mutating func append(rest: ListHash) {
            poly = poly &* rest.power &+ rest.poly
            power = power &* rest.power
            tail = rest.tail
        }

        /// [] hashes as `emptyList`, so it is the same as an element or a tail.
        var hash: UInt64 {
            power == 1 ? tail : combine(combine(combine(TermHash.listSeed, poly), power), tail)
        }
    }
}
