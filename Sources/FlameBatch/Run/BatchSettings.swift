import FlameFormats
import FlameRun

/// What every capture of a batch is converted with: the same plan and format
/// options `convert` would use, one output per format.
public struct BatchSettings: Sendable {
    public var out: String
    public var formats: [OutputFormat]
    public var formatOptions: FormatOptions
    public var outputCompression: BatchOutputCompression
    /// Makes the run plan; called once per worker thread, so no thread shares
    /// another's levels and their caches.
    public var makePlan: @Sendable () throws -> RunPlan
    /// Everything that shapes the outputs, as one text: a record made with
    /// other options is out of date.
    public var optionsKey: String
    public var shard: Shard

    public init(out: String, formats: [OutputFormat], formatOptions: FormatOptions, outputCompression: BatchOutputCompression,
                makePlan: @escaping @Sendable () throws -> RunPlan, optionsKey: String, shard: Shard) {
        self.out = out
        self.formats = formats
        self.formatOptions = formatOptions
        self.outputCompression = outputCompression
        self.makePlan = makePlan
        self.optionsKey = optionsKey
        self.shard = shard
    }

    /// Each format's output file for a capture, relative to `out`.
    func outputNames(forCapture id: String) -> [(format: OutputFormat, file: String)] {
        formats.map { ($0, OutputNames.fileName(forCapture: id, format: $0, compression: outputCompression)) }
    }
}
