import FlameModel

/// What a capture holds: its span, counts, files and hottest stacks.
public struct CaptureStats: Sendable {
    public struct Stack: Sendable {
        /// Frame names, outermost first (`proc_lib:init_p/5`, `gen_server:loop/7:437`, …).
        public var frames: [String]
        public var samples: Int
        public var reductions: Int64
        /// The run's weight summed over the stack's samples (0 when it is samples).
        public var weight: Int64

        public init(frames: [String], samples: Int, reductions: Int64, weight: Int64 = 0) {
            self.frames = frames
            self.samples = samples
            self.reductions = reductions
            self.weight = weight
        }
    }

    /// One group of the chosen category levels.
    public struct Category: Sendable {
        /// Its label at each level, outermost first.
        public var path: [String]
        public var samples: Int
        /// The weight summed over its samples.
        public var weight: Int64
        /// Samples that lacked the weight's metric (they weigh nothing).
        public var unweighed: Int

        public init(path: [String], samples: Int, weight: Int64, unweighed: Int) {
            self.path = path
            self.samples = samples
            self.weight = weight
            self.unweighed = unweighed
        }
    }

    /// What the run grouped and weighed by, when asked: `categories` and
    /// `topByWeight` are only filled then.
    public struct Grouping: Sendable {
        /// The level specs, outermost first.
        public var levels: [String]
        /// `samples`, `METRIC` or `METRIC_delta`.
        public var weight: String
        /// Sizes in words shown in bytes assumed 8-byte words: the header did not say.
        public var wordSizeAssumed: Bool

        public init(levels: [String], weight: String, wordSizeAssumed: Bool) {
            self.levels = levels
            self.weight = weight
            self.wordSizeAssumed = wordSizeAssumed
        }
    }

    public struct File: Sendable {
        public var path: String
        public var seq: Int64
        public var compression: String
        public var ticks: Int
        public var truncated: Bool
        public var tailError: String?

        public init(path: String, seq: Int64, compression: String, ticks: Int, truncated: Bool, tailError: String?) {
            self.path = path
            self.seq = seq
            self.compression = compression
            self.ticks = ticks
            self.truncated = truncated
            self.tailError = tailError
        }
    }

    public var capture: String
    public var node: String?
    public var otpRelease: String?
    public var agent: String?
    public var sampleIntervalMs: Int64?
    /// Wall-clock microseconds of the first and last tick.
    public var firstTick: Int64?
    public var lastTick: Int64?
    /// From the first tick to the last: negative when the node's clock stepped
    /// back (between rotated files, say); saturating at the ends of Int64.
    public var spanMicros: Int64? {
        guard let firstTick, let lastTick else { return nil }
        return lastTick.saturatingSubtracting(firstTick)
    }
    public var ticks = 0
    public var samples = 0
    public var processes = 0
    /// Processes forgotten past `DumpLimits.maxProcesses`; those that came back count twice in `processes`.
    public var processesForgotten = 0
    /// From the files' trailers; nil when no file has one that says.
    public var overruns: Int64?
    public var metrics: [String] = []
    public var statuses: [String: Int] = [:]
    public var skippedSamples: [String: Int] = [:]
    /// Why reading stopped before the end, when it did (a limit): the figures are then incomplete.
    public var stoppedEarly: String?
    public var files: [File] = []
    public var topBySamples: [Stack] = []
    public var topByReductions: [Stack] = []
    public var grouping: Grouping?
    /// Per group, by weight (then samples), heaviest first.
    public var categories: [Category] = []
    public var topByWeight: [Stack] = []

    public init(capture: String, node: String? = nil, otpRelease: String? = nil, agent: String? = nil, sampleIntervalMs: Int64? = nil) {
        self.capture = capture
        self.node = node
        self.otpRelease = otpRelease
        self.agent = agent
        self.sampleIntervalMs = sampleIntervalMs
    }
}
