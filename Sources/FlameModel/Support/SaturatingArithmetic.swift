/// Arithmetic on values read from dumps, clamped to `Int64.min ... Int64.max`
/// instead of trapping.
///
/// Every integer in a dump is whatever the file says: real captures stay far
/// from the ends of the range (reductions, bytes and microseconds since 1970
/// all fit many times over), but a damaged or hostile file may hold any 64-bit
/// value. A result beyond the range reads as the nearest end of it, which is
/// plainly absurd in the output rather than a crash or a wrapped sign.
extension Int64 {
    /// `self + other`, clamped.
    @inlinable
    public func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, clamped.
    @inlinable
    public func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// `-self`, clamped: `-Int64.min` is `Int64.max`.
    @inlinable
    public var saturatingNegation: Int64 {
        self == .min ? .max : -self
    }

    /// `self + (a - b)` computed exactly, then clamped: exact whenever the
    /// result fits, even when `a - b` alone does not.
    @inlinable
    public func saturatingAdding(_ a: Int64, minus b: Int64) -> Int64 {
        let (difference, differenceOverflow) = a.subtractingReportingOverflow(b)
        if !differenceOverflow { return saturatingAdding(difference) }
        // The true difference is the wrapped one plus 2^64 (a > b) or minus 2^64.
        // Adding `self` to the wrapped one overflows the other way exactly when
        // the true result fits, and then the wrapped sum is that result.
        let (sum, sumOverflow) = addingReportingOverflow(difference)
        if sumOverflow { return sum }
        return a > b ? .max : .min
    }

    /// `self * other`, clamped.
    @inlinable
    public func multipliedClamped(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}
