/// A report's data, aggregated: names, a tree of stack nodes, and entries
/// per (time cell, stack, range edge), for all samples and for the summary's
/// processes (`ReportEntries`).
public struct ReportTables: Sendable {
    public var rows = 50
    public var columns = 0
    /// The whole second of column 0: the floor of the first sample's time.
    public var firstSecond: Int64 = 0
    public var ticks = 0
    public var metricNames: [String] = []
    public var weightName = "samples"
    /// Frame and label names, interned.
    public var names: [String] = []
    /// Stack nodes: parent node (-1 at a root) and name.
    public var nodeParents: [Int32] = []
    public var nodeNames: [Int32] = []
    public var entries = ReportEntries(metricCount: 0)
    /// The entries of the summary's processes, by their index in `processes`.
    public var processEntries = ReportEntries(metricCount: 0)
    var processes: [ReportProcesses.Process] = []
    public var notes: [String] = []

    public var entryCount: Int { entries.count }

    var byteEstimate: Int { entries.byteEstimate + processEntries.byteEstimate + nodeParents.count * 8 }

    /// The tables as the page's JSON object (docs/report.md, "Embedded data").
    func json(into out: inout [UInt8]) {
        func key(_ name: String) { out.append(contentsOf: Array("\"\(name)\":".utf8)) }
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
        out.append(contentsOf: Array("\"rows\":\(rows),\"columns\":\(columns),\"firstSecond\":\(firstSecond),\"ticks\":\(ticks),".utf8))
        strings("metrics", metricNames)
        key("weight"); ReportEncoding.jsonString(weightName, into: &out); out.append(UInt8(ascii: ","))
        strings("names", names)
        strings("notes", notes)
        ReportEncoding.column("nodeParents", nodeParents.lazy.map { Int64($0) }, into: &out)
        ReportEncoding.column("nodeNames", nodeNames.lazy.map { Int64($0) }, into: &out)
        entries.json(prefix: "", firstSecond: firstSecond, rows: rows, withPids: false, into: &out)
        processEntries.json(prefix: "process", firstSecond: firstSecond, rows: rows, withPids: true, into: &out)
        key("processes")
        out.append(UInt8(ascii: "["))
        for (i, process) in processes.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            process.json(into: &out)
        }
        out.append(contentsOf: Array("]}".utf8))
    }
}
