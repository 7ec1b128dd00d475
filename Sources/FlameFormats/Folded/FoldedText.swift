/// The spelling of folded stacks: frame names made safe from the line's
/// separators, and the name of the negative file (docs/output-formats.md).
///
/// A line is `frame;frame;…;frame COUNT`. flamegraph.pl takes the count after
/// the last blank and, when the text before it ends in a blank and digits
/// too, reads that as a second (differential) count; inferno does the same at
/// the last space, trims Unicode whitespace off both ends of the line and of
/// the stack, skips lines that start with `# `, and refuses a whole file that
/// is not UTF-8. So a name never holds what those rules cut at.
public enum FoldedText {
    /// A name as one frame: `%XX` (two uppercase hex digits) for each byte of
    /// `%`, `;`, blanks and control characters (0x00–0x20, 0x7F), any other
    /// Unicode whitespace (NBSP, U+2028 …), any byte that is not part of valid
    /// UTF-8, and a `#` that begins the name. An empty name is written `''`,
    /// as Erlang writes the empty atom. Everything else stays as it is, so
    /// `M:F/A` reads as itself; replacing each `%XX` by its byte gives the
    /// name back.
    public static func append<Name: Collection<UInt8>>(_ name: Name, to out: inout [UInt8]) {
        if name.isEmpty {
            out.append(contentsOf: [UInt8(ascii: "'"), UInt8(ascii: "'")])
            return
        }
        // Once per distinct name: plain code over a copy is fast enough.
        let bytes = Array(name)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte < 0x80 {
                if needsEscape(byte) || (i == 0 && byte == UInt8(ascii: "#")) { appendEscape(byte, &out) } else { out.append(byte) }
                i += 1
                continue
            }
            var parser = Unicode.UTF8.ForwardParser()
            var rest = bytes[i...].makeIterator()
            guard case .valid(let encoded) = parser.parseScalar(from: &rest) else {
                // Not UTF-8: this byte escaped, the next one looked at afresh.
                appendEscape(byte, &out)
                i += 1
                continue
            }
            if Unicode.UTF8.decode(encoded).properties.isWhitespace {
                for byte in encoded { appendEscape(byte, &out) }
            } else {
                out.append(contentsOf: encoded)
            }
            i += encoded.count
        }
    }

    /// `name` as a frame, in bytes.
    public static func frame<Name: Collection<UInt8>>(_ name: Name) -> [UInt8] {
        var out: [UInt8] = []
        append(name, to: &out)
        return out
    }

    /// The name back from a frame: each `%XX` replaced by its byte.
    public static func unescape<Text: Collection<UInt8>>(_ text: Text) -> [UInt8] {
        var out: [UInt8] = []
        var i = text.startIndex
        while i != text.endIndex {
            let byte = text[i]
            i = text.index(after: i)
            guard byte == UInt8(ascii: "%"), i != text.endIndex else {
                out.append(byte)
                continue
            }
            let high = text[i]
            let j = text.index(after: i)
            guard j != text.endIndex, let h = hexValue(high), let l = hexValue(text[j]) else {
                out.append(byte)
                continue
            }
            out.append(h << 4 | l)
            i = text.index(after: j)
        }
        return out
    }

    /// The file `--split-negative` writes beside `path`: `.negative` goes
    /// before the folded ending (`out.folded` → `out.negative.folded`,
    /// `out.collapsed.gz` → `out.negative.collapsed.gz`), else before a final
    /// `.gz` or `.zst` (`out.gz` → `out.negative.gz`), else at the end
    /// (`out.txt` → `out.txt.negative`).
    public static func negativePath(_ path: String) -> String {
        var stem = path
        var compressed = ""
        // `.gz` or `.zst` as `OutputCompression` reads it: the companion is compressed like the main file.
        if let ending = OutputCompression(path: path).ending {
            stem.removeLast(ending.count)
            compressed = ending
        }
        let lowered = stem.lowercased()
        for ending in foldedEndings where lowered.hasSuffix(ending) && lowered.count > ending.count {
            let cut = stem.index(stem.endIndex, offsetBy: -ending.count)
            return stem[..<cut] + ".negative" + stem[cut...] + compressed
        }
        return stem + ".negative" + compressed
    }

    /// The file endings folded stacks are known by (`OutputFormat.endings`).
    static var foldedEndings: [String] {
        OutputFormat.endings.first { $0.0 == .folded }?.1 ?? []
    }

    /// What a frame never holds as itself: the frame separator, the escape
    /// character, and blanks or control characters (the count's separator, line
    /// ends, and what readers trim).
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "%")
    }

    private static func appendEscape(_ byte: UInt8, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "%"))
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 15)])
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
}
