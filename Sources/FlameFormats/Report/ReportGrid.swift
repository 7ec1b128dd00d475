/// The heat map's cells as the FlameScope fork computes them, in its own
/// floating-point arithmetic, so that a report's cells and range totals
/// match the fork's cell for cell (docs/report.md, "Matching the fork").
///
/// A time `ts` is the double the fork parses from perf text: the exact
/// quotient `micros / 10^6`, correctly rounded, which is what one IEEE
/// division gives. Column: whole seconds from the first sample's second.
/// Offset bucket `k = floor(rows * (ts % 1))`, 0 at the top of the second
/// (the fork's row index is `rows - 1 - k`).
public struct ReportGrid: Sendable {
    public let rows: Int
    /// `rows[k]` of the fork's heat map: `1000 * (k / rows)` milliseconds.
    private let offsets: [Double]
    /// What the fork's front end adds to a range's last cell: `offsets[rows-1] - offsets[rows-2]`.
    private let endSpan: Double

    public init(rows: Int) {
        precondition(rows >= 2)
        self.rows = rows
        offsets = (0..<rows).map { 1000 * (Double($0) / Double(rows)) }
        endSpan = offsets[rows - 1] - offsets[rows - 2]
    }

    /// The fork's time of a sample.
    public static func seconds(_ micros: Int64) -> Double { Double(micros) / 1e6 }

    /// The whole second and offset bucket of `ts`, as the fork's heat map places it.
    public func cell(_ ts: Double) -> (second: Int64, bucket: Int) {
        let second = ts.rounded(.down)
        let fraction = ts - second  // exact: Python's ts % 1 for ts >= 0
        var bucket = Int((Double(rows) * fraction).rounded(.down))
        bucket = min(max(bucket, 0), rows - 1)
        return (Int64(second), bucket)
    }

    /// The fork's first time of a range starting at cell `index` (time order:
    /// `column * rows + bucket`), `base` being the floor of the first sample's time.
    public func rangeStart(_ index: Int, base: Double) -> Double {
        let (column, bucket) = index.quotientAndRemainder(dividingBy: rows)
        return base + (Double(column) + offsets[bucket] / 1000)
    }

    /// The fork's last time (inclusive) of a range ending at cell `index`.
    public func rangeEnd(_ index: Int, base: Double) -> Double {
        let (column, bucket) = index.quotientAndRemainder(dividingBy: rows)
        return base + (Double(column) + (offsets[bucket] + endSpan) / 1000)
    }

    /// Which ranges hold a sample at `ts` in cell `index`: those starting at
    /// or before `index + starts` and ending at or after `index + ends`.
    /// Nearly always (0, 0); a time on a cell's edge, where the fork's
    /// inclusive end or rounding reaches a neighbour, moves one by 1.
    public func edges(_ ts: Double, index: Int, base: Double) -> (starts: Int, ends: Int) {
        let starts: Int
        if rangeStart(index + 1, base: base) <= ts {
            starts = 1
        } else if rangeStart(index, base: base) <= ts {
            starts = 0
        } else {
            starts = -1
        }
        let ends: Int
        if index > 0, ts <= rangeEnd(index - 1, base: base) {
            ends = -1
        } else if ts <= rangeEnd(index, base: base) {
            ends = 0
        } else {
            ends = 1
        }
        return (starts, ends)
    }
}
