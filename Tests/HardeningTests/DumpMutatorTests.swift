@testable import FuzzDumpHarness
import TestSupport
import Testing

/// The fuzzer's structure-aware mutations keep a dump framed, and reach
/// inside terms: what they make still gets past the frame reader.
@Suite("Fuzz: structure-aware dump mutations")
struct DumpMutatorTests {
    /// The header and first ticks of a real capture, framed.
    static func seed() throws -> [UInt8] {
        let bytes = try Fixtures.bytes(Fixtures.captures.appendingPathComponent("plain/plain-000000.flame"))
        return DumpMutator.join(Array(DumpMutator.split(bytes).prefix(6)))
    }

    @Test("every mutant of a real capture is still framed, most differ, and each kind of edit happens")
    func mutantsStayFramed() throws {
        let seed = try Self.seed()
        try #require(DumpMutator.split(seed).count == 6)
        var changed = 0, grown = 0, shrunk = 0, sameSize = 0
        for s in 0..<600 {
            var mutant = seed
            guard DumpMutator.mutate(&mutant, seed: UInt32(s), maxSize: 1 << 20) else { continue }
            #expect(!DumpMutator.split(mutant).isEmpty, "seed \(s): not framed")
            if mutant != seed { changed += 1 }
            if mutant.count > seed.count { grown += 1 } else if mutant.count < seed.count { shrunk += 1 } else { sameSize += 1 }
        }
        #expect(changed > 400, "\(changed) of 600 changed")
        #expect(grown > 50 && shrunk > 20 && sameSize > 20, "grown \(grown), shrunk \(shrunk), same size \(sameSize)")
    }

    @Test("term edits keep the term well formed: integers resized, lists and tuples grown or swapped")
    func termEditsStayWellFormed() throws {
        let frames = DumpMutator.split(try Self.seed())
        let tick = frames[1]
        var edited = 0
        for s in 0..<300 {
            var term = tick
            var random = DumpMutator.Random(seed: UInt32(s))
            guard DumpMutator.editTerm(&term, &random) else { continue }
            var integers: [Range<Int>] = [], containers: [DumpMutator.Container] = []
            #expect(DumpMutator.walk(term, from: 1, integers: &integers, containers: &containers) == term.count, "seed \(s)")
            if term != tick { edited += 1 }
        }
        #expect(edited > 200, "\(edited) of 300 edited")
    }

    @Test("the harness runs mutants through every format without crashing")
    func harnessRunsMutants() throws {
        let seed = try Self.seed()
        for s in 0..<40 {
            var mutant = seed
            _ = DumpMutator.mutate(&mutant, seed: UInt32(s * 7919), maxSize: 1 << 20)
            mutant.withUnsafeBytes { DumpHarness.run($0) }
        }
    }
}
