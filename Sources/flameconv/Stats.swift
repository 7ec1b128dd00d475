import ArgumentParser
import FlameFormats
import FlameRun
import FlameModel
import FlameDump

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Summarise captures: node, time span, counts, files, metrics and the hottest stacks.",
        discussion: """
            Shows, per capture: its id, node, OTP release, time span, ticks, samples, \
            processes, overruns, whether each file was cut short, the metrics present, \
            and the top stacks by samples and by reductions delta.

            With --category or --weight, it also shows the samples and weight of \
            every group of the chosen levels, and the top stacks by that weight: \
            the same capture, grouped and weighed another way.

            Examples:
              flameconv stats /tmp/flame
              flameconv stats /tmp/flame --category 'bucket(message_queue_len,0,1,10,100)' --weight bin_vheap_size_bytes
              flameconv stats /tmp/flame --category registered_name --weight reductions_delta --top 5
              flameconv stats --json capture-*.flame | jq '.captures[0].ticks'
              flameconv stats --top 25 archive/2026-11-24/
            """
    )

    @Argument(help: ArgumentHelp("Dump files or directories; - is standard input.", valueName: "file-or-dir"))
    var inputs: [String]

    @Flag(help: "Print JSON for scripts.")
    var json = false

    @Option(help: "How many stacks to list in each ranking.")
    var top = 10

    @Option(help: ArgumentHelp(
        "1 reads and summarises on one thread; 2 or more (the default on two cores or more) parse on a reader thread beside the summarising one. The figures are the same.",
        valueName: "count"))
    var threads: Int?

    @OptionGroup(title: "Categories, metrics and filters")
    var profile: ProfileOptions

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    func validate() throws {
        if top < 0 { throw ValidationError("--top must not be negative.") }
        if let threads, !(1...CompressionSettings.maxThreads).contains(threads) {
            throw ValidationError("--threads must be 1 to \(CompressionSettings.maxThreads), not \(threads).")
        }
    }

    /// Writes the report; a closed pipe is not an error.
    private static func write(_ text: String) -> Result<Void, OutputError> {
        do throws(OutputError) {
            try OutputFile().write(Array(text.utf8))
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    func run() throws {
        PartialOutputs.installSignalHandlers()
        let walk = InputWalk.expand(inputs)
        try OutputClash.refuse(nil, among: walk.files)
        let scan = try limits.scan(walk, doing: "summarise")
        var plan = try profile.plan(limits: limits.dumpLimits)
        if let threads { plan.threads = threads }
        if let note = profile.groupByNote { Diagnostics.note("flameconv: \(note)") }
        let all = scan.captures.map { CaptureStats.collect($0, plan: plan, top: top, grouped: profile.grouped, describe: LimitHint.text) }
        // A capture cut short by a limit would show wrong figures: none are shown.
        let stopped = all.compactMap(\.stoppedEarly)
        if !stopped.isEmpty {
            for text in stopped { Diagnostics.error(text + " (--max-symbol-bytes); raise it, or summarise less at once") }
            Diagnostics.error("stopped: no summary was written")
            throw ExitCode(1)
        }
        let text = json ? StatsReport.json(all) : StatsReport.text(all)
        if case .failure(let error) = Self.write(text), case .failed = error {
            Diagnostics.error(error.description)
            throw ExitCode(1)
        }
        if !scan.problems.isEmpty { throw ExitCode(1) }
        if all.contains(where: { $0.files.contains { $0.tailError != nil } }) { throw ExitCode(2) }
    }
}

