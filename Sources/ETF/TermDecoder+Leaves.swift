/// Leaf terms, and the fixed fields of pids, ports, references, exports and funs.
extension TermDecoder {
    @inline(__always)
    func appendInteger(tag: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        let index = out.count
        switch tag {
        case ETFTag.smallInteger:
            let value = try reader.readUInt8(tag: tag)
            out.append(TermNode(kind: .integer, end: UInt32(index + 1), value: UInt64(value)))
        case ETFTag.integer:
            let value = Int32(bitPattern: try reader.readUInt32(tag: tag))
            out.append(TermNode(kind: .integer, end: UInt32(index + 1), value: UInt64(bitPattern: Int64(value))))
        default:
            try appendBignum(tag: tag, &reader, &out)
        }
    }

    /// SMALL_BIG_EXT and LARGE_BIG_EXT: an integer node when the value fits Int64.
    func appendBignum(tag: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        let index = out.count
        let count = tag == ETFTag.smallBig ? UInt32(try reader.readUInt8(tag: tag)) : try reader.readUInt32(tag: tag)
        let negative = try reader.readUInt8(tag: tag) != 0
        try reader.requireClaim(UInt64(count), minimumBytesEach: 1, field: "bignum byte count", tag: tag)
        let start = try reader.skipBytes(Int(count), tag: tag)
        // Leading zero bytes do not change the value; trim them so equal values compare equal.
        var length = Int(count)
        while length > 0, reader.byte(at: start + length - 1) == 0 { length -= 1 }
        if length <= 8 {
            var magnitude: UInt64 = 0
            for i in stride(from: length - 1, through: 0, by: -1) {
                magnitude = magnitude << 8 | UInt64(reader.byte(at: start + i))
            }
            if !negative, magnitude <= UInt64(Int64.max) {
                out.append(TermNode(kind: .integer, end: UInt32(index + 1), value: magnitude))
                return
            }
            if negative, magnitude <= UInt64(Int64.max) + 1 {
                let value = magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
                out.append(TermNode(kind: .integer, end: UInt32(index + 1), value: UInt64(bitPattern: value)))
                return
            }
        }
        out.append(TermNode(kind: .bigInteger, flags: negative ? 1 : 0, end: UInt32(index + 1), value: TermNode.payload(start: start, length: length)))
    }

    @inline(__always)
    func appendAtom(tag: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        let tagPosition = reader.position - 1
        let isSmall = tag == ETFTag.smallAtom || tag == ETFTag.smallAtomUTF8
        let length = isSmall ? Int(try reader.readUInt8(tag: tag)) : Int(try reader.readUInt16(tag: tag))
        let start = try reader.skipBytes(length, tag: tag)
        let isUTF8 = tag == ETFTag.atomUTF8 || tag == ETFTag.smallAtomUTF8
        var characters = length
        if isUTF8 {
            guard let count = UTF8Validation.countScalars(reader.slice(start, length)) else {
                throw reader.error(.invalidUTF8Atom, tag: tag, at: tagPosition)
            }
            characters = count
        }
        if characters > 255 {
            throw reader.error(.atomTooLong(characters: characters), tag: tag, at: tagPosition)
        }
        out.append(TermNode(kind: .atom, flags: isUTF8 ? 1 : 0, count: UInt32(characters), end: UInt32(out.count + 1), value: TermNode.payload(start: start, length: length)))
    }

    @inline(__always)
    static func isAtomTag(_ tag: UInt8) -> Bool {
        tag == ETFTag.atom || tag == ETFTag.smallAtom || tag == ETFTag.atomUTF8 || tag == ETFTag.smallAtomUTF8
    }

    /// The atom that names a fun's or export's module or function.
    func appendAtomChild(owner: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        try requireTag(Self.isAtomTag, expected: "an atom", owner: owner, &reader)
        let tag = try reader.readUInt8(tag: owner)
        try appendAtom(tag: tag, &reader, &out)
    }

    /// The node name of a pid, port or reference.
    @inline(__always)
    func appendNodeAtom(owner: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        try requireTag(Self.isAtomTag, expected: "a node name atom", owner: owner, &reader)
        let tag = try reader.readUInt8(tag: owner)
        try appendAtom(tag: tag, &reader, &out)
    }

    /// A fun's old index or old uniq: SMALL_INTEGER_EXT or INTEGER_EXT.
    func appendSmallIntegerChild(owner: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        try requireTag({ $0 == ETFTag.smallInteger || $0 == ETFTag.integer }, expected: "an integer", owner: owner, &reader)
        let tag = try reader.readUInt8(tag: owner)
        try appendInteger(tag: tag, &reader, &out)
    }

    /// NEW_PID_EXT or PID_EXT, whose tag was just read: the pid node, then its node atom.
    func appendPid(tag: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        let index = out.count
        out.append(TermNode(kind: .pid, end: 0))
        try appendNodeAtom(owner: tag, &reader, &out)
        let id = try reader.readUInt32(tag: tag)
        let serial = try reader.readUInt32(tag: tag)
        let creation = tag == ETFTag.newPid ? try reader.readUInt32(tag: tag) : UInt32(try reader.readUInt8(tag: tag))
        out[index].value = UInt64(id) << 32 | UInt64(serial)
        out[index].aux = creation
        out[index].end = UInt32(out.count)
    }

    /// A fun's creator pid.
    func appendPidChild(owner: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        try requireTag({ $0 == ETFTag.newPid || $0 == ETFTag.pid }, expected: "a pid", owner: owner, &reader)
        let tag = try reader.readUInt8(tag: owner)
        try appendPid(tag: tag, &reader, &out)
    }

