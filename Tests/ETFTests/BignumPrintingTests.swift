@testable import ETF
import Foundation
import TestSupport
import Testing

/// Big integers print as `~w` prints them, in subquadratic time: the transforms,
/// the base-10^18 arithmetic and the split conversion, each against a plain
/// quadratic reference, then the largest integer Erlang allows, timed.
@Suite("Big integer printing")
struct BignumPrintingTests {
    typealias B = ETFBytes

    /// Decimal text of a little-endian magnitude by repeated division by 10^9:
    /// the old, quadratic method, as the reference.
    static func referenceDecimal(_ magnitude: [UInt8]) -> String {
        var limbs: [UInt32] = stride(from: 0, to: magnitude.count, by: 4).map { start in
            (0..<4).reduce(UInt32(0)) { limb, shift in
                start + shift < magnitude.count ? limb | UInt32(magnitude[start + shift]) << (8 * shift) : limb
            }
        }
        while limbs.last == 0 { limbs.removeLast() }
        if limbs.isEmpty { return "0" }
        var chunks: [UInt32] = []
        while !limbs.isEmpty {
            var remainder: UInt64 = 0
            for i in stride(from: limbs.count - 1, through: 0, by: -1) {
                let current = remainder << 32 | UInt64(limbs[i])
                limbs[i] = UInt32(current / 1_000_000_000)
                remainder = current % 1_000_000_000
            }
            chunks.append(UInt32(remainder))
            while limbs.last == 0 { limbs.removeLast() }
        }
        return String(chunks.last!) + chunks.dropLast().reversed().map { chunk in
            let digits = String(chunk)
            return String(repeating: "0", count: 9 - digits.count) + digits
        }.joined()
    }

    static func printedBig(negative: Bool, _ magnitude: [UInt8]) throws -> String {
        let term = try CorpusPrinting.decode(B.term(B.largeBig(negative: negative, magnitude))).get()
        return latin1String(CorpusPrinting.print(term))
    }

    static func randomMagnitude(bytes: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        var magnitude = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        if bytes > 0 { magnitude[bytes - 1] |= 1 }  // keep the length
        return magnitude
    }

    @Test("the transform inverts, and multiplies like schoolbook")
    func transform() {
        var generator = SplitMix64(seed: 1)
        var ntt = GoldilocksNTT()
        #expect(GoldilocksNTT.power(GoldilocksNTT.rootOfUnity(length: 1 << 20), 1 << 19) == GoldilocksNTT.p - 1)
        for length in [2, 4, 64, 1024] {
            let values = (0..<length).map { _ in UInt64.random(in: 0..<GoldilocksNTT.p, using: &generator) }
            var copy = values
            copy.withUnsafeMutableBufferPointer { ntt.forward($0) }
            copy.withUnsafeMutableBufferPointer { ntt.inverse($0) }
            #expect(copy == values, "length \(length)")
        }
        // Modular products near p against UInt128 arithmetic.
        for _ in 0..<1000 {
            let a = UInt64.random(in: (GoldilocksNTT.p - 1000)..<GoldilocksNTT.p, using: &generator)
            let b = UInt64.random(in: 0..<GoldilocksNTT.p, using: &generator)
            #expect(GoldilocksNTT.multiply(a, b) == UInt64((UInt128(a) * UInt128(b)) % UInt128(GoldilocksNTT.p)))
        }
        for (a, b) in [(60, 41), (41, 41), (300, 45), (1000, 1000)] {
            let x = (0..<a).map { _ in UInt64.random(in: 0..<DecimalLimbArithmetic.base, using: &generator) }
            let y = (0..<b).map { _ in UInt64.random(in: 0..<DecimalLimbArithmetic.base, using: &generator) }
            let length = DecimalLimbArithmetic.transformLength(x.count, y.count)
            let spectrum = DecimalLimbArithmetic.spectrum(of: y, length: length, using: &ntt)
            #expect(DecimalLimbArithmetic.multiply(x, spectrum: spectrum, using: &ntt) == DecimalLimbArithmetic.schoolbook(x, y), "\(a) x \(b)")
            #expect(DecimalLimbArithmetic.square(x, using: &ntt) == DecimalLimbArithmetic.schoolbook(x, x), "\(a) squared")
        }
        // All nines: every limb product carries as far as it can.
        let nines = [UInt64](repeating: DecimalLimbArithmetic.base - 1, count: 200)
        #expect(DecimalLimbArithmetic.square(nines, using: &ntt) == DecimalLimbArithmetic.schoolbook(nines, nines))
    }

    @Test("random magnitudes of every size around the split points print as the reference does")
    func randomSizes() throws {
        var generator = SplitMix64(seed: 2)
        let leaf = 8 * BignumDecimalConversion.leafLimbs
        var sizes = Array(1...40) + [255, 256, 257, 1000, 3000]
        for k in 0..<7 { sizes += [leaf << k - 1, leaf << k, leaf << k + 1, (leaf << k) + 8] }
        for bytes in sizes {
            let magnitude = Self.randomMagnitude(bytes: bytes, using: &generator)
            let negative = Bool.random(using: &generator)
            #expect(try Self.printedBig(negative: negative, magnitude) == (negative ? "-" : "") + Self.referenceDecimal(magnitude), "\(bytes) bytes")
        }
    }

