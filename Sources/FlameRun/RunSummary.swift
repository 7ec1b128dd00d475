import FlameDump
import FlameModel

/// What a run did, for the user.
public struct RunSummary: Sendable {
    /// Samples handed to the outputs (after filters).
    public var events = 0
    public var ticks = 0
    public var skippedSamples: [String: Int] = [:]
    public var files: [CaptureReader.FileReport] = []
    public var openErrors: [DumpError] = []
    public var ticksOutOfOrder = 0
    /// `garbage_collection_info` entries past the catalogue's capacity.
    public var metricEntriesDropped = 0
    /// Processes remembered for deltas: the distinct ones, a forgotten one that came back again.
    public var processes = 0
    /// Processes forgotten to stay within `DumpLimits.maxProcesses`.
    public var processesForgotten = 0
    /// Why the run stopped before the end, when it did: its outputs are then incomplete.
    public var stoppedEarly: StopReason?

    public init() {}

    mutating func add(_ capture: CaptureSummary) {
        files += capture.files
        openErrors += capture.openErrors
        metricEntriesDropped += capture.metricEntriesDropped
        processes += capture.processes
        processesForgotten += capture.processesForgotten
        for (reason, count) in capture.skippedSamples { skippedSamples[reason, default: 0] += count }
    }
}

/// What a finished capture leaves for the summary.
struct CaptureSummary {
    var files: [CaptureReader.FileReport]
    var openErrors: [DumpError]
    var metricEntriesDropped: Int
    var processes: Int
    var processesForgotten: Int
    var skippedSamples: [String: Int]
}

/// Why a run stopped before the end. The text names the file and the bound,
/// not the option that sets it: that is the command's to say.
public enum StopReason: Sendable, CustomStringConvertible {
    /// More captures overlap in time than the run may hold open.
    case tooManyOpenCaptures(String)
    /// The tables of distinct names and stacks passed their budget.
    case symbolBudget(String)

    public var description: String {
        switch self {
        case .tooManyOpenCaptures(let text), .symbolBudget(let text): return text
        }
    }
}
