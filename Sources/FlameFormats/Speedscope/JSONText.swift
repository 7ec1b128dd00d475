import FlameModel

/// JSON text pieces the speedscope sink writes: strings from any bytes, and
/// unsigned integers.
enum JSONText {
    /// `"TEXT"`: `bytes` as a JSON string. `"`, `\` and control characters are
    /// escaped; bytes that are not UTF-8 become U+FFFD, one per maximal
    /// invalid subpart (Unicode's recommended practice, the same text
    /// `String(decoding:as: UTF8.self)` gives), so the file is always valid
    /// UTF-8 and valid JSON whatever a name holds.
    static func appendString<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8, C.Index == Int {
        out.append(UInt8(ascii: "\""))
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let byte = bytes[i]
            if byte < 0x80 {
                appendASCII(byte, to: &out)
                i += 1
                continue
            }
            let length = UTF8Sequence.length(bytes, at: i, end: end)
            if length > 0 {
                out.append(contentsOf: bytes[i..<(i + length)])
                i += length
            } else {
                out.append(contentsOf: replacement)
                i += -length
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// U+FFFD in UTF-8.
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    @inline(__always)
    private static func appendASCII(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            let hex = hexDigits
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
        default:
            out.append(byte)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `value` in decimal.
    @inline(__always)
    static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while rest > 0 {
                count += 1
                raw[24 - count] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                rest /= 10
            }
            out.append(contentsOf: raw[(24 - count)...])
        }
    }
}
