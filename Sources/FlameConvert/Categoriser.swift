import FlameDump

/// What samples are grouped by: an ordered list of levels.
///
/// The first level names the perf event's comm (the FlameScope fork's
/// category); later levels become pseudo frames at the root of the stack, in
/// order. A new grouping is a new case here and a line in `category(…)`; the
/// emitters only see the resulting names.
public enum CategoryLevel: String, Sendable, CaseIterable {
    /// The process status (`running`, `waiting` …), as in flame_prof.
    case status
    /// The registered name, or `unregistered`.
    case registeredName = "registered_name"
    /// The initial call (proc_lib's `'$initial_call'` when there is one), as `M:F/A`.
    case initialCall = "initial_call"
    /// The process's memory, in power-of-four buckets (`mem_lt_4KiB` … `mem_lt_64GiB`, `mem_ge_64GiB`).
    case memory

    /// The name of this level's group for `sample`, as UTF-8.
    public func category(for sample: ProcessSample, symbols: Symbols) -> [UInt8] {
        switch self {
        case .status:
            return sample.status == Symbols.none ? Array("unknown".utf8) : Array(symbols.name(sample.status))
        case .registeredName:
            return sample.registeredName == Symbols.none ? Array("unregistered".utf8) : Array(symbols.name(sample.registeredName))
        case .initialCall:
            let function = sample.dictionaryInitialCall != Symbols.none ? sample.dictionaryInitialCall : sample.initialCall
            guard function != Symbols.none else { return Array("unknown".utf8) }
            return FrameText.functionName(function, symbols)
        case .memory:
            return Array(Self.memoryBucket(sample.memory).utf8)
        }
    }

    /// Buckets by powers of four from 4 KiB: few enough groups to read, wide enough to matter.
    static func memoryBucket(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB"]
        var limit: Int64 = 4096
        var step = 0
        while bytes >= limit && step < 12 {
            limit *= 4
            step += 1
        }
        if bytes >= limit { return "mem_ge_64GiB" }  // past the last bucket
        let shown = limit / 1024
        let unit = shown >= 1 << 20 ? units[2] : (shown >= 1024 ? units[1] : units[0])
        let value = shown >= 1 << 20 ? shown >> 20 : (shown >= 1024 ? shown >> 10 : shown)
        return "mem_lt_\(value)\(unit)"
    }
}

/// The levels a conversion groups by; `status` alone by default, as flame_prof.
public struct Categoriser: Sendable {
    public var levels: [CategoryLevel]

    public init(levels: [CategoryLevel] = [.status]) {
        self.levels = levels.isEmpty ? [.status] : levels
    }
}
