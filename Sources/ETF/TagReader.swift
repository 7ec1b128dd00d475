/// Reads one tag and what follows it into nodes: leaf terms, the headers of
/// containers, and the fixed fields of pids, ports, references, exports and funs.
/// `TermDecoder` builds trees with it, `TermValidator` checks terms with it, so
/// both find exactly the same faults in the same places.
enum TagReader {
    /// Reads the tag `tag` (just read, at `tagPosition`) and what follows it,
    /// appending its nodes to `out` (at most `nodesPerTag`). Returns how many
    /// children a container it opened expects (0 for a complete term) and, for a
    /// fun, where its declared size says it ends; `opened` is -1 for a list of no
    /// elements, which is read as its tail alone. Big integers add their bytes
    /// to `bignumBytes`, which may not pass `maxBignumBytes`. Transparent: the decoder's
    /// loop must hold the reader and writer in registers, and a call costs a third
    /// of its speed (@inline(__always) is not honoured into a loop that large).
    @_transparent
    static func read(_ tag: UInt8, at tagPosition: Int, _ reader: inout ETFReader, _ out: inout NodeWriter,
                     bignumBytes: inout Int, maxBignumBytes: Int) throws(ETFError) -> (opened: Int, openedEnd: Int) {
        let index = out.count
        var opened = 0  // children a container just opened expects
        var openedEnd = -1
        switch tag {
        case ETFTag.atom:
            // Latin-1 atoms, what OTP 25 writes by default: the commonest tag, inlined.
            let length = Int(try reader.readUInt16(tag: tag))
            let start = try reader.skipBytes(length, tag: tag)
            if length > 255 {
                throw reader.error(.atomTooLong(characters: length), tag: tag, at: tagPosition)
            }
            out.append(TermNode(kind: .atom, count: UInt32(length), end: UInt32(index + 1), value: TermNode.payload(start: start, length: length)))
        case ETFTag.smallAtom, ETFTag.atomUTF8, ETFTag.smallAtomUTF8:
            try appendAtom(tag: tag, &reader, &out)
        case ETFTag.smallTuple, ETFTag.largeTuple:
            let arity = tag == ETFTag.smallTuple ? UInt32(try reader.readUInt8(tag: tag)) : try reader.readUInt32(tag: tag)
            try reader.requireClaim(UInt64(arity), minimumBytesEach: 1, field: "tuple arity", tag: tag)
            out.append(TermNode(kind: .tuple, count: arity, end: UInt32(index + 1)))
            opened = Int(arity)
        case ETFTag.smallInteger, ETFTag.integer:
            try appendInteger(tag: tag, &reader, &out)
        case ETFTag.smallBig, ETFTag.largeBig:
            try appendBignum(tag: tag, &reader, &out)
            if out[index].kind == .bigInteger {
                bignumBytes += out[index].payloadLength
                if bignumBytes > maxBignumBytes {
                    throw reader.error(.tooManyBignumBytes(limit: maxBignumBytes), tag: tag, at: tagPosition)
                }
            }
        case ETFTag.newFloat:
            let bits = try reader.readUInt64(tag: tag)
            guard Double(bitPattern: bits).isFinite else {
                throw reader.error(.nonFiniteFloat, tag: tag, at: tagPosition)
            }
            out.append(TermNode(kind: .float, end: UInt32(index + 1), value: bits))
        case ETFTag.float:
            let start = try reader.skipBytes(31, tag: tag)
            guard let value = parseFloatString(reader.slice(start, 31)) else {
                throw reader.error(.badFloatString, tag: tag, at: tagPosition)
            }
            out.append(TermNode(kind: .float, end: UInt32(index + 1), value: value.bitPattern))
        case ETFTag.nil:
            out.append(TermNode(kind: .emptyList, end: UInt32(index + 1)))
        case ETFTag.string:
            let length = Int(try reader.readUInt16(tag: tag))
            let start = try reader.skipBytes(length, tag: tag)
            if length == 0 {
                out.append(TermNode(kind: .emptyList, end: UInt32(index + 1)))
            } else {
                out.append(TermNode(kind: .byteList, count: UInt32(length), end: UInt32(index + 1), value: TermNode.payload(start: start, length: length)))
            }
        case ETFTag.list:
            let length = try reader.readUInt32(tag: tag)
            // Each element takes at least one byte (so does the tail, found missing when read).
            try reader.requireClaim(UInt64(length), minimumBytesEach: 1, field: "list length", tag: tag)
            if length == 0 {
                // binary_to_term reads a zero-length list as its tail alone.
                return (-1, -1)
            }
            out.append(TermNode(kind: .list, count: length, end: UInt32(index + 1)))
            opened = Int(length) + 1
        case ETFTag.binary:
            let length = try reader.readUInt32(tag: tag)
            try reader.requireClaim(UInt64(length), minimumBytesEach: 1, field: "binary length", tag: tag)
            let start = try reader.skipBytes(Int(length), tag: tag)
            out.append(TermNode(kind: .binary, end: UInt32(index + 1), value: TermNode.payload(start: start, length: Int(length))))
        case ETFTag.bitBinary:
            let length = try reader.readUInt32(tag: tag)
            let bits = try reader.readUInt8(tag: tag)
            try reader.requireClaim(UInt64(length), minimumBytesEach: 1, field: "bitstring length", tag: tag)
            let start = try reader.skipBytes(Int(length), tag: tag)
            if length == 0 ? bits != 0 : (bits == 0 || bits > 8) {
                throw reader.error(.badBitCount(bits), tag: tag, at: tagPosition)
            }
            let kind: TermKind = (bits == 8 || length == 0) ? .binary : .bitstring
            out.append(TermNode(kind: kind, flags: kind == .bitstring ? bits : 0, end: UInt32(index + 1), value: TermNode.payload(start: start, length: Int(length))))
        case ETFTag.map:
            let pairs = try reader.readUInt32(tag: tag)
            try reader.requireClaim(UInt64(pairs), minimumBytesEach: 2, field: "map size", tag: tag)
            out.append(TermNode(kind: .map, count: pairs, end: UInt32(index + 1)))
            opened = Int(pairs) * 2
        case ETFTag.newPid, ETFTag.pid:
            try appendPid(tag: tag, &reader, &out)
        case ETFTag.port, ETFTag.newPort, ETFTag.v4Port:
            out.append(TermNode(kind: .port, end: 0))
            try appendNodeAtom(owner: tag, &reader, &out)
            let id = tag == ETFTag.v4Port ? try reader.readUInt64(tag: tag) : UInt64(try reader.readUInt32(tag: tag))
            let creation = tag == ETFTag.port ? UInt32(try reader.readUInt8(tag: tag)) : try reader.readUInt32(tag: tag)
            out[index].value = id
            out[index].aux = creation
            out[index].end = UInt32(out.count)
        case ETFTag.reference, ETFTag.newReference, ETFTag.newerReference:
            try appendReference(tag: tag, tagPosition: tagPosition, &reader, &out)
        case ETFTag.export:
            out.append(TermNode(kind: .export, end: 0))
            try appendAtomChild(owner: tag, &reader, &out)
            try appendAtomChild(owner: tag, &reader, &out)
            let arityPosition = reader.position
            try appendSmallIntegerChild(owner: tag, &reader, &out)
            let arityNode = out[out.count - 1]
            let arity = Int64(bitPattern: arityNode.value)
            guard arityNode.kind == .integer, (0...255).contains(arity) else {
                throw reader.error(.unexpectedTag(expected: "an arity from 0 to 255"), tag: tag, at: arityPosition)
            }
            out[index].end = UInt32(out.count)
        case ETFTag.newFun:
            let sizeFieldStart = reader.position
            let size = try reader.readUInt32(tag: tag)
            let arity = try reader.readUInt8(tag: tag)
            _ = try reader.skipBytes(16, tag: tag)  // uniq: an MD5 that printing does not use
            let funIndex = try reader.readUInt32(tag: tag)
            let free = try reader.readUInt32(tag: tag)
            try reader.requireClaim(UInt64(free), minimumBytesEach: 1, field: "fun free-variable count", tag: tag)
            out.append(TermNode(kind: .localFun, count: free, aux: UInt32(arity), end: 0, value: UInt64(funIndex)))
            try appendAtomChild(owner: tag, &reader, &out)
            try appendSmallIntegerChild(owner: tag, &reader, &out)
            try appendSmallIntegerChild(owner: tag, &reader, &out)
            try appendPidChild(owner: tag, &reader, &out)
            opened = Int(free)
            openedEnd = sizeFieldStart + Int(size)
        case ETFTag.compressed:
            throw reader.error(.compressedNotAtTop, tag: tag, at: tagPosition)
        default:
            if let why = ETFTag.unsupportedReason(tag) {
                throw reader.error(.unsupportedTag(why), tag: tag, at: tagPosition)
            }
            throw reader.error(.unknownTag, tag: tag, at: tagPosition)
        }

        return (opened, openedEnd)
    }

