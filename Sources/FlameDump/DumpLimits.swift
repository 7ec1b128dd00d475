import ETF

/// Bounds on what one input may make the reader hold, on top of the term limits.
public struct DumpLimits: Sendable, Equatable {
    /// Largest frame (or concatenated term) the reader buffers.
    public var maxFrameBytes: Int
    public var term: ETFLimits

    public init(maxFrameBytes: Int = 128 << 20, term: ETFLimits = .default) {
        self.maxFrameBytes = maxFrameBytes
        self.term = term
    }

    public static let `default` = DumpLimits()
}
