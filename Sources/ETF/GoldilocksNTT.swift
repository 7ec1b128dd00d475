/// Number-theoretic transforms modulo the prime p = 2^64 - 2^32 + 1, for
/// multiplying long numbers in O(n log n): the big-integer printer needs that
/// for integers of millions of digits, where schoolbook work is quadratic.
///
/// p - 1 is divisible by 2^32, so transforms of any power-of-two length up to
/// 2^32 exist, and reducing a 128-bit product modulo p takes a few adds,
/// because 2^64 = 2^32 - 1 and 2^96 = -1 (mod p). Values are kept below p.
struct GoldilocksNTT {
    static let p: UInt64 = 0xFFFF_FFFF_0000_0001
    /// 2^64 mod p.
    static let epsilon: UInt64 = 0xFFFF_FFFF
    /// Generates the multiplicative group modulo p.
    static let generator: UInt64 = 7

    /// The twiddle factors of every butterfly stage, each stage's in a run of its
    /// own so a stage reads them in order: `twiddles[h + t]` is w^t for the
    /// primitive (2h)-th root of unity w, t < h. They do not depend on the
    /// transform's length, so one table serves every length up to `capacity`.
    private var twiddles: [UInt64] = [0]

    init() {}

    @inline(__always)
    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { return sum &+ epsilon }  // sum + 2^64 - p, below p
        return sum >= p ? sum &- p : sum
    }

    @inline(__always)
    static func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (difference, borrow) = a.subtractingReportingOverflow(b)
        return borrow ? difference &- epsilon : difference  // difference - 2^64 + p
    }

    @inline(__always)
    static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (high, low) = a.multipliedFullWidth(by: b)
        // high * 2^64 + low = highHigh * 2^96 + highLow * 2^64 + low
        //                   = -highHigh + highLow * (2^32 - 1) + low  (mod p)
        let highHigh = high >> 32, highLow = high & epsilon
        var (t0, borrow) = low.subtractingReportingOverflow(highHigh)
        if borrow { t0 &-= epsilon }
        let t1 = highLow &* epsilon
        var (result, carry) = t0.addingReportingOverflow(t1)
        if carry { result &+= epsilon }
        return result >= p ? result &- p : result
    }

    static func power(_ base: UInt64, _ exponent: UInt64) -> UInt64 {
        var result: UInt64 = 1, square = base, e = exponent
        while e > 0 {
            if e & 1 == 1 { result = multiply(result, square) }
            square = multiply(square, square)
            e >>= 1
        }
        return result
    }

    /// A primitive `length`-th root of unity (`length` a power of two up to 2^32).
    static func rootOfUnity(length: Int) -> UInt64 {
        power(generator, (p - 1) / UInt64(length))
    }

    private mutating func prepareTwiddles(length: Int) {
        guard twiddles.count < length else { return }
        var table = [UInt64](repeating: 0, count: length)
        table.withUnsafeMutableBufferPointer { t in
            var half = 1
            while half < length {
                let root = Self.rootOfUnity(length: 2 * half)
                var w: UInt64 = 1
                for i in 0..<half {
                    t[half + i] = w
                    w = Self.multiply(w, root)
                }
                half *= 2
            }
        }
        twiddles = table
    }

    /// Transforms `values` (a power-of-two count) in place, leaving the result in
    /// bit-reversed order (decimation in frequency). Spectra are only multiplied
    /// pointwise and handed to `inverse`, so that order costs nothing, and no
    /// permutation pass (random access over the whole array) is needed.
    mutating func forward(_ values: UnsafeMutableBufferPointer<UInt64>) {
        let n = values.count
        guard n > 1 else { return }
        prepareTwiddles(length: n)
        let a = values.baseAddress!
        twiddles.withUnsafeBufferPointer { table in
            var half = n / 2
            while half >= 1 {
                let stage = table.baseAddress! + half
                var start = 0
                while start < n {
                    let low = a + start, high = a + start + half
                    for k in 0..<half {
                        let u = low[k], v = high[k]
                        low[k] = Self.add(u, v)
                        high[k] = Self.multiply(Self.subtract(u, v), stage[k])
                    }
                    start += 2 * half
                }
                half /= 2
            }
        }
    }

    /// Inverts `forward`: takes a spectrum in bit-reversed order, leaves the values
    /// in natural order, divided by the length (decimation in time, with the
    /// inverse roots w^-t = -w^(h-t) read from the same table).
    mutating func inverse(_ values: UnsafeMutableBufferPointer<UInt64>) {
        let n = values.count
        guard n > 1 else { return }
        prepareTwiddles(length: n)
        let a = values.baseAddress!
        twiddles.withUnsafeBufferPointer { table in
            var half = 1
            while half < n {
                let stage = table.baseAddress! + half
                var start = 0
                while start < n {
                    let low = a + start, high = a + start + half
                    let u0 = low[0], v0 = high[0]
                    low[0] = Self.add(u0, v0)
                    high[0] = Self.subtract(u0, v0)
                    var k = 1
                    while k < half {
                        let u = low[k]
                        let m = Self.multiply(high[k], stage[half - k])  // -(v * w^-k)
                        low[k] = Self.subtract(u, m)
                        high[k] = Self.add(u, m)
                        k += 1
                    }
                    start += 2 * half
                }
                half *= 2
            }
        }
        let scale = Self.power(UInt64(n), Self.p - 2)
        for k in 0..<n { a[k] = Self.multiply(a[k], scale) }
    }
}
