import FlameFormats

/// One output a run is asked for: where, and in which format.
public struct OutputRequest: Sendable, Equatable {
    /// The file; nil for standard output.
    public var path: String?
    public var format: OutputFormat

    public init(path: String?, format: OutputFormat) {
        self.path = path
        self.format = format
    }

    public var displayName: String { path ?? "standard output" }
}

/// An output being written: its sink and the files it fills, which are
/// committed together at the end or abandoned together.
public final class OpenOutput {
    public let request: OutputRequest
    public let sink: any ProfileSink
    public let files: [OutputFile]

    init(_ request: OutputRequest, sink: any ProfileSink, files: [OutputFile]) {
        self.request = request
        self.sink = sink
        self.files = files
    }

    /// Creates the files and the format's sink. Adding a format is one case here.
    /// `compression`: the threads and gzip block size of compressed files.
    public static func open(_ request: OutputRequest, plan: RunPlan, options: FormatOptions,
                            compression: CompressionSettings = CompressionSettings()) throws(OutputError) -> OpenOutput {
        let main = try file(request.path, format: request.format, compression: compression)
        switch request.format {
        case .perf:
            return OpenOutput(request, sink: PerfSink(dialect: options.dialect, output: main, metrics: plan.perfMetrics), files: [main])
        case .folded:
            return try openFolded(request, main: main, plan: plan, options: options, compression: compression)
        case .speedscope:
            let sink = SpeedscopeSink(output: main, weight: plan.weight, grouping: options.speedscopeBy, exporter: "flameconv@\(ToolVersion.current)")
            return OpenOutput(request, sink: sink, files: [main])
        case .pprof:
            let sink = PprofSink(output: main, weight: plan.weight, metrics: plan.metrics, catalogue: plan.catalogue,
                                 levelSpecs: plan.levels.map(\.spec))
            return OpenOutput(request, sink: sink, files: [main])
        case .report:
            let sink = ReportSink(output: main, weight: plan.weight, metrics: plan.metrics ?? ReportSink.defaultMetrics,
                                  perfMetrics: plan.perfMetrics, rows: options.report.rows,
                                  limits: options.report.limits, title: options.report.title, baseline: options.report.baseline)
            return OpenOutput(request, sink: sink, files: [main])
        }
    }

    /// Folded stacks, with `--split-negative` a second file for the falls.
    private static func openFolded(_ request: OutputRequest, main: OutputFile, plan: RunPlan, options: FormatOptions,
                                   compression: CompressionSettings) throws(OutputError) -> OpenOutput {
        guard options.splitNegative else {
            return OpenOutput(request, sink: FoldedSink(output: main, weight: plan.weight), files: [main])
        }
        guard let path = request.path else {
            main.abandon()
            throw .failed(path: request.displayName, message: "--split-negative writes a second file beside the folded output: give it a file name")
        }
        let negative: OutputFile
        do throws(OutputError) {
            negative = try file(FoldedText.negativePath(path), format: request.format, compression: compression)
        } catch {
            main.abandon()
            throw error
        }
        return OpenOutput(request, sink: FoldedSink(output: main, negativeOutput: negative, weight: plan.weight), files: [main, negative])
    }

    /// The files a request writes beside its main one (so the caller can
    /// check them against the inputs before anything is opened).
    public static func companionPaths(of request: OutputRequest, options: FormatOptions) -> [String] {
        switch request.format {
        case .folded:
            guard options.splitNegative, let path = request.path else { return [] }
            return [FoldedText.negativePath(path)]
        case .perf, .speedscope, .pprof, .report:
            return []
        }
    }

    private static func file(_ path: String?, format: OutputFormat, compression: CompressionSettings) throws(OutputError) -> OutputFile {
        let encoding = OutputEncoding.of(format, path: path, level: compression.level)
        guard let path else { return try OutputFile.standardOutput(encoding, settings: compression) }
        return try OutputFile(path: path, encoding: encoding, settings: compression)
    }

    /// Finishes every file: compression flushed, renamed into place.
    public func commit() throws(OutputError) {
        for (index, file) in files.enumerated() {
            do throws(OutputError) {
                try file.commit()
            } catch {
                for later in files[(index + 1)...] { later.abandon() }
                throw error
            }
        }
    }

    /// Removes every partial file.
    public func abandon() {
        for file in files { file.abandon() }
    }
}
