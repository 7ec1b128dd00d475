import ETF
import TestSupport
import Testing

/// Map key order (`Term.compare`): the order `~w` prints small maps in, and the
/// equality that duplicate map keys are found with.
@Suite("Term order")
struct TermOrderTests {
    typealias B = ETFBytes

    /// The values of a decoded map in the order its keys sort.
    static func valuesInKeyOrder(_ term: Term) -> [Int] {
        let root = term.root
        let start = Int(term.nodes[root].aux)
        return (0..<Int(term.nodes[root].count)).map { position in
            let key = Int(term.mapKeyOrder[start + position])
            return Int(term.integerValue(Int(term.nodes[key].end))!)
        }
    }

    @Test("maps order and reject keys as OTP 25 does", arguments: TermOrderCases.all)
    func orderAsErl(_ orderCase: OrderCase) throws {
        switch CorpusPrinting.decode(orderCase.bytes) {
        case .success(let term):
            let values = Self.valuesInKeyOrder(term)
            #expect(orderCase.expected == values, "OTP refuses this map (duplicate keys), flameconv read it as \(values)")
        case .failure(let error):
            #expect(orderCase.expected == nil, "\(error)")
            #expect(error.reason == .duplicateMapKey)
            #expect(error.tag == ETFTag.map)
            #expect(error.offset == 1)
        }
    }

    /// Decodes a tuple and returns it with its element indices.
    func elements(_ items: [[UInt8]]) throws -> (Term, [Int]) {
        let term = try CorpusPrinting.decode(B.term(B.tuple(items))).get()
        return (term, term.children(of: term.root))
    }

    @Test("compare is antisymmetric and reflexive over every order case's keys")
    func consistency() throws {
        for orderCase in TermOrderCases.all {
            let (term, keys) = try elements(orderCase.keys)
            for a in keys {
                #expect(term.compare(a, a) == 0, "\(orderCase.label)")
                for b in keys {
                    #expect(term.compare(a, b) == -term.compare(b, a), "\(orderCase.label)")
                }
            }
        }
    }

    /// OTP 25 treats 0.0 and -0.0 as the same key (`binary_to_term` refuses a
    /// map holding both); OTP 27 made them different terms and writes such maps.
    /// flameconv deliberately reads them as different keys, -0.0 first, so dumps
    /// from OTP 27 nodes decode. This documents that choice.
    @Test("-0.0 and 0.0 are different keys, -0.0 first (OTP 27 semantics)")
    func signedZeros() throws {
        let (term, keys) = try elements([B.float(0.0), B.float(-0.0)])
        #expect(term.compare(keys[1], keys[0]) == -1)
        let map = try CorpusPrinting.decode(B.term(B.map([(B.float(0.0), B.smallInt(1)), (B.float(-0.0), B.smallInt(2))]))).get()
        #expect(latin1String(CorpusPrinting.print(map)) == "#{-0.0 => 2,0.0 => 1}")
    }

    @Test("comparison of terms nested 100,000 deep is iterative", .timeLimit(.minutes(1)))
    func deepComparison() throws {
        // Two keys: [[[...[X]...]]] with X = 1 and X = 2, so they differ only at the bottom.
        let depth = 100_000
        func nested(_ innermost: UInt8) -> [UInt8] {
            Array([[UInt8]](repeating: [108, 0, 0, 0, 1], count: depth).joined()) + B.smallInt(innermost)
                + [UInt8](repeating: 106, count: depth)
        }
        let different = B.term(B.map([(nested(2), B.smallInt(1)), (nested(1), B.smallInt(2))]))
        let term = try CorpusPrinting.decode(different).get()
        #expect(Self.valuesInKeyOrder(term) == [2, 1])
        // The same key twice is a duplicate, found by walking all the way down.
        let same = B.term(B.map([(nested(1), B.smallInt(1)), (nested(1), B.smallInt(2))]))
        #expect(throws: ETFError(offset: 1, tag: ETFTag.map, reason: .duplicateMapKey)) {
            try CorpusPrinting.decode(same).get()
        }
    }
}
