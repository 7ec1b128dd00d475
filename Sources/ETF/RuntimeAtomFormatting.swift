/// Atoms as the runtime's C printer writes them (erl_printf_term.c), which is
/// what `~w` shows inside funs: `erlang:fun_to_list/1` does the formatting there.
///
/// Its rules differ from io_lib's: reserved words are not quoted, `@` forces
/// quotes, ESC is octal and DEL is raw, and characters past ASCII are written
/// as their UTF-8 bytes whatever the output encoding.
enum RuntimeAtomFormatting {
    static func append(_ term: Term, atom index: Int, to out: inout [UInt8]) {
        let utf8 = utf8Bytes(term, atom: index)
        if utf8.isEmpty {
            out.append(contentsOf: [UInt8(ascii: "'"), UInt8(ascii: "'")])
            return
        }
        let quote = needsQuotes(utf8)
        if quote { out.append(UInt8(ascii: "'")) }
        var i = 0
        while i < utf8.count {
            let c = utf8[i]
            switch c {
            case UInt8(ascii: "'"): out.append(contentsOf: [0x5C, c])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0B: out.append(contentsOf: [0x5C, UInt8(ascii: "v")])
            case 0..<0x20:
                appendOctal(c, to: &out)
            case 0x80...:
                let length = c & 0xE0 == 0xC0 ? 2 : (c & 0xF0 == 0xE0 ? 3 : 4)
                if c == 0xC2, i + 1 < utf8.count, utf8[i + 1] < 0xA0 {
                    // Code points 128-159 are control characters: octal of the low byte.
                    appendOctal(utf8[i + 1], to: &out)
                    i += 2
                    continue
                }
                out.append(contentsOf: utf8[i..<min(utf8.count, i + length)])
                i += length
                continue
            default:
                out.append(c)  // printable ASCII, and DEL
            }
            i += 1
        }
        if quote { out.append(UInt8(ascii: "'")) }
    }

    /// The atom's UTF-8 bytes, unquoted and unescaped.
    static func appendUTF8(_ term: Term, atom index: Int, to out: inout [UInt8]) {
        out.append(contentsOf: utf8Bytes(term, atom: index))
    }

    private static func utf8Bytes(_ term: Term, atom index: Int) -> [UInt8] {
        if term.nodes[index].flags == 1 { return Array(term.payload(of: index)) }
        return Array(term.atomText(index).utf8)
    }

    private static func appendOctal(_ c: UInt8, to out: inout [UInt8]) {
        out.append(contentsOf: [0x5C, (c >> 6) + 0x30, ((c >> 3) & 7) + 0x30, (c & 7) + 0x30])
    }

    /// Unquoted only when the first character is a Latin-1 lowercase letter and
    /// every other is a Latin-1 letter, digit or `_`. The check walks bytes:
    /// a continuation byte counts as a letter, a 3- or 4-byte lead never does.
    private static func needsQuotes(_ utf8: [UInt8]) -> Bool {
        func latin1(_ i: Int) -> Int {
            let c = utf8[i]
            if c & 0x80 == 0 { return Int(c) }
            if c & 0xE0 == 0xC0 {
                let next = i + 1 < utf8.count ? utf8[i + 1] : 0
                return Int(c & 0x1F) << 6 | Int(next & 0x3F)
            }
            if c & 0xC0 == 0x80 { return Int(UInt8(ascii: "a")) }
            return 0
        }
        func isLower(_ c: Int) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 223 && c <= 255 && c != 247) }
        func isUpper(_ c: Int) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 192 && c <= 222 && c != 215) }
        func isDigit(_ c: Int) -> Bool { c >= 0x30 && c <= 0x39 }
        if !isLower(latin1(0)) { return true }
        for i in 1..<utf8.count {
            let c = latin1(i)
            if !(isLower(c) || isUpper(c) || isDigit(c) || c == 0x5F) { return true }
        }
        return false
    }
}
