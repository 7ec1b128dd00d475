/// Finds where an external term ends without decoding it, for streams of
/// concatenated terms that carry no length prefix.
///
/// Iterative: a count of subterms still to skip stands in for recursion.
public enum TermExtent {
    public enum Result: Equatable, Sendable {
        /// The term (version byte included) is this many bytes long.
        case complete(Int)
        /// The bytes end inside the term: read more and measure again.
        case needMore
    }

    /// Measures the term starting at `bytes[0]` (the version byte). Length claims
    /// that could not fit in `maxBytes` are errors at once, so a hostile claim
    /// never makes the caller buffer more than `maxBytes`.
    public static func measure(_ bytes: UnsafeRawBufferPointer, baseOffset: Int, maxBytes: Int, limits: ETFLimits = .default) throws(ETFError) -> Result {
        var reader = ETFReader(bytes: bytes, baseOffset: baseOffset)
        do throws(ETFError) {
            let version = try reader.readUInt8(tag: nil)
            guard version == ETFTag.version else {
                throw reader.error(.badVersion(version), tag: nil, at: 0)
            }
            if reader.remaining > 0, reader.byte(at: 1) == ETFTag.compressed {
                return try measureCompressed(&reader, limits: limits)
            }
            var pending = 1
            while pending > 0 {
                pending -= 1
                let tagPosition = reader.position
                let tag = try reader.readUInt8(tag: nil)
                func claim(_ count: UInt64, _ each: UInt64, _ field: StaticString) throws(ETFError) {
                    let (total, overflow) = count.multipliedReportingOverflow(by: each)
                    if overflow || total > UInt64(max(0, maxBytes - reader.position)) {
                        throw reader.error(.lengthExceedsInput(field: "\(field)", claimed: count, available: max(0, maxBytes - reader.position)), tag: tag, at: tagPosition)
                    }
                }
                switch tag {
                case ETFTag.smallInteger: _ = try reader.skipBytes(1, tag: tag)
                case ETFTag.integer: _ = try reader.skipBytes(4, tag: tag)
                case ETFTag.newFloat: _ = try reader.skipBytes(8, tag: tag)
                case ETFTag.float: _ = try reader.skipBytes(31, tag: tag)
                case ETFTag.atom, ETFTag.atomUTF8: _ = try reader.skipBytes(Int(try reader.readUInt16(tag: tag)), tag: tag)
                case ETFTag.smallAtom, ETFTag.smallAtomUTF8: _ = try reader.skipBytes(Int(try reader.readUInt8(tag: tag)), tag: tag)
                case ETFTag.smallTuple: pending += Int(try reader.readUInt8(tag: tag))
                case ETFTag.largeTuple:
                    let arity = try reader.readUInt32(tag: tag)
                    try claim(UInt64(arity), 1, "tuple arity")
                    pending += Int(arity)
                case ETFTag.nil: break
                case ETFTag.string: _ = try reader.skipBytes(Int(try reader.readUInt16(tag: tag)), tag: tag)
                case ETFTag.list:
                    let length = try reader.readUInt32(tag: tag)
                    try claim(UInt64(length), 1, "list length")
                    pending += Int(length) + 1
                case ETFTag.binary:
                    let length = try reader.readUInt32(tag: tag)
                    try claim(UInt64(length), 1, "binary length")
                    _ = try reader.skipBytes(Int(length), tag: tag)
                case ETFTag.bitBinary:
                    let length = try reader.readUInt32(tag: tag)
                    try claim(UInt64(length), 1, "bitstring length")
                    _ = try reader.skipBytes(1 + Int(length), tag: tag)
                case ETFTag.smallBig:
                    _ = try reader.skipBytes(1 + Int(try reader.readUInt8(tag: tag)), tag: tag)
                case ETFTag.largeBig:
                    let length = try reader.readUInt32(tag: tag)
                    try claim(UInt64(length), 1, "bignum byte count")
                    _ = try reader.skipBytes(1 + Int(length), tag: tag)
                case ETFTag.map:
                    let pairs = try reader.readUInt32(tag: tag)
                    try claim(UInt64(pairs), 2, "map size")
                    pending += Int(pairs) * 2
                case ETFTag.newPid: try skipNode(&reader, tag: tag, fixed: 12)
                case ETFTag.pid: try skipNode(&reader, tag: tag, fixed: 9)
                case ETFTag.port: try skipNode(&reader, tag: tag, fixed: 5)
                case ETFTag.newPort: try skipNode(&reader, tag: tag, fixed: 8)
                case ETFTag.v4Port: try skipNode(&reader, tag: tag, fixed: 12)
                case ETFTag.reference: try skipNode(&reader, tag: tag, fixed: 5)
                case ETFTag.newReference, ETFTag.newerReference:
                    let words = Int(try reader.readUInt16(tag: tag))
                    try skipNode(&reader, tag: tag, fixed: (tag == ETFTag.newReference ? 1 : 4) + 4 * words)
                case ETFTag.export: pending += 3
                case ETFTag.newFun:
                    // The size field counts itself and everything after it.
                    let size = try reader.readUInt32(tag: tag)
                    guard size >= 4 else {
                        throw reader.error(.badFunSize(declared: size, actual: 4), tag: tag, at: tagPosition)
                    }
                    try claim(UInt64(size) - 4, 1, "fun size")
                    _ = try reader.skipBytes(Int(size) - 4, tag: tag)
                case ETFTag.compressed:
                    throw reader.error(.compressedNotAtTop, tag: tag, at: tagPosition)
                default:
                    if let why = ETFTag.unsupportedReason(tag) {
                        throw reader.error(.unsupportedTag(why), tag: tag, at: tagPosition)
                    }
                    throw reader.error(.unknownTag, tag: tag, at: tagPosition)
                }
            }
            return .complete(reader.position)
        } catch {
            if case .truncated = error.reason { return .needMore }
            throw error
        }
    }

