/// Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
public enum UTF8Validation {
    /// The number of Unicode scalars in `bytes`, or nil when they are not valid UTF-8.
    public static func countScalars(_ bytes: UnsafeRawBufferPointer) -> Int? {
        // Nearly every atom is ASCII, where the count is the length.
        if isASCII(bytes) { return bytes.count }
        return countScalarsSlowly(bytes)
    }

    /// True when no byte has its high bit set: tested 8 bytes at a time, the last
    /// (partial) word as an 8-byte load overlapping the one before, and fewer than
    /// 8 bytes as two overlapping 4-byte loads or three single bytes, so an atom of
    /// a few characters costs no loop.
    @inlinable @inline(__always)
    public static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
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

    /// True when `bytes` are valid UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        countScalars(bytes) != nil
    }

    /// Appends code point `scalar` as UTF-8; a surrogate or a value past
    /// U+10FFFF becomes U+FFFD.
    public static func appendScalar(_ scalar: UInt32, to out: inout [UInt8]) {
        guard let value = Unicode.Scalar(scalar) else {
            out.append(contentsOf: [0xEF, 0xBF, 0xBD])
            return
        }
        UTF8.encode(value) { out.append($0) }
    }

    /// Latin-1 bytes (an old atom, a charlist of bytes) as UTF-8.
    public static func appendLatin1(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        for byte in bytes {
            if byte < 0x80 {
                out.append(byte)
            } else {
                out.append(0xC0 | byte >> 6)
                out.append(0x80 | byte & 0x3F)
            }
        }
    }
}
