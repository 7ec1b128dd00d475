/// A report's data, aggregated: names, a tree of stack nodes, and one entry
/// per (time cell, stack, range edge) with its samples and, per
/// metric, the sums of values, of rising deltas and of falling deltas.
public struct ReportTables: Sendable {
    public struct EntryKey: Hashable, Sendable {
        var second: Int64
        var bucket: Int32
        var node: Int32
        /// `(starts + 1) * 3 + ends + 1` of `ReportGrid.edges`: 4 for a sample inside its cell.
        var edges: UInt8
    }

    public var rows = 50
    public var columns = 0
    /// The whole second of column 0: the floor of the first sample's time.
    public var firstSecond: Int64 = 0
    public var ticks = 0
    public var metricCount = 0
    public var metricNames: [String] = []
    public var weightName = "samples"
    /// Frame and label names, interned.
    public var names: [String] = []
    /// Stack nodes: parent node (-1 at a root) and name.
    public var nodeParents: [Int32] = []
    public var nodeNames: [Int32] = []
    public var seconds: [Int64] = []
    public var buckets: [Int32] = []
    public var nodes: [Int32] = []
    public var edges: [UInt8] = []
    public var samples: [Int64] = []
    /// Per entry, per metric: value sum, rising delta sum, falling delta sum.
    public var sums: [Int64] = []
    var processes: [ReportProcesses.Process] = []
    public var notes: [String] = []

    public var entryCount: Int { samples.count }

    mutating func addEntry(_ key: EntryKey) -> Int {
        seconds.append(key.second)
        buckets.append(key.bucket)
        nodes.append(key.node)
        edges.append(key.edges)
        samples.append(0)
        sums.append(contentsOf: repeatElement(0, count: metricCount * 3))
        return samples.count - 1
    }

    var byteEstimate: Int { entryCount * (40 + 24 * metricCount) + nodeParents.count * 8 }

    /// The tables as the page's JSON object (docs/report.md, "Embedded data").
    func json(into out: inout [UInt8]) {
        func key(_ name: String) { out.append(contentsOf: Array("\"\(name)\":".utf8)) }
        func column(_ name: String, _ values: some Sequence<Int64>) {
            var bytes: [UInt8] = []
            for value in values { ReportEncoding.putVarint(value, &bytes) }
            key(name)
            out.append(UInt8(ascii: "\""))
            ReportEncoding.base64(bytes, into: &out)
            out.append(contentsOf: Array("\",".utf8))
        }
        func strings(_ name: String, _ values: [String]) {
            key(name)
            out.append(UInt8(ascii: "["))
            for (i, value) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                ReportEncoding.jsonString(value, into: &out)
            }
            out.append(contentsOf: Array("],".utf8))
        }
        out.append(UInt8(ascii: "{"))
        out.append(contentsOf: Array("\"rows\":\(rows),\"columns\":\(columns),\"firstSecond\":\(firstSecond),\"ticks\":\(ticks),\"entries\":\(entryCount),".utf8))
        strings("metrics", metricNames)
        key("weight"); ReportEncoding.jsonString(weightName, into: &out); out.append(UInt8(ascii: ","))
        strings("names", names)
        strings("notes", notes)
        column("nodeParents", nodeParents.lazy.map { Int64($0) })
        column("nodeNames", nodeNames.lazy.map { Int64($0) })
        // Cells in time order from column 0: column * rows + bucket.
        column("cells", zip(seconds, buckets).lazy.map { ($0 - firstSecond) * Int64(rows) + Int64($1) })
        column("nodes", nodes.lazy.map { Int64($0) })
        column("edges", edges.lazy.map { Int64($0) })
        column("samples", samples)
        column("sums", sums)
        key("processes")
        out.append(UInt8(ascii: "["))
        for (i, process) in processes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            process.json(into: &out)
        }
        out.append(contentsOf: Array("]}".utf8))
    }
}
