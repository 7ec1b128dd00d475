import ETF

/// A problem with one input file: which file, where, and what.
///
/// Offsets count bytes of the dump stream, after gzip or zstd decompression;
/// for a plain file that is the file offset.
public struct DumpError: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case io(String)
        case empty
        case frameTooLarge(claimed: UInt64, limit: Int)
        case emptyFrame
        /// The stream ends inside a frame or term.
        case truncated(needed: Int, available: Int)
        case notATerm(firstByte: UInt8)
        case term(ETFError)
        /// The compressed container is damaged; `compressedOffset` is in the file itself.
        case decompression(format: String, detail: String, compressedOffset: Int)
        case notADump(String)
    }

    public var path: String
    public var offset: Int
    public var reason: Reason

    public init(path: String, offset: Int, reason: Reason) {
        self.path = path
        self.offset = offset
        self.reason = reason
    }

    public var reasonText: String {
        switch reason {
        case .io(let message): return message
        case .empty: return "the file is empty"
        case .frameTooLarge(let claimed, let limit):
            return "frame length \(claimed) is over the limit of \(limit) bytes"
        case .emptyFrame: return "frame length is 0; a frame holds one term"
        case .truncated(let needed, let available):
            return "truncated: the stream ends \(needed - available) bytes before the end of this frame (\(available) of \(needed) bytes present)"
        case .notATerm(let byte):
            return "not an external term: byte \(byte) where a term (131) should start"
        case .term(let error):
            var text = "\(ETFError(offset: 0, tag: error.tag, reason: error.reason).description.dropFirst("offset 0: ".count))"
            if let inflated = error.inflatedOffset { text = "in a compressed term, at byte \(inflated) of its inflated bytes: " + text }
            return text
        case .decompression(let format, let detail, let compressedOffset):
            return "\(format) data is damaged at byte \(compressedOffset) of the file: \(detail)"
        case .notADump(let detail):
            return "not a flame dump: \(detail)"
        }
    }

    public var description: String {
        "\(path): offset \(offset): \(reasonText)"
    }
}
