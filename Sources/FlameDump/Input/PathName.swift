import FlameModel

/// File names as the kernel has them: bytes, not always UTF-8.
///
/// A name from `argv` or `readdir` becomes a `String` that keeps every byte
/// (`string(fromBytes:)`): valid UTF-8 as itself, any other byte as a
/// private-use scalar (`DisplayText.rawByteBase`). Every call that hands a
/// name to the kernel turns it back into the same bytes (`withCString`), so
/// `x\xff.flame` opens, and messages show it as `x\xFF.flame`.
public enum PathName {
    /// The `String` that stands for these bytes.
    public static func string<Bytes: Collection<UInt8>>(fromBytes bytes: Bytes) -> String {
        // Nearly every name: valid UTF-8 without the scalars that stand for raw bytes.
        if !bytes.contains(0xF4), let text = String(validating: bytes, as: UTF8.self) { return text }
        var out = String.UnicodeScalarView()
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let length = sequenceLength(bytes, at: index)
            let end = bytes.index(index, offsetBy: length)
            if length > 0, let text = String(validating: bytes[index..<end], as: UTF8.self),
               let scalar = text.unicodeScalars.first, !DisplayText.rawByteScalars.contains(scalar.value) {
                out.append(scalar)
                index = end
            } else {
                // Not UTF-8 here, or a scalar this scheme reserves: each byte on its own.
                let byte = bytes[index]
                out.append(byte < 0x80 ? Unicode.Scalar(byte) : Unicode.Scalar(DisplayText.rawByteBase + UInt32(byte))!)
                index = bytes.index(after: index)
            }
        }
        return String(out)
    }

    /// The bytes `path` stands for.
    public static func bytes(_ path: String) -> [UInt8] {
        guard path.unicodeScalars.contains(where: { DisplayText.rawByteScalars.contains($0.value) }) else { return Array(path.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(path.utf8.count)
        for scalar in path.unicodeScalars {
            if DisplayText.rawByteScalars.contains(scalar.value) {
                out.append(UInt8(scalar.value - DisplayText.rawByteBase))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// Calls `body` with `path` as the C string of its bytes.
    public static func withCString<Result>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        var raw = bytes(path)
        raw.append(0)
        return try raw.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// The length a valid UTF-8 sequence starting at `index` would have, from its first byte; 0 for a byte no sequence starts with.
    private static func sequenceLength<Bytes: Collection<UInt8>>(_ bytes: Bytes, at index: Bytes.Index) -> Int {
        let first = bytes[index]
        let length: Int
        switch first {
        case 0x00...0x7F: length = 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        return bytes.distance(from: index, to: bytes.endIndex) >= length ? length : 0
    }
}