    @Test("powers of two and of ten, and their neighbours, at limb boundaries")
    func boundaries() throws {
        func bytes(ofDecimal text: String) -> [UInt8] {
            // Decimal text to little-endian bytes, by repeated multiplication (test sizes only).
            var magnitude: [UInt8] = []
            for digit in text.utf8 {
                var carry = Int(digit - 48)
                for i in magnitude.indices {
                    let value = Int(magnitude[i]) * 10 + carry
                    magnitude[i] = UInt8(value & 0xFF)
                    carry = value >> 8
                }
                while carry > 0 {
                    magnitude.append(UInt8(carry & 0xFF))
                    carry >>= 8
                }
            }
            return magnitude
        }
        for digits in [18, 19, 36, 37, 54, 360, 1000] {
            let power = "1" + String(repeating: "0", count: digits)
            let belowPower = String(repeating: "9", count: digits)
            for text in [power, belowPower] {
                #expect(try Self.printedBig(negative: false, bytes(ofDecimal: text)) == text)
            }
        }
        for limbs in [16, 17, 32, 64, 65, 128] {
            let power = [UInt8](repeating: 0, count: 8 * limbs) + [1]
            let belowPower = [UInt8](repeating: 0xFF, count: 8 * limbs)
            #expect(try Self.printedBig(negative: true, power) == "-" + Self.referenceDecimal(power), "2^(64*\(limbs))")
            #expect(try Self.printedBig(negative: false, belowPower) == Self.referenceDecimal(belowPower), "2^(64*\(limbs))-1")
        }
        // High zero bytes do not change the value.
        #expect(try Self.printedBig(negative: false, [5, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == "5")
    }

    /// 2^4194303 - 1: half a megabyte, 1,262,612 digits. Repeated division took a
    /// minute; this takes a few seconds in a debug build. (Erlang's largest integer,
    /// 2^33554367 - 1, eight times longer, prints in about 2 s in a release build.)
    @Test("a half-megabyte integer prints in seconds", .timeLimit(.minutes(1)))
    func halfMegabyte() throws {
        let magnitude = [UInt8](repeating: 0xFF, count: 524_287) + [0x7F]
        let term = try CorpusPrinting.decode(B.term(B.largeBig(negative: false, magnitude))).get()
        let start = ContinuousClock.now
        let text = CorpusPrinting.print(term)
        print("bignum: 2^4194303-1 printed in \(ContinuousClock.now - start)")
        // Length and first digits from 4194303 * log10(2), the last ones from 2^4194303 mod 10^12.
        #expect(text.count == 1_262_612)
        #expect(latin1String(text.prefix(12)) == "103253176991")
        #expect(latin1String(text.suffix(12)) == "349197099007")
    }

    @Test(
        "big integers print as erl prints them",
        .enabled(if: LiveBEAMTests.erlangAvailable, "erl not on PATH"),
        .timeLimit(.minutes(2)))
    func matchesErl() throws {
        // Values erl makes and prints itself; flameconv reads term_to_binary's bytes.
        let expressions = [
            "(1 bsl 100000) - 1", "-(1 bsl 65536)", "7 * pow(10, 20000) + 3", "pow(3, 40000)",
            "-(pow(10, 4500) - 1)", "binary:decode_unsigned(crypto:hash(sha512, <<1>>)) bsl 70000 + 12345",
        ]
        let program = """
            Pow = fun P(_, 0) -> 1; P(B, E) -> B * P(B, E - 1) end,
            lists:foreach(fun(E) ->
                {ok, Tokens, _} = erl_scan:string(E ++ "."), {ok, [Expr]} = erl_parse:parse_exprs(Tokens),
                {value, V, _} = erl_eval:expr(Expr, #{}, {value, fun(pow, [B, X]) -> Pow(B, X) end}),
                io:format("~s~n~w~n", [binary:encode_hex(term_to_binary(V)), V])
            end, [\(expressions.map { "\"\($0)\"" }.joined(separator: ", "))]),
            halt().
            """
        let run = try Subprocess.run([Subprocess.onPath("erl")!, "-noshell", "-eval", program])
        try #require(run.status == 0, "erl failed: \(run.log)")
        let lines = CorpusSet.splitLines(run.stdout)
        try #require(lines.count == 2 * expressions.count, "\(run.log)")
        for i in 0..<expressions.count {
            let hex = latin1String(lines[2 * i])
            let bytes = stride(from: 0, to: hex.count, by: 2).map { offset -> UInt8 in
                let start = hex.index(hex.startIndex, offsetBy: offset)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
            }
            let term = try CorpusPrinting.decode(bytes).get()
            #expect(CorpusPrinting.print(term) == lines[2 * i + 1], "\(expressions[i])")
        }
    }
}

/// A small seeded generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
