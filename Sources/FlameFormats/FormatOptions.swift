/// The choices that belong to one format, given once per run and read by the
/// sink of that format only.
public struct FormatOptions: Sendable {
    /// Perf text: which dialect.
    public var dialect: PerfDialect
    /// Folded stacks: negative weights go to a second file instead of under
    /// a `negative` root frame.
    public var splitNegative: Bool
    /// speedscope: one profile per first-level category, or per process.
    public var speedscopeBy: SpeedscopeGrouping

    /// Report: its heat map's rows per second, bounds, title and baseline.
    public var report: ReportOptions

    public init(dialect: PerfDialect = .portable, splitNegative: Bool = false, speedscopeBy: SpeedscopeGrouping = .category,
                report: ReportOptions = ReportOptions()) {
        self.dialect = dialect
        self.splitNegative = splitNegative
        self.speedscopeBy = speedscopeBy
        self.report = report
    }
}
