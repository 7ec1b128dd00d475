import ETF
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
        let count = 100_000
        let bytes = [131, 108] + B.u32(count) + Array([[UInt8]](repeating: B.map([(B.smallInt(1), B.atom("v"))]), count: count).joined()) + [106]
        let start = ContinuousClock.now
        let term = try CorpusPrinting.decode(bytes).get()
        let elapsed = ContinuousClock.now - start
        #expect(term.mapKeyOrder.count == count)
        #expect(CorpusPrinting.print(term).count == 2 + count * "#{1 => v}".count + (count - 1))
        // Linear work is well under a second even in a debug build; copying the
        // arena once per map (quadratic) took minutes.
        #expect(elapsed < .seconds(10), "decoding took \(elapsed)")
    }
}
