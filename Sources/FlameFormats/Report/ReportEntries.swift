import FlameModel

/// Samples aggregated by (time cell, stack node, range edge), and perhaps by
/// process: per entry its samples and, per metric, the sums of values, of
/// rising deltas and of falling deltas. The report keeps one set for all
/// samples and one by process for the summary's filter.
public struct ReportEntries: Sendable {
    public struct Key: Hashable, Sendable {
        var second: Int64
        var bucket: Int32
        var node: Int32
        /// `(starts + 1) * 3 + ends + 1` of `ReportGrid.edges`: 4 for a sample inside its cell.
        var edges: UInt8
        /// The process (`ProcessSample.pidKey`), or 0 where entries are not by process.
        var pid: UInt64 = 0
    }

    public let metricCount: Int
    public private(set) var seconds: [Int64] = []
    public private(set) var buckets: [Int32] = []
    public private(set) var nodes: [Int32] = []
    public private(set) var edges: [UInt8] = []
    public private(set) var pids: [UInt64] = []
    public private(set) var samples: [Int64] = []
    /// Per entry, per metric: value sum, rising delta sum, falling delta sum.
    public private(set) var sums: [Int64] = []
    private var ids: [Key: Int32] = [:]

    init(metricCount: Int) { self.metricCount = metricCount }

    public var count: Int { samples.count }

    /// The entry of `key`; nil when it is new and `count` has reached `limit`.
    mutating func entry(_ key: Key, limit: Int) -> Int? {
        if let id = ids[key] { return Int(id) }
        guard count < limit else { return nil }
        seconds.append(key.second)
        buckets.append(key.bucket)
        nodes.append(key.node)
        edges.append(key.edges)
        pids.append(key.pid)
        samples.append(0)
        sums.append(contentsOf: repeatElement(0, count: metricCount * 3))
        ids[key] = Int32(count - 1)
        return count - 1
    }

    /// One sample more in `entry`, with the values and deltas of `metrics` in its row.
    mutating func add(_ entry: Int, metrics: [MetricID], row: borrowing MetricRow) {
        samples[entry] += 1
        let base = entry * metricCount * 3
        for (i, metric) in metrics.enumerated() where row.present.contains(metric) {
            // A metric the sample lacks counts 0, as the portable perf text writes it ("0, 0").
            let delta = row.deltas[metric.index]
            sums[base + 3 * i] += row.values[metric.index]
            sums[base + 3 * i + (delta < 0 ? 2 : 1)] += delta
        }
    }

    /// The entries of some processes only, each process renumbered by `index`
    /// (or keeping its key, `renumber` false).
    func only(_ index: [UInt64: Int], renumber: Bool = true) -> ReportEntries {
        var kept = ReportEntries(metricCount: metricCount)
        for e in 0..<count {
            guard let p = index[pids[e]] else { continue }
            let key = Key(second: seconds[e], bucket: buckets[e], node: nodes[e], edges: edges[e], pid: renumber ? UInt64(p) : pids[e])
            kept.ids[key] = Int32(kept.count)
            kept.seconds.append(key.second); kept.buckets.append(key.bucket); kept.nodes.append(key.node)
            kept.edges.append(key.edges); kept.pids.append(key.pid); kept.samples.append(samples[e])
            kept.sums.append(contentsOf: sums[(e * metricCount * 3)..<((e + 1) * metricCount * 3)])
        }
        return kept
    }

    var byteEstimate: Int { count * (72 + 24 * metricCount) }

    /// The columns as JSON members, each name after `prefix` (docs/report.md, "Embedded data").
    func json(prefix: String, firstSecond: Int64, rows: Int, withPids: Bool, into out: inout [UInt8]) {
        out.append(contentsOf: Array("\"\(prefix)entries\":\(count),".utf8))
        // Cells in time order from column 0: column * rows + bucket.
        ReportEncoding.column(prefix + "cells", zip(seconds, buckets).lazy.map { ($0 - firstSecond) * Int64(rows) + Int64($1) }, into: &out)
        ReportEncoding.column(prefix + "nodes", nodes.lazy.map { Int64($0) }, into: &out)
        ReportEncoding.column(prefix + "edges", edges.lazy.map { Int64($0) }, into: &out)
        if withPids { ReportEncoding.column(prefix + "processes", pids.lazy.map { Int64($0) }, into: &out) }
        ReportEncoding.column(prefix + "samples", samples, into: &out)
        ReportEncoding.column(prefix + "sums", sums, into: &out)
    }
}
