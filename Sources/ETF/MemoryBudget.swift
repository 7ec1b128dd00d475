/// The bytes reading one term holds at once, kept within `ETFLimits.maxTermMemory`.
///
/// Storage is charged before it is allocated and released once freed. A buffer
/// that grows is charged for its new size while the old one is still counted,
/// since both exist while it is copied. So the sum never passes the limit, and
/// reaching it is an error that says what would have passed it.
struct MemoryBudget {
    let limit: Int
    private(set) var held: Int

    init(limit: Int, held: Int) {
        self.limit = limit
        self.held = held
    }

    /// Bytes that can still be charged.
    var available: Int { max(0, limit - held) }

    /// Charges `bytes`; false, charging nothing, when that would pass the limit.
    mutating func charge(_ bytes: Int) -> Bool {
        guard bytes <= available else { return false }
        held += bytes
        return true
    }

    mutating func release(_ bytes: Int) {
        held -= bytes
    }

    func exceeded(adding bytes: Int, _ purpose: String) -> ETFError.Reason {
        .overMemoryBudget(limit: limit, needed: held + bytes, purpose: purpose)
    }

    /// Grows `array` to hold at least `minimum` elements: to `preferred` when the
    /// budget allows, else to as many as it allows, never below `minimum`.
    /// Returns the reason when even `minimum` does not fit; `purpose` names the
    /// storage for that message, given the element count that did not fit.
    mutating func reserve<Element>(_ array: inout [Element], minimum: Int, preferred: Int, purpose: (Int) -> String) -> ETFError.Reason? {
        let old = array.capacity
        guard old < minimum else { return nil }
        let size = MemoryLayout<Element>.stride
        let affordable = available / size
        let target = min(max(minimum, preferred), max(minimum, affordable))
        guard charge(target * size) else { return exceeded(adding: target * size, purpose(target)) }
        array.reserveCapacity(target)
        // malloc may round the block up; count what the array really holds.
        held += (array.capacity - target) * size
        release(old * size)
        return nil
    }
}
