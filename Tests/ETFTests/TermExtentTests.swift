import ETF
import TestSupport
import Testing

/// TermExtent.measure: where a term ends in a stream of concatenated terms.
@Suite("TermExtent", .timeLimit(.minutes(1)))
struct TermExtentTests {
    typealias B = ETFBytes
    static let maxBytes = 128 << 20

    static func measure(_ bytes: ArraySlice<UInt8>, baseOffset: Int = 0, maxBytes: Int = maxBytes, limits: ETFLimits = .default) -> Result<TermExtent.Result, ETFError> {
        bytes.withUnsafeBytes { raw in
            do throws(ETFError) {
                return .success(try TermExtent.measure(raw, baseOffset: baseOffset, maxBytes: maxBytes, limits: limits))
            } catch {
                return .failure(error)
            }
        }
    }

    static func measure(_ bytes: [UInt8], baseOffset: Int = 0, maxBytes: Int = maxBytes, limits: ETFLimits = .default) -> Result<TermExtent.Result, ETFError> {
        measure(bytes[...], baseOffset: baseOffset, maxBytes: maxBytes, limits: limits)
    }

    /// The prefix lengths checked for a term of `count` bytes: all of them for
    /// small terms; for larger ones the first and last 256 and 256 spread between.
    static func prefixLengths(_ count: Int) -> [Int] {
        if count <= 768 { return Array(0..<count) }
        var lengths = Set(0..<256)
        lengths.formUnion((count - 256)..<count)
        for k in 0..<256 { lengths.insert(256 + k * (count - 512) / 256) }
        return lengths.sorted()
    }

    @Test("every corpus frame measures as its own length, followed by the next frames", arguments: CorpusTests.setNames)
    func corpusFrames(_ name: String) throws {
        let set = try CorpusSet.load(name)
        // The set as one concatenated stream: each measure must stop exactly at its frame's end.
        let stream = Array(set.frames.joined())
        var offset = 0
        for (index, frame) in set.frames.enumerated() {
            let result = Self.measure(stream[offset...], baseOffset: offset)
            #expect(result == .success(.complete(frame.count)), "\(name) frame \(index) at \(offset)")
            offset += frame.count
        }
        #expect(offset == stream.count)
    }

    @Test("every proper prefix of a corpus frame needs more", arguments: CorpusTests.setNames)
    func corpusPrefixes(_ name: String) throws {
        let set = try CorpusSet.load(name)
        for (index, frame) in set.frames.enumerated() {
            for length in Self.prefixLengths(frame.count) {
                let result = Self.measure(frame[..<length])
                if result != .success(.needMore) {
                    Issue.record("\(name) frame \(index) (\(frame.count) bytes) cut at \(length): \(result)")
                    break
                }
            }
        }
    }

    @Test("hand-made terms of every tag: whole, and every prefix", arguments: TagCases.all)
    func tagCases(_ tagCase: TagCase) {
        #expect(Self.measure(tagCase.bytes) == .success(.complete(tagCase.bytes.count)))
        #expect(Self.measure(tagCase.bytes + [131, 106]) == .success(.complete(tagCase.bytes.count)))
        for length in 0..<tagCase.bytes.count {
            #expect(Self.measure(tagCase.bytes[..<length]) == .success(.needMore), "cut at \(length)")
        }
    }

