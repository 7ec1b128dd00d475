import ETF
import TestSupport
import Testing

/// One bad input and the exact error it must give.
///
/// Offsets are absolute in `bytes` (the version byte is offset 0). The decoder
/// reports a field that is cut short at the field's first byte, a length claim
/// that cannot fit at the first byte after the length field (where the claimed
/// content would start, `available` bytes remaining from there), and a bad value
/// of a whole term (bad bit count, bad float, duplicate keys, ...) at its tag.
/// `tag` is the tag being decoded, or nil where a new term's tag byte is missing.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: [UInt8]
    var error: ETFError

    init(_ label: String, _ bytes: [UInt8], offset: Int, tag: UInt8?, _ reason: ETFError.Reason, inflatedOffset: Int? = nil) {
        self.label = label
        self.bytes = bytes
        self.error = ETFError(offset: offset, tag: tag, reason: reason, inflatedOffset: inflatedOffset)
    }

    var testDescription: String { label }
}

@Suite("Decoder: bad input", .timeLimit(.minutes(1)))
struct DecoderErrorTests {
    typealias B = ETFBytes

    static func decodeError(_ bytes: [UInt8], limits: ETFLimits = .default, baseOffset: Int = 0) -> ETFError? {
        if case .failure(let error) = CorpusPrinting.decode(bytes, limits: limits, baseOffset: baseOffset) { return error }
        return nil
    }

    // MARK: Truncation inside every tag

    /// A fun with no free variables: tag at 1, size 2-5, arity 6, uniq 7-22,
    /// index 23-26, free count 27-30, module 31-33, old index 34-35, old uniq 36-40, pid from 41.
    static let fun = B.term(B.fun(module: "m"))

