import ArgumentParser
import FlameBatch
import FlameDump
import FlameFormats
import FlameModel
import FlameRun
#if canImport(Glibc)
import Glibc
#endif

struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Convert a whole archive of captures: parallel, resumable, spread over many machines.",
        discussion: """
            Inputs are dump files, directories (walked recursively) and tar archives of \
            dumps (.tar, .tar.gz, .tar.zst, …; told by their bytes, not their names), \
            read member by member as streams, never unpacked. Files are grouped into \
            captures by their headers (capture id and seq), wherever they sit: one capture \
            may be split across archives and loose files. Each capture becomes one file \
            per --format in --out, named after its capture id (made safe: see \
            docs/batch.md), byte for byte what `flameconv convert <its files> -o NAME` \
            writes.

            A manifest in --out/.flameconv-batch/ records each capture: its inputs (size, \
            modification time, XXH64), its outputs (XXH64), its status, warnings and \
            the options used. Run again, and what is done and up to date is skipped; a \
            capture whose inputs or options changed is done again; --force redoes all. A \
            capture that fails is recorded with its error and the others go on. The exit \
            status is 0 when every capture was converted, 2 when some had damaged tails \
            (converted up to the damage), 1 when a capture failed or an input was no dump.

            --shard I/N converts the captures whose id hashes to I of N (FNV-1a, the same \
            on every machine); --shard auto takes I (and N) from a Slurm job array \
            (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job \
            (JOB_COMPLETION_INDEX, with auto/N). Each shard writes its own manifest; \
            --merge-manifests prints one report of them all.

            Examples:
              flameconv batch /archive --out views
              flameconv batch incidents/*.tar.zst loose/ --out views \\
                  --format perf --format speedscope --jobs 8
              flameconv batch /archive --out views --format folded \\
                  --compress gz --weight reductions_delta
              flameconv batch /shared/captures --out /shared/views --shard auto
              flameconv batch --merge-manifests --out /shared/views > report.jsonl

            (--shard auto inside `sbatch --array=0-15`; docs/batch.md has a worked \
            Slurm example and a Kubernetes Indexed Job.)
            """
    )

    @Argument(help: ArgumentHelp("Dump files, directories and tar archives.", valueName: "input"))
    var inputs: [String] = []

    @Option(help: ArgumentHelp("The folder for the outputs and the manifest (made if missing).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("perf, folded, speedscope, pprof or report (one HTML page); repeat it for several outputs per capture. Default: perf.", valueName: "format"))
    var format: [OutputFormat] = []

    @Option(help: ArgumentHelp("Compress text outputs: none, gz or zst (pprof is always gzip).", valueName: "kind"))
    var compress: BatchOutputCompression = .none

    @OptionGroup
    var formatChoices: FormatChoiceOptions

    @OptionGroup(title: "Categories, metrics and filters")
    var profile: ProfileOptions

    @Option(help: ArgumentHelp("Captures converted at once. Default: every core this process may run on.", valueName: "count"))
    var jobs: Int?

    @Option(help: ArgumentHelp("Convert only this part of the captures: I/N, auto (a Slurm job array's index and count) or auto/N (a Kubernetes Indexed Job's index, N parts).", valueName: "part"))
    var shard: String?

    @Flag(help: "Convert every capture again, whatever the manifest says.")
    var force = false

    @Flag(help: "Convert again the captures that failed last time (otherwise a failure stands while its inputs and options stay the same).")
    var retryFailed = false

    @Flag(help: "Print one report of every shard's manifest in --out (JSON Lines) and convert nothing.")
    var mergeManifests = false

    @Flag(help: "No progress and no summary on standard error (errors are still shown).")
    var quiet = false

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out needs a folder.") }
        if !mergeManifests && inputs.isEmpty { throw ValidationError("give the inputs: dump files, directories or tar archives.") }
        if mergeManifests && !inputs.isEmpty { throw ValidationError("--merge-manifests reads the manifests in --out: give no inputs.") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, not \(jobs).") }
        if Set(format).count != format.count { throw ValidationError("--format names a format twice.") }
        if compress == .zstd || compress == .gzip, formats.allSatisfy({ $0 == .pprof || $0 == .report }) {
            throw ValidationError("--compress applies to text outputs; pprof is always gzip, and the report is HTML as it is.")
        }
        _ = try chosenShard()
    }

    var formats: [OutputFormat] { format.isEmpty ? [.perf] : format }

    func chosenShard() throws -> Shard {
        guard let shard else { return .whole }
        do throws(Shard.ParseError) {
            return try Shard.parse(shard, environment: Self.environment())
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        if mergeManifests { return try merge() }
        PartialOutputs.installSignalHandlers()
        try Self.makeDirectories(out)
        let shard = try chosenShard()
        let dumpLimits = limits.dumpLimits
        let jobs = self.jobs ?? Self.availableCores()
        let discovery = Discovery.scan(inputs, limits: dumpLimits, skippingDirectory: out, jobs: jobs)
        for warning in discovery.warnings where !quiet { Diagnostics.warning(warning) }
        let captures = discovery.captures.filter { shard.contains(captureID: $0.id) }
        let problems = discovery.problems.filter { shard.contains(captureID: $0.path) }
        if discovery.captures.isEmpty && discovery.problems.isEmpty {
            Diagnostics.error("no dump files to convert")
            throw ExitCode(1)
        }
        let log: ManifestLog
        do throws(ManifestLog.Failure) {
            log = try ManifestLog(out: out, shard: shard)
        } catch {
            Diagnostics.error(error.description)
            throw ExitCode(1)
        }
        let previous = ManifestStore(out: out)
        for problem in problems {
            let text = LimitHint.text(problem)
            Diagnostics.error(text)
            if previous.problems[problem.path]?.error != text {
                do throws(ManifestLog.Failure) {
                    try log.append(problem: ProblemRecord(path: problem.path, error: text))
                } catch {
                    Diagnostics.error(error.description)
                }
            }
        }
        let profile = SendableOptions(profile: profile, limits: dumpLimits)
        let settings = BatchSettings(
            out: out, formats: formats, formatOptions: formatChoices.formatOptions, outputCompression: compress,
            makePlan: {
                var plan = try profile.profile.plan(limits: profile.limits, maxOpenCaptures: 1)
                plan.threads = 1
                return plan
            },
            optionsKey: try optionsKey(), shard: shard)
        if !quiet {
            Diagnostics.note("flameconv batch: shard \(shard): \(captures.count) of \(discovery.captures.count) captures, \(jobs) job\(jobs == 1 ? "" : "s"), out \(out)")
        }
        let result = BatchRun.run(captures: captures, previous: previous, settings: settings, log: log, jobs: jobs, force: force,
                                  retryFailed: retryFailed, progressStyle: BatchProgress.automatic(quiet: quiet))
        try summarize(result, problems: problems.count)
    }

    /// The summary, and the exit status it calls for.
    private func summarize(_ result: BatchRun.Result, problems: Int) throws {
        let all = result.converted + result.skipped
        let failed = all.filter { $0.status == .failed }
        let damaged = all.filter { $0.status == .done && $0.damaged }
        let done = result.converted.filter { $0.status == .done }.count
        let skippedDone = result.skipped.filter { $0.status == .done }.count
        for record in result.converted where !quiet {
            for warning in record.warnings { Diagnostics.warning("capture \(record.capture): \(warning)") }
        }
        for record in failed {
            Diagnostics.error("capture \(record.capture) failed\(result.skipped.contains { $0.capture == record.capture } ? " (recorded earlier; --retry-failed to try again)" : ""): \(record.error ?? "?")")
        }
        for error in result.manifestErrors { Diagnostics.error(error) }
        if !quiet {
            Diagnostics.note("flameconv batch: \(done) converted, \(skippedDone) skipped (up to date), \(failed.count) failed, \(damaged.count) with damaged tails, \(problems) input\(problems == 1 ? "" : "s") not read")
        }
        if !failed.isEmpty || problems > 0 || !result.manifestErrors.isEmpty { throw ExitCode(1) }
        if !damaged.isEmpty { throw ExitCode(2) }
    }

    private func merge() throws {
        let store = ManifestStore(out: out)
        guard !store.files.isEmpty else {
            Diagnostics.error("\(out): no batch manifest here (\(out)/.flameconv-batch/manifest-*.jsonl)")
            throw ExitCode(1)
        }
        var text = BatchReport.lines(store).joined(separator: "\n")
        if !text.isEmpty { text += "\n" }
        Self.writeStandardOutput(text)
        let failed = store.captures.values.filter { $0.status == .failed }.count
        if !quiet {
            Diagnostics.note("flameconv batch: \(store.files.count) manifest\(store.files.count == 1 ? "" : "s"): \(store.captures.count) captures, \(failed) failed, \(store.problems.count) inputs not read\(store.unreadableLines > 0 ? ", \(store.unreadableLines) torn lines passed over" : "")")
        }
        if failed > 0 || !store.problems.isEmpty { throw ExitCode(1) }
    }

    /// Everything that shapes a capture's outputs, as one text: the tool's
    /// version, the formats and their options, the plan's options and the
    /// config file's content, the limits. Not the jobs, shard or progress.
    private func optionsKey() throws -> String {
        var configHash: JSONValue = .null
        if let config = profile.config {
            do throws(FileHash.Failure) {
                configHash = .string(try FileHash.of(config).contentHash)
            } catch {
                throw ValidationError("--config: \(error)")
            }
        }
        let limits = limits.dumpLimits
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func number(_ value: Double?) -> JSONValue { value.map { .string(String($0)) } ?? .null }
        return JSONValue.object([
            ("version", .string(ToolVersion.current)),
            ("formats", .array(formats.map { .string($0.rawValue) })),
            ("compress", .string(compress.rawValue)),
            ("dialect", .string(formatChoices.dialect.rawValue)),
            ("split_negative", .bool(formatChoices.splitNegative)),
            ("speedscope_by", .string(formatChoices.speedscopeBy.rawValue)),
            ("config", configHash),
            ("categories", .array(profile.categories.map(JSONValue.string))),
            ("group_by", text(profile.groupBy)),
            ("metrics", text(profile.metrics)),
            ("weight", text(profile.weight)),
            ("from", number(profile.from)),
            ("to", number(profile.to)),
            ("pid", text(profile.pid)),
            ("status", text(profile.status)),
            ("limits", .array([limits.maxFrameBytes, limits.term.maxDecompressedBytes, limits.term.maxDepth, limits.term.maxNodes,
                                limits.term.maxTermMemory, limits.term.maxBignumBytes, limits.maxProcesses, limits.maxSymbolBytes]
                .map { .number(JSONNumber(Int64($0))) })),
        ]).jsonText
    }

    static func environment() -> [String: String] {
        var out: [String: String] = [:]
        for name in ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX"] {
            if let value = getenv(name) { out[name] = String(cString: value) }
        }
        return out
    }

    /// The cores this process may run on (a Slurm or container CPU set), else those online.
    static func availableCores() -> Int {
        var set = [UInt8](repeating: 0, count: 128)
        if set.withUnsafeMutableBytes({ glibcSchedGetaffinity(0, $0.count, $0.baseAddress!) }) == 0 {
            let count = set.reduce(0) { $0 + $1.nonzeroBitCount }
            if count > 0 { return count }
        }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    static func writeStandardOutput(_ text: String) {
        StandardStreams.write(text, to: StandardStreams.output)
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if PathName.withCString(prefix, { mkdir($0, 0o755) }) != 0 && errno != EEXIST {
                Diagnostics.error("\(prefix): cannot make the folder: \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            prefix += "/"
        }
    }
}

/// glibc's `sched_getaffinity` (declared only under _GNU_SOURCE, which the Glibc module is not built with).
@_silgen_name("sched_getaffinity")
private func glibcSchedGetaffinity(_ pid: pid_t, _ size: Int, _ mask: UnsafeMutableRawPointer) -> Int32

/// The options a worker thread makes its plan from: plain values, read only.
private struct SendableOptions: @unchecked Sendable {
    let profile: ProfileOptions
    let limits: DumpLimits
}

extension BatchOutputCompression: ChoiceArgument {}
