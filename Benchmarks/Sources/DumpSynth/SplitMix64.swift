/// SplitMix64: a tiny, fast generator whose output depends on the seed alone,
/// the same on every platform and Swift version (unlike `SystemRandomNumberGenerator`
/// or hashing), so a seed always gives the same dump. Only integer arithmetic is
/// used on top of it, never libm, so results cannot drift with a C library.
public struct SplitMix64 {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n` (n > 0), by multiply-shift.
    @inline(__always)
    public mutating func below(_ n: Int) -> Int {
        Int(truncatingIfNeeded: UInt64(n).multipliedFullWidth(by: next()).high)
    }

    /// Uniform in `range`.
    @inline(__always)
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True `perMille` times in a thousand.
    @inline(__always)
    public mutating func chance(perMille: Int) -> Bool { below(1000) < perMille }

    /// Roughly log-uniform in `range` (bounds > 0): a power-of-two bucket chosen
    /// uniformly, then a value uniform in it, so values spread over orders of
    /// magnitude as process sizes and counts do on a real node.
    public mutating func logUniform(_ range: ClosedRange<Int>) -> Int {
        let loBits = Int.bitWidth - range.lowerBound.leadingZeroBitCount
        let hiBits = Int.bitWidth - range.upperBound.leadingZeroBitCount
        let bits = int(loBits...hiBits)
        let bucketLo = max(range.lowerBound, 1 << (bits - 1))
        let bucketHi = min(range.upperBound, (1 << bits) - 1)
        return bucketLo >= bucketHi ? bucketLo : int(bucketLo...bucketHi)
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
