import ETF
import TestSupport
import Testing

/// Every tag of the external term format, decoded from hand-made bytes and
/// printed; the expected texts come from OTP 25 (see `TagCases`).
@Suite("Decoder: every tag")
struct DecoderTagTests {
    @Test("decodes and prints as erl does", arguments: TagCases.all)
    func printsAsErl(_ tagCase: TagCase) throws {
        let term = try CorpusPrinting.decode(tagCase.bytes).get()
        #expect(latin1String(CorpusPrinting.print(term)) == tagCase.expected)
    }

    @Test("every tag the decoder reads has a case")
    func coversEveryTag() {
        let required: Set<UInt8> = [
            97, 98, 110, 111, 70, 99, 100, 115, 118, 119, 88, 103, 89, 102, 120, 90, 114, 101,
            104, 105, 106, 107, 108, 109, 77, 116, 113, 112, 80,
        ]
        let covered = Set(TagCases.all.map(\.tag))
        #expect(required.subtracting(covered).isEmpty, "no case for tags \(required.subtracting(covered).sorted())")
    }

    @Test("the decoded tree has the documented shape")
    func arenaShape() throws {
        typealias B = ETFBytes
        // {1, [a|b], <<7>>, 3.5}
        let term = try CorpusPrinting.decode(B.term(B.tuple(B.smallInt(1), B.list([B.atom("a")], tail: B.atom("b")), B.binary([7]), B.float(3.5)))).get()
        #expect(term.nodes[0].kind == .tuple)
        #expect(term.nodes[0].count == 4)
        #expect(Int(term.nodes[0].end) == term.nodes.count)
        let children = term.children(of: 0)
        #expect(children.map { term.nodes[$0].kind } == [.integer, .list, .binary, .float])
        #expect(term.integerValue(children[0]) == 1)
        #expect(term.floatValue(children[3]) == 3.5)
        #expect(Array(term.payload(of: children[2])) == [7])
        // A list node has its elements, then its tail, as children.
        let list = children[1]
        #expect(term.nodes[list].count == 1)
        #expect(term.children(of: list).map { term.atomText($0) } == ["a", "b"])
        #expect(term.child(1, of: list) == term.children(of: list)[1])
    }

    @Test("a Term is reused across decodes without stale nodes or bytes")
    func reuse() throws {
        typealias B = ETFBytes
        var decoder = TermDecoder()
        var term = Term()
        let big = B.compressedTerm(B.tuple(B.map([(B.atom("k"), B.binary([UInt8](repeating: 9, count: 50)))]), B.nil))
        let small = B.term(B.smallInt(7))
        try big.withUnsafeBytes { try decoder.decode($0, into: &term) }
        #expect(latin1String(CorpusPrinting.print(term)).hasPrefix("{#{k => <<9,9"))
        try small.withUnsafeBytes { try decoder.decode($0, into: &term) }
        #expect(term.nodes.count == 1)
        #expect(term.mapKeyOrder.isEmpty)
        #expect(latin1String(CorpusPrinting.print(term)) == "7")
    }

    @Test("ETFReader.readInt64 (the samples fast path) takes exactly the integers the decoder holds in 64 bits, Int64.min included",
          arguments: TagCases.all.filter { [97, 98, 110].contains($0.tag) })
    func readInt64MatchesDecoder(_ tagCase: TagCase) throws {
        let term = try CorpusPrinting.decode(tagCase.bytes).get()
        let read: Int64? = tagCase.bytes.withUnsafeBytes { raw in
            var reader = ETFReader(bytes: raw)
            reader.position = 1
            return try? reader.readInt64()
        }
        #expect(read == term.integerValue(term.root), "\(tagCase.expected)")
    }

    @Test("baseOffset does not change what decodes")
    func baseOffsetIsOnlyForErrors() throws {
        let bytes = ETFBytes.term(ETFBytes.list([ETFBytes.smallInt(1)]))
        let term = try CorpusPrinting.decode(bytes, baseOffset: 1 << 40).get()
        #expect(latin1String(CorpusPrinting.print(term)) == "[1]")
    }
}
