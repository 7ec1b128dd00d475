/// Arithmetic on non-negative numbers held as little-endian base-10^18 limbs
/// (each limb below 10^18, no high zero limbs; zero is no limbs): what
/// `BignumDecimalConversion` combines its halves with.
enum DecimalLimbArithmetic {
    static let base: UInt64 = 1_000_000_000_000_000_000

    /// Below this many limbs in the shorter factor, schoolbook multiplication
    /// (one 128-by-64-bit division per limb product) beats the transforms.
    static let schoolbookLimit = 40

    /// Whether `a * b` is cheaper by schoolbook than by transforms.
    static func prefersSchoolbook(_ a: Int, _ b: Int) -> Bool {
        min(a, b) <= schoolbookLimit
    }

    /// `sum += addend`, where `sum` has at least as many limbs as `addend`.
    static func add(_ addend: [UInt64], to sum: inout [UInt64]) {
        precondition(sum.count >= addend.count)
        var carry: UInt64 = 0
        sum.withUnsafeMutableBufferPointer { s in
            addend.withUnsafeBufferPointer { a in
                for i in 0..<a.count {
                    let t = s[i] &+ a[i] &+ carry  // below 2 * 10^18 + 1: no overflow
                    carry = t >= base ? 1 : 0
                    s[i] = t &- carry &* base
                }
                var i = a.count
                while carry != 0 && i < s.count {
                    let t = s[i] &+ 1
                    carry = t == base ? 1 : 0
                    s[i] = carry == 1 ? 0 : t
                    i += 1
                }
            }
        }
        if carry != 0 { sum.append(carry) }
    }

    static func schoolbook(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        var result = [UInt64](repeating: 0, count: a.count + b.count)
        result.withUnsafeMutableBufferPointer { r in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    for i in 0..<a.count {
                        let x = a[i]
                        if x == 0 { continue }
                        var carry: UInt64 = 0
                        for j in 0..<b.count {
                            // x * b[j] + r + carry <= (10^18 - 1)^2 + 2 (10^18 - 1) < 10^36:
                            // the quotient by 10^18 fits a limb.
                            var (high, low) = x.multipliedFullWidth(by: b[j])
                            var (sum, overflow) = low.addingReportingOverflow(r[i + j])
                            if overflow { high &+= 1 }
                            (sum, overflow) = sum.addingReportingOverflow(carry)
                            if overflow { high &+= 1 }
                            let (quotient, remainder) = base.dividingFullWidth((high, sum))
                            r[i + j] = remainder
                            carry = quotient
                        }
                        r[i + b.count] = carry
                    }
                }
            }
        }
        trim(&result)
        return result
    }

    /// Digits of base 10^6 per limb: a product coefficient is then at most
    /// min(digits of a, digits of b) * (10^6 - 1)^2, below p for up to 1.8 * 10^7
    /// digits in the shorter factor (integers of over 10^8 decimal digits).
    static let transformBase: UInt64 = 1_000_000

    /// The transform length for a product of factors of `a` and `b` limbs.
    static func transformLength(_ a: Int, _ b: Int) -> Int {
        precondition(3 * min(a, b) < 18_000_000, "factor too long for one modulus")
        var length = 1
        while length < 3 * (a + b) { length <<= 1 }
        return length
    }

    /// The transform of `a`'s base-10^6 digits, zero-padded to `length`: what
    /// `multiply(_:spectrum:using:)` takes for a factor used in many products.
    static func spectrum(of a: [UInt64], length: Int, using ntt: inout GoldilocksNTT) -> [UInt64] {
        var digits = [UInt64](repeating: 0, count: length)
        digits.withUnsafeMutableBufferPointer { d in
            for (i, limb) in a.enumerated() {
                d[3 * i] = limb % transformBase
                d[3 * i + 1] = (limb / transformBase) % transformBase
                d[3 * i + 2] = limb / (transformBase * transformBase)
            }
            ntt.forward(d)
        }
        return digits
    }

    /// `a * b` given the spectrum of `b` at `transformLength(a.count, b.count)` (or more).
    static func multiply(_ a: [UInt64], spectrum b: [UInt64], using ntt: inout GoldilocksNTT) -> [UInt64] {
        var product = spectrum(of: a, length: b.count, using: &ntt)
        product.withUnsafeMutableBufferPointer { f in
            b.withUnsafeBufferPointer { g in
                for i in 0..<f.count { f[i] = GoldilocksNTT.multiply(f[i], g[i]) }
            }
        }
        return fromProductSpectrum(&product, using: &ntt)
    }

    static func square(_ a: [UInt64], using ntt: inout GoldilocksNTT) -> [UInt64] {
        if a.count <= schoolbookLimit { return schoolbook(a, a) }
        var product = spectrum(of: a, length: transformLength(a.count, a.count), using: &ntt)
        product.withUnsafeMutableBufferPointer { f in
            for i in 0..<f.count { f[i] = GoldilocksNTT.multiply(f[i], f[i]) }
        }
        return fromProductSpectrum(&product, using: &ntt)
    }

    /// Inverts a product's spectrum, carries its coefficients into base-10^6
    /// digits, and packs three digits to a limb.
    private static func fromProductSpectrum(_ spectrum: inout [UInt64], using ntt: inout GoldilocksNTT) -> [UInt64] {
        let length = spectrum.count
        spectrum.withUnsafeMutableBufferPointer { ntt.inverse($0) }
        var result = [UInt64](repeating: 0, count: (length + 2) / 3 + 1)
        result.withUnsafeMutableBufferPointer { r in
            spectrum.withUnsafeBufferPointer { f in
                var carry: UInt64 = 0
                var scale: UInt64 = 1
                var limb = 0
                for i in 0..<length {
                    let value = f[i] &+ carry
                    carry = value / transformBase
                    r[limb] &+= (value % transformBase) &* scale
                    if scale == 1_000_000_000_000 {
                        scale = 1
                        limb += 1
                    } else {
                        scale &*= transformBase
                    }
                }
                // The transform is longer than the product's digits, so nothing is left to carry.
                precondition(carry == 0)
            }
        }
        trim(&result)
        return result
    }

    static func trim(_ limbs: inout [UInt64]) {
        while limbs.last == 0 { limbs.removeLast() }
    }
}
