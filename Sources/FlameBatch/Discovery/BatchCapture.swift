import FlameDump

/// One capture found among the inputs: its files in seq order, wherever they
/// sit (loose, in one archive or several), and what the manifest says of each.
public struct BatchCapture {
    public var files: CaptureFiles
    /// One per file of `files`, in the same order.
    public var inputs: [InputRecord]
    /// Where each file of `files` is, in the same order.
    var locations: [InputLocation]
    /// Passed-over files and seq gaps in this capture (SeqCheck).
    public var warnings: [String]

    public var id: String { files.id }
    /// Bytes of its files as stored: what progress counts.
    public var bytes: Int64 { inputs.reduce(0) { $0 + max(0, $1.size) } }
}
