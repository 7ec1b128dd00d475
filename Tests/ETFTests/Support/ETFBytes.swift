import CZlib
import ETF

/// Builders for hand-made external terms. Each returns one encoded subterm
/// (tag first, no version byte); `ETFBytes.term` puts the version byte in front.
/// Layouts follow OTP's erl_ext_dist documentation.
enum ETFBytes {
    static func term(_ body: [UInt8]) -> [UInt8] { [131] + body }

    static func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    static func u32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
    static func u32(_ value: Int) -> [UInt8] { u32(UInt32(value)) }
    static func u64(_ value: UInt64) -> [UInt8] { u32(UInt32(value >> 32)) + u32(UInt32(value & 0xFFFF_FFFF)) }

    static func smallInt(_ value: UInt8) -> [UInt8] { [97, value] }
    static func int(_ value: Int32) -> [UInt8] { [98] + u32(UInt32(bitPattern: value)) }
    /// SMALL_BIG_EXT with the given little-endian digit bytes.
    static func smallBig(negative: Bool, _ digits: [UInt8]) -> [UInt8] { [110, UInt8(digits.count), negative ? 1 : 0] + digits }
    static func largeBig(negative: Bool, _ digits: [UInt8]) -> [UInt8] { [111] + u32(digits.count) + [negative ? 1 : 0] + digits }
    static func float(_ value: Double) -> [UInt8] { [70] + u64(value.bitPattern) }
    /// FLOAT_EXT: the text, NUL-padded to 31 bytes.
    static func floatText(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        precondition(bytes.count <= 31)
        return [99] + bytes + [UInt8](repeating: 0, count: 31 - bytes.count)
    }

    /// SMALL_ATOM_UTF8_EXT.
    static func atom(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8)
        precondition(bytes.count < 256)
        return [119, UInt8(bytes.count)] + bytes
    }
    /// ATOM_UTF8_EXT (2-byte length).
    static func atomUTF8(_ bytes: [UInt8]) -> [UInt8] { [118] + u16(bytes.count) + bytes }
    /// ATOM_EXT: Latin-1 bytes.
    static func latin1Atom(_ bytes: [UInt8]) -> [UInt8] { [100] + u16(bytes.count) + bytes }
    /// SMALL_ATOM_EXT: Latin-1 bytes.
    static func smallLatin1Atom(_ bytes: [UInt8]) -> [UInt8] { [115, UInt8(bytes.count)] + bytes }

    static let localNode = atom("nonode@nohost")

    static func pid(node: [UInt8] = localNode, id: UInt32, serial: UInt32, creation: UInt32 = 0) -> [UInt8] {
        [88] + node + u32(id) + u32(serial) + u32(creation)
    }
    static func oldPid(node: [UInt8] = localNode, id: UInt32, serial: UInt32, creation: UInt8 = 0) -> [UInt8] {
        [103] + node + u32(id) + u32(serial) + [creation]
    }
    /// V4_PORT_EXT (64-bit id).
    static func port(node: [UInt8] = localNode, id: UInt64, creation: UInt32 = 0) -> [UInt8] {
        [120] + node + u64(id) + u32(creation)
    }
    static func newPort(node: [UInt8] = localNode, id: UInt32, creation: UInt32 = 0) -> [UInt8] {
        [89] + node + u32(id) + u32(creation)
    }
    static func oldPort(node: [UInt8] = localNode, id: UInt32, creation: UInt8 = 0) -> [UInt8] {
        [102] + node + u32(id) + [creation]
    }
    /// NEWER_REFERENCE_EXT; `ids` in wire order (the first is the least significant).
    static func ref(node: [UInt8] = localNode, creation: UInt32 = 0, ids: [UInt32]) -> [UInt8] {
        [90] + u16(ids.count) + node + u32(creation) + ids.flatMap { u32($0) }
    }
    static func newRef(node: [UInt8] = localNode, creation: UInt8 = 0, ids: [UInt32]) -> [UInt8] {
        [114] + u16(ids.count) + node + [creation] + ids.flatMap { u32($0) }
    }
    static func oldRef(node: [UInt8] = localNode, id: UInt32, creation: UInt8 = 0) -> [UInt8] {
        [101] + node + u32(id) + [creation]
    }

    static func tuple(_ elements: [UInt8]...) -> [UInt8] { tuple(elements) }
    static func tuple(_ elements: [[UInt8]]) -> [UInt8] { [104, UInt8(elements.count)] + elements.joined() }
    static func largeTuple(_ elements: [[UInt8]]) -> [UInt8] { [105] + u32(elements.count) + elements.joined() }
    static let `nil`: [UInt8] = [106]
    static func string(_ bytes: [UInt8]) -> [UInt8] { [107] + u16(bytes.count) + bytes }
    static func list(_ elements: [[UInt8]], tail: [UInt8] = [106]) -> [UInt8] {
        [108] + u32(elements.count) + elements.joined() + tail
    }
    static func binary(_ bytes: [UInt8]) -> [UInt8] { [109] + u32(bytes.count) + bytes }
    static func bitstring(_ bytes: [UInt8], bits: UInt8) -> [UInt8] { [77] + u32(bytes.count) + [bits] + bytes }
    static func map(_ pairs: [([UInt8], [UInt8])]) -> [UInt8] {
        [116] + u32(pairs.count) + pairs.flatMap { $0.0 + $0.1 }
    }
    static func export(_ module: String, _ function: String, _ arity: UInt8) -> [UInt8] {
        [113] + atom(module) + atom(function) + smallInt(arity)
    }

    /// NEW_FUN_EXT. `index` is the 4-byte Index field, `oldIndex`/`oldUniq` the
    /// integer fields after the module; the size field is computed unless given.
    static func fun(
        module: String, arity: UInt8 = 0, uniq: [UInt8] = [UInt8](repeating: 0, count: 16), index: UInt32 = 0,
        oldIndex: UInt8 = 0, oldUniq: Int32 = 0, pid: [UInt8] = ETFBytes.pid(id: 1, serial: 0), free: [[UInt8]] = [],
        size: UInt32? = nil
    ) -> [UInt8] {
        let rest: [UInt8] = [arity] + uniq + u32(index) + u32(free.count) + atom(module) + smallInt(oldIndex) + int(oldUniq)
            + pid + free.joined()
        return [112] + u32(size ?? UInt32(rest.count + 4)) + rest
    }

    /// A whole compressed term: 131, 80, the inflated size, then zlib data of
    /// `body` (a term without its version byte). `declaredSize` overrides the size.
    static func compressedTerm(_ body: [UInt8], declaredSize: UInt32? = nil, level: Int32 = 6) -> [UInt8] {
        [131, 80] + u32(declaredSize ?? UInt32(body.count)) + zlibCompress(body, level: level)
    }

    static func zlibCompress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
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
