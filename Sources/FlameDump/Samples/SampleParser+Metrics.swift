import ETF
import FlameModel

extension SampleParser {
    /// `garbage_collection_info`: `[{Name, Integer}]`, each entry a catalogue
    /// metric (counted in words), in the node's order.
    mutating func garbageCollectionInfo(_ reader: inout ETFReader, _ symbols: inout Symbols, _ catalogue: inout MetricCatalogue) throws {
        let count: Int
        switch try reader.readListStart() {
        case .empty: count = 0  // `[]`: no entries, still a list
        case .cons(let n): count = n
        case .bytes: throw ShapeError(reason: "garbage_collection_info is not a list")
        }
        for position in 0..<count {
            guard try reader.readTupleArity() == 2 else { throw ShapeError(reason: "garbage_collection_info entry is not a pair") }
            let name = try atom(&reader, &symbols, memoAt: AtomPlace.garbageCollectionInfo + position)
            let tag = reader.remaining > 0 ? reader.byte(at: reader.position) : 0
            guard tag == ETFTag.smallInteger || tag == ETFTag.integer || tag == ETFTag.smallBig else {
                try reader.skipTerm()  // not an integer: not a metric
                continue
            }
            let at = reader.position
            let value = try reader.readInt64()
            guard let metric = garbageCollectionMetric(name, symbols, &catalogue) else {
                templates.spoil()  // replaying it would not count the entry left out
                if symbols.nameText(name).utf8.count > MetricCatalogue.maxNameBytes {
                    note(.metricNameTooLong)
                } else {
                    note(.metricEntryDropped)
                }
                continue
            }
            setMetric(metric, value, at: at)
            presentInGC.insert(metric)
        }
        if count > 0 {
            guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "garbage_collection_info is improper") }
        }
    }

    /// The catalogue metric of a `garbage_collection_info` name (by name id:
    /// an index, not a hash, per entry per sample); nil when the catalogue is full
    /// or the name is longer than `MetricCatalogue.maxNameBytes`.
    @inline(__always)
    private mutating func garbageCollectionMetric(_ name: UInt32, _ symbols: Symbols, _ catalogue: inout MetricCatalogue) -> MetricID? {
        let index = Int(name)
        if index < gcMetricByName.count, gcMetricByName[index] >= 0 { return MetricID(Int(gcMetricByName[index])) }
        if index < gcMetricByName.count, gcMetricByName[index] == -2 { return nil }
        if index >= gcMetricByName.count { gcMetricByName.append(contentsOf: repeatElement(-1, count: index + 1 - gcMetricByName.count)) }
        let text = symbols.nameText(name)
        guard text.utf8.count <= MetricCatalogue.maxNameBytes, let id = catalogue.intern(text, unit: .words, kind: .gauge) else {
            gcMetricByName[index] = -2
            return nil
        }
        catalogue.noteGarbageCollectionEntry(id)
        gcMetricByName[index] = Int16(id.index)
        return id
    }

    /// Walks a proplist `[{Key, Value}]`, handing `body` each atom key it
    /// knows (`minor_gcs`, `'$initial_call'` …) and skipping the rest.
    mutating func forEachPair(_ reader: inout ETFReader, _ list: PairList, _ body: (inout SampleParser, inout ETFReader, SampleKey) throws -> Void) throws {
        guard case .cons(let count) = try reader.readListStart() else { return }
        let memo = list.memoPositions
        for index in 0..<count {
            guard try reader.readTupleArity() == 2 else { throw ShapeError(reason: "list entry is not a pair") }
            var known: SampleKey?
            if reader.remaining > 0, Self.isAtomTag(reader.byte(at: reader.position)) {
                let key = try reader.readAtom()
                let position = memo.lowerBound + index < memo.upperBound ? memo.lowerBound + index : Int.max
                known = pairKeyMemo.lookup(reader.slice(key.start, key.count), at: position, in: keyNames).flatMap { SampleKey(rawValue: $0) }
            } else {
                try reader.skipTerm()
            }
            if let known {
                try body(&self, &reader, known)
            } else {
                try reader.skipTerm()
            }
        }
        guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "list is improper") }
    }

    static func isAtomTag(_ tag: UInt8) -> Bool {
        tag == ETFTag.smallAtomUTF8 || tag == ETFTag.atomUTF8 || tag == ETFTag.smallAtom || tag == ETFTag.atom
    }
}


/// The proplists `forEachPair` walks, each with its places in `pairKeyMemo`.
enum PairList {
    case garbageCollection, dictionary

    var memoPositions: Range<Int> {
        switch self {
        case .garbageCollection: return 0..<16
        // A process dictionary's first entries: the agent asks for the two keys it reads first.
        case .dictionary: return 16..<48
        }
    }
}

/// Places in `atomMemo`: one per item holding an atom, then one per
/// `garbage_collection_info` entry.
enum AtomPlace {
    static let status = 0
    static let registeredName = 1
    static let garbageCollectionInfo = 2
}
