/// A JSON value, as read by a strict RFC 8259 parser: no comments, no trailing
/// commas, no `NaN`, no byte order mark, strings valid UTF-8 without unpaired
/// surrogates, and no key twice in one object.
///
/// An object keeps its members in the order written. Two values are equal as
/// JSON Schema compares them: numbers by value (`1 == 1.0`), strings by their
/// Unicode scalars, objects whatever the order of their members.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The deepest nesting of arrays and objects `parse` accepts by default.
    public static let defaultMaxDepth = 64
    /// The largest input `parse` accepts by default: 1 MiB.
    public static let defaultMaxInputBytes = 1 << 20

    /// Parses one JSON text. Whitespace may surround the value; nothing else may.
    /// Every malformed input is a `JSONSyntaxError` naming where and what.
    public static func parse(
        _ bytes: [UInt8], maxDepth: Int = defaultMaxDepth, maxInputBytes: Int = defaultMaxInputBytes
    ) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseDocument(maxInputBytes: maxInputBytes)
    }

    /// Parses `text`'s UTF-8.
    public static func parse(
        _ text: String, maxDepth: Int = defaultMaxDepth, maxInputBytes: Int = defaultMaxInputBytes
    ) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth, maxInputBytes: maxInputBytes)
    }

    /// The member named `key` of an object (compared by Unicode scalars); nil for
    /// other values or when there is none.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null):
            return true
        case (.bool(let x), .bool(let y)):
            return x == y
        case (.number(let x), .number(let y)):
            return x == y
        case (.string(let x), .string(let y)):
            return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0 == $1 }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            var others: [[UInt8]: JSONValue] = [:]
            for member in y { others[Array(member.key.utf8)] = member.value }
            return x.allSatisfy { member in others[Array(member.key.utf8)].map { $0 == member.value } ?? false }
        default:
            return false
        }
    }

    /// The kind of value, as error messages name it: `a number`, `an object`, `null` …
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Compact JSON text of the value, members in their order.
    public var jsonText: String {
        var out = ""
        appendJSON(to: &out, canonical: false)
        return out
    }

    /// A text equal for equal values (see `==`): members sorted by key, numbers
    /// in one spelling. `uniqueItems` hashes it.
    var canonicalText: String {
        var out = ""
        appendJSON(to: &out, canonical: true)
        return out
    }

    private func appendJSON(to out: inout String, canonical: Bool) {
        switch self {
        case .null:
            out += "null"
        case .bool(let value):
            out += value ? "true" : "false"
        case .number(let number):
            out += canonical ? number.canonicalText : number.text
        case .string(let text):
            JSONValue.appendQuoted(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.appendJSON(to: &out, canonical: canonical)
            }
            out += "]"
        case .object(let members):
            let ordered = canonical ? members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } : members
            out += "{"
            for (index, member) in ordered.enumerated() {
                if index > 0 { out += "," }
                JSONValue.appendQuoted(member.key, to: &out)
                out += ":"
                member.value.appendJSON(to: &out, canonical: canonical)
            }
            out += "}"
        }
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var out = ""
        appendQuoted(text, to: &out)
        return out
    }

    static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + hex4(scalar.value)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