    static let truncations: [ErrorCase] = [
        ErrorCase("nothing at all", [], offset: 0, tag: nil, .truncated(needed: 1, available: 0)),
        ErrorCase("no term after the version byte", [131], offset: 1, tag: nil, .truncated(needed: 1, available: 0)),
        ErrorCase("SMALL_INTEGER_EXT value", [131, 97], offset: 2, tag: 97, .truncated(needed: 1, available: 0)),
        ErrorCase("INTEGER_EXT value", [131, 98, 0, 0], offset: 2, tag: 98, .truncated(needed: 4, available: 2)),
        ErrorCase("SMALL_BIG_EXT count", [131, 110], offset: 2, tag: 110, .truncated(needed: 1, available: 0)),
        ErrorCase("SMALL_BIG_EXT sign", [131, 110, 2], offset: 3, tag: 110, .truncated(needed: 1, available: 0)),
        ErrorCase("SMALL_BIG_EXT digits", [131, 110, 2, 0, 1], offset: 4, tag: 110,
                  .lengthExceedsInput(field: "bignum byte count", claimed: 2, available: 1)),
        ErrorCase("LARGE_BIG_EXT count", [131, 111, 0, 0, 0], offset: 2, tag: 111, .truncated(needed: 4, available: 3)),
        ErrorCase("NEW_FLOAT_EXT bits", [131, 70, 1, 2, 3], offset: 2, tag: 70, .truncated(needed: 8, available: 3)),
        ErrorCase("FLOAT_EXT text", [131, 99] + [UInt8](repeating: 0, count: 30), offset: 2, tag: 99, .truncated(needed: 31, available: 30)),
        ErrorCase("ATOM_EXT length", [131, 100, 0], offset: 2, tag: 100, .truncated(needed: 2, available: 1)),
        ErrorCase("ATOM_EXT name", [131, 100, 0, 3, 97, 98], offset: 4, tag: 100, .truncated(needed: 3, available: 2)),
        ErrorCase("SMALL_ATOM_EXT name", [131, 115, 3, 97], offset: 3, tag: 115, .truncated(needed: 3, available: 1)),
        ErrorCase("ATOM_UTF8_EXT name", [131, 118, 0, 2, 195], offset: 4, tag: 118, .truncated(needed: 2, available: 1)),
        ErrorCase("SMALL_ATOM_UTF8_EXT length", [131, 119], offset: 2, tag: 119, .truncated(needed: 1, available: 0)),
        ErrorCase("NEW_PID_EXT node", [131, 88], offset: 2, tag: 88, .truncated(needed: 1, available: 0)),
        ErrorCase("NEW_PID_EXT node name", [131, 88, 119, 5, 97], offset: 4, tag: 119, .truncated(needed: 5, available: 1)),
        ErrorCase("NEW_PID_EXT serial", [131, 88, 119, 1, 97, 0, 0, 0, 1, 0, 0], offset: 9, tag: 88, .truncated(needed: 4, available: 2)),
        ErrorCase("PID_EXT creation", [131, 103, 119, 1, 97, 0, 0, 0, 1, 0, 0, 0, 2], offset: 13, tag: 103, .truncated(needed: 1, available: 0)),
        ErrorCase("NEW_PORT_EXT creation", [131, 89, 119, 1, 97, 0, 0, 0, 1], offset: 9, tag: 89, .truncated(needed: 4, available: 0)),
        ErrorCase("PORT_EXT id", [131, 102, 119, 1, 97, 0, 0], offset: 5, tag: 102, .truncated(needed: 4, available: 2)),
        ErrorCase("V4_PORT_EXT id", [131, 120, 119, 1, 97] + [UInt8](repeating: 0, count: 7), offset: 5, tag: 120, .truncated(needed: 8, available: 7)),
        ErrorCase("NEWER_REFERENCE_EXT id count", [131, 90, 0], offset: 2, tag: 90, .truncated(needed: 2, available: 1)),
        ErrorCase("NEWER_REFERENCE_EXT ids", [131, 90, 0, 2, 119, 1, 97, 0, 0, 0, 0, 0, 0, 0, 1], offset: 11, tag: 90, .truncated(needed: 8, available: 4)),
        ErrorCase("NEW_REFERENCE_EXT ids", [131, 114, 0, 1, 119, 1, 97, 0], offset: 8, tag: 114, .truncated(needed: 4, available: 0)),
        ErrorCase("REFERENCE_EXT creation", [131, 101, 119, 1, 97, 0, 0, 0, 1], offset: 9, tag: 101, .truncated(needed: 1, available: 0)),
        ErrorCase("SMALL_TUPLE_EXT arity", [131, 104], offset: 2, tag: 104, .truncated(needed: 1, available: 0)),
        ErrorCase("SMALL_TUPLE_EXT element", [131, 104, 2, 97, 1], offset: 5, tag: nil, .truncated(needed: 1, available: 0)),
        ErrorCase("LARGE_TUPLE_EXT arity", [131, 105, 0, 0], offset: 2, tag: 105, .truncated(needed: 4, available: 2)),
        ErrorCase("LARGE_TUPLE_EXT element", [131, 105, 0, 0, 0, 2, 97, 1], offset: 8, tag: nil, .truncated(needed: 1, available: 0)),
        ErrorCase("STRING_EXT length", [131, 107, 0], offset: 2, tag: 107, .truncated(needed: 2, available: 1)),
        ErrorCase("STRING_EXT bytes", [131, 107, 0, 3, 1, 2], offset: 4, tag: 107, .truncated(needed: 3, available: 2)),
        ErrorCase("LIST_EXT length", [131, 108, 0, 0, 0], offset: 2, tag: 108, .truncated(needed: 4, available: 3)),
        ErrorCase("LIST_EXT tail", [131, 108, 0, 0, 0, 1, 97, 1], offset: 8, tag: nil, .truncated(needed: 1, available: 0)),
        ErrorCase("LIST_EXT elements", [131, 108, 0, 0, 0, 3, 97, 1], offset: 6, tag: 108,
                  .lengthExceedsInput(field: "list length", claimed: 3, available: 2)),
        ErrorCase("BINARY_EXT bytes", [131, 109, 0, 0, 0, 3, 1, 2], offset: 6, tag: 109,
                  .lengthExceedsInput(field: "binary length", claimed: 3, available: 2)),
        ErrorCase("BIT_BINARY_EXT bit count", [131, 77, 0, 0, 0, 1], offset: 6, tag: 77, .truncated(needed: 1, available: 0)),
        ErrorCase("BIT_BINARY_EXT bytes", [131, 77, 0, 0, 0, 2, 3, 1], offset: 7, tag: 77,
                  .lengthExceedsInput(field: "bitstring length", claimed: 2, available: 1)),
        ErrorCase("MAP_EXT value", [131, 116, 0, 0, 0, 1, 97, 1], offset: 8, tag: nil, .truncated(needed: 1, available: 0)),
        ErrorCase("MAP_EXT pairs", [131, 116, 0, 0, 0, 3, 97, 1, 97, 2], offset: 6, tag: 116,
                  .lengthExceedsInput(field: "map size", claimed: 3, available: 4)),
        ErrorCase("EXPORT_EXT module", [131, 113], offset: 2, tag: 113, .truncated(needed: 1, available: 0)),
        ErrorCase("EXPORT_EXT arity", [131, 113, 119, 1, 109, 119, 1, 102], offset: 8, tag: 113, .truncated(needed: 1, available: 0)),
        ErrorCase("NEW_FUN_EXT uniq", [131, 112, 0, 0, 0, 50, 0] + [UInt8](repeating: 0, count: 10), offset: 7, tag: 112,
                  .truncated(needed: 16, available: 10)),
        ErrorCase("NEW_FUN_EXT pid", Array(fun[..<41]), offset: 41, tag: 112, .truncated(needed: 1, available: 0)),
        ErrorCase("NEW_FUN_EXT free variable", B.term(B.fun(module: "m", free: [B.smallInt(1)])).dropLast(2), offset: fun.count, tag: nil,
                  .truncated(needed: 1, available: 0)),
        ErrorCase("COMPRESSED size", [131, 80, 0, 0], offset: 2, tag: 80, .truncated(needed: 4, available: 2)),
        ErrorCase("COMPRESSED zlib data", Array(B.compressedTerm(B.tuple(B.atom("a"), B.binary([UInt8](repeating: 7, count: 100))), level: 0).dropLast(20)),
                  offset: 1, tag: 80, .corruptCompressedData("the compressed data ends early")),
        ErrorCase("COMPRESSED inflated term", B.compressedTerm([104, 2, 97, 1]), offset: 1, tag: nil,
                  .truncated(needed: 1, available: 0), inflatedOffset: 4),
    ]

