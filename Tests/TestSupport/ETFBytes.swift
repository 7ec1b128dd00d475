import CZlib

/// Hand-made external terms, the one encoder every test target uses. Each
/// builder returns one encoded subterm (tag first, no version byte);
/// `term` puts the version byte in front. Layouts follow OTP's erl_ext_dist
/// documentation.
///
/// Most builders write exactly the tag they are named after, so decoder tests
/// control every byte. A few pick the encoding `term_to_binary` would:
/// `int(_:)` (SMALL_INTEGER_EXT, INTEGER_EXT or SMALL_BIG_EXT, whichever holds
/// the value) and `list(_:)` of no elements (NIL_EXT).
public enum ETFBytes {
    public static func term(_ body: [UInt8]) -> [UInt8] { [131] + body }

    public static func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    public static func u32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
    public static func u32(_ value: Int) -> [UInt8] { u32(UInt32(value)) }
    public static func u64(_ value: UInt64) -> [UInt8] { u32(UInt32(value >> 32)) + u32(UInt32(value & 0xFFFF_FFFF)) }

    // MARK: Numbers

    /// SMALL_INTEGER_EXT.
    public static func smallInt(_ value: UInt8) -> [UInt8] { [97, value] }
    /// INTEGER_EXT, whatever the value.
    public static func int32(_ value: Int32) -> [UInt8] { [98] + u32(UInt32(bitPattern: value)) }
    /// SMALL_INTEGER_EXT, INTEGER_EXT or SMALL_BIG_EXT, whichever holds `value`, as `term_to_binary` writes it.
    public static func int(_ value: Int64) -> [UInt8] {
        if (0...255).contains(value) { return smallInt(UInt8(value)) }
        if let small = Int32(exactly: value) { return int32(small) }
        var digits: [UInt8] = []
        var magnitude = value.magnitude
        while magnitude > 0 {
            digits.append(UInt8(magnitude & 0xFF))
            magnitude >>= 8
        }
        return smallBig(negative: value < 0, digits)
    }
    /// SMALL_BIG_EXT with the given little-endian digit bytes.
    public static func smallBig(negative: Bool, _ digits: [UInt8]) -> [UInt8] { [110, UInt8(digits.count), negative ? 1 : 0] + digits }
    /// LARGE_BIG_EXT with the given little-endian digit bytes.
    public static func largeBig(negative: Bool, _ digits: [UInt8]) -> [UInt8] { [111] + u32(digits.count) + [negative ? 1 : 0] + digits }
    /// NEW_FLOAT_EXT.
    public static func float(_ value: Double) -> [UInt8] { [70] + u64(value.bitPattern) }
    /// FLOAT_EXT: the text, NUL-padded to 31 bytes.
    public static func floatText(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        precondition(bytes.count <= 31)
        return [99] + bytes + [UInt8](repeating: 0, count: 31 - bytes.count)
    }

    // MARK: Atoms

