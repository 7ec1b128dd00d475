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
        commandName: "convert",
        abstract: "Convert dumps to perf script text, folded stacks, speedscope JSON or pprof, in one pass.",
        discussion: """
            Inputs are dump files or directories of them (walked recursively). Files are \
            grouped into captures by the capture id in their headers, and each capture's \
            files are read in seq order, so deltas continue across rotated files. Several \
            captures given together are merged in time order.

            A file reached twice (named twice, or through a link) is read once. Links met \
            while walking are followed; a link to a directory only one level (its files, \
            not its subdirectories). - reads standard input (once, as a stream, like a \
            FIFO or /dev/stdin); -o - writes standard output. An output that is one of \
            the inputs is refused. Every output is written in the same pass; if one \
            cannot be finished, none is left.

            A truncated or corrupt file tail is reported (file, byte offset, reason) and \
            everything before it is converted; the exit status is then 2. Unreadable \
            inputs give exit status 1; when nothing could be read, no output is written.

            An output named .gz is gzip: a series of gzip members, one per 1 MiB of \
            text, compressed on --threads threads while the conversion goes on (gzip -d, \
            zcat, Python, Go and FlameScope read such a file whole; some browser tools \
            read only its first member: see docs/output-formats.md). An output named \
            .zst is zstd. Either way the file is the same whatever --threads says. \
            pprof is always gzip, as its readers expect.

            Examples:
              flameconv convert /tmp/flame -o capture.perf.gz
              flameconv convert /tmp/flame -o capture.perf.zst --threads 4
              flameconv convert /tmp/flame -o capture.folded.gz --threads 1
              flameconv convert /tmp/flame -o out.perf -o out.folded -o out.speedscope.json -o out.pprof
              flameconv convert /tmp/flame --format folded --weight reductions_delta > out.folded
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

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp(
        "Write here instead of standard output (- is standard output); repeat it to write several formats in one pass. The format comes from the name (.perf, .folded, .speedscope.json, .pprof or .pb.gz, .html) unless --format says; a final .gz compresses with gzip, .zst with zstd. A file appears only when complete.",
        valueName: "out"))
    var outputs: [String] = []

    @Option(help: ArgumentHelp(
        "perf, folded, speedscope, pprof or report (HTML). Given once, it applies to every output; given once per -o, to each in order. Default: from each output's name, else perf.",
        valueName: "format"))
    var format: [OutputFormat] = []

    @OptionGroup
    var formatChoices: FormatChoiceOptions

    @OptionGroup(title: "Categories, metrics and filters")
    var profile: ProfileOptions

    @Flag(help: "No progress line and no summary on standard error.")
    var quiet = false

    @Option(help: ArgumentHelp("Most captures read at once: captures whose ticks overlap in time are merged together, each holding an open file and its buffers.", valueName: "count"))
    var maxOpenCaptures = RunPlan.defaultMaxOpenCaptures

    @OptionGroup(title: "Compressed outputs")
    var compression: CompressionOptions

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    func validate() throws {
        if outputs.contains("") { throw ValidationError("-o needs a file name (or - for standard output).") }
        if maxOpenCaptures < 1 { throw ValidationError("--max-open-captures must be at least 1, not \(maxOpenCaptures).") }
        let requests = try outputRequests()
        if requests.filter({ $0.path == nil }).count > 1 {
            throw ValidationError("standard output is named more than once: give the other outputs file names.")
        }
        var seen = Set<String>()
        for path in requests.compactMap(\.path) + requests.flatMap({ OpenOutput.companionPaths(of: $0, options: formatOptions) }) {
            if !seen.insert(path).inserted { throw ValidationError("\(path) is named as more than one output.") }
        }
        if formatChoices.splitNegative, let folded = requests.first(where: { $0.format == .folded && $0.path == nil }) {
            throw ValidationError("--split-negative writes a second file beside the folded output: give \(folded.displayName)'s folded output a file name with -o.")
        }
        if let pprof = requests.first(where: { $0.format == .pprof && OutputCompression(path: $0.path) == .zstd }) {
            throw ValidationError("\(pprof.displayName): pprof is written gzip-compressed, as its readers expect, never zstd: name it .pprof or .pb.gz.")
        }
        if let binary = requests.first(where: { $0.format.isBinary && $0.path == nil }), isatty(1) == 1 {
            throw ValidationError("\(binary.format.rawValue) is binary: write it to a file with -o, or redirect standard output.")
        }
    }

    /// The outputs, each with its format: `--format` once for all, or once
    /// per `-o` in order; else each name's extension, else perf.
    func outputRequests() throws -> [OutputRequest] {
        let paths: [String?] = outputs.isEmpty ? [nil] : outputs.map { $0 == "-" ? nil : $0 }
        if format.count > 1 && format.count != paths.count {
            throw ValidationError("--format is given \(format.count) times for \(paths.count) output\(paths.count == 1 ? "" : "s"): give it once for all, or once per -o.")
        }
        return paths.enumerated().map { index, path in
            let chosen = format.count == 1 ? format[0] : (format.isEmpty ? nil : format[index])
            return OutputRequest(path: path, format: chosen ?? path.flatMap(OutputFormat.inferred(fromPath:)) ?? .perf)
        }
    }

    var formatOptions: FormatOptions { formatChoices.formatOptions }

    /// Descriptors kept for standard streams, the outputs, directories and the libraries.
    private static let descriptorsBesideCaptures = 64

    func run() throws {
        try run(requests: try outputRequests(), options: formatOptions)
    }

    /// The pass, for these outputs (`report` names its own, with its options).
    func run(requests: [OutputRequest], options: FormatOptions) throws {
        PartialOutputs.installSignalHandlers()
        let walk = InputWalk.expand(inputs)
        for request in requests {
            for path in [request.path] + OpenOutput.companionPaths(of: request, options: options).map(Optional.some) {
                try OutputClash.refuse(path, among: walk.files)
            }
        }
        // Room for the captures a merge may hold open, beside the outputs and a few more;
        // where `ulimit -n` allows less, fewer are opened, and a stop says why.
        let descriptors = DescriptorLimit.raise(toAtLeast: maxOpenCaptures + Self.descriptorsBesideCaptures + 2 * requests.count)
        let openable = min(maxOpenCaptures, max(1, descriptors - Self.descriptorsBesideCaptures - 2 * requests.count))
        let scan = try limits.scan(walk, doing: "convert")
        var plan = try profile.plan(limits: limits.dumpLimits, maxOpenCaptures: openable)
        // --threads 1: one thread for everything, the reading too.
        if compression.threads == 1 { plan.threads = 1 }
        if let note = profile.groupByNote { Diagnostics.note("flameconv: \(note)") }

        var outs: [OpenOutput] = []
        for request in requests {
            do throws(OutputError) {
                outs.append(try OpenOutput.open(request, plan: plan, options: options, compression: compression.settings))
            } catch {
                for out in outs { out.abandon() }
                Diagnostics.error("\(error)")
                throw ExitCode(1)
            }
        }
        func abandonAll() { for out in outs { out.abandon() } }
        let progress = Progress(enabled: !quiet, files: scan.captures.reduce(0) { $0 + $1.files.count })
        let run = ProfileRun(captures: scan.captures, plan: plan, sinks: outs.map(\.sink))
        let summary: RunSummary
        switch Self.write(run, progress: progress) {
        case .success(let done):
            summary = done
        case .failure(.brokenPipe):
            abandonAll()
            return
        case .failure(let error):
            abandonAll()
            progress.finish()
            Diagnostics.error(error.description)
            throw ExitCode(1)
        }
        progress.finish()
        if let reason = summary.stoppedEarly {
            abandonAll()
            switch reason {
            case .tooManyOpenCaptures(let text):
                Diagnostics.error(text + (openable < maxOpenCaptures ? " (the open file limit, ulimit -n \(descriptors), allows \(openable))" : "; convert fewer captures together, or raise --max-open-captures"))
            case .symbolBudget(let text):
                Diagnostics.error(text + " (--max-symbol-bytes); raise it, or convert less at once")
            }
            for out in outs {
                Diagnostics.error(out.request.path.map { "stopped: \($0) was not written" } ?? "stopped: standard output is incomplete")
            }
            throw ExitCode(1)
        }
        let damaged = summary.files.contains { $0.tailError != nil }
        let failed = !scan.problems.isEmpty || !summary.openErrors.isEmpty
        if summary.ticks == 0 && (failed || damaged) {
            // Every input that held anything failed: an empty output would only hide that.
            abandonAll()
            report(summary, outputs: outs, captures: scan.captures.count, wrote: false)
            throw ExitCode(failed ? 1 : 2)
        }
        // Every output or none: a failure to finish one removes the others too.
        for (index, out) in outs.enumerated() {
            if case .failure(let error) = Self.commit(out) {
                for later in outs[(index + 1)...] { later.abandon() }
                Diagnostics.error(error.description)
                throw ExitCode(1)
            }
        }
        if plan.showsWords, let capture = run.profile.captures.first(where: { $0.wordSizeAssumed }) {
            Diagnostics.note("flameconv: sizes counted in words are shown in bytes assuming 8-byte words: the header of capture \(capture.id) does not record word_size (an agent older than this converter)")
        }
        report(summary, outputs: outs, captures: scan.captures.count, wrote: true)
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

    private static func commit(_ out: OpenOutput) -> Result<Void, OutputError> {
        do throws(OutputError) {
            try out.commit()
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// Tells the user what was converted and what was not.
    private func report(_ summary: RunSummary, outputs: [OpenOutput], captures: Int, wrote: Bool) {
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
        for (reason, seen) in summary.skippedSamples.sorted(by: { $0.key < $1.key }) {
            Diagnostics.warning("skipped \(seen.count) sample\(seen.count == 1 ? "" : "s"): \(reason) (\(seen.place))")
        }
        // Several outputs: each note says which output it is about.
        for out in outputs {
            for note in out.sink.notes { Diagnostics.warning(outputs.count > 1 ? "\(out.request.displayName): \(note)" : note) }
        }
        if summary.ticksOutOfOrder > 0 {
            Diagnostics.warning("\(summary.ticksOutOfOrder) ticks were earlier than the tick before them (the node's clock stepped?); FlameScope's heat map needs time order")
        }
        if summary.processesForgotten > 0 {
            Diagnostics.warning("forgot \(summary.processesForgotten) processes not seen lately, to remember at most \(limits.maxProcesses) (--max-processes); any that came back started over with first-sample deltas")
        }
        if let dropped = summary.metricEntriesDropped {
            Diagnostics.warning("left out \(dropped.count) garbage_collection_info entries whose names came after the first \(MetricCatalogue.capacity) metrics (\(dropped.place))")
        }
        if let tooLong = summary.metricNamesTooLong {
            Diagnostics.warning("left out \(tooLong.count) garbage_collection_info entries whose names are longer than \(MetricCatalogue.maxNameBytes) bytes (\(tooLong.place))")
        }
        if !wrote {
            let names = outputs.map(\.request.displayName).joined(separator: ", ")
            Diagnostics.error("no tick could be read from any input: \(names) \(outputs.count == 1 ? "was" : "were") not written")
        } else if !quiet {
            let source = "\(summary.ticks) ticks of \(captures) capture\(captures == 1 ? "" : "s") (\(summary.files.count) files)"
            for out in outputs {
                Diagnostics.note("flameconv: wrote \(out.sink.samplesWritten) samples from \(source) to \(out.request.displayName)\(outputs.count > 1 ? " (\(out.request.format.rawValue))" : "")")
            }
        }
    }
}

extension PerfDialect: ChoiceArgument {}
extension OutputFormat: ChoiceArgument {}
extension SpeedscopeGrouping: ChoiceArgument {}

/// `text` without leading and trailing blanks (spaces and tabs).
///
/// Walks the UTF-8 view: reversing a generic string, as this once did,
/// cost as much at start-up as converting a small capture.
func trimmed(_ text: Substring) -> String {
    let bytes = text.utf8
    var start = bytes.startIndex
    var end = bytes.endIndex
    while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start = bytes.index(after: start) }
    while start < end {
        let last = bytes.index(before: end)
        guard bytes[last] == 0x20 || bytes[last] == 0x09 else { break }
        end = last
    }
    return String(text[start..<end])
}

/// `text` without leading and trailing blanks (spaces and tabs).
func trimmed(_ text: String) -> String { trimmed(text[...]) }

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