    /// TermExtent reports a claim that cannot fit in `maxBytes` at the tag that
    /// makes it, with what `maxBytes` leaves after the length field.
    @Test("length claims past maxBytes throw at once, even with no content present")
    func hostileClaims() {
        let max = 1 << 20
        func claim(_ field: String, _ claimed: UInt64, tag: UInt8, after: Int, each: Int = 1) -> Result<TermExtent.Result, ETFError> {
            .failure(ETFError(offset: 1, tag: tag, reason: .lengthExceedsInput(field: field, claimed: claimed, available: max - after)))
        }
        let huge: [UInt8] = [255, 255, 255, 255]
        #expect(Self.measure([131, 108] + huge, maxBytes: max) == claim("list length", 4_294_967_295, tag: 108, after: 6))
        #expect(Self.measure([131, 105] + huge, maxBytes: max) == claim("tuple arity", 4_294_967_295, tag: 105, after: 6))
        #expect(Self.measure([131, 109] + huge, maxBytes: max) == claim("binary length", 4_294_967_295, tag: 109, after: 6))
        #expect(Self.measure([131, 77] + huge, maxBytes: max) == claim("bitstring length", 4_294_967_295, tag: 77, after: 6))
        #expect(Self.measure([131, 111] + huge, maxBytes: max) == claim("bignum byte count", 4_294_967_295, tag: 111, after: 6))
        #expect(Self.measure([131, 116] + huge, maxBytes: max) == claim("map size", 4_294_967_295, tag: 116, after: 6))
        #expect(Self.measure([131, 112] + huge, maxBytes: max) == claim("fun size", 4_294_967_291, tag: 112, after: 6))
        // Deeper in a term the offset names the claiming tag.
        #expect(Self.measure([131, 104, 2, 97, 1, 109] + huge, baseOffset: 50, maxBytes: max)
            == .failure(ETFError(offset: 55, tag: 109, reason: .lengthExceedsInput(field: "binary length", claimed: 4_294_967_295, available: max - 10))))
        // A compressed term declaring more than the limit.
        #expect(Self.measure([131, 80] + huge + [0x78], maxBytes: max)
            == .failure(ETFError(offset: 1, tag: 80, reason: .decompressedTooLarge(declared: 4_294_967_295, limit: ETFLimits.default.maxDecompressedBytes))))
    }

    @Test("a claim that fits maxBytes but not the bytes read so far needs more; one byte more throws")
    func claimBoundary() {
        let max = 1000
        // A binary whose end would be exactly at maxBytes: 6 header bytes + 994.
        #expect(Self.measure([131, 109] + B.u32(994) + [1, 2, 3], maxBytes: max) == .success(.needMore))
        #expect(Self.measure([131, 109] + B.u32(995) + [1, 2, 3], maxBytes: max)
            == .failure(ETFError(offset: 1, tag: 109, reason: .lengthExceedsInput(field: "binary length", claimed: 995, available: 994))))
    }

    @Test("bad input that is not a short read throws")
    func badInput() {
        #expect(Self.measure([130, 97, 1]) == .failure(ETFError(offset: 0, tag: nil, reason: .badVersion(130))))
        #expect(Self.measure([131, 104, 1, 0]) == .failure(ETFError(offset: 3, tag: 0, reason: .unknownTag)))
        #expect(Self.measure([131, 104, 1, 80, 0, 0, 0, 1]) == .failure(ETFError(offset: 3, tag: 80, reason: .compressedNotAtTop)))
        #expect(Self.measure([131, 112, 0, 0, 0, 3]) == .failure(ETFError(offset: 1, tag: 112, reason: .badFunSize(declared: 3, actual: 4))))
        #expect(Self.measure([131, 88, 97, 1]) == .failure(ETFError(offset: 2, tag: 97, reason: .unexpectedTag(expected: "a node name atom"))))
        let unsupported = Self.measure([131, 82, 0])
        guard case .failure(let error) = unsupported, case .unsupportedTag = error.reason else {
            Issue.record("expected unsupportedTag, got \(unsupported)")
            return
        }
        #expect(error.offset == 1 && error.tag == 82)
        // Damaged zlib data is an error, not a short read.
        var compressed = B.compressedTerm(B.binary([UInt8](repeating: 1, count: 50)))
        compressed[6] ^= 0xFF
        guard case .failure(let zlib) = Self.measure(compressed), case .corruptCompressedData = zlib.reason else {
            Issue.record("expected corruptCompressedData")
            return
        }
        #expect(zlib.offset == 1 && zlib.tag == 80)
    }

    @Test("a compressed term ends where its zlib stream ends")
    func compressedEnd() {
        let term = B.compressedTerm(B.binary([UInt8](repeating: 1, count: 500)))
        #expect(Self.measure(term + term) == .success(.complete(term.count)))
        #expect(Self.measure(term + [0xFF, 0xFF]) == .success(.complete(term.count)))
    }

    @Test("nesting 1,000,000 deep is measured without recursion")
    func deep() {
        let lists = DecoderLimitTests.nestedLists(1_000_000)
        #expect(Self.measure(lists) == .success(.complete(lists.count)))
        #expect(Self.measure(lists.dropLast()) == .success(.needMore))
    }
}