    /// The most nodes one tag adds: a fun's own node, its module atom, two integers,
    /// and its creator pid with the pid's node atom.
    static let nodesPerTag = 6

    /// Finishes a fun whose free variables are all decoded: its declared size must
    /// end where its last free variable did.
    static func closeFun(_ index: Int, tagOffset: Int, expectedEnd: Int, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        out[index].end = UInt32(out.count)
        try checkFunEnd(tagOffset: tagOffset, expectedEnd: expectedEnd, reader)
    }

    /// Throws unless the fun whose tag is at `tagOffset` ends where its size said.
    static func checkFunEnd(tagOffset: Int, expectedEnd: Int, _ reader: ETFReader) throws(ETFError) {
        if reader.position != expectedEnd {
            let declared = UInt32(truncatingIfNeeded: expectedEnd - tagOffset - 1)
            throw reader.error(.badFunSize(declared: declared, actual: reader.position - tagOffset - 1), tag: ETFTag.newFun, at: tagOffset)
        }
    }

    /// SMALL_INTEGER_EXT or INTEGER_EXT, whose tag was just read.
    @inline(__always)
    static func appendInteger(tag: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        let index = out.count
        if tag == ETFTag.smallInteger {
            let value = try reader.readUInt8(tag: tag)
            out.append(TermNode(kind: .integer, end: UInt32(index + 1), value: UInt64(value)))
        } else {
            let value = Int32(bitPattern: try reader.readUInt32(tag: tag))
            out.append(TermNode(kind: .integer, end: UInt32(index + 1), value: UInt64(bitPattern: Int64(value))))
        }
    }

