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
}
