/// A JSON number, kept exactly as written and as an exact decimal, so that an
/// integer can be told from a fraction whatever its size (`1.0` and `1e2` are
/// integers, as JSON Schema counts them; `1.5` is not).
///
/// Two numbers are equal when their values are (`1 == 1.0 == 10e-1`), and they
/// order by value, exactly: a config's numbers are compared the way JSON Schema
/// compares them, not through `Double`.
public struct JSONNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The number as it was written.
    public let text: String
    /// The nearest `Double`; ±infinity past its range.
    public let double: Double
    /// The value, when it is an integer that fits in `Int64`.
    public let int64: Int64?

    // The exact value: ±(significand) × 10^exponent, the significand's ASCII
    // digits with no leading or trailing zeros (none at all for zero).
    private let negative: Bool
    private let significand: [UInt8]
    private let exponent: Int

    /// Exponents are clamped to this magnitude: past it every value is far
    /// beyond any limit the program has (and `Double` says ±infinity or zero).
    private static let exponentLimit = 1 << 40

    /// Parses `text` as a JSON number (RFC 8259: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard Self.scan(bytes, from: 0) == bytes.count else { return nil }
        self.init(validated: bytes[...])
    }

    public init(_ value: Int64) {
        self.init(validated: Array(String(value).utf8)[...])
    }

    /// The length of the JSON number that starts at `start`, or nil when
    /// none does. The parser reports its own errors; this is for `init?`.
    private static func scan(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        func digits() -> Int {
            let first = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - first
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            return nil
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return nil }
        }
        return index - start
    }

    /// `bytes` is a well-formed JSON number.
    init(validated bytes: ArraySlice<UInt8>) {
        text = String(decoding: bytes, as: UTF8.self)
        double = Double(text) ?? .nan
        var index = bytes.startIndex
        let isNegative = bytes[index] == UInt8(ascii: "-")
        if isNegative { index += 1 }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var inFraction = false
        var exponent = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                index += 1
                var exponentNegative = false
                if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    exponentNegative = bytes[index] == UInt8(ascii: "-")
                    index += 1
                }
                while index < bytes.endIndex {
                    exponent = min(exponent * 10 + Int(bytes[index] - UInt8(ascii: "0")), Self.exponentLimit)
                    index += 1
                }
                if exponentNegative { exponent = -exponent }
                break
            } else {
                if !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte) }
                if inFraction { fractionDigits += 1 }
            }
            index += 1
        }
        exponent -= fractionDigits
        while let last = digits.last, last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty { exponent = 0 }
        exponent = max(-Self.exponentLimit, min(exponent, Self.exponentLimit))
        negative = isNegative && !digits.isEmpty
        significand = digits
        self.exponent = exponent
        int64 = Self.exactInt64(negative: negative, significand: digits, exponent: exponent)
    }

    private static func exactInt64(negative: Bool, significand: [UInt8], exponent: Int) -> Int64? {
        guard exponent >= 0, significand.count + exponent <= 19 else { return significand.isEmpty ? 0 : nil }
        // Accumulate towards the sign, so that Int64.min fits.
        var value: Int64 = 0
        for position in 0..<(significand.count + exponent) {
            let digit = position < significand.count ? Int64(significand[position] - UInt8(ascii: "0")) : 0
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
        }
        return value
    }

    /// True when the value has no fractional part (`1`, `1.0`, `1e2`, `-0`), as
    /// JSON Schema's `integer` type asks, whatever its size.
    public var isInteger: Bool { exponent >= 0 }

    public var description: String { text }

    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        a.negative == b.negative && a.exponent == b.exponent && a.significand == b.significand
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(negative)
        hasher.combine(exponent)
        hasher.combine(significand)
    }

    public static func < (a: JSONNumber, b: JSONNumber) -> Bool {
        if a.negative != b.negative { return a.negative }
        let magnitudeLess = a.magnitudeLess(than: b)
        let magnitudeGreater = b.magnitudeLess(than: a)
        return a.negative ? magnitudeGreater : magnitudeLess
    }

    private func magnitudeLess(than other: JSONNumber) -> Bool {
        if significand.isEmpty || other.significand.isEmpty { return significand.isEmpty && !other.significand.isEmpty }
        // The place of the leading digit decides, then the digits themselves.
        let place = significand.count + exponent
        let otherPlace = other.significand.count + other.exponent
        if place != otherPlace { return place < otherPlace }
        return significand.lexicographicallyPrecedes(other.significand)
    }

    /// A canonical spelling of the value (`-15e-1` for `-1.50`), equal for equal numbers.
    var canonicalText: String {
        guard !significand.isEmpty else { return "0" }
        return (negative ? "-" : "") + String(decoding: significand, as: UTF8.self) + "e" + String(exponent)
    }
}
