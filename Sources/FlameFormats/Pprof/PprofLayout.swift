import FlameModel

/// What a pprof profile of a run holds per sample: its value columns
/// (`sample_type`) and its label keys. Decided once, before the first sample
/// (docs/output-formats.md, "pprof").
struct PprofLayout {
    /// One value column: what it reads from an event, its name and unit.
    struct Column: Equatable {
        var source: Weight
        var name: String
        var unit: String
    }

    /// `samples` first (1 per sample), then one per metric, then the weight
    /// if it is none of those.
    var columns: [Column]
    /// The column readers show unless told otherwise: the weight's.
    var defaultColumn: Int
    /// Per category level, in order: its label key.
    var levelKeys: [String]
    /// Whether the process labels of their own are written (a category level
    /// of the same key holds that label instead).
    var pidLabel: Bool
    var statusLabel: Bool
    var registeredNameLabel: Bool

    static let timeKey = "time"
    static let timeUnit = "microseconds"

    /// `metrics`: the run's chosen metrics, nil for the weight's metric alone.
    /// A counter's column is its delta (what happened since the process's
    /// last sample: adding deltas gives the total), a gauge's its value.
    init(weight: Weight, metrics: [MetricID]?, catalogue: MetricCatalogue, levelSpecs: [String]) {
        var columns = [Column(source: .samples, name: "samples", unit: "count")]
        func add(_ source: Weight) {
            let name = source.name(catalogue)
            guard !columns.contains(where: { $0.name == name }) else { return }
            let unit = source.metric.map { catalogue[$0].unit.rawValue } ?? "count"
            columns.append(Column(source: source, name: name, unit: unit))
        }
        for id in metrics ?? weight.metric.map({ [$0] }) ?? [] {
            add(catalogue[id].kind == .counter ? .delta(id) : .value(id))
        }
        add(weight)
        self.columns = columns
        let weightName = weight.name(catalogue)
        defaultColumn = columns.firstIndex { $0.name == weightName } ?? 0

        var keys: [String] = []
        for spec in levelSpecs {
            var key = Self.labelKey(spec)
            if keys.contains(key) || key == Self.timeKey {
                var n = 2
                while keys.contains("\(key)_\(n)") { n += 1 }
                key = "\(key)_\(n)"
            }
            keys.append(key)
        }
        levelKeys = keys
        pidLabel = !keys.contains("pid")
        statusLabel = !keys.contains("status")
        registeredNameLabel = !keys.contains("registered_name")
    }

    /// A level's spec as a label key pprof's options can name: `status` stays,
    /// `bucket(memory,log2)` becomes `bucket_memory_log2` (`-tagroot` and
    /// `-tagfocus` split their argument at commas and `=`).
    static func labelKey(_ spec: String) -> String {
        var key = ""
        for scalar in spec.unicodeScalars {
            let keep = scalar.properties.isAlphabetic && scalar.isASCII || ("0"..."9").contains(scalar) || scalar == "_"
            if keep {
                key.unicodeScalars.append(scalar)
            } else if !key.isEmpty, !key.hasSuffix("_") {
                key.append("_")
            }
        }
        while key.hasSuffix("_") { key.removeLast() }
        return key.isEmpty ? "category" : key
    }
}
