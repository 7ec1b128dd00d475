import ArgumentParser
import FlameFormats
import FlameRun
import FlameModel
import FlameDump
#if canImport(Glibc)
import Glibc
#endif

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert dumps to Linux perf script text for FlameScope and other flame graph tools.",
        discussion: """
            Inputs are dump files or directories of them (walked recursively). Files are \
            grouped into captures by the capture id in their headers, and each capture's \
            files are read in seq order, so deltas continue across rotated files. Several \
            captures given together are merged in time order.

            A file reached twice (named twice, or through a link) is read once. Links met \
            while walking are followed; a link to a directory only one level (its files, \
            not its subdirectories). - reads standard input (once, as a stream, like a \
            FIFO or /dev/stdin); -o - writes standard output. An output that is one of \
            the inputs is refused.

            A truncated or corrupt file tail is reported (file, byte offset, reason) and \
            everything before it is converted; the exit status is then 2. Unreadable \
            inputs give exit status 1; when nothing could be read, no output is written.

            Examples:
              flameconv convert /tmp/flame -o capture.perf.gz
              flameconv convert capture-000000.flame capture-000001.flame > out.perf
              flameconv convert /tmp/flame --dialect flame_prof -o flame_prof.perf
              flameconv convert /tmp/flame --from 10 --to 25 --status running,runnable
              flameconv convert /tmp/flame --category status --category registered_name -o by-name.perf
              flameconv convert /tmp/flame --category 'bucket(message_queue_len,0,1,10,100,1000)' \\
                  --weight bin_vheap_size_bytes -o binaries-by-queue.perf
            """
    )

    @Argument(help: ArgumentHelp("Dump files or directories; - is standard input.", valueName: "file-or-dir"))
    var inputs: [String]

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write here instead of standard output (- is standard output); gzip when it ends in .gz. The file appears only when complete.", valueName: "out"))
    var output: String?

    @Option(help: "portable (read correctly by FlameScope, its fork, stackcollapse-perf.pl, speedscope and the Firefox Profiler) or flame_prof (flame_prof's exact text).")
    var dialect: PerfDialect = .portable

    @OptionGroup(title: "Categories, metrics and filters")
    var profile: ProfileOptions

    @Flag(help: "No progress line and no summary on standard error.")
    var quiet = false

    @Option(help: ArgumentHelp("Most captures read at once: captures whose ticks overlap in time are merged together, each holding an open file and its buffers.", valueName: "count"))
    var maxOpenCaptures = RunPlan.defaultMaxOpenCaptures

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    func validate() throws {
        if output == "" { throw ValidationError("-o needs a file name (or - for standard output).") }
        if maxOpenCaptures < 1 { throw ValidationError("--max-open-captures must be at least 1, not \(maxOpenCaptures).") }
    }

    /// Descriptors kept for standard streams, the output, directories and the libraries.
    private static let descriptorsBesideCaptures = 64

    /// The file to write, or nil for standard output.
    private var outputPath: String? { output == "-" ? nil : output }

    func run() throws {
        PartialOutputs.installSignalHandlers()
        let walk = InputWalk.expand(inputs)
        if let input = OutputClash.input(sameAs: outputPath, among: walk.files) {
            Diagnostics.error("\(outputPath ?? "standard output") is also an input (\(input), the same file): writing it would overwrite what is being read; choose another output")
            throw ExitCode(64)
        }
        // Room for the captures a merge may hold open, beside the output and a few more;
        // where `ulimit -n` allows less, fewer are opened, and a stop says why.
        let descriptors = DescriptorLimit.raise(toAtLeast: maxOpenCaptures + Self.descriptorsBesideCaptures)
        let openable = min(maxOpenCaptures, max(1, descriptors - Self.descriptorsBesideCaptures))
        let scan = try limits.scan(walk, doing: "convert")
        let plan = try profile.plan(limits: limits.dumpLimits, maxOpenCaptures: openable)
        if let note = profile.groupByNote { Diagnostics.note("flameconv: \(note)") }

        let out: OutputFile
        do {
            out = try outputPath.map { try OutputFile(path: $0) } ?? OutputFile()
        } catch {
            Diagnostics.error("\(error)")
            throw ExitCode(1)
        }
        let progress = Progress(enabled: !quiet, files: scan.captures.reduce(0) { $0 + $1.files.count })
        let perf = PerfSink(dialect: dialect, output: out, metrics: plan.perfMetrics)
        let run = ProfileRun(captures: scan.captures, plan: plan, sinks: [perf])
        let summary: RunSummary
        switch Self.write(run, progress: progress) {
        case .success(let done):
            summary = done
        case .failure(.brokenPipe):
            out.abandon()
            return
        case .failure(let error):
            out.abandon()
            progress.finish()
            Diagnostics.error(error.description)
            throw ExitCode(1)
        }
        progress.finish()
        if let reason = summary.stoppedEarly {
            out.abandon()
            switch reason {
            case .tooManyOpenCaptures(let text):
                Diagnostics.error(text + (openable < maxOpenCaptures ? " (the open file limit, ulimit -n \(descriptors), allows \(openable))" : "; convert fewer captures together, or raise --max-open-captures"))
            case .symbolBudget(let text):
                Diagnostics.error(text + " (--max-symbol-bytes); raise it, or convert less at once")
            }
            Diagnostics.error(outputPath.map { "stopped: \($0) was not written" } ?? "stopped: standard output is incomplete")
            throw ExitCode(1)
        }
        let damaged = summary.files.contains { $0.tailError != nil }
        let failed = !scan.problems.isEmpty || !summary.openErrors.isEmpty
        if summary.ticks == 0 && (failed || damaged) {
            // Every input that held anything failed: an empty output would only hide that.
            out.abandon()
            report(summary, sinks: [perf], captures: scan.captures.count, wrote: false)
            throw ExitCode(failed ? 1 : 2)
        }
        if case .failure(let error) = Self.commit(out) {
            Diagnostics.error(error.description)
            throw ExitCode(1)
        }
        if plan.showsWords, let capture = run.profile.captures.first(where: { $0.wordSizeAssumed }) {
            Diagnostics.note("flameconv: sizes counted in words are shown in bytes assuming 8-byte words: the header of capture \(capture.id) does not record word_size (an agent older than this converter)")
        }
        report(summary, sinks: [perf], captures: scan.captures.count, wrote: true)
        if failed { throw ExitCode(1) }
        if damaged { throw ExitCode(2) }
    }

    /// Runs the pass; the caller commits or abandons the outputs.
    private static func write(_ run: ProfileRun, progress: Progress) -> Result<RunSummary, OutputError> {
        do throws(OutputError) {
            return .success(try run.run(progress: progress.ticks))
        } catch {
            return .failure(error)
        }
    }

    private static func commit(_ out: OutputFile) -> Result<Void, OutputError> {
        do throws(OutputError) {
            try out.commit()
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// Tells the user what was converted and what was not.
    private func report(_ summary: RunSummary, sinks: [PerfSink], captures: Int, wrote: Bool) {
        for error in summary.openErrors { Diagnostics.error(LimitHint.text(error)) }
        for file in summary.files {
            if let tail = file.tailError {
                Diagnostics.warning("\(LimitHint.text(tail)); converted the \(file.ticks) ticks before it")
            } else if file.truncated {
                Diagnostics.warning("\(file.path): no trailer: the file was cut short (converted all \(file.ticks) ticks in it)")
            }
            if file.unknownTerms > 0 {
                Diagnostics.warning("\(file.path): skipped \(file.unknownTerms) terms of unknown kinds")
            }
        }
        for (reason, count) in summary.skippedSamples.sorted(by: { $0.key < $1.key }) {
            Diagnostics.warning("skipped \(count) sample\(count == 1 ? "" : "s"): \(reason)")
        }
        for sink in sinks {
            for note in sink.notes { Diagnostics.warning(note) }
        }
        if summary.ticksOutOfOrder > 0 {
            Diagnostics.warning("\(summary.ticksOutOfOrder) ticks were earlier than the tick before them (the node's clock stepped?); FlameScope's heat map needs time order")
        }
        if summary.processesForgotten > 0 {
            Diagnostics.warning("forgot \(summary.processesForgotten) processes not seen lately, to remember at most \(limits.maxProcesses) (--max-processes); any that came back started over with first-sample deltas")
        }
        if summary.metricEntriesDropped > 0 {
            Diagnostics.warning("left out \(summary.metricEntriesDropped) garbage_collection_info entries whose names came after the first \(MetricCatalogue.capacity) metrics")
        }
        let where_ = outputPath ?? "standard output"
        if !wrote {
            Diagnostics.error("no tick could be read from any input: \(where_) was not written")
        } else if !quiet {
            Diagnostics.note("flameconv: wrote \(sinks.first?.events ?? summary.events) samples from \(summary.ticks) ticks of \(captures) capture\(captures == 1 ? "" : "s") (\(summary.files.count) files) to \(where_)")
        }
    }
}

extension PerfDialect: ExpressibleByArgument {}

/// `text` without leading and trailing blanks.
func trimmed<S: StringProtocol>(_ text: S) -> String {
    String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
}

/// A one-line progress report on standard error, only when it is a terminal.
final class Progress {
    private let enabled: Bool
    private let files: Int
    private var shown = false
    private var lastUpdate = 0.0

    init(enabled: Bool, files: Int) {
        self.enabled = enabled && isatty(2) == 1
        self.files = files
    }

    func ticks(_ count: Int) {
        guard enabled else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let seconds = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        if seconds - lastUpdate < 0.25 { return }
        lastUpdate = seconds
        shown = true
        Diagnostics.write("\rconverting \(files) file\(files == 1 ? "" : "s"): \(count) ticks…")
    }

    func finish() {
        if shown { Diagnostics.write("\r\u{1B}[K") }
    }
}
