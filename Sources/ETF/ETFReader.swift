/// A bounds-checked cursor over the bytes of one external term.
///
/// It never reads past its buffer: every read checks the remaining length first,
/// with arithmetic that cannot overflow, and throws an `ETFError` naming the
/// absolute offset. The buffer must outlive the reader (callers use it inside
/// `withUnsafeBytes`). Cross-module callers inline the hot reads.
@frozen
public struct ETFReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    /// Index of the next unread byte in `bytes`.
    public var position: Int
    /// Added to positions in errors, so they name the place in the file.
    public let baseOffset: Int

    @inlinable
    public init(bytes: UnsafeRawBufferPointer, baseOffset: Int = 0) {
        self.bytes = bytes
        self.position = 0
        self.baseOffset = baseOffset
    }

    @inlinable public var remaining: Int { bytes.count &- position }
    @inlinable public var isAtEnd: Bool { position >= bytes.count }
    @inlinable public var absoluteOffset: Int { baseOffset &+ position }

    @inlinable
    public func error(_ reason: ETFError.Reason, tag: UInt8?, at position: Int? = nil) -> ETFError {
        ETFError(offset: baseOffset &+ (position ?? self.position), tag: tag, reason: reason)
    }

    /// Throws unless `count` more bytes are available.
    @inlinable @inline(__always)
    public func require(_ count: Int, tag: UInt8?) throws(ETFError) {
        if count > remaining {
            throw truncated(needing: count, tag: tag)
        }
    }

    /// The error of a read that needs `count` bytes more than remain. Kept out of
    /// line so that the inlined reads stay a compare and a load.
    @usableFromInline @inline(never)
    func truncated(needing count: Int, tag: UInt8?) -> ETFError {
        error(.truncated(needed: UInt64(count), available: remaining), tag: tag)
    }

    /// Throws unless a length field's claim of `count` items of at least
    /// `minimumBytesEach` bytes could fit in what remains. Checked before any
    /// allocation sized by the claim.
    @inlinable @inline(__always)
    public func requireClaim(_ count: UInt64, minimumBytesEach: UInt64, field: StaticString, tag: UInt8) throws(ETFError) {
        let available = UInt64(remaining)
        let (total, overflow) = count.multipliedReportingOverflow(by: minimumBytesEach)
        if overflow || total > available {
            throw claimError(count, field: field, tag: tag)
        }
    }

    @usableFromInline @inline(never)
    func endOfInput(tag: UInt8?) -> ETFError {
        error(.truncated(needed: 1, available: 0), tag: tag)
    }

    @usableFromInline @inline(never)
    func claimError(_ count: UInt64, field: StaticString, tag: UInt8) -> ETFError {
        error(.lengthExceedsInput(field: "\(field)", claimed: count, available: remaining), tag: tag)
    }

    @inlinable @inline(__always)
    public mutating func readUInt8(tag: UInt8?) throws(ETFError) -> UInt8 {
        guard position < bytes.count else {
            throw endOfInput(tag: tag)
        }
        let value = bytes[position]
        position &+= 1
        return value
    }

    @inlinable @inline(__always)
    public mutating func readUInt16(tag: UInt8?) throws(ETFError) -> UInt16 {
        try require(2, tag: tag)
        let value = UInt16(bytes[position]) << 8 | UInt16(bytes[position &+ 1])
        position &+= 2
        return value
    }

    @inlinable @inline(__always)
    public mutating func readUInt32(tag: UInt8?) throws(ETFError) -> UInt32 {
        try require(4, tag: tag)
        let value = bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position &+= 4
        return UInt32(bigEndian: value)
    }

    @inlinable @inline(__always)
    public mutating func readUInt64(tag: UInt8?) throws(ETFError) -> UInt64 {
        try require(8, tag: tag)
        let value = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position &+= 8
        return UInt64(bigEndian: value)
    }

    /// Consumes `count` bytes and returns where they start.
    @inlinable @inline(__always)
    public mutating func skipBytes(_ count: Int, tag: UInt8?) throws(ETFError) -> Int {
        try require(count, tag: tag)
        let start = position
        position &+= count
        return start
    }

    @inlinable
    public func byte(at index: Int) -> UInt8 { bytes[index] }

    /// All the bytes the reader reads from (positions index into them).
    @inlinable
    public var buffer: UnsafeRawBufferPointer { bytes }

    @inlinable
    public func slice(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[start..<(start &+ count)])
    }
}
