/// Typed reads of whole small terms, for callers that pull known shapes
/// straight from the bytes (the dump reader's fast path) instead of decoding
/// a tree. Each throws `ETFError` for bytes that are not the expected shape.
extension ETFReader {
    /// The arity of a tuple (SMALL_TUPLE_EXT or LARGE_TUPLE_EXT).
    @inlinable
    public mutating func readTupleArity() throws(ETFError) -> Int {
        let tag = try readUInt8(tag: nil)
        switch tag {
        case ETFTag.smallTuple: return Int(try readUInt8(tag: tag))
        case ETFTag.largeTuple:
            let arity = try readUInt32(tag: tag)
            try requireClaim(UInt64(arity), minimumBytesEach: 1, field: "tuple arity", tag: tag)
            return Int(arity)
        default: throw error(.unexpectedTag(expected: "a tuple"), tag: tag, at: position - 1)
        }
    }

    /// The shape of a list's start: how many elements follow (then a tail, for
    /// LIST_EXT), or the bytes of a STRING_EXT.
    public enum ListStart {
        case empty
        case cons(count: Int)
        case bytes(start: Int, count: Int)
    }

    @inlinable
    public mutating func readListStart() throws(ETFError) -> ListStart {
        let tag = try readUInt8(tag: nil)
        switch tag {
        case ETFTag.nil: return .empty
        case ETFTag.list:
            let count = try readUInt32(tag: tag)
            try requireClaim(UInt64(count) + 1, minimumBytesEach: 1, field: "list length", tag: tag)
            return .cons(count: Int(count))
        case ETFTag.string:
            let count = Int(try readUInt16(tag: tag))
            return .bytes(start: try skipBytes(count, tag: tag), count: count)
        default: throw error(.unexpectedTag(expected: "a list"), tag: tag, at: position - 1)
        }
    }

    /// An integer that fits in Int64 (SMALL_INTEGER_EXT, INTEGER_EXT, or a small bignum).
    @inlinable
    public mutating func readInt64() throws(ETFError) -> Int64 {
        let tag = try readUInt8(tag: nil)
        switch tag {
        case ETFTag.smallInteger: return Int64(try readUInt8(tag: tag))
        case ETFTag.integer: return Int64(Int32(bitPattern: try readUInt32(tag: tag)))
        case ETFTag.smallBig:
            let count = Int(try readUInt8(tag: tag))
            let negative = try readUInt8(tag: tag) != 0
            let start = try skipBytes(count, tag: tag)
            var magnitude: UInt64 = 0
            var i = count - 1
            while i >= 0 {
                let byte = bytes[start &+ i]
                if i >= 8 {
                    if byte != 0 { throw error(.unexpectedTag(expected: "an integer within 64 bits"), tag: tag, at: start - 3) }
                } else {
                    magnitude = magnitude << 8 | UInt64(byte)
                }
                i -= 1
            }
            // Int64.min's magnitude is one more than Int64.max's: the bound depends on the sign.
            guard magnitude <= (negative ? Int64.min.magnitude : UInt64(Int64.max)) else {
                throw error(.unexpectedTag(expected: "an integer within 64 bits"), tag: tag, at: start - 3)
            }
            return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
        default: throw error(.unexpectedTag(expected: "an integer"), tag: tag, at: position - 1)
        }
    }

    /// An atom's text bytes, and whether they are UTF-8 (else Latin-1).
    @inlinable
    public mutating func readAtom() throws(ETFError) -> (start: Int, count: Int, isUTF8: Bool) {
        let tag = try readUInt8(tag: nil)
        let count: Int
        switch tag {
        case ETFTag.smallAtomUTF8, ETFTag.smallAtom: count = Int(try readUInt8(tag: tag))
        case ETFTag.atomUTF8, ETFTag.atom: count = Int(try readUInt16(tag: tag))
        default: throw error(.unexpectedTag(expected: "an atom"), tag: tag, at: position - 1)
        }
        let start = try skipBytes(count, tag: tag)
        return (start, count, tag == ETFTag.smallAtomUTF8 || tag == ETFTag.atomUTF8)
    }

