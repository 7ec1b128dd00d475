import ArgumentParser
import FlameModel
#if canImport(Glibc)
import Glibc
#endif
import FlameRun
import FlameDump

/// How samples are grouped, weighed and chosen: the same options on every
/// command that reads samples (convert, stats).
struct ProfileOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A JSON file of categories, metrics and weight (schemas/convert-config.schema.json); --category adds levels after its own, --metrics and --weight override its.",
        valueName: "file"))
    var config: String?

    @Option(name: .customLong("category"), help: ArgumentHelp(
        "A category level; repeat it for more levels, outermost first. One of: \(CategoryLevels.usages). Default: status.",
        valueName: "level"))
    var categories: [String] = []

    @Option(name: .customLong("group-by"), help: ArgumentHelp(
        "Replaced by --category (still read): comma-separated status, registered_name, initial_call, memory.", valueName: "levels",
        visibility: .hidden))
    var groupBy: String?

    @Option(help: ArgumentHelp(
        "Metrics the outputs carry, comma-separated, in order: sampled ones (reductions, message_queue_len, memory, total_heap_size, minor_gcs, any garbage_collection_info entry such as heap_size or bin_vheap_size), NAME_bytes of one counted in words, reductions_per_second. Default: flame_prof's set.",
        valueName: "names"))
    var metrics: String?

    @Option(help: ArgumentHelp(
        "What one sample weighs: samples, a metric (memory) or a metric's delta (reductions_delta). It is the width in folded stacks, speedscope and pprof (the default sample type); perf text carries that metric for FlameScope to scale by; stats ranks categories and stacks by it.",
        valueName: "weight"))
    var weight: String?

    @Option(help: ArgumentHelp("Keep ticks from this many seconds after the capture start.", valueName: "seconds"))
    var from: Double?

    @Option(help: ArgumentHelp("Keep ticks up to this many seconds after the capture start.", valueName: "seconds"))
    var to: Double?

    @Option(help: ArgumentHelp("Keep these processes only, comma-separated (<0.85.0>, 0.85.0 or 85).", valueName: "pids"))
    var pid: String?

    @Option(help: ArgumentHelp("Keep these statuses only, comma-separated (running, runnable, waiting …).", valueName: "statuses"))
    var status: String?

    func validate() throws {
        _ = try plan(limits: .default)
        if categories.count > 0 && groupBy != nil {
            throw ValidationError("--group-by and --category together: use --category only (--group-by is its old spelling).")
        }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, !value.isFinite { throw ValidationError("\(name) must be a number of seconds, not \(value).") }
        }
        if let from, let to, from > to { throw ValidationError("--from (\(from)) is after --to (\(to)).") }
        if let from, from < 0 { throw ValidationError("--from must not be negative.") }
    }

    /// True when the user chose levels or a weight, not the defaults.
    var grouped: Bool { !categories.isEmpty || groupBy != nil || weight != nil || config != nil }

    /// The old `--group-by` names, as the level specs that replace them.
    static let groupByReplacements = [
        "status": "status", "registered_name": "registered_name", "initial_call": "proc_lib_initial_call", "memory": "bucket(memory,log4)",
    ]

    /// The levels as specs: the config's, then `--category` as given, or
    /// `--group-by` translated; status when none.
    func levelSpecs(_ config: ConvertConfig?) -> [String] {
        if let groupBy {
            return groupBy.split(separator: ",").map { name in Self.groupByReplacements[trimmed(name)] ?? trimmed(name) }
        }
        let specs = (config?.categories ?? []) + categories
        return specs.isEmpty ? ["status"] : specs
    }

    /// The config file, read and checked against its schema; nil without `--config`.
    func loadConfig() throws -> ConvertConfig? {
        guard let config else { return nil }
        let bytes: [UInt8]
        switch readSmallFile(config, limit: JSONValue.defaultMaxInputBytes) {
        case .success(let read): bytes = read
        case .failure(let problem): throw ValidationError("--config \(config): \(problem)")
        }
        do throws(ConvertConfigError) {
            return try ConvertConfig.parse(bytes, path: config)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// What `--group-by` said, in today's words; nil without it.
    var groupByNote: String? {
        guard groupBy != nil else { return nil }
        return "--group-by is now --category: " + levelSpecs(nil).map { "--category '\($0)'" }.joined(separator: " ")
    }

    /// The run's plan: levels, metrics and weight resolved against one catalogue.
    func plan(limits: DumpLimits, maxOpenCaptures: Int = RunPlan.defaultMaxOpenCaptures) throws -> RunPlan {
        let config = try loadConfig()
        var catalogue = MetricCatalogue()
        var levels: [any CategoryLevel] = []
        for spec in levelSpecs(config) {
            do throws(CategorySpecError) {
                levels.append(try CategoryLevels.parse(spec, catalogue: &catalogue))
            } catch {
                throw ValidationError("\(error)")
            }
        }
        var chosen: [MetricID]?
        if let names = metrics.map({ $0.split(separator: ",").map { trimmed($0) } }) ?? config?.metrics {
            chosen = []
            for name in names {
                switch catalogue.resolve(name) {
                case .success(let id):
                    if chosen!.contains(id) { throw ValidationError("--metrics names \(name) twice.") }
                    chosen!.append(id)
                case .failure(let error): throw ValidationError("--metrics: \(error)")
                }
            }
            if chosen!.isEmpty { throw ValidationError("--metrics needs at least one metric name.") }
        }
        let weight: Weight
        switch Weight.parse(trimmed(self.weight ?? config?.weight ?? "samples"), catalogue: &catalogue) {
        case .success(let parsed): weight = parsed
        case .failure(let error): throw ValidationError("--weight: \(error)")
        }
        return RunPlan(levels: levels, catalogue: catalogue, metrics: chosen, weight: weight, filter: try filter(), limits: limits,
                       maxOpenCaptures: maxOpenCaptures)
    }

    private func filter() throws -> SampleFilter {
        var pids: Set<UInt64> = []
        for text in (pid ?? "").split(separator: ",") {
            guard let key = SampleFilter.parsePid(trimmed(text)) else {
                throw ValidationError("'\(text)' is not a pid: use <0.85.0>, 0.85.0 or 85.")
            }
            pids.insert(key)
        }
        return SampleFilter(from: from, to: to, pids: pids, statuses: Set((status ?? "").split(separator: ",").map { trimmed($0) }))
    }
}

/// Why a small file could not be read.
struct ReadProblem: Error, CustomStringConvertible {
    var description: String
}

/// A whole file of at most `limit` bytes, or why it cannot be read.
func readSmallFile(_ path: String, limit: Int) -> Result<[UInt8], ReadProblem> {
    let fd = PathName.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
    guard fd >= 0 else { return .failure(ReadProblem(description: String(cString: strerror(errno)))) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(ReadProblem(description: String(cString: strerror(errno))))
        }
        if n == 0 { return .success(bytes) }
        bytes.append(contentsOf: chunk[..<n])
        if bytes.count > limit { return .failure(ReadProblem(description: "larger than \(limit) bytes: not a config file")) }
    }
}
