/// Why a term could not be decoded, and where.
///
/// `offset` counts bytes from the start of the buffer handed to the decoder plus
/// the caller's base offset, so a dump reader can report positions in the file.
public struct ETFError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The input ends before a field of `needed` bytes; `available` remain.
        case truncated(needed: UInt64, available: Int)
        /// A length field claims more elements or bytes than can possibly follow.
        case lengthExceedsInput(field: String, claimed: UInt64, available: Int)
        case badVersion(UInt8)
        case unknownTag
        case unsupportedTag(String)
        case invalidUTF8Atom
        case atomTooLong(characters: Int)
        case nonFiniteFloat
        case badFloatString
        case duplicateMapKey
        case badBitCount(UInt8)
        case badReferenceLength(Int)
        case badFunSize(declared: UInt32, actual: Int)
        /// A field that must hold a term of one kind (a node name must be an atom) holds another.
        case unexpectedTag(expected: String)
        case compressedNotAtTop
        case decompressedSizeMismatch(declared: UInt32, actual: Int)
        case decompressedTooLarge(declared: UInt32, limit: Int)
        case corruptCompressedData(String)
        case tooDeep(limit: Int)
        case tooManyNodes(limit: Int)
        case trailingBytes(Int)
        /// An integer longer than `ETFLimits.erlangMaxBignumBytes`, which `binary_to_term` refuses.
        case bignumTooLong(bytes: UInt32)
        case tooManyBignumBytes(limit: Int)
        /// Holding what reading the term needs at this point (`needed` bytes in
        /// all, `purpose` the allocation that would pass it) is over `limit`.
        case overMemoryBudget(limit: Int, needed: Int, purpose: String)
    }

    public var offset: Int
    /// The tag being decoded when it failed, if any.
    public var tag: UInt8?
    public var reason: Reason
    /// For an error inside a compressed term: where in the inflated bytes it failed
    /// (`offset` then names the compressed term's place in the input).
    public var inflatedOffset: Int?

    public init(offset: Int, tag: UInt8?, reason: Reason, inflatedOffset: Int? = nil) {
        self.offset = offset
        self.tag = tag
        self.reason = reason
        self.inflatedOffset = inflatedOffset
    }

    public var reasonText: String {
        switch reason {
        case .truncated(let needed, let available):
            return "input ends early: \(needed) more bytes needed, \(available) left"
        case .lengthExceedsInput(let field, let claimed, let available):
            return "\(field) \(claimed) exceeds the \(available) bytes left"
        case .badVersion(let byte):
            return "not an external term: first byte is \(byte), expected 131"
        case .unknownTag:
            return "unknown tag"
        case .unsupportedTag(let why):
            return "unsupported tag: \(why)"
        case .invalidUTF8Atom:
            return "atom is not valid UTF-8"
        case .atomTooLong(let characters):
            return "atom has \(characters) characters, more than Erlang's limit of 255"
        case .nonFiniteFloat:
            return "float is NaN or infinite, which Erlang cannot represent"
        case .badFloatString:
            return "FLOAT_EXT string is not a finite decimal number"
        case .duplicateMapKey:
            return "map has a duplicate key"
        case .badBitCount(let bits):
            return "bitstring claims \(bits) bits in its last byte (must be 1 to 8, or 0 for an empty one)"
        case .badReferenceLength(let n):
            return "reference has \(n) id words (must be 1 to 5)"
        case .badFunSize(let declared, let actual):
            return "fun declares \(declared) bytes but its fields take \(actual)"
        case .unexpectedTag(let expected):
            return "expected \(expected) here"
        case .compressedNotAtTop:
            return "a compressed term may only stand right after the version byte"
        case .decompressedSizeMismatch(let declared, let actual):
            return "compressed term declares \(declared) bytes but inflates to \(actual == Int.max ? "more" : String(actual))"
        case .decompressedTooLarge(let declared, let limit):
            return "compressed term declares \(declared) bytes, over the limit of \(limit)"
        case .corruptCompressedData(let detail):
            return "corrupt zlib data: \(detail)"
        case .tooDeep(let limit):
            return "term nests deeper than the limit of \(limit) levels"
        case .tooManyNodes(let limit):
            return "term has more than \(limit) subterms"
        case .trailingBytes(let count):
            return "\(count) bytes follow the term inside its frame"
        case .bignumTooLong(let bytes):
            return "integer has \(bytes) bytes, more than Erlang's limit of \(ETFLimits.erlangMaxBignumBytes) (binary_to_term refuses it)"
        case .tooManyBignumBytes(let limit):
            return "term holds more than \(limit) bytes of big integers, which take long to print"
        case .overMemoryBudget(let limit, let needed, let purpose):
            return "reading this term needs \(needed) bytes at once (\(purpose)), over the memory budget of \(limit)"
        }
    }

    public var description: String {
        var place = "offset \(offset)"
        if let inflatedOffset { place += " (byte \(inflatedOffset) of the inflated term)" }
        if let tag {
            return "\(place): \(ETFTag.describe(tag)): \(reasonText)"
        }
        return "\(place): \(reasonText)"
    }
}
