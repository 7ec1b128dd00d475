/// The formats `convert` writes: one sink each, in a folder of its own.
public enum OutputFormat: String, CaseIterable, Sendable {
    /// `perf script` text, in either dialect (Perf/).
    case perf
    /// Folded stacks: `frame;frame;frame weight` (Folded/).
    case folded
    /// speedscope's JSON file format (Speedscope/).
    case speedscope
    /// pprof's gzipped `profile.proto` (Pprof/).
    case pprof
    /// One self-contained HTML page of heat maps and flame graphs (Report/).
    case report

    /// The format a file name says by its extension, ignoring a final `.gz`
    /// or `.zst`; nil when it says none.
    public static func inferred(fromPath path: String) -> OutputFormat? {
        var name = path.lowercased()
        for ending in OutputCompression.endings where name.hasSuffix(ending) {
            name.removeLast(ending.count)
            break
        }
        for (format, endings) in Self.endings {
            if endings.contains(where: { name.hasSuffix($0) }) { return format }
        }
        return nil
    }

    /// File name endings each format is known by, most specific first.
    public static let endings: [(OutputFormat, [String])] = [
        (.speedscope, [".speedscope.json", ".speedscope"]),
        (.pprof, [".pprof", ".pb"]),
        (.folded, [".folded", ".collapsed"]),
        (.perf, [".perf", ".script"]),
        (.report, [".html", ".htm"]),
    ]

    /// How the bytes are compressed: pprof always gzip (its readers expect
    /// it), the others as the file name ends (`.gz`, `.zst`).
    public func compression(path: String?) -> OutputCompression {
        self == .pprof ? .gzip : OutputCompression(path: path)
    }

    /// True for formats that are binary: not written to a terminal.
    public var isBinary: Bool { self == .pprof }
}

/// The compression a file name asks for by its last extension.
public enum OutputCompression: String, Sendable, CaseIterable {
    case none
    /// `.gz`
    case gzip
    /// `.zst`
    case zstd

    /// As `path` ends (case matters: `.GZ` is no gzip); standard output (nil) is not compressed.
    public init(path: String?) {
        if path?.hasSuffix(".gz") == true {
            self = .gzip
        } else if path?.hasSuffix(".zst") == true {
            self = .zstd
        } else {
            self = .none
        }
    }

    /// The endings that compress, which say nothing of the format.
    public static let endings = [".gz", ".zst"]

    /// The ending that names it; nil for none.
    public var ending: String? {
        switch self {
        case .none: return nil
        case .gzip: return ".gz"
        case .zstd: return ".zst"
        }
    }
}
