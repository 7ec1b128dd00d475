import ETF

/// `{flame_dump, 1, Meta}`: the first term of every dump file (docs/dump-format.md).
public struct DumpHeader: Sendable {
    public var node: String?
    public var otpRelease: String?
    /// `erlang:system_time(microsecond)` when the file was opened.
    public var startedAt: Int64
    /// `erlang:monotonic_time(microsecond)` at the same moment.
    public var monotonicStart: Int64
    public var sampleIntervalMs: Int64?
    /// Shared by every file of one capture; a file without one is a capture of its own.
    public var capture: String?
    public var seq: Int64
    public var agent: String?
    /// Bytes per word on the sampled node (`erlang:system_info(wordsize)`), when the header says.
    public var wordSize: Int64?
    /// The file may hold the agent's short samples (`unchanged => short`).
    public var mayHoldShortSamples = false

    /// Wall-clock microseconds since the epoch of a monotonic timestamp in this
    /// file: `started_at + (Ts - monotonic_start)`, exact whenever it fits in
    /// Int64, else the nearest end of the range (only a damaged header or tick
    /// gets there; see SaturatingArithmetic.swift).
    public func wallMicros(_ monotonic: Int64) -> Int64 {
        startedAt.saturatingAdding(monotonic, minus: monotonicStart)
    }

    /// Reads a header term; nil when `term` is no `{flame_dump, 1, Meta}` with the
    /// fields a reader needs, with why in `problem`.
    public static func parse(_ term: Term) -> Result<DumpHeader, DumpHeaderProblem> {
        let root = term.root
        guard term.nodes[root].kind == .tuple, term.nodes[root].count == 3, term.isAtom(root + 1, "flame_dump") else {
            return .failure(.notAHeader)
        }
        let version = term.child(1, of: root)
        guard term.integerValue(version) == 1 else {
            return .failure(.unsupportedVersion(term.integerValue(version).map(String.init) ?? "?"))
        }
        let meta = term.child(2, of: root)
        func integer(_ key: String) -> Int64? { term.mapValue(meta, atomKey: key).flatMap(term.integerValue) }
        func text(_ key: String) -> String? { term.mapValue(meta, atomKey: key).flatMap(term.text) }
        var missing: [String] = []
        let startedAt = integer("started_at")
        let monotonicStart = integer("monotonic_start")
        if startedAt == nil { missing.append("started_at") }
        if monotonicStart == nil { missing.append("monotonic_start") }
        guard missing.isEmpty else { return .failure(.missingFields(missing)) }
        return .success(DumpHeader(
            node: text("node"), otpRelease: text("otp_release"), startedAt: startedAt!, monotonicStart: monotonicStart!,
            sampleIntervalMs: integer("sample_interval_ms"), capture: text("capture"), seq: integer("seq") ?? 0,
            agent: text("agent"), wordSize: integer("word_size").flatMap { (1...64).contains($0) ? $0 : nil },
            mayHoldShortSamples: text("unchanged") == "short"))
    }

    /// The `node` of a header term, or nil when `term` is no flame_dump header.
    public static func nodeName(in term: Term) -> String? {
        guard term.nodes[term.root].kind == .tuple, term.nodes[term.root].count == 3, term.isAtom(term.root + 1, "flame_dump") else { return nil }
        return term.mapValue(term.child(2, of: term.root), atomKey: "node").flatMap(term.text)
    }
}

public enum DumpHeaderProblem: Error, Sendable, CustomStringConvertible {
    case notAHeader
    case unsupportedVersion(String)
    case missingFields([String])

    public var description: String {
        switch self {
        case .notAHeader: return "the first term is not a {flame_dump, 1, Meta} header"
        case .unsupportedVersion(let v): return "dump format version \(v) is not supported (this reader knows version 1)"
        case .missingFields(let f): return "the header lacks \(f.joined(separator: ", "))"
        }
    }
}

/// `{flame_dump_end, Stats}`: the last term of a file closed cleanly.
public struct DumpTrailer: Sendable {
    public var ticks: Int64?
    public var samples: Int64?
    public var overruns: Int64?

    public static func parse(_ term: Term) -> DumpTrailer? {
        let root = term.root
        guard term.nodes[root].kind == .tuple, term.nodes[root].count == 2, term.isAtom(root + 1, "flame_dump_end") else { return nil }
        let stats = term.child(1, of: root)
        func integer(_ key: String) -> Int64? { term.mapValue(stats, atomKey: key).flatMap(term.integerValue) }
        return DumpTrailer(ticks: integer("ticks"), samples: integer("samples"), overruns: integer("overruns"))
    }
}
