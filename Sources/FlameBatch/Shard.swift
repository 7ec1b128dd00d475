/// One of N deterministic parts of an archive's captures, for running a batch
/// on many machines: a capture belongs to part `fnv1a64(id bytes) % N`.
///
/// FNV-1a over the id's bytes is the same on every machine, run and build
/// (Swift's `Hasher` is seeded per process, so it would not be).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let whole = Shard(index: 0, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public func contains(captureID id: String) -> Bool {
        Int(Self.fnv1a64(Array(id.utf8)) % UInt64(count)) == index
    }

    public var description: String { "\(index)/\(count)" }

    /// The name its manifest file carries: shards write files of their own.
    public var fileTag: String { "\(index)-of-\(count)" }

    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    public enum ParseError: Error, CustomStringConvertible {
        case malformed(String)
        case missingEnvironment(String)

        public var description: String {
            switch self {
            case .malformed(let text): return text
            case .missingEnvironment(let text): return text
            }
        }
    }

    /// Reads `I/N` (0 ≤ I < N), or `auto` / `auto/N`: the index from a job
    /// array's environment, Slurm's SLURM_ARRAY_TASK_ID (less
    /// SLURM_ARRAY_TASK_MIN, so an array 1-4 works too) or a Kubernetes Indexed
    /// Job's JOB_COMPLETION_INDEX; the count from N, else SLURM_ARRAY_TASK_COUNT.
    public static func parse(_ text: String, environment: [String: String]) throws(ParseError) -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count) else { throw .malformed("--shard takes I/N, auto or auto/N, not \(text)") }
        var count: Int?
        if parts.count == 2 {
            guard let n = Int(parts[1]), n >= 1 else { throw .malformed("--shard \(text): the count must be a whole number of at least 1") }
            count = n
        }
        let index: Int
        if parts[0] == "auto" {
            if let id = environment["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }) {
                index = id - (environment["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0)
                if count == nil { count = environment["SLURM_ARRAY_TASK_COUNT"].flatMap { Int($0) } }
            } else if let id = environment["JOB_COMPLETION_INDEX"].flatMap({ Int($0) }) {
                index = id
            } else {
                throw .missingEnvironment("--shard auto: neither SLURM_ARRAY_TASK_ID (Slurm job array) nor JOB_COMPLETION_INDEX (Kubernetes Indexed Job) is set")
            }
        } else {
            guard parts.count == 2, let i = Int(parts[0]) else { throw .malformed("--shard takes I/N, auto or auto/N, not \(text)") }
            index = i
        }
        guard let count else {
            throw .missingEnvironment("--shard \(text): give the count as auto/N (a Kubernetes Indexed Job does not say it; use its completions)")
        }
        guard index >= 0, index < count else { throw .malformed("--shard: index \(index) is not in 0..<\(count)") }
        return Shard(index: index, count: count)
    }
}
