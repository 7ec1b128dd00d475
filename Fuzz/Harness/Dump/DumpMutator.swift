import ETF

/// FuzzDumpConvert's structure-aware mutations: edits a framed dump at the
/// level of frames and terms, so mutants stay well-formed deep enough to reach
/// the sample parser, the deltas and the outputs (byte flips mostly stop at
/// the frame reader or the term decoder).
///
/// Frame edits: swap two frames, duplicate one (a sample list seen twice, a
/// tick repeated), drop one. Term edits inside an uncompressed frame: an
/// integer written in another size (small, 32-bit, big) or set to an edge
/// value, a list or tuple grown by a copy of one of its elements, two
/// elements of one swapped. Lengths and counts are fixed after each edit.
public enum DumpMutator {
    /// A small, fast, deterministic generator (xorshift), seeded by libFuzzer.
    struct Random {
        var state: UInt64
        init(seed: UInt32) { state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1 }
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    }

    /// Mutates `data` in place; false when it is not a framed dump this can edit.
    public static func mutate(_ data: inout [UInt8], seed: UInt32, maxSize: Int) -> Bool {
        var random = Random(seed: seed)
        var frames = split(data)
        guard frames.count >= 2 else { return false }
        switch random.below(6) {
        case 0:
            let a = random.below(frames.count), b = random.below(frames.count)
            frames.swapAt(a, b)
        case 1:
            let a = random.below(frames.count)
            frames.insert(frames[a], at: random.below(frames.count + 1))
        case 2:
            frames.remove(at: random.below(frames.count))
        default:
            let index = random.below(frames.count)
            guard editTerm(&frames[index], &random) else { return false }
        }
        let joined = join(frames)
        guard joined.count <= maxSize else { return false }
        data = joined
        return true
    }

    /// The frames' bodies, or nothing when `data` is not length-prefixed frames to its end.
    static func split(_ data: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var at = 0
        while at + 4 <= data.count {
            let length = Int(data[at]) << 24 | Int(data[at + 1]) << 16 | Int(data[at + 2]) << 8 | Int(data[at + 3])
            guard at + 4 + length <= data.count else { return [] }
            frames.append(Array(data[(at + 4)..<(at + 4 + length)]))
            at += 4 + length
        }
        return at == data.count ? frames : []
    }

    static func join(_ frames: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for frame in frames {
            let n = UInt32(frame.count)
            out += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            out += frame
        }
        return out
    }

    /// A container met in a term: where its count is, how wide, and where each element starts and ends.
    struct Container {
        var countAt: Int
        var countWidth: Int
        var elements: [Range<Int>]
    }

    /// Edits one integer or one container of an uncompressed term.
    static func editTerm(_ term: inout [UInt8], _ random: inout Random) -> Bool {
        guard term.count > 1, term[0] == 131, term[1] != 80 else { return false }
        var integers: [Range<Int>] = []
        var containers: [Container] = []
        guard walk(term, from: 1, integers: &integers, containers: &containers) != nil else { return false }
        if random.below(2) == 0, !integers.isEmpty {
            let range = integers[random.below(integers.count)]
            term.replaceSubrange(range, with: integer(value(term, range), &random))
            return true
        }
        let candidates = containers.filter { !$0.elements.isEmpty }
        guard !candidates.isEmpty else { return false }
        let container = candidates[random.below(candidates.count)]
        if random.below(2) == 0 || container.elements.count < 2 {
            // Grow: a copy of one element after the last one, and one more in the count.
            let element = container.elements[random.below(container.elements.count)]
            let copy = Array(term[element])
            term.insert(contentsOf: copy, at: container.elements.last!.upperBound)
            let count = readCount(term, container) + 1
            guard count < (container.countWidth == 1 ? 256 : 1 << 32) else { return false }
            writeCount(&term, container, count)
        } else {
            let a = random.below(container.elements.count - 1)
            let first = container.elements[a], second = container.elements[a + 1]
            let swapped = Array(term[second]) + Array(term[first])
            term.replaceSubrange(first.lowerBound..<second.upperBound, with: swapped)
        }
        return true
    }

