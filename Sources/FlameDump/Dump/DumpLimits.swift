import ETF
import FlameModel

/// Bounds on what one input may make the reader hold, on top of the term limits.
public struct DumpLimits: Sendable, Equatable {
    /// Largest frame (or concatenated term) the reader buffers.
    public var maxFrameBytes: Int
    public var term: ETFLimits
    /// Most processes whose last sample is remembered (for deltas, and for the
    /// parser's per-position guesses); past it, the least recently seen are
    /// forgotten. Real nodes have thousands; a hostile dump may name millions.
    public var maxProcesses: Int
    /// Most bytes the run's tables of distinct names, functions, frames and
    /// stacks may hold. Their ids are stable for the whole run, so they are
    /// never emptied; real captures use a few megabytes.
    public var maxSymbolBytes: Int

    public init(maxFrameBytes: Int = 128 << 20, term: ETFLimits = .default, maxProcesses: Int = ProcessStates.defaultLimit, maxSymbolBytes: Int = 128 << 20) {
        self.maxFrameBytes = maxFrameBytes
        self.term = term
        self.maxProcesses = maxProcesses
        self.maxSymbolBytes = maxSymbolBytes
    }

    public static let `default` = DumpLimits()
}
