/// Appends External Term Format bytes exactly as OTP's `term_to_binary/1,2`
/// writes them (checked byte for byte by `scripts/verify-synth.escript`).
///
/// - integers: SMALL_INTEGER_EXT for 0...255, INTEGER_EXT for the rest of
///   Int32, SMALL_BIG_EXT (little-endian magnitude, no leading zero bytes) beyond;
/// - atoms: with `minorVersion` 1 (OTP 25's default) a Latin-1 atom is ATOM_EXT
///   (2-byte length) and any other SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT; with
///   `minorVersion` 2 (OTP 26's default) every atom is UTF-8, SMALL_ATOM_UTF8_EXT
///   when it fits in 255 bytes;
/// - a list of integers 0...255 shorter than 65536 elements is STRING_EXT;
/// - tuples of up to 255 elements are SMALL_TUPLE_EXT; pids are NEW_PID_EXT.
public struct ETFEncoder {
    public var bytes: [UInt8]
    public let minorVersion: Int

    public init(minorVersion: Int = 1, capacity: Int = 0) {
        precondition(minorVersion == 1 || minorVersion == 2, "minor version 1 or 2")
        self.minorVersion = minorVersion
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    public mutating func version() { bytes.append(131) }

    @inline(__always)
    public mutating func raw(_ chunk: [UInt8]) { bytes.append(contentsOf: chunk) }

    @inline(__always)
    mutating func be16(_ v: Int) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always)
    mutating func be32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always)
    public mutating func tuple(_ arity: Int) {
        precondition(arity <= 255)
        bytes.append(104)
        bytes.append(UInt8(arity))
    }

    /// LIST_EXT header: `count` elements must follow, then the tail (`nilTail()` for a proper list).
    @inline(__always)
    public mutating func listHeader(_ count: Int) {
        bytes.append(108)
        be32(UInt32(count))
    }

    @inline(__always)
    public mutating func nilTail() { bytes.append(106) }

    /// MAP_EXT header: `count` key/value pairs must follow.
    public mutating func mapHeader(_ count: Int) {
        bytes.append(116)
        be32(UInt32(count))
    }

    @inline(__always)
    public mutating func integer(_ value: Int64) {
        if value >= 0 && value <= 255 {
            bytes.append(97)
            bytes.append(UInt8(value))
        } else if value >= Int64(Int32.min) && value <= Int64(Int32.max) {
            bytes.append(98)
            be32(UInt32(bitPattern: Int32(value)))
        } else {
            var magnitude = value.magnitude
            var digits: [UInt8] = []
            while magnitude > 0 {
                digits.append(UInt8(truncatingIfNeeded: magnitude))
                magnitude >>= 8
            }
            bytes.append(110)
            bytes.append(UInt8(digits.count))
            bytes.append(value < 0 ? 1 : 0)
            bytes.append(contentsOf: digits)
        }
    }

    @inline(__always)
    public mutating func integer(_ value: Int) { integer(Int64(value)) }

    public mutating func atom(_ name: String) { bytes.append(contentsOf: Self.atomBytes(name, minorVersion: minorVersion)) }

    /// The encoding of an atom, to cache for atoms written often.
    public static func atomBytes(_ name: String, minorVersion: Int) -> [UInt8] {
        let scalars = Array(name.unicodeScalars)
        precondition(scalars.count <= 255, "an atom has at most 255 characters")
        var out: [UInt8] = []
        if minorVersion == 1, scalars.allSatisfy({ $0.value <= 255 }) {
            out.append(100)
            out.append(0)
            out.append(UInt8(scalars.count))
            out.append(contentsOf: scalars.map { UInt8($0.value) })
            return out
        }
        let utf8 = Array(name.utf8)
        if utf8.count <= 255 {
            out.append(119)
            out.append(UInt8(utf8.count))
        } else {
            out.append(118)
            out.append(UInt8(utf8.count >> 8))
            out.append(UInt8(utf8.count & 0xFF))
        }
        out.append(contentsOf: utf8)
        return out
    }

    /// A charlist (Erlang string) of Latin-1 characters, as `term_to_binary` writes it:
    /// `[]` when empty, STRING_EXT when shorter than 65536.
    public mutating func charlist(_ text: String) {
        let scalars = Array(text.unicodeScalars)
        if scalars.isEmpty {
            nilTail()
        } else if scalars.count < 65536, scalars.allSatisfy({ $0.value <= 255 }) {
            bytes.append(107)
            be16(scalars.count)
            bytes.append(contentsOf: scalars.map { UInt8($0.value) })
        } else {
            listHeader(scalars.count)
            for s in scalars { integer(Int64(s.value)) }
            nilTail()
        }
    }

    public mutating func binary(_ data: [UInt8]) {
        bytes.append(109)
        be32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// NEW_PID_EXT with a pre-encoded node atom.
    @inline(__always)
    public mutating func pid(node: [UInt8], id: UInt32, serial: UInt32, creation: UInt32) {
        bytes.append(88)
        bytes.append(contentsOf: node)
        be32(id)
        be32(serial)
        be32(creation)
    }
}

/// A small term tree for the few terms that are not on the hot path (header,
/// trailer, system info), encoded as `term_to_binary` would.
public indirect enum ETFValue {
    case int(Int64)
    case atom(String)
    case binary([UInt8])
    case charlist(String)
    case tuple([ETFValue])
    case list([ETFValue])
    /// Atom keys only; written in term order (sorted), as OTP writes maps of up to 32 keys.
    case atomMap([(String, ETFValue)])
    case pid(node: String, id: UInt32, serial: UInt32, creation: UInt32)

    public static func text(_ s: String) -> ETFValue { .binary(Array(s.utf8)) }

    public func encode(into e: inout ETFEncoder) {
        switch self {
        case .int(let v): e.integer(v)
        case .atom(let a): e.atom(a)
        case .binary(let b): e.binary(b)
        case .charlist(let s): e.charlist(s)
        case .tuple(let items):
            e.tuple(items.count)
            for item in items { item.encode(into: &e) }
        case .list(let items):
            if items.isEmpty {
                e.nilTail()
            } else {
                e.listHeader(items.count)
                for item in items { item.encode(into: &e) }
                e.nilTail()
            }
        case .atomMap(let pairs):
            precondition(pairs.count <= 32, "maps above 32 keys are hash-ordered by OTP")
            // Atoms compare by their characters: byte order for ASCII names.
            let sorted = pairs.sorted { Array($0.0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.0.unicodeScalars.map(\.value)) }
            e.mapHeader(sorted.count)
            for (k, v) in sorted {
                e.atom(k)
                v.encode(into: &e)
            }
        case .pid(let node, let id, let serial, let creation):
            e.pid(node: ETFEncoder.atomBytes(node, minorVersion: e.minorVersion), id: id, serial: serial, creation: creation)
        }
    }

    /// `term_to_binary(Term)`: the version byte, then the term.
    public func externalTerm(minorVersion: Int) -> [UInt8] {
        var e = ETFEncoder(minorVersion: minorVersion)
        e.version()
        encode(into: &e)
        return e.bytes
    }
}
