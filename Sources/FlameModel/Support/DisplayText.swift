/// Text from outside (file names, capture ids, node names, atoms) made safe to
/// show on a terminal: control characters and bytes that are not UTF-8 are
/// written as escapes, so a name cannot move the cursor, recolour the
/// terminal or end a line.
public enum DisplayText {
    /// File names are bytes, not always UTF-8. A byte that is not part of
    /// valid UTF-8 is kept in a `String` as the scalar `rawByteBase + byte`
    /// (Unicode's last private-use plane), so the name round-trips to the
    /// same bytes (`PathName`), and is shown as `\xHH`.
    public static let rawByteBase: UInt32 = 0x10_FF00
    /// Scalars that stand for raw bytes 0x80...0xFF.
    public static let rawByteScalars: ClosedRange<UInt32> = (rawByteBase + 0x80)...(rawByteBase + 0xFF)

    /// `text` with C0 and C1 controls and DEL as `\n`, `\t`, `\r`, `\e` or
    /// `\xHH`, a backslash as `\\` only when escapes were needed, and raw bytes as `\xHH`.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0D: out += "\\r"
            case 0x1B: out += "\\e"
            case 0x5C: out += "\\\\"
            case let value where needsEscape(scalar):
                let byte = rawByteScalars.contains(value) ? value - rawByteBase : value
                out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Each line of `text` escaped, its line ends kept.
    public static func escapedLines(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value != 0x0A && needsEscape($0) }) else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { escaped(String($0)) }.joined(separator: "\n")
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || rawByteScalars.contains(value)
    }
}
