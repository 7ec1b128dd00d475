/// Atoms as `io_lib:write_atom/1` writes them: bare when they read back as the
/// same atom, otherwise in single quotes with Erlang's escapes.
enum AtomFormatting {
    /// Words that must be quoted to read as atoms (OTP 25's erl_scan:reserved_word/1;
    /// `maybe` and `else` are reserved only where the maybe feature is on).
    static let reservedWords = [
        "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor",
        "case", "catch", "cond", "div", "end", "fun", "if", "let", "not", "of", "or",
        "orelse", "receive", "rem", "try", "when", "xor",
    ]

    /// `reservedWords`, each packed into a word (`packed(_:)`): none is
    /// longer than eight bytes. Looking an atom up here costs a few compares
    /// and no allocation, where a set of byte arrays hashed every atom.
    private static let reservedPacked: [UInt64] = reservedWords.map { word in
        Array(word.utf8).withUnsafeBufferPointer { packed($0)! }
    }

    /// The bytes in a word, first byte lowest; nil when there are more than eight.
    @inline(__always)
    private static func packed(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard bytes.count <= 8 else { return nil }
        var word: UInt64 = 0
        for offset in 0..<bytes.count { word |= UInt64(bytes[offset]) << (8 * UInt64(offset)) }
        return word
    }

    @inline(__always)
    static func isReservedWord(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 2, let word = packed(bytes) else { return false }
        return reservedPacked.contains(word)
    }

    static func append(_ term: Term, atom index: Int, encoding: TermPrinter.Encoding, to out: inout [UInt8]) {
        let node = term.nodes[index]
        let bytes = term.payload(of: index)
        // Fast path: plain ASCII names, the common case.
        if isPlainName(bytes) {
            out.append(contentsOf: bytes)
            return
        }
        let scalars = node.flags == 1 ? String(decoding: bytes, as: UTF8.self).unicodeScalars.map(\.value) : bytes.map { UInt32($0) }
        if !needsQuotes(scalars, bytes: bytes) {
            for c in scalars { appendCharacter(c, encoding: encoding, to: &out) }
            return
        }
        out.append(UInt8(ascii: "'"))
        for c in scalars { appendQuoted(c, encoding: encoding, to: &out) }
        out.append(UInt8(ascii: "'"))
    }

    /// True when `bytes` are a lowercase ASCII letter and then ASCII name
    /// characters, and not a reserved word: an atom written bare, as is.
    private static func isPlainName(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { name in
            guard let first = name.first, first >= 0x61 && first <= 0x7A else { return false }
            for byte in name where !isNameASCII(byte) { return false }
            return !isReservedWord(name)
        }
    }

    private static func isNameASCII(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x40
    }

    private static func isLowerStart(_ c: UInt32) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0xDF && c <= 0xFF && c != 0xF7)
    }

    private static func isNameCharacter(_ c: UInt32) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0xDF && c <= 0xFF && c != 0xF7)
            || (c >= 0x41 && c <= 0x5A) || (c >= 0xC0 && c <= 0xDE && c != 0xD7)
            || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x40
    }

    private static func needsQuotes(_ scalars: [UInt32], bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = scalars.first, isLowerStart(first) else { return true }
        if !scalars.dropFirst().allSatisfy(isNameCharacter) { return true }
        return bytes.withUnsafeBufferPointer(isReservedWord)
    }

    private static func appendCharacter(_ c: UInt32, encoding: TermPrinter.Encoding, to out: inout [UInt8]) {
        if c < 0x80 || encoding == .latin1 {
            out.append(UInt8(truncatingIfNeeded: c))
        } else {
            out.append(0xC0 | UInt8(truncatingIfNeeded: c >> 6))
            out.append(0x80 | UInt8(truncatingIfNeeded: c & 0x3F))
        }
    }

    /// io_lib's escapes inside quotes: named control characters, octal for the
    /// rest below 160, and `\x{HEX}` above 255.
    private static func appendQuoted(_ c: UInt32, encoding: TermPrinter.Encoding, to out: inout [UInt8]) {
        let backslash = UInt8(ascii: "\\")
        switch c {
        case 0x27: out.append(contentsOf: [backslash, UInt8(ascii: "'")])
        case 0x5C: out.append(contentsOf: [backslash, backslash])
        case 0x20...0x7E: out.append(UInt8(c))
        case 0xA0...0xFF: appendCharacter(c, encoding: encoding, to: &out)
        case 0x0A: out.append(contentsOf: [backslash, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [backslash, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [backslash, UInt8(ascii: "t")])
        case 0x0B: out.append(contentsOf: [backslash, UInt8(ascii: "v")])
        case 0x08: out.append(contentsOf: [backslash, UInt8(ascii: "b")])
        case 0x0C: out.append(contentsOf: [backslash, UInt8(ascii: "f")])
        case 0x1B: out.append(contentsOf: [backslash, UInt8(ascii: "e")])
        case 0x7F: out.append(contentsOf: [backslash, UInt8(ascii: "d")])
        case 0..<0xA0:
            out.append(backslash)
            out.append(UInt8(c >> 6) + 0x30)
            out.append(UInt8((c >> 3) & 7) + 0x30)
            out.append(UInt8(c & 7) + 0x30)
        default:
            out.append(contentsOf: Array("\\x{\(String(c, radix: 16, uppercase: true))}".utf8))
        }
    }
}
