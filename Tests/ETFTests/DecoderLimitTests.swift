@testable import ETF
import TestSupport
import Testing

/// Nesting depth and node count: hostile shapes must decode and print without
/// exhausting the machine stack, and the limits must stop them exactly where set.
@Suite("Decoder: depth and size limits", .timeLimit(.minutes(1)))
struct DecoderLimitTests {
    typealias B = ETFBytes

    /// `[[[...[]...]]]`: `depth` lists of one element each around `[]`.
    /// List header k (0-based) is at offset 1 + 5k.
    static func nestedLists(_ depth: Int) -> [UInt8] {
        var bytes: [UInt8] = [131]
        bytes.reserveCapacity(6 * depth + 2)
        for _ in 0..<depth { bytes += [108, 0, 0, 0, 1] }
        bytes += [UInt8](repeating: 106, count: depth + 1)  // the innermost [], then each list's tail
        return bytes
    }

    /// `{{{...{}...}}}`: `depth` one-element tuples around `{}`. Tuple k is at offset 1 + 2k.
    static func nestedTuples(_ depth: Int) -> [UInt8] {
        var bytes: [UInt8] = [131]
        bytes.reserveCapacity(2 * depth + 3)
        for _ in 0..<depth { bytes += [104, 1] }
        bytes += [104, 0]
        return bytes
    }

    static let million = 1_000_000

    @Test("lists nested 1,000,000 deep decode and print")
    func deepLists() throws {
        let term = try CorpusPrinting.decode(Self.nestedLists(Self.million)).get()
        #expect(term.nodes.count == 2 * Self.million + 1)
        let printed = CorpusPrinting.print(term)
        // "[" per list, "[]" innermost, "]" per list.
        #expect(printed.count == 2 * Self.million + 2)
        #expect(printed.prefix(3) == [91, 91, 91] && printed.suffix(3) == [93, 93, 93])
    }

    @Test("tuples nested 1,000,000 deep decode and print")
    func deepTuples() throws {
        let term = try CorpusPrinting.decode(Self.nestedTuples(Self.million)).get()
        #expect(term.nodes.count == Self.million + 1)
        let printed = CorpusPrinting.print(term)
        #expect(printed.count == 2 * Self.million + 2)
        #expect(printed.prefix(3) == [123, 123, 123] && printed.suffix(3) == [125, 125, 125])
    }

