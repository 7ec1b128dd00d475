/// Term order for numbers, atoms and bitstrings: the leaves of `Term.compare`.
extension Term {
    enum NumberView {
        case int(Int64)
        case big(negative: Bool, magnitude: ArraySlice<UInt8>)  // little-endian, no high zero bytes
        case float(Double)
    }

    func numberView(_ index: Int) -> NumberView {
        let node = nodes[index]
        switch node.kind {
        case .integer: return .int(Int64(bitPattern: node.value))
        case .float: return .float(Double(bitPattern: node.value))
        default: return .big(negative: node.flags == 1, magnitude: payload(of: index))
        }
    }

    /// Map key order, which is what `compare` serves: integers by value, then
    /// floats by value, every integer before every float (`#{3 => a,100 => b,1.5 => c}`).
    func compare(_ x: NumberView, _ y: NumberView) -> Int {
        switch (x, y) {
        case (.int(let p), .int(let q)):
            return p == q ? 0 : (p < q ? -1 : 1)
        case (.float(let p), .float(let q)):
            if p == q {
                // Keep -0.0 and 0.0 apart, so OTP 27 maps holding both are not "duplicates".
                if p.sign != q.sign { return p.sign == .minus ? -1 : 1 }
                return 0
            }
            return p < q ? -1 : 1
        case (.int, .float), (.big, .float):
            return -1
        case (.float, .int), (.float, .big):
            return 1
        case (.big(let negative, _), .int):
            return negative ? -1 : 1  // a bignum is outside Int64's range
        case (.int, .big):
            return -compare(y, x)
        case (.big(let np, let mp), .big(let nq, let mq)):
            if np != nq { return np ? -1 : 1 }
            let byMagnitude = Self.compareMagnitudes(mp, mq)
            return np ? -byMagnitude : byMagnitude
        }
    }

    static func compareMagnitudes(_ p: ArraySlice<UInt8>, _ q: ArraySlice<UInt8>) -> Int {
        if p.count != q.count { return p.count < q.count ? -1 : 1 }
        for (a, b) in zip(p.reversed(), q.reversed()) where a != b { return a < b ? -1 : 1 }
        return 0
    }

    /// Atoms order by their characters' code points, which UTF-8 bytes preserve.
    func compareAtoms(_ a: Int, _ b: Int) -> Int {
        let na = nodes[a], nb = nodes[b]
        if na.flags == nb.flags {
            let pa = payload(of: a), pb = payload(of: b)
            for (x, y) in zip(pa, pb) where x != y { return x < y ? -1 : 1 }
            return pa.count == pb.count ? 0 : (pa.count < pb.count ? -1 : 1)
        }
        let sa = atomScalars(a), sb = atomScalars(b)
        for (x, y) in zip(sa, sb) where x != y { return x < y ? -1 : 1 }
        return sa.count == sb.count ? 0 : (sa.count < sb.count ? -1 : 1)
    }

    /// An atom's characters as code points, from either encoding.
    func atomScalars(_ index: Int) -> [UInt32] {
        let bytes = payload(of: index)
        if nodes[index].flags == 0 { return bytes.map { UInt32($0) } }
        return String(decoding: bytes, as: UTF8.self).unicodeScalars.map(\.value)
    }

    /// Bitstrings order by their bits, a prefix first.
    func compareBitstrings(_ a: Int, _ b: Int) -> Int {
        let (pa, bitsA) = bitstringParts(a), (pb, bitsB) = bitstringParts(b)
        let lengthA = pa.count * 8 - (bitsA == 0 ? 0 : 8 - Int(bitsA))
        let lengthB = pb.count * 8 - (bitsB == 0 ? 0 : 8 - Int(bitsB))
        var ia = pa.startIndex, ib = pb.startIndex
        var consumed = 0
        while consumed + 8 <= min(lengthA, lengthB) {
            if pa[ia] != pb[ib] { return pa[ia] < pb[ib] ? -1 : 1 }
            ia += 1; ib += 1; consumed += 8
        }
        let left = min(lengthA, lengthB) - consumed
        if left > 0 {
            let x = pa[ia] >> (8 - left), y = pb[ib] >> (8 - left)
            if x != y { return x < y ? -1 : 1 }
        }
        return lengthA == lengthB ? 0 : (lengthA < lengthB ? -1 : 1)
    }

    /// The bytes, and the bits used in the last one (0 when all eight are).
    private func bitstringParts(_ index: Int) -> (ArraySlice<UInt8>, UInt8) {
        (payload(of: index), nodes[index].kind == .bitstring ? nodes[index].flags : 0)
    }
}
