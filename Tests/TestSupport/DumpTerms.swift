/// Frames and the terms of flame dumps (docs/dump-format.md): a framed dump is
/// each term, version byte first, after its 4-byte big-endian length.
extension ETFBytes {
    // MARK: Frames

    /// Each term after its 4-byte big-endian length: a framed dump's bytes.
    public static func framed(_ terms: [[UInt8]]) -> [UInt8] {
        terms.flatMap { u32($0.count) + $0 }
    }

    /// The whole frames of a framed dump, in order: where each one's length
    /// prefix starts, and its term. Stops at the first frame that does not end
    /// inside `bytes`; `frames(in:).last?.term.endIndex` is where that is.
    public static func frames(in bytes: [UInt8]) -> [(start: Int, term: ArraySlice<UInt8>)] {
        var frames: [(start: Int, term: ArraySlice<UInt8>)] = []
        var at = 0
        while at + 4 <= bytes.count {
            let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            guard at + 4 + length <= bytes.count else { break }
            frames.append((at, bytes[(at + 4)..<(at + 4 + length)]))
            at += 4 + length
        }
        return frames
    }

    // MARK: Dump terms

    /// `{M, F, A}`.
    public static func mfa(_ m: String, _ f: String, _ a: Int64) -> [UInt8] { tuple(atom(m), atom(f), int(a)) }

    /// A stack frame `{M, F, A, Location}`; `lineFirst` puts the line before the file.
    public static func frame(_ m: String, _ f: String, _ a: Int64, file: String? = nil, line: Int64? = nil, lineFirst: Bool = false) -> [UInt8] {
        var location: [[UInt8]] = []
        if let file { location.append(tuple(atom("file"), string(file))) }
        if let line { location.append(tuple(atom("line"), int(line))) }
        if lineFirst { location.reverse() }
        return tuple(atom(m), atom(f), int(a), list(location))
    }

    /// A pid `<0.number.serial>` of the node `node` (creation 1), as samples carry them.
    public static func samplePid(_ number: UInt32, _ serial: UInt32, node: String = "test@host") -> [UInt8] {
        pid(node: atom(node), id: number, serial: serial, creation: 1)
    }

    /// A dump's header term `{flame_dump, 1, #{…}}`, version byte first, with the keys the agent writes;
    /// `unchanged` (`short` or `full`: may the file hold short samples) only when given.
    public static func dumpHeader(node: String = "test@host", otpRelease: String = "25", capture: String = "test", seq: Int64 = 0,
                                  startedAt: Int64, monotonicStart: Int64, sampleIntervalMs: Int64 = 20, agent: String = "test",
                                  unchanged: String? = nil) -> [UInt8] {
        term(tuple(atom("flame_dump"), int(1), map([
            (atom("node"), atom(node)),
            (atom("otp_release"), binary(otpRelease)),
            (atom("started_at"), int(startedAt)),
            (atom("monotonic_start"), int(monotonicStart)),
            (atom("sample_interval_ms"), int(sampleIntervalMs)),
            (atom("capture"), binary(capture)),
            (atom("seq"), int(seq)),
            (atom("agent"), binary(agent)),
        ] + (unchanged.map { [(atom("unchanged"), atom($0))] } ?? []))))
    }

    /// A tick term `{samples, Ts, Samples}`, version byte first; each sample is `{Pid, Items}` without version byte.
    public static func tick(ts: Int64, samples: [[UInt8]]) -> [UInt8] {
        term(tuple(atom("samples"), int(ts), list(samples)))
    }

    /// A dump's trailer term `{flame_dump_end, #{ticks => N, samples => M}}`, version byte first.
    public static func trailer(ticks: Int64, samples: Int64) -> [UInt8] {
        term(tuple(atom("flame_dump_end"), map([(atom("ticks"), int(ticks)), (atom("samples"), int(samples))])))
    }
}
