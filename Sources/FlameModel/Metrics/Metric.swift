/// One entry of the metric catalogue: what a number in a sample means.
public struct Metric: Sendable, Equatable {
    /// What one unit of the value is.
    public enum Unit: String, Sendable, CaseIterable {
        case count, words, bytes, reductions, messages
        /// Reductions per second (a derived rate).
        case reductionsPerSecond = "reductions/s"
    }

    /// How the value behaves over time. Both kinds get a delta per process:
    /// a counter's delta is what happened since the process's last sample
    /// (with flame_prof's rules for reductions and minor GCs), a gauge's is
    /// how far it moved.
    public enum Kind: String, Sendable {
        case gauge, counter
    }

    /// A metric computed from a sampled one at event time.
    public enum Derivation: Sendable, Equatable {
        /// The source's value and delta in words, times the capture's word size.
        case bytes(of: MetricID)
        /// The source counter's delta over the seconds since the process's previous sample.
        case perSecond(of: MetricID)
    }

    public var name: String
    public var unit: Unit
    public var kind: Kind
    /// How a derived metric is computed; nil for a sampled one.
    public var derivation: Derivation?

    public init(name: String, unit: Unit, kind: Kind, derivation: Derivation? = nil) {
        self.name = name
        self.unit = unit
        self.kind = kind
        self.derivation = derivation
    }
}

/// A metric's place in the catalogue: stable for a whole run.
@frozen
public struct MetricID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let index: Int

    @inlinable @inline(__always)
    public init(_ index: Int) {
        self.index = index
    }

    public static func < (a: MetricID, b: MetricID) -> Bool { a.index < b.index }
    public var description: String { "#\(index)" }
}

/// A set of metrics, one bit each: which metrics a sample holds.
@frozen
public struct MetricSet: Sendable, Hashable, Sequence {
    public var rawValue: UInt64

    @inlinable @inline(__always)
    public init(rawValue: UInt64 = 0) { self.rawValue = rawValue }

    public init(_ ids: [MetricID]) {
        rawValue = 0
        for id in ids { insert(id) }
    }

    @inlinable public var isEmpty: Bool { rawValue == 0 }

    public func union(_ other: MetricSet) -> MetricSet { MetricSet(rawValue: rawValue | other.rawValue) }
    public func intersection(_ other: MetricSet) -> MetricSet { MetricSet(rawValue: rawValue & other.rawValue) }
    public func subtracting(_ other: MetricSet) -> MetricSet { MetricSet(rawValue: rawValue & ~other.rawValue) }

    @inlinable @inline(__always)
    public init(_ id: MetricID) { rawValue = 1 << UInt64(id.index) }

    @inlinable @inline(__always)
    public func contains(_ id: MetricID) -> Bool { rawValue & (1 << UInt64(id.index)) != 0 }

    @inlinable @inline(__always)
    public mutating func insert(_ id: MetricID) { rawValue |= 1 << UInt64(id.index) }

    public var count: Int { rawValue.nonzeroBitCount }

    /// How many members come before `id`: where its value sits in a dense vector.
    @inlinable @inline(__always)
    public func rank(of id: MetricID) -> Int {
        (rawValue & ((1 << UInt64(id.index)) &- 1)).nonzeroBitCount
    }

    /// Members in catalogue order.
    @frozen
    public struct Iterator: IteratorProtocol {
        @usableFromInline var bits: UInt64

        @inlinable init(bits: UInt64) { self.bits = bits }

        @inlinable @inline(__always)
        public mutating func next() -> MetricID? {
            guard bits != 0 else { return nil }
            let index = bits.trailingZeroBitCount
            bits &= bits &- 1
            return MetricID(index)
        }
    }

    @inlinable @inline(__always)
    public func makeIterator() -> Iterator { Iterator(bits: rawValue) }
}
