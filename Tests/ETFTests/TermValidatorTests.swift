@testable import ETF
import Foundation
import TestSupport
import Testing

/// TermValidator must say what TermDecoder says about every input (the same
/// error at the same offset, or acceptance), with one difference by design: it
/// reports a map whose keys may repeat instead of sorting them.
@Suite("Term validator", .timeLimit(.minutes(2)))
struct TermValidatorTests {
    typealias B = ETFBytes

    enum Verdict: Equatable, CustomStringConvertible {
        case accepted
        case duplicateKeys
        case failed(ETFError)

        var description: String {
            switch self {
            case .accepted: return "accepted"
            case .duplicateKeys: return "duplicate keys"
            case .failed(let error): return "\(error)"
            }
        }
    }

    static func decoderVerdict(_ bytes: [UInt8]) -> Verdict {
        switch CorpusPrinting.decode(bytes) {
        case .success: return .accepted
        case .failure(let error) where error.reason == .duplicateMapKey: return .duplicateKeys
        case .failure(let error): return .failed(error)
        }
    }

    static func validatorVerdict(_ bytes: [UInt8], limits: ETFLimits = .default) -> Verdict {
        var validator = TermValidator(limits: limits)
        var verdict = Verdict.accepted
        bytes.withUnsafeBytes { raw in
            do throws(ETFError) {
                if try validator.validate(raw) != .valid { verdict = .duplicateKeys }
            } catch {
                verdict = .failed(error)
            }
        }
        return verdict
    }

    static func expectAgreement(_ bytes: [UInt8], _ label: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        let decoded = decoderVerdict(bytes), validated = validatorVerdict(bytes)
        #expect(decoded == validated, "\(label()): decoder \(decoded), validator \(validated)", sourceLocation: sourceLocation)
    }

    @Test("every hand-made tag case and error case: the same verdict")
    func handMade() {
        for tagCase in TagCases.all { Self.expectAgreement(tagCase.bytes, tagCase.label) }
        for errorCase in DecoderErrorTests.truncations + DecoderErrorTests.hugeClaims {
            Self.expectAgreement(errorCase.bytes, errorCase.label)
            #expect(Self.validatorVerdict(errorCase.bytes) == .failed(errorCase.error), "\(errorCase.label)")
        }
        // A fun whose size field disagrees with its fields, with and without free variables.
        let fun = B.term(B.fun(module: "m", free: [B.smallInt(1)]))
        var wrongSize = fun
        wrongSize[5] &+= 1
        Self.expectAgreement(wrongSize, "fun size")
        var wrongSizeNoFree = B.term(B.fun(module: "m"))
        wrongSizeNoFree[5] &-= 1
        Self.expectAgreement(wrongSizeNoFree, "fun size, no free variables")
    }

    @Test("every corpus frame, whole and damaged (bytes changed, cut, or added): the same verdict")
    func corpusAndDamage() throws {
        var generator = SplitMix64(seed: 11)
        var checked = 0
        for name in CorpusSet.documentedSetNames {
            let set = try CorpusSet.load(name)
            for frame in set.frames {
                #expect(Self.validatorVerdict(frame) == .accepted, "\(name)")
                for _ in 0..<3 {
                    var damaged = frame
                    let at = Int.random(in: 1..<damaged.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: damaged[at] = UInt8.random(in: 0...255, using: &generator)
                    case 1: damaged.removeSubrange(at...)
                    default: damaged.insert(UInt8.random(in: 0...255, using: &generator), at: at)
                    }
                    Self.expectAgreement(damaged, "\(name): a frame damaged at \(at)")
                    checked += 1
                }
            }
        }
        #expect(checked > 1000)
    }

    @Test("repeated keys are found in every encoding OTP 25 refuses, and no others", arguments: TermOrderCases.all)
    func repeatedKeys(_ orderCase: OrderCase) {
        #expect(Self.validatorVerdict(orderCase.bytes) == (orderCase.expected == nil ? .duplicateKeys : .accepted))
    }

