import CDeflate
import CZlib

/// Inflates the zlib stream of a compressed term (tag 80) into exactly `declaredSize` bytes.
///
/// The output buffer is sized once, before inflating, to what the stream can
/// produce at most: the declared size (plus one byte, whose appearance proves the
/// stream longer than declared), and never more than deflate's largest ratio,
/// 1032 to 1, allows for the compressed bytes at hand. So a small bomb that
/// claims a large size gets a small buffer, an honest term one allocation with
/// no copy while growing, and inflation stops the moment the output would pass
/// the declared size.
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

    /// Deflate emits at least 2 bits per 258-byte match; the slack covers a
    /// stored tail and rounding.
    static let maximumRatio = 1032
    static let ratioSlack = 64 << 10

    /// The bytes `inflate` allocates for its output: what it must be charged for.
    static func outputCapacity(compressedBytes: Int, declaredSize: Int) -> Int {
        min(declaredSize + 1, compressedBytes &* maximumRatio &+ ratioSlack)
    }

    static func inflate(_ input: UnsafeRawBufferPointer, declaredSize: Int) throws(Failure) -> Result {
        let capacity = outputCapacity(compressedBytes: input.count, declaredSize: declaredSize)
        var failure: Failure?
        var consumed = 0
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            // libdeflate first: several times zlib's speed, its Adler-32 above all.
            // It tells less about a bad stream, so anything but a whole term of
            // the declared size goes through zlib, which says what is wrong.
            if let (produced, used) = fastInflate(input, into: UnsafeMutableRawBufferPointer(buffer)), produced == declaredSize {
                (initialized, consumed) = (produced, used)
                return
            }
            do throws(Failure) {
                let raw = UnsafeMutableRawBufferPointer(buffer)
                (initialized, consumed) = try run(input, declaredSize: declaredSize) { produced in
                    // The output never moves: past its capacity the stream is longer than deflate allows.
                    produced < raw.count ? UnsafeMutableRawBufferPointer(rebasing: raw[produced...]) : nil
                }
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return Result(bytes: output, consumed: consumed)
    }

    /// The whole zlib stream at the start of `input` inflated into `output` by
    /// libdeflate: the bytes produced and consumed, or nil when it fails (bad
    /// data, or more output than `output` holds).
    private static func fastInflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> (Int, Int)? {
        guard let inflater = libdeflate_alloc_decompressor() else { return nil }
        defer { libdeflate_free_decompressor(inflater) }
        var used = 0
        var produced = 0
        let result = libdeflate_zlib_decompress_ex(inflater, input.baseAddress, input.count, output.baseAddress, output.count, &used, &produced)
        return result == LIBDEFLATE_SUCCESS ? (produced, used) : nil
    }

    /// Runs the stream through a 64 KiB window, keeping none of it, and returns
    /// how many compressed bytes it took: where a concatenated term ends.
    static func measure(_ input: UnsafeRawBufferPointer, declaredSize: Int) throws(Failure) -> Int {
        let window = UnsafeMutableRawBufferPointer.allocate(byteCount: min(declaredSize + 1, 64 << 10), alignment: 16)
        defer { window.deallocate() }
        return try run(input, declaredSize: declaredSize) { _ in window }.consumed
    }

    /// Inflates `input`, asking `room(produced)` for where to put the next bytes
    /// (nil when there is no more room), until the stream ends. Returns the bytes
    /// produced and the compressed bytes consumed.
    private static func run(_ input: UnsafeRawBufferPointer, declaredSize: Int,
                            room: (Int) -> UnsafeMutableRawBufferPointer?) throws(Failure) -> (produced: Int, consumed: Int) {
        var stream = z_stream()
        guard czlib_inflateInit(&stream) == Z_OK else { throw .corrupt("zlib could not start") }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(clamping: input.count)
        var produced = 0
        var status: Int32 = Z_OK
        while status != Z_STREAM_END {
            guard let target = room(produced), target.count > 0 else { throw .sizeMismatch(actual: Int.max) }
            // Never ask for more than one byte past the declared size.
            let want = min(target.count, declaredSize + 1 - produced)
            stream.next_out = target.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(clamping: want)
            let before = stream.avail_out
            status = CZlib.inflate(&stream, Z_NO_FLUSH)
            produced += Int(before - stream.avail_out)
            if produced > declaredSize { throw .sizeMismatch(actual: Int.max) }
            switch status {
            case Z_OK, Z_STREAM_END:
                continue
            case Z_BUF_ERROR:
                // No progress possible, though the output had room: the input ran out.
                throw .corrupt(stream.avail_in == 0 ? endsEarly : "zlib made no progress")
            case Z_DATA_ERROR:
                throw .corrupt(stream.msg.map { String(cString: $0) } ?? "invalid deflate data")
            case Z_MEM_ERROR:
                throw .corrupt("zlib ran out of memory")
            default:
                throw .corrupt("zlib status \(status)")
            }
        }
        if produced != declaredSize {
            throw .sizeMismatch(actual: produced)
        }
        return (produced, input.count - Int(stream.avail_in))
    }
}
