import ArgumentParser
import FlameFormats
import FlameRun
import FlameModel
import FlameDump

/// `flameconv report`: convert's pass with one output, the HTML report
/// (Sources/FlameFormats/Report, docs/report.md), and perhaps a baseline
/// capture read first for the differential view.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML file of sub-second heat maps and flame graphs.",
        discussion: """
            The page needs no server, no network and nothing beside it: open it in any \
            browser. Its heat maps are FlameScope's (whole seconds across, the \
            sub-second offset down, --rows rows a second), one for samples and one for \
            each metric and delta; drag on one, or click a start cell then an end \
            cell, for the flame graph of that range. The flame graph zooms on click, \
            searches, shows an icicle, merges frames by function, and compares two \
            ranges, or the capture with --baseline, as a differential flame graph.

            It takes convert's category, metric, weight and filter options: \
            --weight chooses the flame graph's first weight, --metrics the heat maps.

            Examples:
              flameconv report /tmp/flame -o report.html
              flameconv report /tmp/flame --weight reductions_delta --category status --category registered_name
              flameconv report after/ --baseline before/ -o compare.html
            """
    )

    @Argument(help: ArgumentHelp("Dump files or directories; - is standard input.", valueName: "file-or-dir"))
    var inputs: [String]

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The HTML file to write (- is standard output).", valueName: "out"))
    var output = "report.html"

    @Option(help: ArgumentHelp("Dumps or directories of a second capture to compare with (the differential view); repeat it for more files.", valueName: "file-or-dir"))
    var baseline: [String] = []

    @Option(help: "Heat map rows per second: 50 gives FlameScope's cells of 20 ms.")
    var rows = 50

    @Option(help: ArgumentHelp("Most distinct (time cell, stack) pairs the page holds; past it, new stacks count as \"[other stacks]\" of their cell.", valueName: "count"))
    var maxReportEntries = ReportLimits().maxEntries

    @Option(help: ArgumentHelp("Most seconds a report spans from its first sample; samples further away are left out.", valueName: "seconds"))
    var maxReportSeconds = ReportLimits().maxSeconds

    @OptionGroup(title: "Categories, metrics and filters")
    var profile: ProfileOptions

    @Flag(help: "No progress line and no summary on standard error.")
    var quiet = false

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    func validate() throws {
        if output.isEmpty { throw ValidationError("-o needs a file name (or - for standard output).") }
        if rows < 2 || rows > ReportOptions.maxRows { throw ValidationError("--rows must be from 2 to \(ReportOptions.maxRows), not \(rows).") }
        if maxReportEntries < 1 { throw ValidationError("--max-report-entries must be at least 1.") }
        if maxReportSeconds < 1 { throw ValidationError("--max-report-seconds must be at least 1.") }
    }

    func run() throws {
        let reportLimits = ReportLimits(maxEntries: maxReportEntries, maxSeconds: maxReportSeconds)
        var options = ReportOptions(rows: rows, limits: reportLimits, title: "flameconv report: " + inputs.joined(separator: " "))
        if !baseline.isEmpty {
            options.baseline = try readBaseline(limits: reportLimits)
            options.title += " against " + baseline.joined(separator: " ")
        }
        // Convert's pass and its messages, with the report as its one output.
        var convert = try Convert.parse(["--"] + inputs)
        convert.profile = profile
        convert.limits = limits
        convert.quiet = quiet
        let request = OutputRequest(path: output == "-" ? nil : output, format: .report)
        try convert.run(requests: [request], options: FormatOptions(report: options))
    }

    /// The baseline capture's tables, gathered by a pass of their own.
    private func readBaseline(limits reportLimits: ReportLimits) throws -> ReportTables {
        let walk = InputWalk.expand(baseline)
        let scan = try limits.scan(walk, doing: "compare with")
        if !scan.problems.isEmpty { throw ExitCode(1) }
        let plan = try profile.plan(limits: limits.dumpLimits)
        let sink = ReportSink(output: nil, weight: plan.weight, metrics: plan.metrics ?? ReportSink.defaultMetrics,
                              perfMetrics: plan.perfMetrics, rows: rows, limits: reportLimits)
        let run = ProfileRun(captures: scan.captures, plan: plan, sinks: [sink])
        let summary: RunSummary
        do throws(OutputError) {
            summary = try run.run()
        } catch {
            Diagnostics.error("--baseline: \(error)")
            throw ExitCode(1)
        }
        if let reason = summary.stoppedEarly {
            Diagnostics.error("--baseline: stopped early (\(reason)): no report was written")
            throw ExitCode(1)
        }
        for file in summary.files {
            if let tail = file.tailError { Diagnostics.warning("--baseline: \(LimitHint.text(tail)); compared the \(file.ticks) ticks before it") }
        }
        return sink.gathered
    }
}