    @Test("truncation inside each tag", arguments: truncations)
    func truncation(_ errorCase: ErrorCase) {
        #expect(Self.decodeError(errorCase.bytes) == errorCase.error)
    }

    @Test("every proper prefix of every tag case fails as truncated", arguments: TagCases.all)
    func everyPrefix(_ tagCase: TagCase) {
        for length in 0..<tagCase.bytes.count {
            guard let error = Self.decodeError(Array(tagCase.bytes[..<length])) else {
                Issue.record("\(tagCase.label): the first \(length) bytes decoded")
                continue
            }
            switch error.reason {
            case .truncated, .lengthExceedsInput, .corruptCompressedData("the compressed data ends early"):
                break
            default:
                Issue.record("\(tagCase.label): the first \(length) bytes: \(error)")
            }
            #expect(error.offset <= max(length, 1), "\(tagCase.label) cut at \(length): \(error)")
        }
    }

    // MARK: Length claims of 4 GiB

    static let hugeClaims: [ErrorCase] = [
        ErrorCase("LIST_EXT", [131, 108, 255, 255, 255, 255, 106], offset: 6, tag: 108,
                  .lengthExceedsInput(field: "list length", claimed: 4_294_967_295, available: 1)),
        ErrorCase("LARGE_TUPLE_EXT", [131, 105, 255, 255, 255, 255, 106], offset: 6, tag: 105,
                  .lengthExceedsInput(field: "tuple arity", claimed: 4_294_967_295, available: 1)),
        ErrorCase("BINARY_EXT", [131, 109, 255, 255, 255, 255, 0], offset: 6, tag: 109,
                  .lengthExceedsInput(field: "binary length", claimed: 4_294_967_295, available: 1)),
        ErrorCase("BIT_BINARY_EXT", [131, 77, 255, 255, 255, 255, 3, 0], offset: 7, tag: 77,
                  .lengthExceedsInput(field: "bitstring length", claimed: 4_294_967_295, available: 1)),
        ErrorCase("LARGE_BIG_EXT", [131, 111, 255, 255, 255, 255, 0, 1], offset: 7, tag: 111,
                  .lengthExceedsInput(field: "bignum byte count", claimed: 4_294_967_295, available: 1)),
        ErrorCase("MAP_EXT", [131, 116, 255, 255, 255, 255, 106, 106], offset: 6, tag: 116,
                  .lengthExceedsInput(field: "map size", claimed: 4_294_967_295, available: 2)),
        ErrorCase("MAP_EXT nested in a list", [131, 108, 0, 0, 0, 1, 116, 255, 255, 255, 255, 106, 106, 106], offset: 11, tag: 116,
                  .lengthExceedsInput(field: "map size", claimed: 4_294_967_295, available: 3)),
        ErrorCase("NEW_FUN_EXT free variables", Array(fun[..<27]) + [255, 255, 255, 255] + Array(fun[31...]), offset: 31, tag: 112,
                  .lengthExceedsInput(field: "fun free-variable count", claimed: 4_294_967_295, available: fun.count - 31)),
        // Atoms and strings have 16-bit lengths: the largest claim is 64 KiB.
        ErrorCase("ATOM_EXT", [131, 100, 255, 255, 97], offset: 4, tag: 100, .truncated(needed: 65535, available: 1)),
        ErrorCase("ATOM_UTF8_EXT", [131, 118, 255, 255, 97], offset: 4, tag: 118, .truncated(needed: 65535, available: 1)),
        ErrorCase("STRING_EXT", [131, 107, 255, 255, 1], offset: 4, tag: 107, .truncated(needed: 65535, available: 1)),
        ErrorCase("NEWER_REFERENCE_EXT", [131, 90, 255, 255] + B.localNode + [0, 0, 0, 0, 0, 0, 0, 1], offset: 1, tag: 90, .badReferenceLength(65535)),
        ErrorCase("COMPRESSED", [131, 80, 255, 255, 255, 255] + B.zlibCompress([UInt8](repeating: 0, count: 1000)), offset: 1, tag: 80,
                  .decompressedTooLarge(declared: 4_294_967_295, limit: ETFLimits.default.maxDecompressedBytes)),
    ]

