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
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var q = self + digits
        self = q
        repeat {
            q -= 1
            q.pointee = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
            magnitude /= 10
        } while magnitude > 0
    }

    /// `SECONDS.MICROS`, six decimals.
    @inline(__always)
    mutating func putTime(_ micros: Int64) {
        // From the magnitude: -Int64.min does not fit in Int64.
        if micros < 0 { put(UInt8(ascii: "-")) }
        let magnitude = micros.magnitude
        putDecimal(Int64(magnitude / 1_000_000))
        put(UInt8(ascii: "."))
        var fraction = magnitude % 1_000_000
        var q = self + 6
        self = q
        for _ in 0..<6 {
            q -= 1
            q.pointee = UInt8(truncatingIfNeeded: fraction % 10) &+ 0x30
            fraction /= 10
        }
    }
}