    /// SMALL_ATOM_UTF8_EXT.
    public static func atom(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8)
        precondition(bytes.count < 256)
        return [119, UInt8(bytes.count)] + bytes
    }
    /// ATOM_UTF8_EXT (2-byte length).
    public static func atomUTF8(_ bytes: [UInt8]) -> [UInt8] { [118] + u16(bytes.count) + bytes }
    /// ATOM_EXT: Latin-1 bytes, as OTP before 26 writes atoms.
    public static func latin1Atom(_ bytes: [UInt8]) -> [UInt8] { [100] + u16(bytes.count) + bytes }
    /// SMALL_ATOM_EXT: Latin-1 bytes.
    public static func smallLatin1Atom(_ bytes: [UInt8]) -> [UInt8] { [115, UInt8(bytes.count)] + bytes }

    // MARK: Pids, ports, references

    public static let localNode = atom("nonode@nohost")

    /// NEW_PID_EXT.
    public static func pid(node: [UInt8] = localNode, id: UInt32, serial: UInt32, creation: UInt32 = 0) -> [UInt8] {
        [88] + node + u32(id) + u32(serial) + u32(creation)
    }
    /// PID_EXT (1-byte creation).
    public static func oldPid(node: [UInt8] = localNode, id: UInt32, serial: UInt32, creation: UInt8 = 0) -> [UInt8] {
        [103] + node + u32(id) + u32(serial) + [creation]
    }
    /// V4_PORT_EXT (64-bit id).
    public static func port(node: [UInt8] = localNode, id: UInt64, creation: UInt32 = 0) -> [UInt8] {
        [120] + node + u64(id) + u32(creation)
    }
    /// NEW_PORT_EXT.
    public static func newPort(node: [UInt8] = localNode, id: UInt32, creation: UInt32 = 0) -> [UInt8] {
        [89] + node + u32(id) + u32(creation)
    }
    /// PORT_EXT.
    public static func oldPort(node: [UInt8] = localNode, id: UInt32, creation: UInt8 = 0) -> [UInt8] {
        [102] + node + u32(id) + [creation]
    }
    /// NEWER_REFERENCE_EXT; `ids` in wire order (the first is the least significant).
    public static func ref(node: [UInt8] = localNode, creation: UInt32 = 0, ids: [UInt32]) -> [UInt8] {
        [90] + u16(ids.count) + node + u32(creation) + ids.flatMap { u32($0) }
    }
    /// NEW_REFERENCE_EXT.
    public static func newRef(node: [UInt8] = localNode, creation: UInt8 = 0, ids: [UInt32]) -> [UInt8] {
        [114] + u16(ids.count) + node + [creation] + ids.flatMap { u32($0) }
    }
    /// REFERENCE_EXT.
    public static func oldRef(node: [UInt8] = localNode, id: UInt32, creation: UInt8 = 0) -> [UInt8] {
        [101] + node + u32(id) + [creation]
    }

    // MARK: Containers

    /// SMALL_TUPLE_EXT.
    public static func tuple(_ elements: [UInt8]...) -> [UInt8] { tuple(elements) }
    /// SMALL_TUPLE_EXT.
    public static func tuple(_ elements: [[UInt8]]) -> [UInt8] { [104, UInt8(elements.count)] + elements.joined() }
    /// LARGE_TUPLE_EXT.
    public static func largeTuple(_ elements: [[UInt8]]) -> [UInt8] { [105] + u32(elements.count) + elements.joined() }
    /// NIL_EXT.
    public static let `nil`: [UInt8] = [106]
    /// LIST_EXT of `elements` ending in `tail`. Without a tail the list is proper, and a
    /// list of no elements is NIL_EXT (LIST_EXT of length 0 needs an explicit `tail`).
    public static func list(_ elements: [[UInt8]], tail: [UInt8]? = nil) -> [UInt8] {
        if elements.isEmpty && tail == nil { return `nil` }
        return [108] + u32(elements.count) + elements.joined() + (tail ?? `nil`)
    }
    /// STRING_EXT: a charlist of bytes.
    public static func string(_ bytes: [UInt8]) -> [UInt8] { [107] + u16(bytes.count) + bytes }
    /// STRING_EXT of the text's UTF-8 bytes.
    public static func string(_ text: String) -> [UInt8] { string(Array(text.utf8)) }
    /// BINARY_EXT.
    public static func binary(_ bytes: [UInt8]) -> [UInt8] { [109] + u32(bytes.count) + bytes }
    /// BINARY_EXT of the text's UTF-8 bytes.
    public static func binary(_ text: String) -> [UInt8] { binary(Array(text.utf8)) }
    /// BIT_BINARY_EXT: `bits` bits of the last byte are used.
    public static func bitstring(_ bytes: [UInt8], bits: UInt8) -> [UInt8] { [77] + u32(bytes.count) + [bits] + bytes }
    /// MAP_EXT, pairs in the order given.
    public static func map(_ pairs: [([UInt8], [UInt8])]) -> [UInt8] {
        [116] + u32(pairs.count) + pairs.flatMap { $0.0 + $0.1 }
    }

    // MARK: Funs

    /// EXPORT_EXT: `fun M:F/A`.
    public static func export(_ module: String, _ function: String, _ arity: UInt8) -> [UInt8] {
        [113] + atom(module) + atom(function) + smallInt(arity)
    }

    /// NEW_FUN_EXT. `index` is the 4-byte Index field, `oldIndex`/`oldUniq` the
    /// integer fields after the module; the size field is computed unless given.
    public static func fun(
        module: String, arity: UInt8 = 0, uniq: [UInt8] = [UInt8](repeating: 0, count: 16), index: UInt32 = 0,
        oldIndex: UInt8 = 0, oldUniq: Int32 = 0, pid: [UInt8] = ETFBytes.pid(id: 1, serial: 0), free: [[UInt8]] = [],
        size: UInt32? = nil
    ) -> [UInt8] {
        let rest: [UInt8] = [arity] + uniq + u32(index) + u32(free.count) + atom(module) + smallInt(oldIndex) + int32(oldUniq)
            + pid + free.joined()
        return [112] + u32(size ?? UInt32(rest.count + 4)) + rest
    }

    // MARK: Compressed terms

    /// A whole compressed term: 131, 80, the inflated size, then zlib data of
    /// `body` (a term without its version byte). `declaredSize` overrides the size.
    public static func compressedTerm(_ body: [UInt8], declaredSize: UInt32? = nil, level: Int32 = 6) -> [UInt8] {
        [131, 80] + u32(declaredSize ?? UInt32(body.count)) + zlibCompress(body, level: level)
    }

    public static func zlibCompress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = out.withUnsafeMutableBufferPointer { target in
            bytes.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &length, source.baseAddress, uLong(source.count), level)
            }
        }
        precondition(status == Z_OK, "zlib compress2 failed: \(status)")
        return Array(out[..<Int(length)])
    }
}
