@testable import FlameModel
import Testing

@Suite("JSONValue.parse: values")
struct JSONValueParseTests {
    @Test("scalars, arrays and objects")
    func values() throws {
        let value = try JSONValue.parse(#" {"b": [true, false, null, "x\n\u00e9\ud83d\ude00", -1.5e3], "a": {}, "c": []} "#)
        guard case .object(let members) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(members.map(\.key) == ["b", "a", "c"], "members keep the order written")
        #expect(value["b"] == .array([.bool(true), .bool(false), .null, .string("x\n\u{E9}\u{1F600}"), .number(JSONNumber("-1500")!)]))
        #expect(value["a"] == .object([]))
        #expect(value["c"] == .array([]))
        #expect(value["d"] == nil)
        #expect(value.jsonText == #"{"b":[true,false,null,"x\n\#u{E9}\#u{1F600}",-1.5e3],"a":{},"c":[]}"#)
    }

    @Test("every escape")
    func escapes() throws {
        let value = try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u0041\u00DF\u20AC\uD834\uDD1E""#)
        #expect(value == .string("\"\\/\u{8}\u{C}\n\r\tA\u{DF}\u{20AC}\u{1D11E}"))
    }

    @Test("a top-level scalar is a JSON text")
    func topLevelScalars() throws {
        #expect(try JSONValue.parse("3") == .number(JSONNumber(3)))
        #expect(try JSONValue.parse("\"s\"") == .string("s"))
        #expect(try JSONValue.parse("\r\n\tnull \n") == .null)
    }

    @Test("equality is JSON Schema's: numbers by value, objects in any order, strings by scalars")
    func equality() throws {
        #expect(try JSONValue.parse(#"{"a": 1, "b": [1.0]}"#) == JSONValue.parse(#"{"b": [10e-1], "a": 1.00}"#))
        #expect(try JSONValue.parse(#"{"a": 1}"#) != JSONValue.parse(#"{"a": 1, "b": 2}"#))
        #expect(try JSONValue.parse(#"{"a": 1, "c": 2}"#) != JSONValue.parse(#"{"a": 1, "b": 2}"#))
        #expect(try JSONValue.parse("[1, 2]") != JSONValue.parse("[2, 1]"))
        #expect(JSONValue.bool(true) != .number(JSONNumber(1)))
        // Canonically equivalent, but not the same scalars: different JSON strings.
        #expect(JSONValue.string("\u{E9}") != .string("e\u{301}"))
        #expect(JSONValue.string("\u{212A}") != .string("K"))
    }
}

@Suite("JSONNumber")
struct JSONNumberTests {
    @Test("integers, however written", arguments: [
        ("0", 0), ("-0", 0), ("1.0", 1), ("1e2", 100), ("1E+2", 100), ("1.5e1", 15), ("-2.500e3", -2500), ("100e-2", 1),
        ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min), ("0.000e5", 0),
    ] as [(String, Int64)])
    func integers(text: String, value: Int64) throws {
        let number = try #require(JSONNumber(text))
        #expect(number.isInteger)
        #expect(number.int64 == value)
        #expect(number.text == text)
        #expect(number == JSONNumber(value))
    }

    @Test("integers past Int64 are still integers")
    func bigIntegers() throws {
        for text in ["9223372036854775808", "-9223372036854775809", "1e19", "1e400", "123456789012345678901234567890"] {
            let number = try #require(JSONNumber(text))
            #expect(number.isInteger, "\(text)")
            #expect(number.int64 == nil, "\(text)")
        }
        #expect(JSONNumber("1e400")?.double == .infinity)
    }

    @Test("fractions", arguments: ["0.5", "-1.25", "1.25e1", "1e-1", "1e-400", "1.0000000000000001"])
    func fractions(text: String) throws {
        let number = try #require(JSONNumber(text))
        #expect(!number.isInteger)
        #expect(number.int64 == nil)
    }

