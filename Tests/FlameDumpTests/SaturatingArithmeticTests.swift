@testable import FlameDump
import Testing

@Suite("Saturating arithmetic on dump values")
struct SaturatingArithmeticTests {
    @Test("add, subtract, negate: exact inside the range, the nearest end outside it")
    func basics() {
        #expect(Int64(5).saturatingAdding(-7) == -2)
        #expect(Int64.max.saturatingAdding(1) == .max)
        #expect(Int64.min.saturatingAdding(-1) == .min)
        #expect(Int64.max.saturatingAdding(.min) == -1)
        #expect(Int64(-1).saturatingSubtracting(.max) == .min)
        #expect(Int64(0).saturatingSubtracting(.min) == .max)
        #expect(Int64.max.saturatingSubtracting(.min) == .max)
        #expect(Int64.min.saturatingSubtracting(.max) == .min)
        #expect(Int64.min.saturatingNegation == .max)
        #expect(Int64.max.saturatingNegation == -Int64.max)
        #expect(Int64(0).saturatingNegation == 0)
    }

    @Test("base + (a - b): exact whenever the result fits, even when a - b alone does not",
          arguments: [
              (Int64(10), Int64(5), Int64(3), Int64(12)),
              (-200, .max, -100, .max - 100),  // a - b overflows, the sum fits
              (.min, .max - 1, .min, .max - 1),  // a - b is 2^64 - 2; the sum is one below the top
              (0, .max, .min, .max),  // 2^64 - 1: past the top
              (.max, .max, .min, .max),
              (1, .min, .max, .min),  // -(2^64 - 1) + 1: past the bottom
              (.max, .min, 1, -2),  // a - b is 1 below Int64.min; the sum fits
              (.max, .min, .max, .min),  // exactly the bottom
              (.min, .min, .max, .min),
              (.min, 0, .min, 0),
              (.max, 0, 1, .max - 1),
              (.max, 1, 0, .max),
              (.min, -1, 0, .min),
          ] as [(Int64, Int64, Int64, Int64)])
    func offset(base: Int64, a: Int64, b: Int64, expected: Int64) {
        #expect(base.saturatingAdding(a, minus: b) == expected)
    }

    static func header(startedAt: Int64, monotonicStart: Int64) -> DumpHeader {
        DumpHeader(node: nil, otpRelease: nil, startedAt: startedAt, monotonicStart: monotonicStart, sampleIntervalMs: nil, capture: nil, seq: 0, agent: nil)
    }

    @Test("wall time: started_at + (Ts - monotonic_start), saturating at the ends of Int64")
    func wallMicros() {
        let real = Self.header(startedAt: 1_795_582_443_222_658, monotonicStart: -576_460_750_909_185)
        #expect(real.wallMicros(-576_460_750_896_972) == 1_795_582_443_234_871)
        // started_at = Int64.max, Ts after monotonic_start: past the top.
        #expect(Self.header(startedAt: .max, monotonicStart: -576_460_750_909_185).wallMicros(-576_460_750_896_972) == .max)
        // monotonic_start = Int64.min: Ts - monotonic_start is past the top by itself.
        #expect(Self.header(startedAt: 1_795_582_443_222_658, monotonicStart: .min).wallMicros(-576_460_750_896_972) == .max)
        // Ts = Int64.min: far in the past, but it fits.
        #expect(real.wallMicros(.min) == 1_795_582_443_222_658 + (Int64.min + 576_460_750_909_185))
        // Exact at the bottom.
        #expect(Self.header(startedAt: .min, monotonicStart: 5).wallMicros(5) == .min)
        #expect(Self.header(startedAt: .min, monotonicStart: 5).wallMicros(4) == .min)
    }
}