    /// SMALL_BIG_EXT and LARGE_BIG_EXT: an integer node when the value fits Int64.
    static func appendBignum(tag: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        let index = out.count
        let tagPosition = reader.position - 1
        let count = tag == ETFTag.smallBig ? UInt32(try reader.readUInt8(tag: tag)) : try reader.readUInt32(tag: tag)
        let negative = try reader.readUInt8(tag: tag) != 0
        try reader.requireClaim(UInt64(count), minimumBytesEach: 1, field: "bignum byte count", tag: tag)
        let start = try reader.skipBytes(Int(count), tag: tag)
        if count > ETFLimits.erlangMaxBignumBytes {
            throw reader.error(.bignumTooLong(bytes: count), tag: tag, at: tagPosition)
        }
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
    static func appendAtom(tag: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
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
    static func appendAtomChild(owner: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        try requireTag(Self.isAtomTag, expected: "an atom", owner: owner, &reader)
        let tag = try reader.readUInt8(tag: owner)
        try appendAtom(tag: tag, &reader, &out)
    }

    /// The node name of a pid, port or reference.
    @inline(__always)
    static func appendNodeAtom(owner: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        try requireTag(Self.isAtomTag, expected: "a node name atom", owner: owner, &reader)
        let tag = try reader.readUInt8(tag: owner)
        try appendAtom(tag: tag, &reader, &out)
    }

    /// A fun's old index or old uniq: SMALL_INTEGER_EXT or INTEGER_EXT.
    static func appendSmallIntegerChild(owner: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        try requireTag({ $0 == ETFTag.smallInteger || $0 == ETFTag.integer }, expected: "an integer", owner: owner, &reader)
        let tag = try reader.readUInt8(tag: owner)
        try appendInteger(tag: tag, &reader, &out)
    }

    /// NEW_PID_EXT or PID_EXT, whose tag was just read: the pid node, then its node atom.
    static func appendPid(tag: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
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
    static func appendPidChild(owner: UInt8, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        try requireTag({ $0 == ETFTag.newPid || $0 == ETFTag.pid }, expected: "a pid", owner: owner, &reader)
        let tag = try reader.readUInt8(tag: owner)
        try appendPid(tag: tag, &reader, &out)
    }

    static func appendReference(tag: UInt8, tagPosition: Int, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
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
    private static func requireTag(_ accepted: (UInt8) -> Bool, expected: String, owner: UInt8, _ reader: inout ETFReader) throws(ETFError) {
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