    @Test("length claims of 4 GiB fail at once", arguments: hugeClaims)
    func hugeClaim(_ errorCase: ErrorCase) {
        #expect(Self.decodeError(errorCase.bytes) == errorCase.error)
    }

    // MARK: Tags

    @Test("unknown tags", arguments: [
        ErrorCase("tag 0", [131, 0], offset: 1, tag: 0, .unknownTag),
        ErrorCase("tag 200", [131, 200, 1, 2], offset: 1, tag: 200, .unknownTag),
        ErrorCase("the version byte again", [131, 131, 97, 1], offset: 1, tag: 131, .unknownTag),
        ErrorCase("inside a tuple", [131, 104, 2, 97, 1, 255], offset: 5, tag: 255, .unknownTag),
    ])
    func unknownTag(_ errorCase: ErrorCase) {
        #expect(Self.decodeError(errorCase.bytes) == errorCase.error)
    }

    @Test("unsupported tags name themselves", arguments: [
        (UInt8(82), "ATOM_CACHE_REF"), (117, "FUN_EXT"), (121, "LOCAL_EXT"), (68, "DIST_HEADER"), (69, "DIST_FRAG_HEADER"),
        (73, "BEAM-internal tag 73 ('I')"), (75, "BEAM-internal tag 75 ('K')"),
    ])
    func unsupportedTag(_ tag: UInt8, _ name: String) throws {
        for (bytes, offset) in [([131, tag, 0, 0], 1), ([131, 104, 1, tag, 0], 3)] {
            let error = try #require(Self.decodeError(bytes))
            #expect(error.offset == offset)
            #expect(error.tag == tag)
            guard case .unsupportedTag(let why) = error.reason else {
                Issue.record("expected unsupportedTag, got \(error)")
                continue
            }
            #expect(!why.isEmpty)
            #expect(error.description.contains("tag \(tag) (\(name))"), "\(error)")
        }
    }