    /// Steps over one whole term without decoding it. Iterative: a count of
    /// subterms still to skip stands in for recursion. Length claims must fit
    /// in `claimLimit` bytes from here (the remaining bytes, by default).
    @inlinable
    public mutating func skipTerm(claimLimit: Int? = nil) throws(ETFError) {
        let limitEnd = position &+ (claimLimit ?? remaining)
        var pending = 1
        while pending > 0 {
            pending &-= 1
            let tagPosition = position
            let tag = try readUInt8(tag: nil)
            switch tag {
            case ETFTag.smallInteger: _ = try skipBytes(1, tag: tag)
            case ETFTag.integer: _ = try skipBytes(4, tag: tag)
            case ETFTag.newFloat: _ = try skipBytes(8, tag: tag)
            case ETFTag.float: _ = try skipBytes(31, tag: tag)
            case ETFTag.atom, ETFTag.atomUTF8: _ = try skipBytes(Int(try readUInt16(tag: tag)), tag: tag)
            case ETFTag.smallAtom, ETFTag.smallAtomUTF8: _ = try skipBytes(Int(try readUInt8(tag: tag)), tag: tag)
            case ETFTag.smallTuple: pending &+= Int(try readUInt8(tag: tag))
            case ETFTag.largeTuple:
                let arity = try readUInt32(tag: tag)
                try claim(UInt64(arity), 1, "tuple arity", tag, tagPosition, limitEnd)
                pending &+= Int(arity)
            case ETFTag.nil: break
            case ETFTag.string: _ = try skipBytes(Int(try readUInt16(tag: tag)), tag: tag)
            case ETFTag.list:
                let length = try readUInt32(tag: tag)
                try claim(UInt64(length), 1, "list length", tag, tagPosition, limitEnd)
                pending &+= Int(length) + 1
            case ETFTag.binary:
                let length = try readUInt32(tag: tag)
                try claim(UInt64(length), 1, "binary length", tag, tagPosition, limitEnd)
                _ = try skipBytes(Int(length), tag: tag)
            case ETFTag.bitBinary:
                let length = try readUInt32(tag: tag)
                try claim(UInt64(length), 1, "bitstring length", tag, tagPosition, limitEnd)
                _ = try skipBytes(1 + Int(length), tag: tag)
            case ETFTag.smallBig:
                _ = try skipBytes(1 + Int(try readUInt8(tag: tag)), tag: tag)
            case ETFTag.largeBig:
                let length = try readUInt32(tag: tag)
                try claim(UInt64(length), 1, "bignum byte count", tag, tagPosition, limitEnd)
                _ = try skipBytes(1 + Int(length), tag: tag)
            case ETFTag.map:
                let pairs = try readUInt32(tag: tag)
                try claim(UInt64(pairs), 2, "map size", tag, tagPosition, limitEnd)
                pending &+= Int(pairs) * 2
            case ETFTag.newPid: try skipNodeAnd(12, tag: tag)
            case ETFTag.pid: try skipNodeAnd(9, tag: tag)
            case ETFTag.port: try skipNodeAnd(5, tag: tag)
            case ETFTag.newPort: try skipNodeAnd(8, tag: tag)
            case ETFTag.v4Port: try skipNodeAnd(12, tag: tag)
            case ETFTag.reference: try skipNodeAnd(5, tag: tag)
            case ETFTag.newReference, ETFTag.newerReference:
                let words = Int(try readUInt16(tag: tag))
                try skipNodeAnd((tag == ETFTag.newReference ? 1 : 4) + 4 * words, tag: tag)
            case ETFTag.export: pending &+= 3
            case ETFTag.newFun:
                // The size field counts itself and everything after it.
                let size = try readUInt32(tag: tag)
                guard size >= 4 else {
                    throw error(.badFunSize(declared: size, actual: 4), tag: tag, at: tagPosition)
                }
                try claim(UInt64(size) - 4, 1, "fun size", tag, tagPosition, limitEnd)
                _ = try skipBytes(Int(size) - 4, tag: tag)
            case ETFTag.compressed:
                throw error(.compressedNotAtTop, tag: tag, at: tagPosition)
            default:
                if let why = ETFTag.unsupportedReason(tag) {
                    throw error(.unsupportedTag(why), tag: tag, at: tagPosition)
                }
                throw error(.unknownTag, tag: tag, at: tagPosition)
            }
        }
    }

    @inlinable
    func claim(_ count: UInt64, _ each: UInt64, _ field: StaticString, _ tag: UInt8, _ tagPosition: Int, _ limitEnd: Int) throws(ETFError) {
        let room = max(0, limitEnd - position)
        let (total, overflow) = count.multipliedReportingOverflow(by: each)
        if overflow || total > UInt64(room) {
            throw error(.lengthExceedsInput(field: "\(field)", claimed: count, available: room), tag: tag, at: tagPosition)
        }
    }

    /// Skips a node-name atom then `fixed` bytes: the shape of pids, ports and references.
    @inlinable
    mutating func skipNodeAnd(_ fixed: Int, tag: UInt8) throws(ETFError) {
        let atomTag = try readUInt8(tag: tag)
        switch atomTag {
        case ETFTag.atom, ETFTag.atomUTF8: _ = try skipBytes(Int(try readUInt16(tag: tag)), tag: tag)
        case ETFTag.smallAtom, ETFTag.smallAtomUTF8: _ = try skipBytes(Int(try readUInt8(tag: tag)), tag: tag)
        default: throw error(.unexpectedTag(expected: "a node name atom"), tag: atomTag, at: position - 1)
        }
        _ = try skipBytes(fixed, tag: tag)
    }

    /// A pid's number and serial (NEW_PID_EXT or PID_EXT); the node is skipped.
    @inlinable
    public mutating func readPid() throws(ETFError) -> (number: UInt32, serial: UInt32) {
        let tag = try readUInt8(tag: nil)
        guard tag == ETFTag.newPid || tag == ETFTag.pid else {
            throw error(.unexpectedTag(expected: "a pid"), tag: tag, at: position - 1)
        }
        try skipNodeAnd(0, tag: tag)
        let number = try readUInt32(tag: tag)
        let serial = try readUInt32(tag: tag)
        _ = try skipBytes(tag == ETFTag.newPid ? 4 : 1, tag: tag)
        return (number, serial)
    }
}
