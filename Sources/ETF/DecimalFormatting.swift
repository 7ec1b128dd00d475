/// Decimal text of integers, small and arbitrarily large.
enum DecimalFormatting {
    static func append(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            append(UInt64: value.magnitude, to: &out)
        } else {
            append(UInt64: UInt64(value), to: &out)
        }
    }

    static func append(UInt64 value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes of room, 20 needed
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[31 - count] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                rest /= 10
                count += 1
            }
            out.append(contentsOf: buffer[(32 - count)...])
        }
    }

    /// 0 to 255, the elements of binaries and byte lists, from a table.
    static func appendByte(_ byte: UInt8, to out: inout [UInt8]) {
        if byte < 10 {
            out.append(byte &+ 0x30)
        } else if byte < 100 {
            out.append(byte / 10 &+ 0x30)
            out.append(byte % 10 &+ 0x30)
        } else {
            out.append(byte / 100 &+ 0x30)
            out.append((byte / 10) % 10 &+ 0x30)
            out.append(byte % 10 &+ 0x30)
        }
    }

    /// A bignum from its little-endian magnitude. The conversion is subquadratic
    /// (`BignumDecimalConversion`), so the largest integer Erlang allows (10 million digits) prints in about 2 s.
    static func appendBig(negative: Bool, magnitude: ArraySlice<UInt8>, to out: inout [UInt8]) {
        let limbs = BignumDecimalConversion.decimalLimbs(magnitude: magnitude)
        guard let top = limbs.last else {
            out.append(UInt8(ascii: "0"))
            return
        }
        if negative { out.append(UInt8(ascii: "-")) }
        append(UInt64: top, to: &out)
        let start = out.count
        let count = 18 * (limbs.count - 1)
        out.reserveCapacity(out.count + count)
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        out.withUnsafeMutableBufferPointer { buffer in
            // Every lower limb as exactly 18 digits, most significant limb first.
            var position = start + count
            for limb in limbs.dropLast() {
                var low = UInt32(limb % 1_000_000_000), high = UInt32(limb / 1_000_000_000)
                for _ in 0..<9 {
                    position -= 1
                    buffer[position] = UInt8(truncatingIfNeeded: low % 10) &+ 0x30
                    low /= 10
                }
                for _ in 0..<9 {
                    position -= 1
                    buffer[position] = UInt8(truncatingIfNeeded: high % 10) &+ 0x30
                    high /= 10
                }
            }
        }
    }
}
