/// The few pieces of the protobuf wire format the pprof sink writes itself:
/// each sample is encoded straight into a reused buffer, without building a
/// message (docs/output-formats.md, "pprof": why, and how the tests check the
/// bytes against swift-protobuf's own encoding).
enum ProtoWire {
    /// Wire type 2 (length-delimited) and 0 (varint), combined with a field number.
    @inline(__always)
    static func lengthTag(_ field: UInt8) -> UInt8 { field << 3 | 2 }
    @inline(__always)
    static func varintTag(_ field: UInt8) -> UInt8 { field << 3 }

    /// Bytes of `value` as a base-128 varint (1 to 10).
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    /// An int64 is a varint of its two's-complement bits: a negative one takes 10 bytes.
    @inline(__always)
    static func varintSize(_ value: Int64) -> Int { varintSize(UInt64(bitPattern: value)) }

    /// A varint appended to an array (for the parts made once, not per sample).
    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value))
    }
}

extension UnsafeMutablePointer where Pointee == UInt8 {
    /// A base-128 varint: seven bits a byte, low bits first.
    @inline(__always)
    mutating func putVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            put(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        put(UInt8(truncatingIfNeeded: value))
    }

    @inline(__always)
    mutating func putVarint(_ value: Int64) { putVarint(UInt64(bitPattern: value)) }
}
