/// What the outputs may want to know about a capture an event came from.
public struct CaptureInfo: Sendable {
    public var id: String
    public var node: String?
    /// Bytes per word on the sampled node, from the header's `word_size`.
    public var wordSize: Int64
    /// True when the header did not say, and `wordSize` is the usual 8.
    public var wordSizeAssumed: Bool

    public static let assumedWordSize: Int64 = 8

    public init(id: String, node: String?, wordSize: Int64?) {
        self.id = id
        self.node = node
        self.wordSize = wordSize ?? Self.assumedWordSize
        wordSizeAssumed = wordSize == nil
    }
}
