// Shared with Tests/HardeningTests through a symlink (Support/ETFBuilder.swift):
// keep it free of imports and of anything but the encoders.

/// Hand-made external terms (erl_ext_dist layouts): each builder returns one
/// encoded subterm without the version byte.
enum E {
    static func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func u32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func term(_ body: [UInt8]) -> [UInt8] { [131] + body }
    static func atom(_ name: String) -> [UInt8] { let b = Array(name.utf8); return [119, UInt8(b.count)] + b }
    /// ATOM_EXT: Latin-1 bytes, as OTP before 26 writes atoms.
    static func latin1Atom(_ bytes: [UInt8]) -> [UInt8] { [100] + u16(bytes.count) + bytes }
    static func int(_ v: Int64) -> [UInt8] {
        if (0...255).contains(v) { return [97, UInt8(v)] }
        if let small = Int32(exactly: v) { return [98] + u32(UInt32(bitPattern: small)) }
        var digits: [UInt8] = []
        var m = v.magnitude
        while m > 0 { digits.append(UInt8(m & 0xFF)); m >>= 8 }
        return [110, UInt8(digits.count), v < 0 ? 1 : 0] + digits
    }
    static func tuple(_ elements: [UInt8]...) -> [UInt8] { tuple(elements) }
    static func tuple(_ elements: [[UInt8]]) -> [UInt8] { [104, UInt8(elements.count)] + elements.joined() }
    static let `nil`: [UInt8] = [106]
    static func list(_ elements: [[UInt8]]) -> [UInt8] {
        elements.isEmpty ? [106] : [108] + u32(UInt32(elements.count)) + elements.joined() + [106]
    }
    /// STRING_EXT: a charlist of bytes.
    static func string(_ text: String) -> [UInt8] { let b = Array(text.utf8); return [107] + u16(b.count) + b }
    static func binary(_ text: String) -> [UInt8] { let b = Array(text.utf8); return [109] + u32(UInt32(b.count)) + b }
    static func pid(_ number: UInt32, _ serial: UInt32, node: String = "test@host") -> [UInt8] {
        [88] + atom(node) + u32(number) + u32(serial) + u32(1)
    }
    static func map(_ pairs: [([UInt8], [UInt8])]) -> [UInt8] {
        [116] + u32(UInt32(pairs.count)) + pairs.flatMap { $0.0 + $0.1 }
    }
    static func mfa(_ m: String, _ f: String, _ a: Int64) -> [UInt8] { tuple(atom(m), atom(f), int(a)) }
    /// A stack frame `{M, F, A, Location}`.
    static func frame(_ m: String, _ f: String, _ a: Int64, file: String? = nil, line: Int64? = nil, lineFirst: Bool = false) -> [UInt8] {
        var location: [[UInt8]] = []
        if let file { location.append(tuple(atom("file"), string(file))) }
        if let line { location.append(tuple(atom("line"), int(line))) }
        if lineFirst { location.reverse() }
        return tuple(atom(m), atom(f), int(a), list(location))
    }
}
