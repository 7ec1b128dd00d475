import TestSupport
import Testing

/// A hand-made external term and the `~w` text OTP 25 prints for it.
struct TagCase: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: [UInt8]
    /// Latin-1 text: each scalar is one output byte.
    var expected: String

    init(_ label: String, _ body: [UInt8], _ expected: String) {
        self.label = label
        self.bytes = ETFBytes.term(body)
        self.expected = expected
    }

    init(_ label: String, whole bytes: [UInt8], _ expected: String) {
        self.label = label
        self.bytes = bytes
        self.expected = expected
    }

    var testDescription: String { label }

    /// The tag right after the version byte (for a compressed term, 80).
    var tag: UInt8 { bytes[1] }
}

/// One or more cases per tag of the external term format.
///
/// Every `expected` text was printed by the real BEAM (Erlang/OTP 25, node
/// nonode@nohost, `erl -noshell`, so Latin-1 output), with
///
///     erl -noshell -eval 'io:format("~w~n", [binary_to_term(list_to_binary(BYTES))]), halt().'
///
/// where BYTES is the case's `bytes` as an Erlang list. The test "the hand-made
/// tag cases' expected texts are what erl prints" (LiveBEAMTests) runs exactly
/// that for every case whenever `erl` is installed, so these literals cannot
/// drift from the BEAM.
enum TagCases {
    typealias B = ETFBytes

