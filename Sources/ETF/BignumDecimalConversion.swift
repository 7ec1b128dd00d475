/// Converts a big integer's binary magnitude to base-10^18 limbs in subquadratic time.
///
/// Repeated division by 10^k is quadratic: a 1 MB bignum (the largest Erlang
/// allows is 4 MiB) took minutes. This splits the binary limbs in two at a
/// power-of-two boundary `m`, converts each half, and joins them as
/// `high * 2^(64m) + low` in decimal, with the powers `2^(64m)` made once by
/// squaring and the products by transforms. Work: O(n log^2 n) for n limbs.
struct BignumDecimalConversion {
    /// Binary limbs that are converted by repeated division (the recursion's leaves).
    static let leafLimbs = 16

    /// `powers[k]` is 2^(64 * leafLimbs * 2^k) in base 10^18.
    private var powers: [[UInt64]] = []
    /// `powerSpectra[k]`: the transform of `powers[k]`, and its length. Every
    /// product on one level of the recursion but the top one has the same
    /// length, so each power is transformed once, not once per product.
    private var powerSpectra: [(length: Int, values: [UInt64])] = []
    private var ntt = GoldilocksNTT()

    init() {}

    /// The base-10^18 limbs (least significant first, none for zero) of the
    /// integer whose magnitude is `magnitude`, little-endian bytes.
    static func decimalLimbs(magnitude: ArraySlice<UInt8>) -> [UInt64] {
        var limbs = [UInt64](repeating: 0, count: (magnitude.count + 7) / 8)
        for (i, byte) in magnitude.enumerated() {
            limbs[i >> 3] |= UInt64(byte) << (8 * UInt64(i & 7))
        }
        var conversion = BignumDecimalConversion()
        return limbs.withUnsafeBufferPointer { conversion.convert($0, top: true) }
    }

    /// Binary limbs (least significant first) to base-10^18 limbs. At the `top`
    /// of the recursion, the cached powers and spectra of the levels below are
    /// dropped before the last product, which is the largest.
    mutating func convert(_ limbs: UnsafeBufferPointer<UInt64>, top: Bool = false) -> [UInt64] {
        var n = limbs.count
        while n > 0, limbs[n - 1] == 0 { n -= 1 }
        if n <= Self.leafLimbs { return Self.convertByDivision(UnsafeBufferPointer(rebasing: limbs[0..<n])) }
        var k = 0
        while Self.leafLimbs << (k + 1) < n { k += 1 }
        let m = Self.leafLimbs << k  // m < n <= 2m: the high half is no longer than the low one
        let low = convert(UnsafeBufferPointer(rebasing: limbs[0..<m]))
        let high = convert(UnsafeBufferPointer(rebasing: limbs[m..<n]))
        if top {
            _ = power(k)
            powerSpectra.removeAll()
            for level in 0..<k { powers[level] = [] }
        }
        var result = multiply(high, byPower: k)
        // high > 0, so the product is at least 2^(64m), which is more than low.
        DecimalLimbArithmetic.add(low, to: &result)
        return result
    }

    private mutating func multiply(_ a: [UInt64], byPower k: Int) -> [UInt64] {
        let power = power(k)
        if DecimalLimbArithmetic.prefersSchoolbook(a.count, power.count) {
            return DecimalLimbArithmetic.schoolbook(a, power)
        }
        let length = DecimalLimbArithmetic.transformLength(a.count, power.count)
        while powerSpectra.count <= k { powerSpectra.append((0, [])) }
        if powerSpectra[k].length != length {
            powerSpectra[k] = (length, DecimalLimbArithmetic.spectrum(of: power, length: length, using: &ntt))
        }
        return DecimalLimbArithmetic.multiply(a, spectrum: powerSpectra[k].values, using: &ntt)
    }

    private mutating func power(_ k: Int) -> [UInt64] {
        while powers.count <= k {
            if let last = powers.last {
                powers.append(DecimalLimbArithmetic.square(last, using: &ntt))
            } else {
                var one = [UInt64](repeating: 0, count: Self.leafLimbs + 1)
                one[Self.leafLimbs] = 1
                powers.append(one.withUnsafeBufferPointer { Self.convertByDivision($0) })
            }
        }
        return powers[k]
    }

    /// Repeated division by 10^18: quadratic, for a few limbs.
    static func convertByDivision(_ limbs: UnsafeBufferPointer<UInt64>) -> [UInt64] {
        var rest = Array(limbs)
        var n = rest.count
        while n > 0, rest[n - 1] == 0 { n -= 1 }
        var result: [UInt64] = []
        result.reserveCapacity(n + n / 8 + 1)
        let base = DecimalLimbArithmetic.base
        rest.withUnsafeMutableBufferPointer { r in
            while n > 0 {
                var remainder: UInt64 = 0
                for i in stride(from: n - 1, through: 0, by: -1) {
                    (r[i], remainder) = base.dividingFullWidth((remainder, r[i]))
                }
                result.append(remainder)
                while n > 0, r[n - 1] == 0 { n -= 1 }
            }
        }
        return result
    }
}