    func appendReference(tag: UInt8, tagPosition: Int, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        let index = out.count
        out.append(TermNode(kind: .reference, end: 0))
        var words = 1
        if tag != ETFTag.reference {
            words = Int(try reader.readUInt16(tag: tag))
            guard (1...5).contains(words) else {
                throw reader.error(.badReferenceLength(words), tag: tag, at: tagPosition)
            }
        }
        try appendNodeAtom(owner: tag, &reader, &out)
        var creation: UInt32
        var idsStart: Int
        if tag == ETFTag.reference {
            idsStart = try reader.skipBytes(4, tag: tag)
            creation = UInt32(try reader.readUInt8(tag: tag))
        } else {
            creation = tag == ETFTag.newerReference ? try reader.readUInt32(tag: tag) : UInt32(try reader.readUInt8(tag: tag))
            idsStart = try reader.skipBytes(words * 4, tag: tag)
        }
        out[index].count = UInt32(words)
        out[index].aux = creation
        out[index].value = TermNode.payload(start: idsStart, length: words * 4)
        out[index].end = UInt32(out.count)
    }

    /// Throws unless the next byte is a tag `accepted` takes.
    @inline(__always)
    private func requireTag(_ accepted: (UInt8) -> Bool, expected: String, owner: UInt8, _ reader: inout ETFReader) throws(ETFError) {
        guard reader.remaining > 0 else {
            throw reader.error(.truncated(needed: 1, available: 0), tag: owner)
        }
        let next = reader.byte(at: reader.position)
        if accepted(next) { return }
        throw Self.wrongTag(next, expected: expected, owner: owner, reader)
    }

    @inline(never)
    private static func wrongTag(_ next: UInt8, expected: String, owner: UInt8, _ reader: ETFReader) -> ETFError {
        if let why = ETFTag.unsupportedReason(next) {
            return reader.error(.unsupportedTag(why), tag: next)
        }
        return reader.error(.unexpectedTag(expected: "\(expected) in \(ETFTag.name(owner) ?? "term")"), tag: next)
    }

    /// Parses FLOAT_EXT's 31-byte `"%.20e"` text with the syntax the BEAM accepts
    /// (erts `sys_chars_to_double`): `[+-]DIGITS[.,]DIGITS[(e|E)[+-]DIGITS]`, then
    /// a NUL within the 31 bytes. No spaces, no missing digits on either side of
    /// the point; `,` is read as the point. Returns nil for anything else or a
    /// non-finite value (an underflow is 0.0, as on the BEAM).
    static func parseFloatString(_ bytes: UnsafeRawBufferPointer) -> Double? {
        var text = ""
        var i = 0
        func isDigit(_ index: Int) -> Bool { index < bytes.count && bytes[index] >= 0x30 && bytes[index] <= 0x39 }
        func take(_ byte: UInt8) {
            text.unicodeScalars.append(Unicode.Scalar(byte))
            i += 1
        }
        func digits() -> Bool {
            guard isDigit(i) else { return false }
            while isDigit(i) { take(bytes[i]) }
            return true
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { take(bytes[i]) }
        guard digits(), i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: ",") else { return nil }
        take(UInt8(ascii: "."))
        guard digits() else { return nil }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            take(UInt8(ascii: "e"))
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { take(bytes[i]) }
            guard digits() else { return nil }
        }
        guard i < bytes.count, bytes[i] == 0 else { return nil }
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }
}

/// Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
enum UTF8Validation {
    /// The number of Unicode scalars in `bytes`, or nil when they are not valid UTF-8.
    static func countScalars(_ bytes: UnsafeRawBufferPointer) -> Int? {
        // Nearly every atom is ASCII, where the count is the length.
        if isASCII(bytes) { return bytes.count }
        return countScalarsSlowly(bytes)
    }

    /// True when no byte has its high bit set: tested 8 bytes at a time, the last
    /// (partial) word as an 8-byte load overlapping the one before, and fewer than
    /// 8 bytes as two overlapping 4-byte loads or three single bytes, so an atom of
    /// a few characters costs no loop.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        var highBits: UInt64
        if n >= 8 {
            highBits = bytes.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            var i = 0
            while i &+ 8 < n {
                highBits |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                i &+= 8
            }
        } else if n >= 4 {
            highBits = UInt64(bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
                | bytes.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self))
        } else if n > 0 {
            highBits = UInt64(bytes[0] | bytes[n >> 1] | bytes[n &- 1])
        } else {
            return true
        }
        return highBits & 0x8080_8080_8080_8080 == 0
    }

    /// `countScalars` for bytes that are not all ASCII.
    static func countScalarsSlowly(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var count = 0
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            count += 1
            if b0 < 0x80 { i += 1; continue }
            if b0 < 0xC2 { return nil }
            if b0 < 0xE0 {
                guard i + 1 < n, bytes[i + 1] & 0xC0 == 0x80 else { return nil }
                i += 2
                continue
            }
            if b0 < 0xF0 {
                guard i + 2 < n else { return nil }
                let b1 = bytes[i + 1], b2 = bytes[i + 2]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { return nil }
                if b0 == 0xE0 && b1 < 0xA0 { return nil }  // overlong
                if b0 == 0xED && b1 >= 0xA0 { return nil }  // surrogate
                i += 3
                continue
            }
            if b0 < 0xF5 {
                guard i + 3 < n else { return nil }
                let b1 = bytes[i + 1], b2 = bytes[i + 2], b3 = bytes[i + 3]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return nil }
                if b0 == 0xF0 && b1 < 0x90 { return nil }  // overlong
                if b0 == 0xF4 && b1 >= 0x90 { return nil }  // past U+10FFFF
                i += 4
                continue
            }
            return nil
        }
        return count
    }
}
