import ArgumentParser
import FlameFormats

/// The choices that belong to one output format: the same options on every
/// command that writes outputs (convert, batch).
struct FormatChoiceOptions: ParsableArguments {
    @Option(help: "Perf text: portable (read correctly by FlameScope, its fork, stackcollapse-perf.pl, speedscope and the Firefox Profiler) or flame_prof (flame_prof's exact text, read correctly by FlameScope only).")
    var dialect: PerfDialect = .portable

    @Flag(help: "Folded stacks: write negative weights (a delta that fell) to a second file, NAME.negative.folded, as positive numbers, instead of under a 'negative' root frame.")
    var splitNegative = false

    @Option(help: "speedscope: one profile per first-level category (each shows its samples in time order) or per process (each process's time line, its categories as root frames).")
    var speedscopeBy: SpeedscopeGrouping = .category

    var formatOptions: FormatOptions {
        FormatOptions(dialect: dialect, splitNegative: splitNegative, speedscopeBy: speedscopeBy)
    }
}
