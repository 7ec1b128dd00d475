/// What a run found for the sample at each place of a tick's samples list,
/// to try before a hash look-up: a process mostly keeps its place, and what
/// belongs to it, from one tick to the next. The caller checks a recalled
/// value against the sample, so a place another process took costs only
/// the look-up it would have made anyway.
///
/// Bounded: places past `placesKept` are not kept (docs/LIMITS.md).
struct PlaceMemo<Value> {
    /// Places remembered at most.
    static var placesKept: Int { 65_536 }

    private var values: [Value?] = []

    init() {}

    /// What was noted at `place`, if anything.
    @inline(__always)
    subscript(place: Int) -> Value? {
        place < values.count ? values[place] : nil
    }

    /// Notes `value` at `place` (nothing past `placesKept`).
    @inline(__always)
    mutating func note(_ value: Value, at place: Int) {
        guard place < Self.placesKept else { return }
        if place >= values.count {
            values.append(contentsOf: Array(repeating: nil, count: min(Self.placesKept, max(place + 1, values.count * 2)) - values.count))
        }
        values[place] = value
    }
}

extension PlaceMemo: Sendable where Value: Sendable {}
