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

    /// A bignum from its little-endian magnitude: repeated division by 10^9 on 32-bit limbs.
    static func appendBig(negative: Bool, magnitude: ArraySlice<UInt8>, to out: inout [UInt8]) {
        var limbs: [UInt32] = []
        limbs.reserveCapacity((magnitude.count + 3) / 4)
        var index = magnitude.startIndex
        while index < magnitude.endIndex {
            var limb: UInt32 = 0
            for shift in 0..<4 where index + shift < magnitude.endIndex {
                limb |= UInt32(magnitude[index + shift]) << (8 * shift)
            }
            limbs.append(limb)
            index += 4
        }
        while limbs.last == 0 { limbs.removeLast() }
        if limbs.isEmpty {
            out.append(UInt8(ascii: "0"))
            return
        }
        var chunks: [UInt32] = []  // base 10^9, least significant first
        while !limbs.isEmpty {
            var remainder: UInt64 = 0
            for i in stride(from: limbs.count - 1, through: 0, by: -1) {
                let current = remainder << 32 | UInt64(limbs[i])
                limbs[i] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
            while limbs.last == 0 { limbs.removeLast() }
        }
        if negative { out.append(UInt8(ascii: "-")) }
        append(UInt64: UInt64(chunks.last!), to: &out)
        for chunk in chunks.dropLast().reversed() {
            var digits = [UInt8](repeating: 0x30, count: 9)
            var rest = chunk
            for i in stride(from: 8, through: 0, by: -1) {
                digits[i] = UInt8(rest % 10) + 0x30
                rest /= 10
            }
            out.append(contentsOf: digits)
        }
    }
}
