
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
    /// The process's memory, in power-of-four buckets (`mem_lt_four_KiB` … `mem_lt_sixty_four_GiB`, `mem_ge_sixty_four_GiB`).
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
            return symbols.functionText(function)
        case .memory:
            return Array(Self.memoryBucket(sample.memory).utf8)
        }
    }

    /// Buckets by powers of four from 4 KiB: few enough groups to read, wide
    /// enough to matter. The sizes are spelled out (`mem_lt_sixteen_KiB`):
    /// FlameScope cuts a category at its first digit, which would make every
    /// bucket one `mem_lt_`.
    static func memoryBucket(_ bytes: Int64) -> String {
        var limit: Int64 = 4096
        for size in memoryBucketSizes {
            if bytes < limit { return "mem_lt_" + size }
            limit *= 4
        }
        return "mem_ge_" + memoryBucketSizes[memoryBucketSizes.count - 1]
    }

    /// The buckets' upper bounds: 4 KiB, then ×4 up to 64 GiB.
    static let memoryBucketSizes = [
        "four_KiB", "sixteen_KiB", "sixty_four_KiB", "two_hundred_fifty_six_KiB",
        "one_MiB", "four_MiB", "sixteen_MiB", "sixty_four_MiB", "two_hundred_fifty_six_MiB",
        "one_GiB", "four_GiB", "sixteen_GiB", "sixty_four_GiB",
    ]
}

/// The levels a conversion groups by; `status` alone by default, as flame_prof.
public struct Categoriser: Sendable {
    public var levels: [CategoryLevel]

    public init(levels: [CategoryLevel] = [.status]) {
        self.levels = levels.isEmpty ? [.status] : levels
    }
}
