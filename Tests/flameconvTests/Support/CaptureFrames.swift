import Testing

/// A real capture cut into its terms, to make other dump files from: its header
/// with some values swapped, some of its ticks, its trailer.
///
/// Only whole values in the header are replaced (an id, a seq, a time); every
/// other byte is the capture's own.
struct CaptureFrames {
    /// Each term's bytes, without the 4-byte length prefix.
    var header: [UInt8]
    var ticks: [[UInt8]]
    var trailer: [UInt8]

    init(_ path: String) throws {
        let bytes = try #require(readFile(path))
        let starts = frameStarts(bytes)
        let terms = starts.map { start -> [UInt8] in
            let length = Int(bytes[start]) << 24 | Int(bytes[start + 1]) << 16 | Int(bytes[start + 2]) << 8 | Int(bytes[start + 3])
            return Array(bytes[(start + 4)..<(start + 4 + length)])
        }
        try #require(terms.count >= 3)
        header = terms[0]
        ticks = terms[1..<(terms.count - 1)].filter(Self.isTick)
        trailer = terms[terms.count - 1]
    }

    /// A framed dump file's bytes: each term after its 4-byte big-endian length.
    static func framed(_ terms: [[UInt8]]) -> [UInt8] {
        terms.flatMap { term in
            let n = UInt32(term.count)
            return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + term
        }
    }

    /// A dump of the header (with `changes` made) and `ticks`, then the trailer.
    func dump(_ changes: [(key: String, value: [UInt8])], ticks: [[UInt8]]) -> [UInt8] {
        Self.framed([Self.header(header, setting: changes)] + ticks + [trailer])
    }

    /// `header` with the value under each atom key replaced by an encoded value.
    static func header(_ header: [UInt8], setting changes: [(key: String, value: [UInt8])]) -> [UInt8] {
        var out = header
        for (key, value) in changes {
            let name = Array(key.utf8)
            let pattern: [UInt8] = [100, 0, UInt8(name.count)] + name  // ATOM_EXT, as the agent writes keys
            guard let at = firstIndex(of: pattern, in: out) else { preconditionFailure("no key \(key) in the header") }
            let start = at + pattern.count
            out.replaceSubrange(start..<(start + valueLength(out, at: start)), with: value)
        }
        return out
    }

    /// BINARY_EXT.
    static func binary(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        let n = UInt32(bytes.count)
        return [109, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + bytes
    }

    /// SMALL_INTEGER_EXT, INTEGER_EXT or SMALL_BIG_EXT, whichever holds `value`.
    static func integer(_ value: Int64) -> [UInt8] {
        if (0...255).contains(value) { return [97, UInt8(value)] }
        if let small = Int32(exactly: value) {
            let bits = UInt32(bitPattern: small)
            return [98, UInt8(bits >> 24), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
        }
        var digits: [UInt8] = []
        var magnitude = value.magnitude
        while magnitude > 0 {
            digits.append(UInt8(magnitude & 0xFF))
            magnitude >>= 8
        }
        return [110, UInt8(digits.count), value < 0 ? 1 : 0] + digits
    }

    /// Whether `term` is `{samples, Ts, Samples}` (others are `{system, …}` and the like).
    static func isTick(_ term: [UInt8]) -> Bool {
        term.count > 13 && term[1] == 104 && term[2] == 3 && term[3...12].elementsEqual([100, 0, 7] + Array("samples".utf8))
    }

    /// The `Ts` of a `{samples, Ts, Samples}` term.
    static func timestamp(ofTick term: [UInt8]) -> Int64 {
        // 131, SMALL_TUPLE_EXT with arity 3, ATOM_EXT "samples", then Ts.
        var at = 3
        precondition(term[at] == 100)
        at += 3 + (Int(term[at + 1]) << 8 | Int(term[at + 2]))
        switch term[at] {
        case 97: return Int64(term[at + 1])
        case 98: return Int64(Int32(bitPattern: UInt32(term[at + 1]) << 24 | UInt32(term[at + 2]) << 16 | UInt32(term[at + 3]) << 8 | UInt32(term[at + 4])))
        case 110:
            var magnitude: Int64 = 0
            for i in (0..<Int(term[at + 1])).reversed() { magnitude = magnitude << 8 | Int64(term[at + 3 + i]) }
            return term[at + 2] == 1 ? -magnitude : magnitude
        default: preconditionFailure("unexpected timestamp tag \(term[at])")
        }
    }

    /// Bytes of the value at `at`, for the kinds of value a header holds.
    private static func valueLength(_ bytes: [UInt8], at: Int) -> Int {
        func u16(_ i: Int) -> Int { Int(bytes[i]) << 8 | Int(bytes[i + 1]) }
        func u32(_ i: Int) -> Int { u16(i) << 16 | u16(i + 2) }
        switch bytes[at] {
        case 97: return 2
        case 98: return 5
        case 110: return 3 + Int(bytes[at + 1])
        case 109: return 5 + u32(at + 1)
        case 100: return 3 + u16(at + 1)
        case 119: return 2 + Int(bytes[at + 1])
        default: preconditionFailure("unexpected header value tag \(bytes[at])")
        }
    }

    private static func firstIndex(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        return (0...(bytes.count - pattern.count)).first { bytes[$0..<($0 + pattern.count)].elementsEqual(pattern) }
    }
}