    static let all: [TagCase] = [
        // 97 SMALL_INTEGER_EXT
        TagCase("SMALL_INTEGER_EXT 0", B.smallInt(0), "0"),
        TagCase("SMALL_INTEGER_EXT 255", B.smallInt(255), "255"),
        // 98 INTEGER_EXT
        TagCase("INTEGER_EXT -1", B.int32(-1), "-1"),
        TagCase("INTEGER_EXT 256", B.int32(256), "256"),
        TagCase("INTEGER_EXT max", B.int32(.max), "2147483647"),
        TagCase("INTEGER_EXT min", B.int32(.min), "-2147483648"),
        // 110 SMALL_BIG_EXT
        TagCase("SMALL_BIG_EXT 2^64", B.smallBig(negative: false, [0, 0, 0, 0, 0, 0, 0, 0, 1]), "18446744073709551616"),
        TagCase("SMALL_BIG_EXT 2^64-1", B.smallBig(negative: false, [UInt8](repeating: 255, count: 8)), "18446744073709551615"),
        TagCase("SMALL_BIG_EXT 2^63", B.smallBig(negative: false, [0, 0, 0, 0, 0, 0, 0, 128]), "9223372036854775808"),
        TagCase("SMALL_BIG_EXT -2^63", B.smallBig(negative: true, [0, 0, 0, 0, 0, 0, 0, 128]), "-9223372036854775808"),
        TagCase("SMALL_BIG_EXT -2^63-1", B.smallBig(negative: true, [1, 0, 0, 0, 0, 0, 0, 128]), "-9223372036854775809"),
        TagCase("SMALL_BIG_EXT no digits", B.smallBig(negative: false, []), "0"),
        TagCase("SMALL_BIG_EXT no digits, negative", B.smallBig(negative: true, []), "0"),
        TagCase("SMALL_BIG_EXT leading zero bytes", B.smallBig(negative: false, [5, 0, 0, 0]), "5"),
        TagCase("SMALL_BIG_EXT -5", B.smallBig(negative: true, [5]), "-5"),
        // 111 LARGE_BIG_EXT
        TagCase("LARGE_BIG_EXT 10^30", B.largeBig(negative: false, [0, 0, 0, 64, 234, 237, 116, 70, 208, 156, 44, 159, 12]), "1000000000000000000000000000000"),
        TagCase("LARGE_BIG_EXT -(2^96-1)", B.largeBig(negative: true, [UInt8](repeating: 255, count: 12)), "-79228162514264337593543950335"),
        TagCase("LARGE_BIG_EXT no digits", B.largeBig(negative: false, []), "0"),
        TagCase("LARGE_BIG_EXT 300 bytes", B.largeBig(negative: false, [UInt8](repeating: 0, count: 299) + [1]),
            "115810951089835208640942849260112967436384023233450517506282154115973070832257406530256886"
            + "797701352073191954310388738646767378630087920264590040889679158787865252679138468638960291"
            + "198189397077399829126247346133777630471701411294568830900495772847223026462227067694394858"
            + "766465909281268170877668084336719999231351018013118790441368445445184797112029254352420796"
            + "994212555564715377305894881128845209858403051595975911602229125695243867431768595596273488"
            + "448274789076278986644365569388025743355615905103425959312210458270121291835598480479717862"
            + "562604217406033362664935148441267768763464505236030761385296064834140746000031885073179306"
            + "319399896938744455371548990813894194287282913462195363945298932807529725524581755827886489"
            + "6"),
        // 70 NEW_FLOAT_EXT
        TagCase("NEW_FLOAT_EXT 0.1", B.float(0.1), "0.1"),
        TagCase("NEW_FLOAT_EXT -0.0", B.float(-0.0), "-0.0"),
        TagCase("NEW_FLOAT_EXT 0.1+0.2", B.float(0.1 + 0.2), "0.30000000000000004"),
        TagCase("NEW_FLOAT_EXT 1.0e15", B.float(1.0e15), "1.0e15"),
        TagCase("NEW_FLOAT_EXT 1.0e16", B.float(1.0e16), "1.0e16"),
        TagCase("NEW_FLOAT_EXT 2^53+2", B.float(9007199254740994.0), "9.007199254740994e15"),
        TagCase("NEW_FLOAT_EXT 1.0e-4", B.float(1.0e-4), "0.0001"),
        TagCase("NEW_FLOAT_EXT 1.0e-5", B.float(1.0e-5), "1.0e-5"),
        TagCase("NEW_FLOAT_EXT smallest subnormal", B.float(.leastNonzeroMagnitude), "5.0e-324"),
        TagCase("NEW_FLOAT_EXT largest finite", B.float(-.greatestFiniteMagnitude), "-1.7976931348623157e308"),
        TagCase("NEW_FLOAT_EXT 123456.789", B.float(123456.789), "123456.789"),
        // 99 FLOAT_EXT
        TagCase("FLOAT_EXT %.20e", B.floatText("1.50000000000000000000e+00"), "1.5"),
        TagCase("FLOAT_EXT short", B.floatText("-2.5"), "-2.5"),
        TagCase("FLOAT_EXT comma radix", B.floatText("1,25"), "1.25"),
        TagCase("FLOAT_EXT plus sign and E", B.floatText("+3.5E+2"), "350.0"),
        TagCase("FLOAT_EXT underflow to zero", B.floatText("1.0e-400"), "0.0"),
        TagCase("FLOAT_EXT junk after the NUL", [99] + Array("7.5".utf8) + [0] + [UInt8](repeating: 120, count: 27), "7.5"),
        // 100 ATOM_EXT (Latin-1)
        TagCase("ATOM_EXT abc", B.latin1Atom(Array("abc".utf8)), "abc"),
        TagCase("ATOM_EXT empty", B.latin1Atom([]), "''"),
        TagCase("ATOM_EXT Abc", B.latin1Atom(Array("Abc".utf8)), "'Abc'"),
        TagCase("ATOM_EXT reserved", B.latin1Atom(Array("receive".utf8)), "'receive'"),
        TagCase("ATOM_EXT Latin-1 letters", B.latin1Atom([228, 98, 223, 255]), "\u{E4}b\u{DF}\u{FF}"),
        TagCase("ATOM_EXT Latin-1 non-letters", B.latin1Atom([97, 215, 247, 160, 191]), "'a\u{D7}\u{F7}\u{A0}\u{BF}'"),
        TagCase("ATOM_EXT control characters", B.latin1Atom([0, 7, 8, 9, 10, 11, 12, 13, 27, 31, 127, 128, 159]), "'\\000\\007\\b\\t\\n\\v\\f\\r\\e\\037\\d\\200\\237'"),
        TagCase("ATOM_EXT quote and backslash", B.latin1Atom(Array("a'b\\c".utf8)), "'a\\'b\\\\c'"),
        TagCase("ATOM_EXT 255 characters", B.latin1Atom([UInt8](repeating: 233, count: 255)), String(repeating: "\u{E9}", count: 255)),
        // 115 SMALL_ATOM_EXT (Latin-1)
        TagCase("SMALL_ATOM_EXT x@y_Z9", B.smallLatin1Atom(Array("x@y_Z9".utf8)), "x@y_Z9"),
        TagCase("SMALL_ATOM_EXT _x", B.smallLatin1Atom(Array("_x".utf8)), "'_x'"),
        TagCase("SMALL_ATOM_EXT space", B.smallLatin1Atom(Array("hello world".utf8)), "'hello world'"),
        // 118 ATOM_UTF8_EXT
        TagCase("ATOM_UTF8_EXT é", B.atomUTF8(Array("été".utf8)), "\u{E9}t\u{E9}"),
        TagCase("ATOM_UTF8_EXT Cyrillic", B.atomUTF8(Array("жук".utf8)), "'\\x{436}\\x{443}\\x{43A}'"),
        TagCase("ATOM_UTF8_EXT 255 four-byte characters", B.atomUTF8(Array(String(repeating: "\u{1F600}", count: 255).utf8)), "'" + String(repeating: "\\x{1F600}", count: 255) + "'"),
        // 119 SMALL_ATOM_UTF8_EXT
        TagCase("SMALL_ATOM_UTF8_EXT true", B.atom("true"), "true"),
        TagCase("SMALL_ATOM_UTF8_EXT end", B.atom("end"), "'end'"),
        TagCase("SMALL_ATOM_UTF8_EXT maybe", B.atom("maybe"), "maybe"),
        TagCase("SMALL_ATOM_UTF8_EXT Latin-1 range", B.atom("\u{80}\u{A0}ÿ"), "'\\200\u{A0}\u{FF}'"),
        TagCase("SMALL_ATOM_UTF8_EXT mixed", B.atom("aж"), "'a\\x{436}'"),
        // 88 NEW_PID_EXT, 103 PID_EXT
        TagCase("NEW_PID_EXT", B.pid(id: 85, serial: 0), "<0.85.0>"),
        TagCase("NEW_PID_EXT max", B.pid(id: 32767, serial: 8191), "<0.32767.8191>"),
        TagCase("PID_EXT", B.oldPid(id: 5, serial: 1), "<0.5.1>"),
        TagCase("PID_EXT ATOM_EXT node", B.oldPid(node: B.latin1Atom(Array("nonode@nohost".utf8)), id: 9, serial: 3), "<0.9.3>"),
        // 89 NEW_PORT_EXT, 102 PORT_EXT, 120 V4_PORT_EXT
        TagCase("NEW_PORT_EXT", B.newPort(id: 9), "#Port<0.9>"),
        TagCase("PORT_EXT", B.oldPort(id: 7), "#Port<0.7>"),
        TagCase("V4_PORT_EXT", B.port(id: 268_435_455), "#Port<0.268435455>"),
        // 90 NEWER_REFERENCE_EXT, 114 NEW_REFERENCE_EXT, 101 REFERENCE_EXT
        TagCase("NEWER_REFERENCE_EXT 3 ids", B.ref(ids: [1, 2, 3]), "#Ref<0.3.2.1>"),
        TagCase("NEWER_REFERENCE_EXT 1 id", B.ref(ids: [42]), "#Ref<0.0.0.42>"),
        TagCase("NEW_REFERENCE_EXT 2 ids", B.newRef(ids: [262_143, 4_294_967_295]), "#Ref<0.0.4294967295.262143>"),
        TagCase("REFERENCE_EXT", B.oldRef(id: 5), "#Ref<0.0.0.5>"),
        // 104 SMALL_TUPLE_EXT, 105 LARGE_TUPLE_EXT
        TagCase("SMALL_TUPLE_EXT empty", B.tuple(), "{}"),
        TagCase("SMALL_TUPLE_EXT nested", B.tuple(B.smallInt(1), B.atom("a"), B.tuple(B.tuple())), "{1,a,{{}}}"),
        TagCase("LARGE_TUPLE_EXT empty", B.largeTuple([]), "{}"),
        TagCase("LARGE_TUPLE_EXT 2 elements", B.largeTuple([B.smallInt(1), B.nil]), "{1,[]}"),
        // 106 NIL_EXT
        TagCase("NIL_EXT", B.nil, "[]"),
        // 107 STRING_EXT
        TagCase("STRING_EXT abc", B.string(Array("abc".utf8)), "[97,98,99]"),
        TagCase("STRING_EXT empty", B.string([]), "[]"),
        TagCase("STRING_EXT bytes 0 and 255", B.string([0, 255, 10]), "[0,255,10]"),
        // 108 LIST_EXT
        TagCase("LIST_EXT proper", B.list([B.smallInt(1), B.atom("a")]), "[1,a]"),
        TagCase("LIST_EXT improper", B.list([B.smallInt(1)], tail: B.smallInt(2)), "[1|2]"),
        TagCase("LIST_EXT improper, binary tail", B.list([B.nil], tail: B.binary([])), "[[]|<<>>]"),
        TagCase("LIST_EXT zero length, integer tail", B.list([], tail: B.smallInt(5)), "5"),
        TagCase("LIST_EXT zero length, NIL tail", B.list([], tail: B.nil), "[]"),
        TagCase("LIST_EXT tail is a STRING_EXT", B.list([B.smallInt(1)], tail: B.string([97, 98])), "[1,97,98]"),
        TagCase("LIST_EXT tail is a LIST_EXT", B.list([B.smallInt(1)], tail: B.list([B.smallInt(2)], tail: B.atom("t"))), "[1,2|t]"),
        TagCase("LIST_EXT of lists", B.list([B.nil, B.list([B.nil])]), "[[],[[]]]"),
        // 109 BINARY_EXT
        TagCase("BINARY_EXT empty", B.binary([]), "<<>>"),
        TagCase("BINARY_EXT bytes", B.binary([0, 1, 127, 128, 255]), "<<0,1,127,128,255>>"),
        // 77 BIT_BINARY_EXT
        TagCase("BIT_BINARY_EXT 3 bits", B.bitstring([0b1010_0000], bits: 3), "<<5:3>>"),
        TagCase("BIT_BINARY_EXT junk in unused bits", B.bitstring([1, 0b1111_1111], bits: 2), "<<1,3:2>>"),
        TagCase("BIT_BINARY_EXT 8 bits", B.bitstring([1, 255], bits: 8), "<<1,255>>"),
        TagCase("BIT_BINARY_EXT empty", B.bitstring([], bits: 0), "<<>>"),
        // 116 MAP_EXT
        TagCase("MAP_EXT empty", B.map([]), "#{}"),
        TagCase("MAP_EXT unsorted keys", B.map([(B.atom("b"), B.smallInt(1)), (B.atom("a"), B.smallInt(2))]), "#{a => 2,b => 1}"),
        TagCase("MAP_EXT 1 and 1.0", B.map([(B.float(1.0), B.atom("f")), (B.smallInt(1), B.atom("i"))]), "#{1 => i,1.0 => f}"),
        TagCase("MAP_EXT map as key", B.map([(B.map([(B.smallInt(1), B.nil)]), B.map([]))]), "#{#{1 => []} => #{}}"),
        // 113 EXPORT_EXT
        TagCase("EXPORT_EXT lists:map/2", B.export("lists", "map", 2), "fun lists:map/2"),
        TagCase("EXPORT_EXT erlang:'+'/2", B.export("erlang", "+", 2), "fun erlang:'+'/2"),
        TagCase("EXPORT_EXT quoted names", B.export("a b", "Fun", 0), "fun 'a b':'Fun'/0"),
        TagCase("EXPORT_EXT INTEGER_EXT arity", [113] + B.atom("m") + B.atom("f") + B.int32(255), "fun m:f/255"),
        // 112 NEW_FUN_EXT
        TagCase("NEW_FUN_EXT no free variables", B.fun(module: "zz", index: 3, oldIndex: 7, oldUniq: 12345), "#Fun<zz.7.12345>"),
        TagCase("NEW_FUN_EXT free variables", B.fun(module: "m", arity: 2, oldIndex: 1, oldUniq: -1, free: [B.smallInt(1), B.nil]), "#Fun<m.1.-1>"),
        TagCase("NEW_FUN_EXT Unicode module", B.fun(module: "ж", oldIndex: 2, oldUniq: 99), "#Fun<\u{D0}\u{B6}.2.99>"),
        // 80 COMPRESSED
        TagCase("COMPRESSED tuple", whole: B.compressedTerm(B.tuple(B.atom("a"), B.binary([UInt8](repeating: 0, count: 100)))), "{a,<<" + Array(repeating: "0", count: 100).joined(separator: ",") + ">>}"),
        TagCase("COMPRESSED level 0 (stored)", whole: B.compressedTerm(B.list([B.smallInt(1), B.smallInt(2)]), level: 0), "[1,2]"),
    ]
}
