import TestSupport
import Testing

/// A map whose key `keys[i]` holds the value `i + 1`, and the order in which
/// OTP 25 keeps its values: `maps:values/1` of a map of up to 32 keys lists
/// them in map key order, which is the order `~w` prints the pairs in. `nil`
/// means OTP 25 refuses the map (`badarg`): two of its keys are the same term.
///
/// Comparing value sequences rather than printed text lets keys be pids, ports
/// and references of other nodes, which OTP prints with node-private channel numbers.
struct OrderCase: Sendable, CustomTestStringConvertible {
    var label: String
    var keys: [[UInt8]]
    var expected: [Int]?

    init(_ label: String, _ keys: [[UInt8]], _ expected: [Int]?) {
        self.label = label
        self.keys = keys
        self.expected = expected
    }

    var bytes: [UInt8] {
        ETFBytes.term(ETFBytes.map(keys.enumerated().map { (index, key) in (key, ETFBytes.smallInt(UInt8(index + 1))) }))
    }

    var testDescription: String { label }
}

/// Map key order cases. Every `expected` is what OTP 25 returned for
///
///     erl -noshell -eval 'io:format("~w~n", [maps:values(binary_to_term(list_to_binary(BYTES)))]), halt().'
///
/// (or `badarg`), BYTES being the case's `bytes`; LiveBEAMTests checks them all
/// again whenever `erl` is installed.
enum TermOrderCases {
    typealias B = ETFBytes
    static let foo = B.atom("foo@bar")
    static let baz = B.atom("foo@baz")

    /// Distinct 16-byte uniq fields keep the BEAM from sharing one fun entry between funs.
    static func uniq(_ n: UInt8) -> [UInt8] { [UInt8](repeating: 0, count: 15) + [n] }