    @Test("maxDepth stops deep terms at the first container past it")
    func tooDeep() throws {
        let lists = Self.nestedLists(Self.million)
        #expect(DecoderErrorTests.decodeError(lists, limits: ETFLimits(maxDepth: 1000))
            == ETFError(offset: 1 + 5 * 1000, tag: 108, reason: .tooDeep(limit: 1000)))
        let tuples = Self.nestedTuples(Self.million)
        #expect(DecoderErrorTests.decodeError(tuples, limits: ETFLimits(maxDepth: 1000))
            == ETFError(offset: 1 + 2 * 1000, tag: 104, reason: .tooDeep(limit: 1000)))
        // Exactly at the limit is allowed; one less is not.
        _ = try CorpusPrinting.decode(Self.nestedTuples(100), limits: ETFLimits(maxDepth: 100)).get()
        #expect(DecoderErrorTests.decodeError(Self.nestedTuples(100), limits: ETFLimits(maxDepth: 99))
            == ETFError(offset: 1 + 2 * 99, tag: 104, reason: .tooDeep(limit: 99)))
        // Maps and funs with free variables are containers too.
        let maps = [131] + [[UInt8]](repeating: [116, 0, 0, 0, 1, 97, 1], count: 3).joined() + [106]  // #{1 => #{1 => #{1 => []}}}
        _ = try CorpusPrinting.decode(Array(maps)).get()
        #expect(DecoderErrorTests.decodeError(Array(maps), limits: ETFLimits(maxDepth: 2))
            == ETFError(offset: 15, tag: 116, reason: .tooDeep(limit: 2)))
        let fun = B.term(B.fun(module: "m", free: [B.tuple(B.smallInt(1))]))
        #expect(DecoderErrorTests.decodeError(fun, limits: ETFLimits(maxDepth: 1))
            == ETFError(offset: fun.count - 4, tag: 104, reason: .tooDeep(limit: 1)))
    }

    @Test("maxNodes stops a term at the first node past it")
    func tooManyNodes() throws {
        // {1,2,...,10}: the tuple and ten integers, element k at offset 3 + 2k.
        let tuple = B.term(B.tuple((1...10).map { B.smallInt($0) }))
        _ = try CorpusPrinting.decode(tuple, limits: ETFLimits(maxNodes: 11)).get()
        #expect(DecoderErrorTests.decodeError(tuple, limits: ETFLimits(maxNodes: 10))
            == ETFError(offset: 21, tag: nil, reason: .tooManyNodes(limit: 10)))
        #expect(DecoderErrorTests.decodeError(Self.nestedTuples(Self.million), limits: ETFLimits(maxNodes: 500_000))
            == ETFError(offset: 1 + 2 * 500_000, tag: nil, reason: .tooManyNodes(limit: 500_000)))
        // The default allows 8,000,000: a byte list is one node however long.
        #expect(ETFLimits.default.maxNodes == 8_000_000)
        let long = try CorpusPrinting.decode(B.term(B.string([UInt8](repeating: 1, count: 65535))), limits: ETFLimits(maxNodes: 1)).get()
        #expect(long.nodes.count == 1)
    }

    @Test("a list of 100,000 small maps decodes in linear time")
    func manyMaps() throws {
        func list(_ count: Int) -> [UInt8] {
            [131, 108] + B.u32(count) + Array([[UInt8]](repeating: B.map([(B.smallInt(1), B.atom("v"))]), count: count).joined()) + [106]
        }
        let count = 100_000
        let term = try CorpusPrinting.decode(list(count)).get()
        #expect(term.mapKeyOrder.count == count)
        #expect(CorpusPrinting.print(term).count == 2 + count * "#{1 => v}".count + (count - 1))
        // Copying the arena once per map (quadratic) took minutes: 4 times the
        // maps would take 16 times as long.
        let small = list(count / 4), large = list(count)
        let ratio = GrowthCheck.ratio(small: { _ = CorpusPrinting.decode(small) }, large: { _ = CorpusPrinting.decode(large) })
        #expect(ratio < 8, "4 times the maps took \(ratio) times as long: worse than linear")
    }

    @Test("an integer longer than the BEAM accepts is refused, whatever the limits")
    func bignumOverErlangLimit() throws {
        let limit = ETFLimits.erlangMaxBignumBytes
        #expect(limit == 4_194_296)  // binary_to_term refuses 4,194,297 bytes (OTP 25), with or without high zeros
        let lifted = ETFLimits(maxBignumBytes: .max)
        let atLimit = B.term(B.largeBig(negative: false, [UInt8](repeating: 0xFF, count: limit)))
        let term = try CorpusPrinting.decode(atLimit, limits: lifted).get()
        #expect(term.nodes[0].kind == .bigInteger)
        let over = B.term(B.largeBig(negative: false, [UInt8](repeating: 0xFF, count: limit) + [0]))
        #expect(DecoderErrorTests.decodeError(over, limits: lifted)
            == ETFError(offset: 1, tag: ETFTag.largeBig, reason: .bignumTooLong(bytes: UInt32(limit + 1))))
    }

    @Test("maxBignumBytes bounds the big-integer bytes of a whole term")
    func bignumBytesPerTerm() throws {
        #expect(ETFLimits.default.maxBignumBytes == 4 << 20)
        // {Big, Big}: 100 bytes each (1 + 2 for the tuple, 6 + 100 per LARGE_BIG_EXT).
        let big = B.largeBig(negative: true, [UInt8](repeating: 7, count: 100))
        let pair = B.term(B.tuple(big, big))
        _ = try CorpusPrinting.decode(pair, limits: ETFLimits(maxBignumBytes: 200)).get()
        #expect(DecoderErrorTests.decodeError(pair, limits: ETFLimits(maxBignumBytes: 199))
            == ETFError(offset: 3 + 106, tag: ETFTag.largeBig, reason: .tooManyBignumBytes(limit: 199)))
        // Integers that fit 64 bits, however they are sent, cost nothing.
        let small = B.term(B.list([B.smallBig(negative: false, [1, 2, 3, 4, 5, 6, 7, 0x7F]), B.largeBig(negative: true, [5, 0, 0])]))
        _ = try CorpusPrinting.decode(small, limits: ETFLimits(maxBignumBytes: 1)).get()
    }

    @Test("the memory budget counts the caller's frame, the term's bytes and its arena together")
    func memoryBudget() throws {
        // [0,0,...,0] of 100,000 small integers: 200,006 bytes, 100,001 nodes (2.4 MB of arena).
        let count = 100_000
        let list = [131, 108] + B.u32(count) + Array([[UInt8]](repeating: B.smallInt(0), count: count).joined()) + [106]
        _ = try CorpusPrinting.decode(list, limits: ETFLimits(maxTermMemory: 4 << 20)).get()
        let error = try #require(DecoderErrorTests.decodeError(list, limits: ETFLimits(maxTermMemory: 1 << 20)))
        guard case .overMemoryBudget(let limit, let needed, let purpose) = error.reason else {
            Issue.record("\(error)")
            return
        }
        #expect(limit == 1 << 20 && needed > limit && purpose.contains("node arena"), "\(error)")
        // The library names the budget; the command adds the option that raises it.
        #expect(error.description.contains("over the memory budget of"))
        #expect(!error.description.contains("--max"))
        // What the caller holds counts first: no room left even for the copy of the bytes.
        var decoder = TermDecoder(limits: ETFLimits(maxTermMemory: 1 << 20))
        var term = Term()
        let held = try #require(Self.decode(list, &decoder, &term, heldByCaller: 1 << 20))
        #expect(held.offset == 0 && Self.overBudget(held, limit: 1 << 20, purpose: "a \(list.count)-byte copy of the term"), "\(held)")
    }

    /// Whether `error` is the memory budget's, for `limit`, and over it by what `purpose` names.
    /// (What the decoder itself keeps between terms, its small stack, counts too.)
    static func overBudget(_ error: ETFError, limit: Int, purpose: String) -> Bool {
        guard case .overMemoryBudget(let l, let needed, let p) = error.reason else { return false }
        return l == limit && needed > limit && p == purpose
    }

    /// Decodes with a decoder and term of the caller's; the error, if any.
    static func decode(_ bytes: [UInt8], _ decoder: inout TermDecoder, _ term: inout Term, heldByCaller: Int = 0) -> ETFError? {
        var failure: ETFError?
        bytes.withUnsafeBytes { raw in
            do throws(ETFError) {
                try decoder.decode(raw, into: &term, heldByCaller: heldByCaller)
            } catch {
                failure = error
            }
        }
        return failure
    }

    @Test("a compressed term is refused before inflating when its buffer would not fit the budget")
    func memoryBudgetCompressed() throws {
        // 2 MiB of zeros in a binary; the output buffer is the declared size plus one byte.
        let zeros = B.binary([UInt8](repeating: 0, count: 2 << 20))
        let compressed = B.compressedTerm(zeros, level: 9)
        _ = try CorpusPrinting.decode(compressed, limits: ETFLimits(maxTermMemory: 3 << 20)).get()
        let error = try #require(DecoderErrorTests.decodeError(compressed, limits: ETFLimits(maxTermMemory: 2 << 20)))
        #expect(error.offset == 1 && error.tag == ETFTag.compressed, "\(error)")
        #expect(Self.overBudget(error, limit: 2 << 20, purpose: "\(zeros.count + 1) bytes to inflate the term into"), "\(error)")
        // A bomb's buffer is bounded by deflate's largest ratio, not by what it declares.
        #expect(BoundedInflate.outputCapacity(compressedBytes: 100, declaredSize: 200 << 20) == 100 * 1032 + (64 << 10))
    }

    @Test("a large term's storage is freed when it is recycled, a small one's kept for the next")
    func recycling() throws {
        var decoder = TermDecoder()
        var term = Term()
        let big = B.term(B.list([[UInt8]](repeating: B.smallInt(1), count: 2_000_000)))
        #expect(Self.decode(big, &decoder, &term) == nil)
        #expect(term.nodes.capacity > TermDecoder.keptNodes)
        decoder.recycle(&term)
        #expect(term.nodes.capacity == 0 && term.bytes.isEmpty)
        let small = B.term(B.tuple(B.smallInt(1), B.atom("a")))
        #expect(Self.decode(small, &decoder, &term) == nil)
        let kept = term.nodes.capacity
        decoder.recycle(&term)
        #expect(term.nodes.capacity == kept && term.bytes.isEmpty)
    }
}
