import FlameDump
import FlameModel

/// What a capture holds: its span, counts, files and hottest stacks.
public struct CaptureStats: Sendable {
    public struct Stack: Sendable {
        /// Frame names, outermost first (`proc_lib:init_p/5`, `gen_server:loop/7:437`, …).
        public var frames: [String]
        public var samples: Int
        public var reductions: Int64
    }

    public struct File: Sendable {
        public var path: String
        public var seq: Int64
        public var compression: String
        public var ticks: Int
        public var truncated: Bool
        public var tailError: String?
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
    public var files: [File] = []
    public var topBySamples: [Stack] = []
    public var topByReductions: [Stack] = []

    /// A frame as people read it in a `;`-joined stack: flame_prof's
    /// `M:F/A;L (File)` as `M:F/A:L`, so that a line number does not read as
    /// a frame of its own.
    static func displayName(_ text: [UInt8]) -> String {
        var end = text.count
        for i in stride(from: text.count - 2, through: 0, by: -1) where text[i] == 0x20 && text[i + 1] == UInt8(ascii: "(") {
            end = i
            break
        }
        var name = Array(text[..<end])
        var digits = name.count
        while digits > 0, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(name[digits - 1]) { digits -= 1 }
        if digits > 0, digits < name.count, name[digits - 1] == UInt8(ascii: ";") { name[digits - 1] = UInt8(ascii: ":") }
        return String(decoding: name, as: UTF8.self)
    }

    /// Reads a whole capture; `top` stacks are kept for each ranking.
    public static func collect(_ capture: CaptureFiles, limits: DumpLimits = .default, top: Int = 10) -> CaptureStats {
        let first = capture.files.first?.header
        var stats = CaptureStats(capture: capture.id, node: first?.node, otpRelease: first?.otpRelease, agent: first?.agent, sampleIntervalMs: first?.sampleIntervalMs)
        let reader = CaptureReader(capture: capture, limits: limits)
        var deltas = DeltaCalculator(processLimit: limits.maxProcesses)
        var tick = Tick()
        var metrics: [MetricValue] = []
        // Stacks as people read them (recursion collapsed), and which key reads as which.
        var tally = StackTally()
        var keyEntry: [FrameText.Key: Int] = [:]
        var epoch = 0
        var statusCounts: [UInt32: Int] = [:]
        while reader.nextTick(into: &tick) {
            stats.ticks += 1
            stats.firstTick = stats.firstTick ?? tick.wallMicros
            stats.lastTick = tick.wallMicros
            for sample in tick.samples {
                stats.samples += 1
                statusCounts[sample.status, default: 0] += 1
                let key = FrameText.Key(currentFunction: sample.currentFunction, stack: sample.stack, initialCall: sample.initialCall, dictionaryInitialCall: sample.dictionaryInitialCall)
                var reductions: Int64 = 0
                if deltas.metrics(for: sample, gcInfo: tick.gcInfo[sample.gcInfo], symbols: reader.symbols, into: &metrics) {
                    reductions = metrics.first { $0.slot == DeltaCalculator.reductionsSlot }?.delta ?? 0
                }
                if epoch != reader.symbols.stackEpoch {
                    keyEntry.removeAll()
                    epoch = reader.symbols.stackEpoch
                }
                let entry: Int
                if let known = keyEntry[key] {
                    entry = known
                } else {
                    entry = tally.entry(for: FrameText.texts(key, symbols: reader.symbols, dialect: .flameProf).reversed().map(Self.displayName))
                    keyEntry[key] = entry
                }
                tally.add(entry, reductions: reductions)
            }
        }
        stats.processes = deltas.processCount
        stats.processesForgotten = deltas.forgottenProcesses
        stats.metrics = deltas.metricNames
        stats.skippedSamples = reader.skippedSamples.merging(deltas.skippedSamples, uniquingKeysWith: +)
        for (status, count) in statusCounts {
            stats.statuses[status == Symbols.none ? "unknown" : reader.symbols.nameText(status), default: 0] += count
        }
        for report in reader.reports {
            // Saturating: trailers of a hostile dump may say anything.
            if let overruns = report.trailer?.overruns { stats.overruns = (stats.overruns ?? 0).saturatingAdding(overruns) }
            stats.files.append(File(path: report.path, seq: report.header.seq, compression: report.compression.rawValue, ticks: report.ticks, truncated: report.truncated, tailError: report.tailError?.description))
        }
        for error in reader.openErrors {
            stats.files.append(File(path: error.path, seq: -1, compression: "?", ticks: 0, truncated: true, tailError: error.description))
        }
        // Different raw stacks can read the same once recursion is collapsed: rank what people see.
        stats.topBySamples = tally.top(top, bySamples: true)
        stats.topByReductions = tally.top(top, bySamples: false)
        return stats
    }
}
