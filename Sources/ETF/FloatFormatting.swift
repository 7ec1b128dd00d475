/// Floats as `io_lib_format:fwrite_g/1` writes them: the shortest digits that
/// read back to the same double, placed in plain or exponent notation by
/// Erlang's cost rule (`0.1`, `100.0`, `1.0e10`, `1.0e-5`, `9.007199254740992e15`).
enum FloatFormatting {
    static func append(_ value: Double, to out: inout [UInt8]) {
        if value == 0 {
            out.append(contentsOf: Array((value.sign == .minus ? "-0.0" : "0.0").utf8))
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let (digits, place) = shortestDigits(value.magnitude)
        insertDecimal(place: place, digits: digits, magnitude: value.magnitude, to: &out)
    }

    /// The shortest round-trip digits of a positive finite double, and the place of
    /// the decimal point: the value is `0.DIGITS × 10^place`. Swift's description
    /// already holds the shortest, closest digits; this reads them back out.
    static func shortestDigits(_ value: Double) -> (digits: [UInt8], place: Int) {
        let text = Array(value.description.utf8)
        var digits: [UInt8] = []
        var integerDigits = 0
        var seenPoint = false
        var exponent = 0
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: ".") {
                seenPoint = true
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                var sign = 1
                var j = i + 1
                if j < text.count, text[j] == UInt8(ascii: "-") { sign = -1; j += 1 } else if j < text.count, text[j] == UInt8(ascii: "+") { j += 1 }
                while j < text.count {
                    exponent = exponent * 10 + Int(text[j] - 0x30)
                    j += 1
                }
                exponent *= sign
                break
            } else {
                digits.append(c)
                if !seenPoint { integerDigits += 1 }
            }
            i += 1
        }
        var place = integerDigits + exponent
        var leading = 0
        while leading < digits.count - 1, digits[leading] == UInt8(ascii: "0") { leading += 1 }
        digits.removeFirst(leading)
        place -= leading
        while digits.count > 1, digits.last == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, place)
    }

    /// io_lib_format's placement rule on OTP 25, with the value `0.DIGITS × 10^place`:
    /// plain notation unless exponent notation is shorter, and never plain for
    /// magnitudes of 2^53 and up, whose trailing digits a double does not hold.
    static func insertDecimal(place: Int, digits: [UInt8], magnitude: Double, to out: inout [UInt8]) {
        let length = digits.count
        if place == 0 {
            out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
            out.append(contentsOf: digits)
            return
        }
        if place > 0 && place < length {
            out.append(contentsOf: digits[..<place])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[place...])
            return
        }
        let exponentText = Array(String(place - 1).utf8)
        let exponentCost = exponentText.count + 1 + (length == 1 ? 2 : 1)
        if place < 0 {
            if 2 - place <= exponentCost {
                out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -place))
                out.append(contentsOf: digits)
                return
            }
        } else if place - length + 2 <= exponentCost && magnitude < 9007199254740992.0 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: place - length))
            out.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "0")])
            return
        }
        out.append(digits[0])
        out.append(UInt8(ascii: "."))
        if length == 1 {
            out.append(UInt8(ascii: "0"))
        } else {
            out.append(contentsOf: digits[1...])
        }
        out.append(UInt8(ascii: "e"))
        out.append(contentsOf: exponentText)
    }
}