    @Test("a field that must be an atom, a pid or an integer")
    func wrongFieldKinds() throws {
        #expect(Self.decodeError([131, 88, 97, 1] + [UInt8](repeating: 0, count: 12))
            == ETFError(offset: 2, tag: 97, reason: .unexpectedTag(expected: "a node name atom in NEW_PID_EXT")))
        #expect(Self.decodeError([131, 88, 82, 0] + [UInt8](repeating: 0, count: 12))?.reason
            == .unsupportedTag("atom cache references need a distribution channel's atom cache"))
        #expect(Self.decodeError([131, 113] + B.atom("m") + B.atom("f") + B.atom("x"))
            == ETFError(offset: 8, tag: 119, reason: .unexpectedTag(expected: "an integer in EXPORT_EXT")))
        #expect(Self.decodeError([131, 113] + B.atom("m") + B.atom("f") + B.int32(256))
            == ETFError(offset: 8, tag: 113, reason: .unexpectedTag(expected: "an arity from 0 to 255")))
        #expect(Self.decodeError([131, 113] + B.atom("m") + B.atom("f") + B.int32(-1))
            == ETFError(offset: 8, tag: 113, reason: .unexpectedTag(expected: "an arity from 0 to 255")))
        // A fun's creator must be a pid.
        let funWithoutPid = Array(Self.fun[..<41]) + B.atom("x")
        #expect(Self.decodeError(funWithoutPid) == ETFError(offset: 41, tag: 119, reason: .unexpectedTag(expected: "a pid in NEW_FUN_EXT")))
    }

    @Test("bad version byte, and baseOffset in offsets")
    func badVersion() {
        #expect(Self.decodeError([130, 97, 1]) == ETFError(offset: 0, tag: nil, reason: .badVersion(130)))
        #expect(Self.decodeError([0]) == ETFError(offset: 0, tag: nil, reason: .badVersion(0)))
        #expect(Self.decodeError([130], baseOffset: 1000) == ETFError(offset: 1000, tag: nil, reason: .badVersion(130)))
        #expect(Self.decodeError([131, 98, 0], baseOffset: 1000) == ETFError(offset: 1002, tag: 98, reason: .truncated(needed: 4, available: 1)))
        #expect(Self.decodeError([131, 97, 1, 0]) == ETFError(offset: 3, tag: nil, reason: .trailingBytes(1)))
    }

    // MARK: Atoms

    @Test("invalid UTF-8 atoms", arguments: [
        ("overlong 2-byte", [0xC0, 0x80] as [UInt8]), ("overlong 2-byte C1", [0xC1, 0xBF]), ("overlong 3-byte", [0xE0, 0x80, 0xAF]),
        ("overlong 4-byte", [0xF0, 0x80, 0x80, 0xAF]), ("surrogate", [0xED, 0xA0, 0x80]), ("low surrogate", [0xED, 0xBF, 0xBF]),
        ("truncated sequence", [0x61, 0xE2, 0x82]), ("truncated at the end", [0xC3]), ("lone continuation byte", [0x80]),
        ("past U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), ("F5 lead byte", [0xF5, 0x80, 0x80, 0x80]), ("FF", [0xFF]),
        ("continuation missing", [0xE2, 0x41, 0x82]),
    ])
    func invalidUTF8(_ label: String, _ name: [UInt8]) {
        #expect(Self.decodeError([131, 119, UInt8(name.count)] + name) == ETFError(offset: 1, tag: 119, reason: .invalidUTF8Atom))
        #expect(Self.decodeError([131] + B.atomUTF8(name)) == ETFError(offset: 1, tag: 118, reason: .invalidUTF8Atom))
        // In a pid's node name: reported at the atom.
        #expect(Self.decodeError([131, 88, 119, UInt8(name.count)] + name + [UInt8](repeating: 0, count: 12))
            == ETFError(offset: 2, tag: 119, reason: .invalidUTF8Atom))
    }

    @Test("valid UTF-8 edges decode")
    func validUTF8Edges() throws {
        // U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF
        let name: [UInt8] = [0xC2, 0x80, 0xDF, 0xBF, 0xE0, 0xA0, 0x80, 0xED, 0x9F, 0xBF, 0xEE, 0x80, 0x80, 0xEF, 0xBF, 0xBF,
                             0xF0, 0x90, 0x80, 0x80, 0xF4, 0x8F, 0xBF, 0xBF]
        let term = try CorpusPrinting.decode([131, 119, UInt8(name.count)] + name).get()
        #expect(term.nodes[0].count == 8)
        #expect(term.atomText(0).unicodeScalars.map(\.value) == [0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x10FFFF])
    }

    @Test("atoms over 255 characters")
    func atomTooLong() throws {
        #expect(Self.decodeError([131] + B.latin1Atom([UInt8](repeating: 97, count: 256)))
            == ETFError(offset: 1, tag: 100, reason: .atomTooLong(characters: 256)))
        #expect(Self.decodeError([131] + B.atomUTF8([UInt8](repeating: 97, count: 300)))
            == ETFError(offset: 1, tag: 118, reason: .atomTooLong(characters: 300)))
        // Characters, not bytes: 256 two-byte characters are too many, 255 are fine.
        #expect(Self.decodeError([131] + B.atomUTF8(Array(String(repeating: "é", count: 256).utf8)))
            == ETFError(offset: 1, tag: 118, reason: .atomTooLong(characters: 256)))
        _ = try CorpusPrinting.decode([131] + B.atomUTF8(Array(String(repeating: "é", count: 255).utf8))).get()
        _ = try CorpusPrinting.decode([131] + B.latin1Atom([UInt8](repeating: 97, count: 255))).get()
    }

    // MARK: Floats

    @Test("NaN and infinity in NEW_FLOAT_EXT", arguments: [
        0x7FF8_0000_0000_0000 as UInt64, 0x7FF0_0000_0000_0001, 0xFFF8_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000,
    ])
    func nonFiniteNewFloat(_ bits: UInt64) {
        #expect(Self.decodeError([131, 70] + B.u64(bits)) == ETFError(offset: 1, tag: 70, reason: .nonFiniteFloat))
        #expect(Self.decodeError([131, 104, 1, 70] + B.u64(bits)) == ETFError(offset: 3, tag: 70, reason: .nonFiniteFloat))
    }

    /// Texts OTP 25's binary_to_term refuses (checked with erl): non-finite values
    /// and anything off the `[+-]D+[.,]D+[eE[+-]D+]` then NUL syntax.
    @Test("FLOAT_EXT texts the BEAM refuses", arguments: [
        "inf", "nan", "-inf", "infinity", "1.0e999", "-1.0e400", "1e3", " 1.5", "1.5 ", "1. 5", ".5", "1.", "1.5e", "1.5e+",
        "--1.5", "", "0x1.0p3", "1.5f",
    ])
    func refusedFloatText(_ text: String) {
        #expect(Self.decodeError([131] + B.floatText(text)) == ETFError(offset: 1, tag: 99, reason: .badFloatString))
    }

    @Test("FLOAT_EXT text of 31 bytes without a NUL")
    func floatTextWithoutNUL() {
        let text = Array(String(repeating: "1", count: 29).utf8) + Array(".5".utf8)
        #expect(Self.decodeError([131, 99] + text) == ETFError(offset: 1, tag: 99, reason: .badFloatString))
        #expect(Self.decodeError([131, 104, 2, 99] + text + [106]) == ETFError(offset: 3, tag: 99, reason: .badFloatString))
    }

    // MARK: Maps

    @Test("duplicate map keys")
    func duplicateKeys() throws {
        let dup = ETFError(offset: 1, tag: 116, reason: .duplicateMapKey)
        #expect(Self.decodeError([131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3]) == dup)
        // Nested equal keys, equal though encoded differently.
        let key1 = B.tuple(B.smallInt(1), B.list([B.atom("a")]), B.binary([1, 2]))
        let key2 = B.tuple(B.int32(1), B.list([B.latin1Atom([97])]), B.bitstring([1, 2], bits: 8))
        #expect(Self.decodeError(B.term(B.map([(key1, B.nil), (B.atom("x"), B.nil), (key2, B.nil)]))) == dup)
        // The error names the inner map when that is where the duplicate is.
        let inner = B.map([(B.atom("k"), B.nil), (B.atom("k"), B.nil)])
        #expect(Self.decodeError(B.term(B.tuple(B.smallInt(1), inner))) == ETFError(offset: 5, tag: 116, reason: .duplicateMapKey))
        #expect(Self.decodeError(B.term(B.map([(inner, B.nil)]))) == ETFError(offset: 6, tag: 116, reason: .duplicateMapKey))
        // 1 and 1.0 are different keys: #{1 => 2,1.0 => 3}, as erl prints it.
        let ok = try CorpusPrinting.decode([131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 70] + B.u64((1.0).bitPattern) + [97, 3]).get()
        #expect(latin1String(CorpusPrinting.print(ok)) == "#{1 => 2,1.0 => 3}")
    }

    @Test("duplicate keys in a map of more than 32 keys")
    func duplicateInLargeMap() {
        var pairs = (0..<40).map { (B.int32(Int32($0) * 1000), B.nil) }
        pairs.append((B.int32(39_000), B.atom("again")))
        #expect(Self.decodeError(B.term(B.map(pairs))) == ETFError(offset: 1, tag: 116, reason: .duplicateMapKey))
    }

    // MARK: Bitstrings, references, funs

    @Test("bitstring bit counts")
    func bitCounts() {
        #expect(Self.decodeError([131, 77, 0, 0, 0, 1, 0, 255]) == ETFError(offset: 1, tag: 77, reason: .badBitCount(0)))
        #expect(Self.decodeError([131, 77, 0, 0, 0, 1, 9, 255]) == ETFError(offset: 1, tag: 77, reason: .badBitCount(9)))
        #expect(Self.decodeError([131, 77, 0, 0, 0, 1, 255, 255]) == ETFError(offset: 1, tag: 77, reason: .badBitCount(255)))
        #expect(Self.decodeError([131, 77, 0, 0, 0, 0, 8]) == ETFError(offset: 1, tag: 77, reason: .badBitCount(8)))
        #expect(Self.decodeError([131, 77, 0, 0, 0, 0, 1]) == ETFError(offset: 1, tag: 77, reason: .badBitCount(1)))
    }

    @Test("reference id counts 0 and 6")
    func referenceLengths() {
        #expect(Self.decodeError([131] + B.ref(ids: [])) == ETFError(offset: 1, tag: 90, reason: .badReferenceLength(0)))
        #expect(Self.decodeError([131] + B.ref(ids: [1, 2, 3, 4, 5, 6])) == ETFError(offset: 1, tag: 90, reason: .badReferenceLength(6)))
        #expect(Self.decodeError([131] + B.newRef(ids: [])) == ETFError(offset: 1, tag: 114, reason: .badReferenceLength(0)))
        #expect(Self.decodeError([131] + B.newRef(ids: [1, 2, 3, 4, 5, 6])) == ETFError(offset: 1, tag: 114, reason: .badReferenceLength(6)))
    }

    @Test("fun size field that does not match its fields")
    func funSize() {
        let plain = B.fun(module: "m")  // 40 bytes after the tag
        let size = UInt32(plain.count - 1)
        #expect(Self.decodeError(B.term(B.fun(module: "m", size: size + 1)))
            == ETFError(offset: 1, tag: 112, reason: .badFunSize(declared: size + 1, actual: Int(size))))
        #expect(Self.decodeError(B.term(B.fun(module: "m", size: size - 1)))
            == ETFError(offset: 1, tag: 112, reason: .badFunSize(declared: size - 1, actual: Int(size))))
        #expect(Self.decodeError(B.term(B.fun(module: "m", size: .max)))
            == ETFError(offset: 1, tag: 112, reason: .badFunSize(declared: .max, actual: Int(size))))
        // With free variables the size is checked after them, and a fun nested in a tuple reports its own offset.
        let withFree = B.fun(module: "m", free: [B.smallInt(1), B.nil])
        let freeSize = UInt32(withFree.count - 1)
        #expect(Self.decodeError(B.term(B.tuple(B.fun(module: "m", free: [B.smallInt(1), B.nil], size: freeSize - 3))))
            == ETFError(offset: 3, tag: 112, reason: .badFunSize(declared: freeSize - 3, actual: Int(freeSize))))
    }

    // MARK: Compressed terms

    static let body = B.tuple(B.atom("a"), B.binary([UInt8](repeating: 0, count: 100)))

    @Test("a compressed term inside a term")
    func compressedInside() {
        let compressed = Array(B.compressedTerm(Self.body).dropFirst())  // 80, size, zlib
        #expect(Self.decodeError([131, 104, 1] + compressed) == ETFError(offset: 3, tag: 80, reason: .compressedNotAtTop))
        // Compressed twice: found at byte 0 of the inflated bytes.
        #expect(Self.decodeError(B.compressedTerm(compressed))
            == ETFError(offset: 1, tag: 80, reason: .compressedNotAtTop, inflatedOffset: 0))
    }

    @Test("declared inflated size too large or too small")
    func sizeMismatch() throws {
        let n = UInt32(Self.body.count)
        #expect(Self.decodeError(B.compressedTerm(Self.body, declaredSize: n + 1))
            == ETFError(offset: 1, tag: 80, reason: .decompressedSizeMismatch(declared: n + 1, actual: Int(n))))
        let tooShort = try #require(Self.decodeError(B.compressedTerm(Self.body, declaredSize: n - 1)))
        #expect(tooShort == ETFError(offset: 1, tag: 80, reason: .decompressedSizeMismatch(declared: n - 1, actual: .max)))
        #expect(tooShort.description.contains("inflates to more"))
        #expect(Self.decodeError(B.compressedTerm(Self.body, declaredSize: 0))
            == ETFError(offset: 1, tag: 80, reason: .decompressedSizeMismatch(declared: 0, actual: .max)))
    }

    @Test("bytes after the zlib stream, and damaged zlib data")
    func compressedContainer() throws {
        let good = B.compressedTerm(Self.body)
        #expect(Self.decodeError(good + [0, 0]) == ETFError(offset: good.count, tag: 80, reason: .trailingBytes(2)))
        var badHeader = good
        badHeader[6] ^= 0xFF
        let header = try #require(Self.decodeError(badHeader))
        #expect(header.offset == 1 && header.tag == 80)
        guard case .corruptCompressedData(let detail) = header.reason else {
            Issue.record("expected corruptCompressedData, got \(header)")
            return
        }
        #expect(!detail.isEmpty)
        var badChecksum = good
        badChecksum[badChecksum.count - 1] ^= 0x01
        #expect(Self.decodeError(badChecksum) == ETFError(offset: 1, tag: 80, reason: .corruptCompressedData("incorrect data check")))
    }

    @Test("a decompression bomb declaring 4 GiB fails at once, whatever the limit")
    func bomb() {
        // 1 MiB of zeros squeezes into about a kilobyte; the term claims 4 GiB.
        let bomb = [131, 80, 255, 255, 255, 255] + B.zlibCompress([UInt8](repeating: 0, count: 1 << 20), level: 9)
        let start = ContinuousClock.now
        #expect(Self.decodeError(bomb)
            == ETFError(offset: 1, tag: 80, reason: .decompressedTooLarge(declared: 4_294_967_295, limit: 256 << 20)))
        // With the limit lifted it inflates what is really there, then finds the size wrong.
        #expect(Self.decodeError(bomb, limits: ETFLimits(maxDecompressedBytes: .max))
            == ETFError(offset: 1, tag: 80, reason: .decompressedSizeMismatch(declared: 4_294_967_295, actual: 1 << 20)))
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("the inflated-size limit is inclusive: an honest term of zeros on both sides of it")
    func decompressionLimit() throws {
        #expect(ETFLimits.default.maxDecompressedBytes == 256 << 20)
        // <<0,0,...>> of 256 KiB: the inflated term is 5 + 262144 bytes.
        let zeros = B.binary([UInt8](repeating: 0, count: 256 << 10))
        let compressed = B.compressedTerm(zeros, level: 9)
        let declared = zeros.count
        #expect(compressed.count < 2000)
        let term = try CorpusPrinting.decode(compressed, limits: ETFLimits(maxDecompressedBytes: declared)).get()
        #expect(CorpusPrinting.print(term).count == 2 + 2 * (256 << 10) - 1 + 2)
        #expect(Self.decodeError(compressed, limits: ETFLimits(maxDecompressedBytes: declared - 1))
            == ETFError(offset: 1, tag: 80, reason: .decompressedTooLarge(declared: UInt32(declared), limit: declared - 1)))
        // At the default limit: a claim of exactly 256 MiB passes the check (and fails on the real size), one more byte does not.
        let tiny = B.zlibCompress([97, 1])
        #expect(Self.decodeError([131, 80] + B.u32(UInt32(256 << 20)) + tiny)
            == ETFError(offset: 1, tag: 80, reason: .decompressedSizeMismatch(declared: UInt32(256 << 20), actual: 2)))
        #expect(Self.decodeError([131, 80] + B.u32(UInt32(256 << 20) + 1) + tiny)
            == ETFError(offset: 1, tag: 80, reason: .decompressedTooLarge(declared: UInt32(256 << 20) + 1, limit: 256 << 20)))
    }

    @Test("error descriptions name the place, the tag and the reason")
    func descriptions() throws {
        let error = try #require(Self.decodeError([131, 104, 1, 109, 255, 255, 255, 255], baseOffset: 100))
        #expect(error.description == "offset 108: tag 109 (BINARY_EXT): binary length 4294967295 exceeds the 0 bytes left")
        let inner = try #require(Self.decodeError(B.compressedTerm([104, 2, 97, 1]), baseOffset: 10))
        #expect(inner.description == "offset 11 (byte 4 of the inflated term): input ends early: 1 more bytes needed, 0 left")
    }
}
