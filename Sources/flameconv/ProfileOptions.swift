import ArgumentParser
import FlameModel
import FlameRun
import FlameDump

/// How samples are grouped, weighed and chosen: the same options on every
/// command that reads samples (convert, stats).
struct ProfileOptions: ParsableArguments {
    @Option(name: .customLong("category"), help: ArgumentHelp(
        "A category level; repeat it for more levels, outermost first. One of: \(CategoryLevels.usages). Default: status.",
        valueName: "level"))
    var categories: [String] = []

    @Option(name: .customLong("group-by"), help: ArgumentHelp(
        "Replaced by --category (still read): comma-separated status, registered_name, initial_call, memory.", valueName: "levels",
        visibility: .hidden))
    var groupBy: String?

    @Option(help: ArgumentHelp(
        "Metrics the outputs carry, comma-separated, in order: sampled ones (reductions, memory, message_queue_len, total_heap_size, heap_size, stack_size, minor_gcs, any garbage_collection_info entry such as bin_vheap_size), NAME_bytes of one counted in words, reductions_per_second. Default: flame_prof's set.",
        valueName: "names"))
    var metrics: String?

    @Option(help: ArgumentHelp(
        "What one sample weighs: samples, a metric (memory) or a metric's delta (reductions_delta). Perf text then carries that metric for FlameScope to scale by; stats ranks categories and stacks by it.",
        valueName: "weight"))
    var weight: String = "samples"

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
    var grouped: Bool { !categories.isEmpty || groupBy != nil || weight != "samples" }

    /// The old `--group-by` names, as the level specs that replace them.
    static let groupByReplacements = [
        "status": "status", "registered_name": "registered_name", "initial_call": "proc_lib_initial_call", "memory": "bucket(memory,log4)",
    ]

    /// The levels as specs: `--category` as given, `--group-by` translated, else status.
    var levelSpecs: [String] {
        if let groupBy {
            return groupBy.split(separator: ",").map { name in Self.groupByReplacements[trimmed(name)] ?? trimmed(name) }
        }
        return categories.isEmpty ? ["status"] : categories
    }

    /// What `--group-by` said, in today's words; nil without it.
    var groupByNote: String? {
        guard groupBy != nil else { return nil }
        return "--group-by is now --category: " + levelSpecs.map { "--category '\($0)'" }.joined(separator: " ")
    }

    /// The run's plan: levels, metrics and weight resolved against one catalogue.
    func plan(limits: DumpLimits, maxOpenCaptures: Int = RunPlan.defaultMaxOpenCaptures) throws -> RunPlan {
        var catalogue = MetricCatalogue()
        var levels: [any CategoryLevel] = []
        for spec in levelSpecs {
            do throws(CategorySpecError) {
                levels.append(try CategoryLevels.parse(spec, catalogue: &catalogue))
            } catch {
                throw ValidationError("\(error)")
            }
        }
        var chosen: [MetricID]?
        if let metrics {
            chosen = []
            for name in metrics.split(separator: ",").map({ trimmed($0) }) {
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
        switch Weight.parse(trimmed(self.weight), catalogue: &catalogue) {
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
