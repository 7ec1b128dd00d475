/// The inflated bytes of a compressed term (tag 80), for readers that parse a
/// term's bytes themselves. Bounded exactly like `TermDecoder`.
public enum CompressedTerm {
    /// True when `bytes` (a whole term, version byte first) is compressed.
    public static func isCompressed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == ETFTag.version && bytes[1] == ETFTag.compressed
    }

    /// The uncompressed term bytes, *without* a version byte. `heldByCaller`
    /// (the frame, say) and the output buffer must fit in `limits.maxTermMemory`.
    public static func inflate(_ bytes: UnsafeRawBufferPointer, baseOffset: Int, limits: ETFLimits, heldByCaller: Int = 0) throws(ETFError) -> [UInt8] {
        var reader = ETFReader(bytes: bytes, baseOffset: baseOffset)
        reader.position = 2
        let declared = try reader.readUInt32(tag: ETFTag.compressed)
        guard Int(declared) <= limits.maxDecompressedBytes else {
            throw reader.error(.decompressedTooLarge(declared: declared, limit: limits.maxDecompressedBytes), tag: ETFTag.compressed, at: 1)
        }
        let capacity = BoundedInflate.outputCapacity(compressedBytes: reader.remaining, declaredSize: Int(declared))
        let budget = MemoryBudget(limit: limits.maxTermMemory, held: heldByCaller)
        guard capacity <= budget.available else {
            throw reader.error(budget.exceeded(adding: capacity, "\(capacity) bytes to inflate the term into"), tag: ETFTag.compressed, at: 1)
        }
        let inflated: BoundedInflate.Result
        do throws(BoundedInflate.Failure) {
            inflated = try BoundedInflate.inflate(reader.slice(reader.position, reader.remaining), declaredSize: Int(declared))
        } catch {
            switch error {
            case .sizeMismatch(let actual):
                throw reader.error(.decompressedSizeMismatch(declared: declared, actual: actual), tag: ETFTag.compressed, at: 1)
            case .corrupt(let detail):
                throw reader.error(.corruptCompressedData(detail), tag: ETFTag.compressed, at: 1)
            }
        }
        if inflated.consumed != reader.remaining {
            throw reader.error(.trailingBytes(reader.remaining - inflated.consumed), tag: ETFTag.compressed, at: reader.position + inflated.consumed)
        }
        return inflated.bytes
    }
}
