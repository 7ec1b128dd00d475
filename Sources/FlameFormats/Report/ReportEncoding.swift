/// How the report's numbers and names are spelled inside its HTML page.
///
/// Columns are zigzag LEB128 varints in base64: a few bytes a number, read by
/// the page in one tight loop, far smaller and faster than JSON arrays.
/// Names are JSON strings safe inside a `<script>` element: no `<`, `>`,
/// `&`, U+2028 or U+2029 appear raw, so no frame name can end the script
/// or start markup, whatever bytes it holds (invalid UTF-8 becomes U+FFFD).
enum ReportEncoding {
    /// Appends `value` as a zigzag varint (exact for |value| < 2^53, as the page reads it).
    static func putVarint(_ value: Int64, _ out: inout [UInt8]) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            out.append(UInt8(zigzag & 0x7F) | 0x80)
            zigzag >>= 7
        }
        out.append(UInt8(zigzag))
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding (what the page's `atob` reads).
    static func base64(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)]); out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
    }

    /// `text` as a JSON string literal that is safe inside an HTML `<script>`.
    static func jsonString<Bytes: Collection>(_ text: Bytes, into out: inout [UInt8]) where Bytes.Element == UInt8 {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for scalar in String(decoding: text, as: UTF8.self).unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0..<0x20, 0x3C, 0x3E, 0x26, 0x7F, 0x2028, 0x2029:
                let v = Int(scalar.value)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), hex[v >> 12 & 15], hex[v >> 8 & 15], hex[v >> 4 & 15], hex[v & 15]])
            default:
                out.append(contentsOf: Array(String(scalar).utf8))
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func jsonString(_ text: String, into out: inout [UInt8]) { jsonString(Array(text.utf8), into: &out) }

    /// `"name":"BASE64 OF VARINTS",`: one column of the page's data.
    static func column(_ name: String, _ values: some Sequence<Int64>, into out: inout [UInt8]) {
        var bytes: [UInt8] = []
        for value in values { putVarint(value, &bytes) }
        out.append(contentsOf: Array("\"\(name)\":\"".utf8))
        base64(bytes, into: &out)
        out.append(contentsOf: Array("\",".utf8))
    }
}
