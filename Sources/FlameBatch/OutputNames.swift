import FlameDump
import FlameFormats

/// The file names a capture's outputs get under --out, made from its capture
/// id alone: never from a file or member name.
///
/// A capture id can hold anything (`../../x`, `/etc/passwd`, control
/// characters, bytes that are not UTF-8). An id made only of letters, digits,
/// `.`, `_` and `-`, not starting with `.`, of at most 100 bytes, is kept as
/// it is; any other has its other bytes replaced by `_`, is cut to 100 bytes,
/// and gets `~` and 16 hex digits of the XXH64 of its bytes. `~` is never
/// kept, so a kept id cannot name what a replaced one names, and two ids that
/// read alike after replacement differ by their hashes. The name is one path
/// component: no `/`, never `.` or `..`, never hidden.
public enum OutputNames {
    static let maxKeptBytes = 100

    public static func baseName(forCapture id: String) -> String {
        let bytes = PathName.bytes(id)
        let keptAsIs = !bytes.isEmpty && bytes.count <= maxKeptBytes && bytes.first != UInt8(ascii: ".") && bytes.allSatisfy(isSafe)
        if keptAsIs { return String(decoding: bytes, as: UTF8.self) }
        var safe = bytes.prefix(maxKeptBytes).map { isSafe($0) ? $0 : UInt8(ascii: "_") }
        if safe.first == UInt8(ascii: ".") { safe[0] = UInt8(ascii: "_") }
        let hash = ContentHash()
        hash.update(bytes)
        return String(decoding: safe, as: UTF8.self) + "~" + hash.finishHex().prefix(16)
    }

    /// The output file of one format: the base name and the format's usual
    /// extension, then `.gz` or `.zst` when asked (never for pprof, always
    /// gzip, nor for the report's HTML page).
    public static func fileName(forCapture id: String, format: OutputFormat, compression: BatchOutputCompression) -> String {
        let base = baseName(forCapture: id)
        let ext: String
        switch format {
        case .perf: ext = ".perf"
        case .folded: ext = ".folded"
        case .speedscope: ext = ".speedscope.json"
        case .pprof: return base + ".pprof"
        // One self-contained page, opened as it is: never compressed.
        case .report: return base + ".html"
        }
        switch compression {
        case .none: return base + ext
        case .gzip: return base + ext + ".gz"
        case .zstd: return base + ext + ".zst"
        }
    }

    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}

/// How batch compresses its text outputs (pprof is gzip whatever this says).
public enum BatchOutputCompression: String, Sendable, CaseIterable {
    case none, gzip = "gz", zstd = "zst"
}