    static let all: [OrderCase] = [
        OrderCase("one key of each kind", [
            B.bitstring([128], bits: 1), B.list([B.smallInt(1)]), B.nil, B.map([]), B.tuple(), B.pid(id: 1, serial: 0),
            B.port(id: 1), B.export("lists", "map", 2), B.fun(module: "m"), B.ref(ids: [1, 0, 0]), B.atom("a"),
            B.float(1.0), B.smallInt(2), B.smallBig(negative: false, [0, 0, 0, 0, 0, 0, 0, 0, 1]), B.int32(-1),
        ], [15, 13, 14, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
        OrderCase("integers before floats", [
            B.smallInt(3), B.smallInt(100), B.int32(-1), B.float(1.5), B.float(2.0), B.float(-0.5),
            B.smallBig(negative: false, [0, 0, 0, 0, 0, 0, 0, 0, 1]), B.smallBig(negative: true, [0, 0, 0, 0, 0, 0, 0, 0, 1]),
            B.float(1.0e300), B.float(0.0), B.largeBig(negative: false, [UInt8](repeating: 0, count: 20) + [1]),
        ], [8, 3, 1, 2, 7, 11, 6, 10, 4, 5, 9]),
        OrderCase("integers and floats nested in keys", [
            B.tuple(B.float(1.0)), B.tuple(B.smallInt(2)), B.list([B.float(0.5)]), B.list([B.smallInt(7)]),
            B.tuple(B.smallInt(1), B.float(1.0)), B.tuple(B.smallInt(1), B.smallInt(9)),
        ], [2, 1, 6, 5, 4, 3]),
        OrderCase("atoms by code point, across encodings", [
            B.atom("b"), B.latin1Atom(Array("B".utf8)), B.atom("aa"), B.atom(""), B.latin1Atom([233]), B.atom("ж"),
            B.smallLatin1Atom([255]), B.atom("a"), B.atom("\u{100}"),
        ], [4, 2, 8, 3, 1, 5, 7, 9, 6]),
        OrderCase("bitstrings", [
            B.binary([255]), B.bitstring([0b1000_0000], bits: 2), B.binary([]), B.bitstring([0], bits: 1),
            B.bitstring([0b1000_0000], bits: 1), B.binary([1, 2]), B.bitstring([1, 0b0100_0000], bits: 3), B.binary([1]),
            B.binary([0]), B.bitstring([1, 255], bits: 8),
        ], [3, 4, 9, 8, 6, 7, 10, 5, 2, 1]),
        OrderCase("lists", [
            B.list([B.smallInt(2)]), B.list([B.smallInt(1), B.smallInt(2)]), B.list([B.smallInt(1)]), B.string([97, 98]),
            B.list([B.smallInt(1)], tail: B.smallInt(2)), B.list([B.smallInt(97), B.smallInt(99)]), B.list([B.nil]),
            B.list([B.smallInt(1)], tail: B.atom("a")), B.string([1, 2, 3]), B.list([B.atom("a")]),
        ], [5, 8, 3, 2, 9, 1, 4, 6, 10, 7]),
        OrderCase("tuples by size first", [
            B.tuple(B.smallInt(2)), B.tuple(B.smallInt(1), B.smallInt(1)), B.tuple(), B.tuple(B.atom("a")),
            B.tuple(B.smallInt(1)), B.tuple(B.tuple()), B.largeTuple([B.smallInt(0), B.smallInt(0)]),
        ], [3, 5, 1, 4, 6, 7, 2]),
        OrderCase("maps by size, then keys, then values", [
            B.map([(B.atom("b"), B.smallInt(0))]), B.map([(B.atom("a"), B.smallInt(2))]), B.map([]),
            B.map([(B.atom("a"), B.smallInt(1))]), B.map([(B.smallInt(1), B.atom("x")), (B.smallInt(2), B.atom("y"))]),
            B.map([(B.float(1.0), B.atom("x"))]), B.map([(B.smallInt(1), B.atom("x"))]),
        ], [3, 7, 6, 4, 2, 1, 5]),
        OrderCase("local pids by serial, then number", [
            B.pid(id: 1, serial: 2), B.pid(id: 2, serial: 1), B.pid(id: 3, serial: 0), B.pid(id: 0, serial: 5),
            B.oldPid(id: 4, serial: 0),
        ], [3, 5, 2, 1, 4]),
        OrderCase("foreign pids: number before node before creation", [
            B.pid(node: foo, id: 5, serial: 0, creation: 1), B.pid(node: foo, id: 4, serial: 0, creation: 2),
            B.pid(node: baz, id: 1, serial: 0, creation: 1), B.pid(node: foo, id: 1, serial: 0, creation: 2),
            B.pid(node: foo, id: 1, serial: 0, creation: 1), B.pid(id: 1, serial: 0),
        ], [5, 4, 3, 6, 2, 1]),
        OrderCase("ports: node, then creation, then number", [
            B.port(id: 0), B.port(node: foo, id: 5, creation: 1), B.port(node: foo, id: 4, creation: 2),
            B.port(node: baz, id: 1, creation: 1), B.port(node: foo, id: 9, creation: 1), B.newPort(id: 3),
            B.oldPort(id: 10),
        ], [2, 5, 3, 4, 1, 6, 7]),
        OrderCase("local references by value, high words first", [
            B.ref(ids: [9]), B.ref(ids: [1, 0, 1]), B.ref(ids: [2, 1]), B.ref(ids: [1, 0, 0]),
            B.ref(ids: [1, 0, 0x8000_0001]), B.oldRef(id: 3), B.newRef(ids: [0, 1]),
        ], [4, 6, 1, 7, 3, 2, 5]),
        OrderCase("a 1-id reference equals its 3-id form", [B.ref(ids: [5]), B.ref(ids: [5, 0, 0])], nil),
        OrderCase("foreign references: node, then creation, then ids", [
            B.ref(node: foo, creation: 1, ids: [5]), B.ref(node: foo, creation: 2, ids: [4]),
            B.ref(node: baz, creation: 1, ids: [1]), B.ref(node: foo, creation: 1, ids: [0x8000_0001]),
            B.ref(node: foo, creation: 1, ids: [7, 0, 0, 0, 1]), B.ref(ids: [1, 0, 0]),
        ], [1, 4, 5, 2, 3, 6]),
        OrderCase("funs: module, index, old uniq, free count, free values", [
            B.fun(module: "b", uniq: uniq(1)), B.fun(module: "a", uniq: uniq(2), index: 9),
            B.fun(module: "a", uniq: uniq(3), index: 2, oldUniq: 1), B.fun(module: "a", uniq: uniq(4), index: 2, oldUniq: -5),
            B.fun(module: "a", uniq: uniq(5), index: 2, oldUniq: -5, free: [B.smallInt(1)]),
            B.fun(module: "a", uniq: uniq(6), index: 2, oldUniq: -5, free: [B.smallInt(0)]),
            B.fun(module: "ab", uniq: uniq(7)), B.export("a", "b", 0), B.export("a", "a", 1), B.export("a", "a", 0),
        ], [4, 6, 5, 3, 2, 7, 1, 10, 9, 8]),
        OrderCase("funs differing only in old index, uniq, arity or creator are equal", [
            B.fun(module: "q", uniq: uniq(1), index: 4, oldIndex: 1, pid: B.pid(id: 1, serial: 0)),
            B.fun(module: "q", arity: 3, uniq: uniq(2), index: 4, oldIndex: 2, pid: B.pid(id: 2, serial: 0)),
        ], nil),
        OrderCase("equal keys in different encodings", [B.string([97, 98]), B.list([B.smallInt(97), B.smallInt(98)])], nil),
        OrderCase("SMALL_BIG_EXT 5 equals 5", [B.smallBig(negative: false, [5]), B.smallInt(5)], nil),
        OrderCase("Latin-1 and UTF-8 atoms are equal", [B.latin1Atom([233]), B.atom("é")], nil),
        OrderCase("1 and 1.0 are different keys", [B.float(1.0), B.smallInt(1)], [2, 1]),
        OrderCase("equal nested keys", [
            B.tuple(B.smallInt(1), B.list([B.atom("a")])), B.tuple(B.smallInt(1), B.list([B.latin1Atom([97])])),
        ], nil),
        OrderCase("maps as keys, equal", [
            B.map([(B.atom("a"), B.smallInt(1)), (B.atom("b"), B.nil)]), B.map([(B.atom("b"), B.nil), (B.atom("a"), B.smallInt(1))]),
        ], nil),
    ]
}
