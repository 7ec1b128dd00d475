/// Bounds that keep hostile input from costing unbounded time or memory.
///
/// Every limit is checked before the memory it protects is allocated. The
/// defaults handle any real capture; raise them for unusual terms.
public struct ETFLimits: Sendable, Equatable {
    /// Largest inflated size a compressed term (tag 80) may declare.
    public var maxDecompressedBytes: Int
    /// Deepest nesting of tuples, lists, maps and funs. Decoding and printing are
    /// iterative, so this bounds memory, not the machine stack.
    public var maxDepth: Int
    /// Most subterms one term may have; each costs a 24-byte node in the arena.
    public var maxNodes: Int
    /// Most memory reading one term may hold at once: what the caller holds for
    /// it (its frame), its bytes (inflated, or the decoder's copy), and while a
    /// tree is built, the node arena, map key orders and the stack of open
    /// containers, counting old and new storage together while one grows.
    /// Each limit above is reachable alone; this bounds them together, so the
    /// process stays within a known size (see docs/LIMITS.md).
    public var maxTermMemory: Int
    /// Most bytes of big integers (beyond 64 bits) one decoded term may hold.
    /// Printing one takes time that grows faster than its size (about 1.5 s for
    /// the largest Erlang allows, 4 MiB), so this bounds the time `~w` of a term takes.
    public var maxBignumBytes: Int

    /// The largest magnitude `binary_to_term` accepts for an integer, in bytes:
    /// (2^19 - 1) 64-bit words. Larger ones are refused whatever the limits,
    /// as the BEAM refuses them (no node can write one).
    public static let erlangMaxBignumBytes = 4_194_296

    public init(maxDecompressedBytes: Int = 256 << 20, maxDepth: Int = 2_000_000, maxNodes: Int = 8_000_000,
                maxTermMemory: Int = 288 << 20, maxBignumBytes: Int = 4 << 20) {
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        self.maxTermMemory = maxTermMemory
        self.maxBignumBytes = maxBignumBytes
    }

    public static let `default` = ETFLimits()
}
