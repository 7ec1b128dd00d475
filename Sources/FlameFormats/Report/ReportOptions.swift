/// What `flameconv report` (or `convert -o NAME.html`) chooses of a report.
public struct ReportOptions: Sendable {
    /// Heat map rows per second (the fork's default: 50 rows of 20 ms).
    public var rows: Int
    public var limits: ReportLimits
    /// The page's title: what the inputs were.
    public var title: String
    /// The tables of a second capture, for the differential view.
    public var baseline: ReportTables?

    public init(rows: Int = 50, limits: ReportLimits = ReportLimits(), title: String = "flameconv report", baseline: ReportTables? = nil) {
        self.rows = rows
        self.limits = limits
        self.title = title
        self.baseline = baseline
    }

    /// Most rows: a row is at least 1 ms.
    public static let maxRows = 1000
}