    @Test("equal keys in other encodings hash alike, at any depth")
    func equalAcrossEncodings() {
        // Each pair is one term in two encodings, as a key twice in one map, and nested in a key.
        let pairs: [([UInt8], [UInt8])] = [
            (B.string([1, 2, 3]), B.list([B.smallInt(1), B.smallInt(2), B.smallInt(3)])),
            (B.list([B.smallInt(1), B.smallInt(2)]), B.list([B.smallInt(1)], tail: B.list([B.smallInt(2)]))),
            (B.list([B.smallInt(1)], tail: B.string([2, 3])), B.string([1, 2, 3])),
            (B.list([B.smallInt(1)], tail: B.atom("t")), [108, 0, 0, 0, 1, 97, 1] + [108, 0, 0, 0, 0] + B.atom("t")),
            (B.smallBig(negative: false, [0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), B.largeBig(negative: false, [0, 0, 0, 0, 0, 0, 0, 0, 1])),
            (B.int32(-1), B.smallBig(negative: true, [1])),
            (B.float(0.5), B.floatText("5.00000000000000000000e-01")),
            (B.smallLatin1Atom([0xE9, 0x74]), B.atomUTF8(Array("ét".utf8))),
            (B.binary([1, 2]), B.bitstring([1, 2], bits: 8)),
            (B.bitstring([0b1010_0000], bits: 3), B.bitstring([0b1011_1111], bits: 3)),
            (B.tuple(B.smallInt(1)), B.largeTuple([B.smallInt(1)])),
            (B.map([(B.atom("a"), B.smallInt(1)), (B.atom("b"), B.nil)]), B.map([(B.atom("b"), B.string([])), (B.latin1Atom([97]), B.smallInt(1))])),
            (B.pid(id: 1, serial: 2, creation: 3), B.oldPid(id: 1, serial: 2, creation: 3)),
            (B.port(id: 7, creation: 1), B.newPort(id: 7, creation: 1)),
            (B.ref(ids: [5]), B.ref(ids: [5, 0, 0])),
            (B.export("m", "f", 1), [113] + B.latin1Atom([109]) + B.atom("f") + B.smallInt(1)),
            (B.fun(module: "q", uniq: TermOrderCases.uniq(1), index: 4, oldIndex: 1, free: [B.smallInt(1)]),
             B.fun(module: "q", arity: 2, uniq: TermOrderCases.uniq(2), index: 4, oldIndex: 9, pid: B.pid(id: 9, serial: 9), free: [B.smallInt(1)])),
        ]
        for (index, (a, b)) in pairs.enumerated() {
            for (x, y) in [(a, b), (B.tuple(B.atom("k"), a), B.tuple(B.atom("k"), b)), (B.list([a]), B.list([b])), (B.map([(a, B.nil)]), B.map([(b, B.nil)]))] {
                let map = B.term(B.map([(x, B.smallInt(1)), (y, B.smallInt(2))]))
                #expect(Self.decoderVerdict(map) == .duplicateKeys, "pair \(index)")
                #expect(Self.validatorVerdict(map) == .duplicateKeys, "pair \(index)")
            }
        }
    }

    @Test("keys that differ only deep inside, or only in the order of a list, are distinct")
    func nearMisses() {
        let near: [([UInt8], [UInt8])] = [
            (B.list([B.smallInt(1), B.smallInt(2)]), B.list([B.smallInt(2), B.smallInt(1)])),
            (B.list([B.smallInt(1)], tail: B.smallInt(2)), B.list([B.smallInt(1), B.smallInt(2)])),
            (B.tuple(B.smallInt(1), B.tuple()), B.tuple(B.tuple(), B.smallInt(1))),
            (B.map([(B.atom("a"), B.smallInt(1))]), B.map([(B.atom("a"), B.smallInt(2))])),
            (B.float(0.0), B.float(-0.0)),
            (B.float(1.0), B.smallInt(1)),
            (B.bitstring([0b1010_0000], bits: 3), B.bitstring([0b1010_0000], bits: 4)),
            (B.ref(ids: [5, 1]), B.ref(ids: [5])),
        ]
        for (index, (a, b)) in near.enumerated() {
            #expect(Self.validatorVerdict(B.term(B.map([(a, B.nil), (b, B.nil)]))) == .accepted, "pair \(index)")
        }
    }

    @Test("a million levels of nesting, and the depth limit at the same place as the decoder's")
    func depth() {
        let deep = DecoderLimitTests.nestedLists(1_000_000)
        #expect(Self.validatorVerdict(deep) == .accepted)
        let limits = ETFLimits(maxDepth: 1000)
        #expect(Self.validatorVerdict(deep, limits: limits) == .failed(ETFError(offset: 1 + 5 * 1000, tag: 108, reason: .tooDeep(limit: 1000))))
        // Maps nested in keys: each level hashes its key.
        // Built outside in (each map's head), then the innermost key, then each value:
        // linear, where wrapping the term 100,000 times copies it each time.
        let levels = 100_000
        var keyed: [UInt8] = []
        keyed.reserveCapacity(levels * 7 + 1)
        for _ in 0..<levels { keyed += [116, 0, 0, 0, 1] }
        keyed += B.nil
        for _ in 0..<levels { keyed += B.smallInt(1) }
        Self.expectAgreement(B.term(keyed), "maps nested 100,000 deep in keys")
    }

    @Test("many maps with list keys sharing a long prefix are checked in linear time")
    func sharedPrefixKeys() {
        // Keys of 1,000 atoms then a distinct integer. Comparing each key with
        // the others, or rehashing the shared prefix per key, is quadratic in
        // the number of keys: 4 times the keys would take 16 times as long.
        func map(keys: Int) -> [UInt8] {
            let prefix = Array([[UInt8]](repeating: B.atom("a"), count: 1000).joined())
            var pairs: [UInt8] = []
            for i in 0..<keys { pairs += [108] + B.u32(1001) + prefix + B.int32(Int32(i)) + [106] + B.nil }
            return [131, 116] + B.u32(UInt32(keys)) + pairs
        }
        let small = map(keys: 250), large = map(keys: 1000)
        #expect(Self.validatorVerdict(large) == .accepted)
        let ratio = GrowthCheck.ratio(small: { _ = Self.validatorVerdict(small) }, large: { _ = Self.validatorVerdict(large) })
        print("validator: 4 times the keys sharing a 1,000-atom prefix took \(ratio) times as long")
        #expect(ratio < 8, "4 times the keys took \(ratio) times as long: worse than linear")
    }
}
