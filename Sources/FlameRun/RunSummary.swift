import FlameDump
import FlameModel

/// What a run did, for the user.
public struct RunSummary: Sendable {
    /// Samples handed to the outputs (after filters).
    public var events = 0
    public var ticks = 0
    /// Samples skipped for their shape, by reason, and where the first was.
    public var skippedSamples: [String: Occurrences] = [:]
    public var files: [CaptureReader.FileReport] = []
    public var openErrors: [DumpError] = []
    public var ticksOutOfOrder = 0
    /// `garbage_collection_info` entries past the catalogue's capacity.
    public var metricEntriesDropped: Occurrences?
    /// `garbage_collection_info` entries whose names are over `MetricCatalogue.maxNameBytes`.
    public var metricNamesTooLong: Occurrences?
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
        metricEntriesDropped = Self.sum(metricEntriesDropped, capture.metricEntriesDropped)
        metricNamesTooLong = Self.sum(metricNamesTooLong, capture.metricNamesTooLong)
        processes += capture.processes
        processesForgotten += capture.processesForgotten
        for (reason, seen) in capture.skippedSamples {
            if skippedSamples[reason] == nil { skippedSamples[reason] = seen } else { skippedSamples[reason]!.add(seen) }
        }
    }

    private static func sum(_ a: Occurrences?, _ b: Occurrences?) -> Occurrences? {
        guard var a else { return b }
        if let b { a.add(b) }
        return a
    }
}

/// What a finished capture leaves for the summary.
struct CaptureSummary {
    var files: [CaptureReader.FileReport]
    var openErrors: [DumpError]
    var metricEntriesDropped: Occurrences?
    var metricNamesTooLong: Occurrences?
    var processes: Int
    var processesForgotten: Int
    var skippedSamples: [String: Occurrences]
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
