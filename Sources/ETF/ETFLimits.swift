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

    public init(maxDecompressedBytes: Int = 256 << 20, maxDepth: Int = 2_000_000, maxNodes: Int = 8_000_000) {
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    public static let `default` = ETFLimits()
}
