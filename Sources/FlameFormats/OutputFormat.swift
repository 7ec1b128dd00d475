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

    /// The format a file name says by its extension, ignoring a final `.gz`;
    /// nil when it says none.
    public static func inferred(fromPath path: String) -> OutputFormat? {
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) }
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
    ]

    /// Whether the bytes are gzip-compressed: pprof always (its readers expect
    /// it), the others when the file name ends in `.gz`.
    public func isGzip(path: String?) -> Bool {
        self == .pprof || (path?.hasSuffix(".gz") ?? false)
    }

    /// zlib's level when compressed: 1 for pprof, as Go's runtime/pprof writes
    /// its profiles (twice as fast as 6 on flameconv's samples, whose zlib
    /// time would otherwise rival the whole conversion's; the file is ~1.6x
    /// larger); zlib's default 6 for text.
    public var gzipLevel: Int32 { self == .pprof ? 1 : 6 }

    /// True for formats that are binary: not written to a terminal.
    public var isBinary: Bool { self == .pprof }
}
