import CZlib

/// Inflates the zlib stream of a compressed term (tag 80) into exactly `declaredSize` bytes.
///
/// Output grows with what the stream really produces, never with what it claims,
/// and inflation stops the moment the output would pass the declared size, so a
/// decompression bomb costs neither time nor memory.
enum BoundedInflate {
    struct Result {
        var bytes: [UInt8]
        /// Compressed bytes the zlib stream took, so concatenated terms can be split.
        var consumed: Int
    }

    static let endsEarly = "the compressed data ends early"

    enum Failure: Error {
        case sizeMismatch(actual: Int)
        case corrupt(String)
    }

    static func inflate(_ input: UnsafeRawBufferPointer, declaredSize: Int) throws(Failure) -> Result {
        var stream = z_stream()
        guard czlib_inflateInit(&stream) == Z_OK else { throw .corrupt("zlib could not start") }
        defer { inflateEnd(&stream) }

        // Room for one extra byte: producing it proves the stream is longer than declared.
        let limit = declaredSize + 1
        var output = [UInt8](repeating: 0, count: min(limit, 64 << 10))
        var produced = 0
        var status: Int32 = Z_OK
        let inputBase = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.next_in = inputBase
        stream.avail_in = UInt32(clamping: input.count)

        while status != Z_STREAM_END {
            if produced == output.count {
                if output.count >= limit { throw .sizeMismatch(actual: Int.max) }
                // A new array filled by memcpy and memset: appending repeatElement goes
                // element by element through generic code (8 s for 64 MiB in a debug
                // build), appending an Array of zeros holds a third buffer. Peak: old + new.
                let old = output
                let count = old.count + min(old.count, limit - old.count)
                output = []
                output = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                    old.withUnsafeBufferPointer { buffer.baseAddress!.initialize(from: $0.baseAddress!, count: $0.count) }
                    (buffer.baseAddress! + old.count).initialize(repeating: 0, count: count - old.count)
                    initialized = count
                }
            }
            status = output.withUnsafeMutableBytes { buffer -> Int32 in
                stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                stream.avail_out = UInt32(buffer.count - produced)
                let before = stream.avail_out
                let result = CZlib.inflate(&stream, Z_NO_FLUSH)
                produced += Int(before - stream.avail_out)
                return result
            }
            if produced > declaredSize { throw .sizeMismatch(actual: Int.max) }
            switch status {
            case Z_OK, Z_STREAM_END:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either the input ran out or the output is full.
                if stream.avail_in == 0 { throw .corrupt(endsEarly) }
                if produced > declaredSize { throw .sizeMismatch(actual: Int.max) }
            case Z_DATA_ERROR:
                throw .corrupt(stream.msg.map { String(cString: $0) } ?? "invalid deflate data")
            case Z_MEM_ERROR:
                throw .corrupt("zlib ran out of memory")
            default:
                throw .corrupt("zlib status \(status)")
            }
        }
        if produced != declaredSize {
            throw .sizeMismatch(actual: produced > declaredSize ? Int.max : produced)
        }
        output.removeSubrange(produced...)
        let consumed = input.count - Int(stream.avail_in)
        return Result(bytes: output, consumed: consumed)
    }
}
