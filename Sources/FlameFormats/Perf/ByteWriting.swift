/// Unchecked writes into a buffer reserved beforehand for everything written:
/// the perf sink's event line scratch.
extension UnsafeMutablePointer where Pointee == UInt8 {
    @inline(__always)
    mutating func put(_ byte: UInt8) {
        pointee = byte
        self += 1
    }

    @inline(__always)
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        update(from: base, count: bytes.count)
        self += bytes.count
    }

    @inline(__always)
    mutating func put(_ text: StaticString) {
        update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        self += text.utf8CodeUnitCount
    }

    @inline(__always)
    mutating func putDecimal(_ value: Int64) {
        if value >= 0 && value < 10 {
            put(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        if value < 0 { put(UInt8(ascii: "-")) }
        putDigits(value.magnitude, count: DecimalDigits.count(value.magnitude))
    }

    /// The last `count` decimal digits of `value`, two at a time from a table:
    /// one division per pair instead of two per digit.
    @inline(__always)
    mutating func putDigits(_ value: UInt64, count: Int) {
        var magnitude = value
        var q = self + count
        self = q
        DecimalDigits.pairs.withUTF8Buffer { pairs in
            var left = count
            while left >= 2 {
                let (rest, pair) = magnitude.quotientAndRemainder(dividingBy: 100)
                q -= 2
                q[0] = pairs[Int(pair) &* 2]
                q[1] = pairs[Int(pair) &* 2 &+ 1]
                magnitude = rest
                left -= 2
            }
            if left == 1 {
                q -= 1
                q.pointee = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
            }
        }
    }

    /// `SECONDS.MICROS`, six decimals.
    @inline(__always)
    mutating func putTime(_ micros: Int64) {
        // From the magnitude: -Int64.min does not fit in Int64.
        if micros < 0 { put(UInt8(ascii: "-")) }
        let magnitude = micros.magnitude
        let (seconds, fraction) = magnitude.quotientAndRemainder(dividingBy: 1_000_000)
        putDecimal(Int64(seconds))
        put(UInt8(ascii: "."))
        putDigits(fraction, count: 6)
    }
}

/// Tables for writing decimal numbers.
enum DecimalDigits {
    /// "00" to "99", two bytes each.
    static let pairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    /// Decimal digits of `value` (1 for 0): compares against powers of ten
    /// instead of dividing.
    @inline(__always)
    static func count(_ value: UInt64) -> Int {
        var digits = 1
        var bound: UInt64 = 10
        while digits < 20 && value >= bound {
            digits += 1
            if digits == 20 { break }
            bound &*= 10
        }
        return digits
    }
}
