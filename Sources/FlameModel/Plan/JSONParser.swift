/// A recursive-descent parser; recursion is bounded by `maxDepth`.
struct JSONParser {
    let bytes: [UInt8]
    let maxDepth: Int
    var index = 0
    var depth = 0

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument(maxInputBytes: Int) throws(JSONSyntaxError) -> JSONValue {
        guard bytes.count <= maxInputBytes else {
            throw error(at: maxInputBytes, "the input is larger than the limit of \(maxInputBytes) bytes")
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw error(at: 0, "the input starts with a UTF-8 byte order mark, which JSON does not allow; save it without one")
        }
        skipWhitespace()
        guard index < bytes.count else {
            throw error(at: index, bytes.isEmpty ? "the input is empty, expected a JSON value" : "the input holds only whitespace, expected a JSON value")
        }
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw error(at: index, "unexpected \(found(at: index)) after the JSON value") }
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw error(at: index, "expected a value, found the end of the input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error(at: index, "expected a value, found \(found(at: index))")
        }
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= maxDepth else { throw error(at: index, "arrays and objects nest deeper than the limit of \(maxDepth) levels") }
        index += 1
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(items)
        }
        while true {
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else {
                throw error(at: index, "expected ',' or ']' after an array element, found the end of the input")
            }
            if bytes[index] == UInt8(ascii: "]") { break }
            guard bytes[index] == UInt8(ascii: ",") else {
                throw error(at: index, "expected ',' or ']' after an array element, found \(found(at: index))")
            }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                throw error(at: index, "expected a value after ',', found ']' (JSON allows no trailing comma)")
            }
        }
        index += 1
        depth -= 1
        return .array(items)
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        var members: [(key: String, value: JSONValue)] = []
        var keys: Set<[UInt8]> = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error(at: index, "expected a key in double quotes, found \(found(at: index))")
            }
            let keyOffset = index
            let key = try parseString()
            guard keys.insert(Array(key.utf8)).inserted else {
                throw error(at: keyOffset, "duplicate key \(JSONValue.quoted(key)) in an object")
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error(at: index, "expected ':' after the key \(JSONValue.quoted(key)), found \(found(at: index))")
            }
            index += 1
            skipWhitespace()
            members.append((key: key, value: try parseValue()))
            skipWhitespace()
            guard index < bytes.count else {
                throw error(at: index, "expected ',' or '}' after an object member, found the end of the input")
            }
            if bytes[index] == UInt8(ascii: "}") { break }
            guard bytes[index] == UInt8(ascii: ",") else {
                throw error(at: index, "expected ',' or '}' after an object member, found \(found(at: index))")
            }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                throw error(at: index, "expected a key after ',', found '}' (JSON allows no trailing comma)")
            }
        }
        index += 1
        depth -= 1
        return .object(members)
    }

    private mutating func parseLiteral(_ word: String) throws(JSONSyntaxError) {
        let expected = Array(word.utf8)
        guard bytes.count - index >= expected.count, bytes[index..<index + expected.count].elementsEqual(expected) else {
            throw error(at: index, "expected '\(word)', found \(foundWord(at: index))")
        }
        index += expected.count
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw error(at: index, "expected a digit after '-', found \(found(at: index))")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw error(at: start, "a number may not start with a 0 followed by more digits")
            }
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw error(at: index, "expected a digit after the decimal point, found \(found(at: index))")
            }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw error(at: index, "expected a digit in the exponent, found \(found(at: index))")
            }
            skipDigits()
        }
        return JSONNumber(validated: bytes[start..<index])
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    /// A string literal, from its opening quote; checks the UTF-8 and the escapes.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = index
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw error(at: start, "the string that starts here has no closing '\"'")
            }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &out)
            case 0..<0x20:
                throw error(at: index, "a control character (U+\(JSONValue.hex4(UInt32(byte)))) must be escaped in a string")
            case 0x80...:
                let length = try utf8SequenceLength(at: index)
                out.append(contentsOf: bytes[index..<index + length])
                index += length
            default:
                out.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(JSONSyntaxError) {
        let start = index
        index += 1
        guard index < bytes.count else { throw error(at: start, "the string has no closing '\"'") }
        let simple: UInt8?
        switch bytes[index] {
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        case 0x21..<0x7F:
            throw error(at: start, "invalid escape '\\\(Character(Unicode.Scalar(bytes[index])))' in a string")
        default:
            throw error(at: start, "invalid escape in a string: '\\' followed by \(found(at: index))")
        }
        if let simple {
            out.append(simple)
            index += 1
            return
        }
        index += 1
        var scalar = try hexQuad(escapeAt: start)
        if scalar >= 0xD800 && scalar <= 0xDBFF {
            // A high surrogate: a low one must follow as another \u escape.
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error(at: start, "unpaired surrogate \\u\(JSONValue.hex4(scalar)) in a string")
            }
            let lowStart = index
            index += 2
            let low = try hexQuad(escapeAt: lowStart)
            guard low >= 0xDC00 && low <= 0xDFFF else {
                throw error(at: start, "unpaired surrogate \\u\(JSONValue.hex4(scalar)) in a string")
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
            throw error(at: start, "unpaired surrogate \\u\(JSONValue.hex4(scalar)) in a string")
        }
        // Not a lone surrogate, so a valid scalar.
        out.append(contentsOf: (Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8)
    }

    /// Four hex digits at `index`, after `\u`.
    private mutating func hexQuad(escapeAt start: Int) throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw error(at: start, "expected four hex digits after '\\u', found the end of the input") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error(at: start, "expected four hex digits after '\\u', found \(found(at: index))")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The length of the well-formed UTF-8 sequence at `position` (its first
    /// byte is 0x80 or more), or an error: no overlong forms, no surrogates,
    /// nothing past U+10FFFF.
    private func utf8SequenceLength(at position: Int) throws(JSONSyntaxError) -> Int {
        guard let length = JSONParser.wellFormedUTF8Length(bytes, at: position) else {
            throw error(at: position, "invalid UTF-8 (byte 0x\(String(bytes[position], radix: 16, uppercase: true)))")
        }
        return length
    }

    static func wellFormedUTF8Length(_ bytes: [UInt8], at position: Int) -> Int? {
        let length = UTF8Sequence.length(bytes, at: position, end: bytes.count)
        return length > 0 ? length : nil
    }

    // MARK: Errors

    /// What is at `position`, for a message: `'x'`, `'é'`, `byte 0xFF`, `the end of the input`.
    private func found(at position: Int) -> String {
        guard position < bytes.count else { return "the end of the input" }
        let byte = bytes[position]
        if byte == UInt8(ascii: "/") { return "'/' (JSON has no comments)" }
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte < 0x80 { return "U+\(JSONValue.hex4(UInt32(byte)))" }
        if let length = JSONParser.wellFormedUTF8Length(bytes, at: position) {
            let text = String(decoding: bytes[position..<position + length], as: UTF8.self)
            return "'\(text)' (U+\(JSONValue.hex4(text.unicodeScalars.first?.value ?? 0)))"
        }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    /// The letters at `position`, for a misspelt literal: `'nul'`, `'True'`.
    private func foundWord(at position: Int) -> String {
        var end = position
        while end < bytes.count, end - position < 12, bytes[end] < 0x80, Character(Unicode.Scalar(bytes[end])).isLetter { end += 1 }
        guard end > position else { return found(at: position) }
        return "'" + String(decoding: bytes[position..<end], as: UTF8.self) + "'"
    }

    private func error(at offset: Int, _ problem: String) -> JSONSyntaxError {
        var line = 1
        var column = 1
        for position in 0..<min(offset, bytes.count) {
            let byte = bytes[position]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONSyntaxError(offset: offset, line: line, column: column, problem: problem)
    }
}