    @Test("exact order and equality")
    func order() throws {
        let ascending = ["-1e400", "-2", "-1.5", "-1", "-1e-9", "0", "1e-400", "0.5", "1", "1.0000000000000001", "1.5", "2", "1e19", "1e400"]
        let numbers = try ascending.map { try #require(JSONNumber($0)) }
        for (i, a) in numbers.enumerated() {
            for (j, b) in numbers.enumerated() {
                #expect((a < b) == (i < j), "\(a) < \(b)")
                #expect((a == b) == (i == j), "\(a) == \(b)")
            }
        }
        #expect(JSONNumber("-0") == JSONNumber("0.0"))
        #expect(JSONNumber("10e-1") == JSONNumber("1"))
        #expect(JSONNumber("10e-1")?.hashValue == JSONNumber("1")?.hashValue)
    }

    @Test("not JSON numbers", arguments: ["", "-", "+1", "01", "-01", ".5", "1.", "1e", "1e+", "0x10", "1 ", " 1", "NaN", "Infinity", "1_000"])
    func rejected(text: String) {
        #expect(JSONNumber(text) == nil)
    }
}

@Suite("JSONValue.parse: syntax errors")
struct JSONSyntaxErrorTests {
    static let cases: [(input: [UInt8], offset: Int, line: Int, column: Int, problem: String)] = [
        (b(""), 0, 1, 1, "the input is empty, expected a JSON value"),
        (b("  \n "), 4, 2, 2, "the input holds only whitespace, expected a JSON value"),
        (b("[1, 2"), 5, 1, 6, "expected ',' or ']' after an array element, found the end of the input"),
        (b("[1 2]"), 3, 1, 4, "expected ',' or ']' after an array element, found '2'"),
        (b("[1,]"), 3, 1, 4, "expected a value after ',', found ']' (JSON allows no trailing comma)"),
        (b(#"{"a":1,}"#), 7, 1, 8, "expected a key after ',', found '}' (JSON allows no trailing comma)"),
        (b(#"{"a" 1}"#), 5, 1, 6, #"expected ':' after the key "a", found '1'"#),
        (b(#"{"a":1 "b":2}"#), 7, 1, 8, #"expected ',' or '}' after an object member, found '"'"#),
        (b(#"{"a":1"#), 6, 1, 7, "expected ',' or '}' after an object member, found the end of the input"),
        (b("{a:1}"), 1, 1, 2, "expected a key in double quotes, found 'a'"),
        (b("{\"a\":1,\n \"a\":2}"), 9, 2, 2, #"duplicate key "a" in an object"#),
        (b(#"{"a":}"#), 5, 1, 6, "expected a value, found '}'"),
        (b("01"), 0, 1, 1, "a number may not start with a 0 followed by more digits"),
        (b("[-]"), 2, 1, 3, "expected a digit after '-', found ']'"),
        (b("1."), 2, 1, 3, "expected a digit after the decimal point, found the end of the input"),
        (b("1e+"), 3, 1, 4, "expected a digit in the exponent, found the end of the input"),
        (b("tru"), 0, 1, 1, "expected 'true', found 'tru'"),
        (b("[nul]"), 1, 1, 2, "expected 'null', found 'nul'"),
        (b("falsy"), 0, 1, 1, "expected 'false', found 'falsy'"),
        (b("nullx"), 4, 1, 5, "unexpected 'x' after the JSON value"),
        (b("NaN"), 0, 1, 1, "expected a value, found 'N'"),
        (b("'a'"), 0, 1, 1, "expected a value, found '''"),
        (b("// note\n{}"), 0, 1, 1, "expected a value, found '/' (JSON has no comments)"),
        (b(#""abc"#), 0, 1, 1, "the string that starts here has no closing '\"'"),
        (b(#""a\qb""#), 2, 1, 3, #"invalid escape '\q' in a string"#),
        (b(#""a\"#), 2, 1, 3, "the string has no closing '\"'"),
        (b(#""\u12G4""#), 1, 1, 2, #"expected four hex digits after '\u', found 'G'"#),
        (b(#""\u12"#), 1, 1, 2, #"expected four hex digits after '\u', found the end of the input"#),
        (b(#""\uD800""#), 1, 1, 2, #"unpaired surrogate \uD800 in a string"#),
        (b(#""\uDC00""#), 1, 1, 2, #"unpaired surrogate \uDC00 in a string"#),
        (b(#""\ud800\u0041""#), 1, 1, 2, #"unpaired surrogate \uD800 in a string"#),
        (b("\"a\tb\""), 2, 1, 3, "a control character (U+0009) must be escaped in a string"),
        (b("\"a\nb\""), 2, 1, 3, "a control character (U+000A) must be escaped in a string"),
        ([0x22, 0xFF, 0x22], 1, 1, 2, "invalid UTF-8 (byte 0xFF)"),
        ([0x22, 0xC0, 0x80, 0x22], 1, 1, 2, "invalid UTF-8 (byte 0xC0)"),
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1, 1, 2, "invalid UTF-8 (byte 0xED)"),
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, 1, 2, "invalid UTF-8 (byte 0xF4)"),
        ([0x22, 0xE2, 0x82, 0x22], 1, 1, 2, "invalid UTF-8 (byte 0xE2)"),
        ([0x22, 0xE2, 0x82], 1, 1, 2, "invalid UTF-8 (byte 0xE2)"),
        ([0x5B, 0x80], 1, 1, 2, "expected a value, found byte 0x80"),
        (b("[\u{E9}]"), 1, 1, 2, "expected a value, found '\u{E9}' (U+00E9)"),
        (b("\"\u{E9}\" x"), 5, 1, 5, "unexpected 'x' after the JSON value"),
        ([0x00], 0, 1, 1, "expected a value, found U+0000"),
        (b("[1,\r\n2,,3]"), 7, 2, 3, "expected a value, found ','"),
        ([0xEF, 0xBB, 0xBF, 0x7B, 0x7D], 0, 1, 1, "the input starts with a UTF-8 byte order mark, which JSON does not allow; save it without one"),
    ]

    static func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("each error names the byte, line, column and problem", arguments: cases)
    func error(input: [UInt8], offset: Int, line: Int, column: Int, problem: String) {
        #expect(throws: JSONSyntaxError(offset: offset, line: line, column: column, problem: problem)) {
            try JSONValue.parse(input)
        }
    }

    @Test("description")
    func description() {
        let error = JSONSyntaxError(offset: 9, line: 2, column: 2, problem: "duplicate key \"a\" in an object")
        #expect(error.description == "line 2, column 2: duplicate key \"a\" in an object")
    }
}

@Suite("JSONValue.parse: limits")
struct JSONLimitTests {
    static func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    @Test("64 levels of arrays and objects are fine, 65 are not")
    func depth() throws {
        _ = try JSONValue.parse(Self.nested(64))
        #expect(throws: JSONSyntaxError(offset: 64, line: 1, column: 65, problem: "arrays and objects nest deeper than the limit of 64 levels")) {
            try JSONValue.parse(Self.nested(65))
        }
        let objects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(throws: JSONSyntaxError(offset: 64 * 5, line: 1, column: 64 * 5 + 1, problem: "arrays and objects nest deeper than the limit of 64 levels")) {
            try JSONValue.parse(objects)
        }
        _ = try JSONValue.parse(Self.nested(3), maxDepth: 3)
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(Self.nested(4), maxDepth: 3) }
    }

    @Test("a million opening brackets stop at the limit, not the stack")
    func deepInput() {
        #expect(throws: JSONSyntaxError(offset: 64, line: 1, column: 65, problem: "arrays and objects nest deeper than the limit of 64 levels")) {
            try JSONValue.parse(String(repeating: "[", count: 1_000_000))
        }
    }

    @Test("1 MiB is accepted, one byte more is not")
    func size() throws {
        let limit = JSONValue.defaultMaxInputBytes
        #expect(limit == 1_048_576)
        let fits = [UInt8](repeating: 0x20, count: limit - 2) + Array("{}".utf8)
        #expect(try JSONValue.parse(fits) == .object([]))
        let tooBig = [UInt8](repeating: 0x20, count: limit - 1) + Array("{}".utf8)
        #expect(throws: JSONSyntaxError(offset: limit, line: 1, column: limit + 1, problem: "the input is larger than the limit of 1048576 bytes")) {
            try JSONValue.parse(tooBig)
        }
        #expect(throws: JSONSyntaxError(offset: 4, line: 1, column: 5, problem: "the input is larger than the limit of 4 bytes")) {
            try JSONValue.parse("[1, 2]", maxInputBytes: 4)
        }
    }

    @Test("long strings and numbers within the limit")
    func longTokens() throws {
        let digits = String(repeating: "7", count: 500_000)
        let number = try JSONValue.parse(digits)
        guard case .number(let value) = number else {
            Issue.record("not a number")
            return
        }
        #expect(value.isInteger && value.int64 == nil && value.double == .infinity)
        let text = String(repeating: "\u{E9}", count: 400_000)
        #expect(try JSONValue.parse("\"" + text + "\"") == .string(text))
    }
}

/// A small deterministic generator, so that a failure can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("JSONValue.parse: robustness")
struct JSONRobustnessTests {
    static let seeds: [String] = [
        #"{"categories": ["status", "bucket(memory,log2)", {"level": "bucket", "metric": "m", "thresholds": [0, 1, 10]}], "metrics": ["reductions"], "weight": "reductions_delta"}"#,
        #"[1, -2.5e-3, true, false, null, "\u00e9\ud83d\ude00\n", {"a": {"b": []}}]"#,
        "\"caf\u{E9} \u{1F600}\"",
    ]

    /// Every outcome is a value that prints and reads back the same, or an error
    /// that points inside (or just past) the input.
    func check(_ bytes: [UInt8]) {
        do {
            let value = try JSONValue.parse(bytes)
            let again = try JSONValue.parse(value.jsonText)
            #expect(again == value, "\(bytes)")
        } catch {
            #expect(error.offset >= 0 && error.offset <= bytes.count, "\(bytes)")
            #expect(error.line >= 1 && error.column >= 1 && !error.problem.isEmpty, "\(bytes)")
        }
    }

    @Test("random bytes")
    func randomBytes() {
        var random = SplitMix64(state: 1)
        for _ in 0..<3000 {
            let count = Int.random(in: 0...48, using: &random)
            check((0..<count).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
    }

    @Test("random JSON-ish tokens")
    func randomTokens() {
        let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "D83D", "DE00", "00e9", "0", "1", "9", "-", "+", ".", "e", "E",
                      "true", "false", "null", "tru", " ", "\n", "\t", "\u{E9}", "a", "/", "\u{0}"]
        var random = SplitMix64(state: 2)
        for _ in 0..<5000 {
            let count = Int.random(in: 0...24, using: &random)
            check(Array((0..<count).map { _ in tokens.randomElement(using: &random)! }.joined().utf8))
        }
    }

    @Test("mutated valid documents")
    func mutations() {
        var random = SplitMix64(state: 3)
        for _ in 0..<6000 {
            var bytes = Array(Self.seeds.randomElement(using: &random)!.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
                case 2: if bytes.count > 1 { bytes.remove(at: position) }
                default: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                }
            }
            check(bytes)
        }
    }

    @Test("every prefix of a valid document")
    func prefixes() {
        for seed in Self.seeds {
            let bytes = Array(seed.utf8)
            for end in 0...bytes.count { check(Array(bytes[..<end])) }
        }
    }
}