    /// Walks the term at `at`, noting integers and containers; the end of the
    /// term, or nil when it is not well formed or nests deeper than 200 (the
    /// walk recurses, and a fuzzer's input may nest 60,000 deep).
    static func walk(_ term: [UInt8], from at: Int, depth: Int = 0, integers: inout [Range<Int>], containers: inout [Container]) -> Int? {
        guard depth < 200, at < term.count else { return nil }
        func u32(_ p: Int) -> Int? {
            p + 4 <= term.count ? Int(term[p]) << 24 | Int(term[p + 1]) << 16 | Int(term[p + 2]) << 8 | Int(term[p + 3]) : nil
        }
        func u16(_ p: Int) -> Int? { p + 2 <= term.count ? Int(term[p]) << 8 | Int(term[p + 1]) : nil }
        func u8(_ p: Int) -> Int? { p < term.count ? Int(term[p]) : nil }
        let end: Int
        switch term[at] {
        case 97: end = at + 2; integers.append(at..<end)
        case 98: end = at + 5; integers.append(at..<end)
        case 110:
            guard let n = u8(at + 1) else { return nil }
            end = at + 3 + n
            if n <= 8 { integers.append(at..<end) }
        case 106: end = at + 1
        case 70: end = at + 9
        case 119, 115: guard let n = u8(at + 1) else { return nil }; end = at + 2 + n
        case 118, 100, 107: guard let n = u16(at + 1) else { return nil }; end = at + 3 + n
        case 109: guard let n = u32(at + 1) else { return nil }; end = at + 5 + n
        case 88: guard let rest = atomEnd(term, at + 1) else { return nil }; end = rest + 12
        case 103: guard let rest = atomEnd(term, at + 1) else { return nil }; end = rest + 9
        case 111: guard let n = u32(at + 1) else { return nil }; end = at + 6 + n
        case 77: guard let n = u32(at + 1) else { return nil }; end = at + 6 + n
        case 116, 113:
            // A map's pairs, an export's three parts: walked, not edited as a whole.
            let parts: Int
            var p: Int
            if term[at] == 116 {
                guard let n = u32(at + 1), n <= term.count else { return nil }
                parts = 2 * n
                p = at + 5
            } else {
                parts = 3
                p = at + 1
            }
            for _ in 0..<parts {
                guard let next = walk(term, from: p, depth: depth + 1, integers: &integers, containers: &containers) else { return nil }
                p = next
            }
            end = p
        case 90:
            guard let n = u16(at + 1), let rest = atomEnd(term, at + 3) else { return nil }
            end = rest + 4 * n
        case 104:
            guard let n = u8(at + 1) else { return nil }
            return container(term, countAt: at + 1, width: 1, count: n, list: false, depth: depth, &integers, &containers)
        case 105, 108:
            guard let n = u32(at + 1), n <= term.count else { return nil }
            return container(term, countAt: at + 1, width: 4, count: n, list: term[at] == 108, depth: depth, &integers, &containers)
        default:
            return nil  // other tags (maps, funs, ports …) are left alone
        }
        return end <= term.count ? end : nil
    }

    /// A tuple's or list's elements (and a list's tail, which is not one), after its count.
    private static func container(_ term: [UInt8], countAt: Int, width: Int, count: Int, list: Bool, depth: Int,
                                  _ integers: inout [Range<Int>], _ containers: inout [Container]) -> Int? {
        let index = containers.count
        containers.append(Container(countAt: countAt, countWidth: width, elements: []))
        var at = countAt + width
        for _ in 0..<count {
            guard let end = walk(term, from: at, depth: depth + 1, integers: &integers, containers: &containers) else { return nil }
            containers[index].elements.append(at..<end)
            at = end
        }
        if list {
            guard let end = walk(term, from: at, depth: depth + 1, integers: &integers, containers: &containers) else { return nil }
            at = end
        }
        return at
    }

    static func atomEnd(_ term: [UInt8], _ at: Int) -> Int? {
        guard at < term.count else { return nil }
        switch term[at] {
        case 119, 115: return at + 1 < term.count ? at + 2 + Int(term[at + 1]) : nil
        case 118, 100: return at + 2 < term.count ? at + 3 + (Int(term[at + 1]) << 8 | Int(term[at + 2])) : nil
        default: return nil
        }
    }

    static func readCount(_ term: [UInt8], _ c: Container) -> Int {
        c.countWidth == 1 ? Int(term[c.countAt])
            : Int(term[c.countAt]) << 24 | Int(term[c.countAt + 1]) << 16 | Int(term[c.countAt + 2]) << 8 | Int(term[c.countAt + 3])
    }

    static func writeCount(_ term: inout [UInt8], _ c: Container, _ count: Int) {
        if c.countWidth == 1 {
            term[c.countAt] = UInt8(count)
        } else {
            for k in 0..<4 { term[c.countAt + k] = UInt8(truncatingIfNeeded: count >> (24 - 8 * k)) }
        }
    }

    /// The value of an integer term (a small big of at most 8 bytes saturates).
    static func value(_ term: [UInt8], _ range: Range<Int>) -> Int64 {
        let at = range.lowerBound
        switch term[at] {
        case 97: return Int64(term[at + 1])
        case 98: return Int64(Int32(bitPattern: UInt32(term[at + 1]) << 24 | UInt32(term[at + 2]) << 16 | UInt32(term[at + 3]) << 8 | UInt32(term[at + 4])))
        default:
            let n = Int(term[at + 1]), negative = term[at + 2] == 1
            var magnitude: UInt64 = 0
            for k in stride(from: n - 1, through: 0, by: -1) { magnitude = magnitude << 8 | UInt64(term[at + 3 + k]) }
            let bounded = Int64(clamping: magnitude)
            return negative ? -bounded : bounded
        }
    }

    /// The same value in another size, or an edge value, as an integer term.
    static func integer(_ value: Int64, _ random: inout Random) -> [UInt8] {
        let edges: [Int64] = [0, 1, -1, 255, 256, Int64(Int32.max), Int64(Int32.min), Int64.max, Int64.min, value &+ 1, value &- 1, -value]
        let chosen = random.below(3) == 0 ? edges[random.below(edges.count)] : value
        switch random.below(3) {
        case 0 where (0...255).contains(chosen):
            return [97, UInt8(chosen)]
        case 1 where (Int64(Int32.min)...Int64(Int32.max)).contains(chosen):
            let bits = UInt32(bitPattern: Int32(chosen))
            return [98, UInt8(bits >> 24), UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 8), UInt8(truncatingIfNeeded: bits)]
        default:
            var magnitude = chosen.magnitude
            var digits: [UInt8] = []
            repeat {
                digits.append(UInt8(truncatingIfNeeded: magnitude))
                magnitude >>= 8
            } while magnitude > 0
            return [110, UInt8(digits.count), chosen < 0 ? 1 : 0] + digits
        }
    }
}