    /// Skips a node-name atom then `fixed` bytes: the shape of pids, ports and references.
    private static func skipNode(_ reader: inout ETFReader, tag: UInt8, fixed: Int) throws(ETFError) {
        let atomTag = try reader.readUInt8(tag: tag)
        switch atomTag {
        case ETFTag.atom, ETFTag.atomUTF8: _ = try reader.skipBytes(Int(try reader.readUInt16(tag: tag)), tag: tag)
        case ETFTag.smallAtom, ETFTag.smallAtomUTF8: _ = try reader.skipBytes(Int(try reader.readUInt8(tag: tag)), tag: tag)
        default: throw reader.error(.unexpectedTag(expected: "a node name atom"), tag: atomTag, at: reader.position - 1)
        }
        _ = try reader.skipBytes(fixed, tag: tag)
    }

    /// A compressed term's length is where its zlib stream ends.
    private static func measureCompressed(_ reader: inout ETFReader, limits: ETFLimits) throws(ETFError) -> Result {
        reader.position = 2
        let declared = try reader.readUInt32(tag: ETFTag.compressed)
        guard Int(declared) <= limits.maxDecompressedBytes else {
            throw reader.error(.decompressedTooLarge(declared: declared, limit: limits.maxDecompressedBytes), tag: ETFTag.compressed, at: 1)
        }
        do throws(BoundedInflate.Failure) {
            let inflated = try BoundedInflate.inflate(reader.slice(reader.position, reader.remaining), declaredSize: Int(declared))
            return .complete(reader.position + inflated.consumed)
        } catch {
            switch error {
            case .sizeMismatch(let actual):
                throw reader.error(.decompressedSizeMismatch(declared: declared, actual: actual), tag: ETFTag.compressed, at: 1)
            case .corrupt(let detail):
                if detail == BoundedInflate.endsEarly { return .needMore }
                throw reader.error(.corruptCompressedData(detail), tag: ETFTag.compressed, at: 1)
            }
        }
    }
}
