/// Finds where an external term ends without decoding it, for streams of
/// concatenated terms that carry no length prefix.
///
/// The skipping itself is `ETFReader.skipTerm`.
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
            // Claims are checked against the frame limit, not the bytes buffered so far.
            try reader.skipTerm(claimLimit: max(0, maxBytes - reader.position))
            return .complete(reader.position)
        } catch {
            if case .truncated = error.reason { return .needMore }
            throw error
        }
    }

    /// A compressed term's length is where its zlib stream ends.
    private static func measureCompressed(_ reader: inout ETFReader, limits: ETFLimits) throws(ETFError) -> Result {
        reader.position = 2
        let declared = try reader.readUInt32(tag: ETFTag.compressed)
        guard Int(declared) <= limits.maxDecompressedBytes else {
            throw reader.error(.decompressedTooLarge(declared: declared, limit: limits.maxDecompressedBytes), tag: ETFTag.compressed, at: 1)
        }
        do throws(BoundedInflate.Failure) {
            // Only the length is wanted: nothing inflated is kept.
            let consumed = try BoundedInflate.measure(reader.slice(reader.position, reader.remaining), declaredSize: Int(declared))
            return .complete(reader.position + consumed)
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
