/// Well-formed UTF-8 (Unicode's table 3-7): no overlong forms, no surrogates,
/// nothing past U+10FFFF. The one place that knows it above the ETF reader,
/// for the JSON config reader, which refuses ill-formed text, and the JSON
/// writers, which replace it.
public enum UTF8Sequence {
    /// For the sequence that starts at `i` (before `end`): its length when it
    /// is well-formed (1 for ASCII); otherwise minus the length of its maximal
    /// subpart (at least 1), the bytes one U+FFFD stands for in Unicode's
    /// recommended practice, which `String(decoding:as:)` follows too.
    @inlinable
    public static func length<C: Collection>(_ bytes: C, at i: Int, end: Int) -> Int where C.Element == UInt8, C.Index == Int {
        let lead = bytes[i]
        // The continuation bytes after the lead, and the range the first one must be in.
        let count: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: count = 1
        case 0xE0: count = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 2
        case 0xED: count = 2; high = 0x9F
        case 0xF0: count = 3; low = 0x90
        case 0xF1...0xF3: count = 3
        case 0xF4: count = 3; high = 0x8F
        default: return -1
        }
        var j = i + 1
        for k in 0..<count {
            guard j < end else { return -(j - i) }
            let byte = bytes[j]
            let inRange = k == 0 ? (byte >= low && byte <= high) : (byte >= 0x80 && byte <= 0xBF)
            guard inRange else { return -(j - i) }
            j += 1
        }
        return j - i
    }
}
