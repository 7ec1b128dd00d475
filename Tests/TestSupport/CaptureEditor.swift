import ETF
import Foundation

/// A real capture with single values changed: ETFReader finds where a value
/// lies inside a frame's term, `ETFBytes` encodes the new one, and the frame's
/// length prefix follows. Everything else stays the capture's bytes.
public struct CaptureEditor: Sendable {
    /// Each frame's term, version byte first.
    public private(set) var terms: [[UInt8]]
    /// Indices in `terms` of the `{samples, Ts, List}` ticks.
    public private(set) var ticks: [Int]

    /// The frames of a framed dump (the whole ones).
    public init(_ bytes: [UInt8]) {
        let terms = ETFBytes.frames(in: bytes).map { Array($0.term) }
        self.terms = terms
        ticks = terms.indices.filter { Self.locate(terms[$0], Self.tickTs) != nil }
    }

    /// `Fixtures/captures/NAME`, one editor per file in `seq` order.
    public static func capture(_ name: String) throws -> [CaptureEditor] {
        let dir = Fixtures.captures.appendingPathComponent(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".flame") }.sorted()
        return try files.map { CaptureEditor(try Fixtures.bytes(dir.appendingPathComponent($0))) }
    }

    /// The framed dump.
    public var bytes: [UInt8] { ETFBytes.framed(terms) }

    // MARK: Reading

    /// The header's `key`.
    public func header(_ key: String) -> Int64 { integer(in: terms[0], at: Self.headerValue(key)) }
    /// Tick number `n`'s Ts.
    public func tickTs(_ n: Int) -> Int64 { integer(in: terms[ticks[n]], at: Self.tickTs) }

    /// How many samples tick number `n` holds.
    public func sampleCount(tick n: Int) -> Int {
        Self.locate(terms[ticks[n]]) { (r: inout ETFReader) throws(ETFError) in
            guard try Self.tickTs(&r) != nil, case .cons(let count) = try r.readListStart() else { return 0..<0 }
            return 0..<count
        }?.count ?? 0
    }

    // MARK: Editing

    /// The header's `key` (an existing one) set to `value`.
    public mutating func setHeader(_ key: String, _ value: Int64) {
        setHeader(key, encoded: ETFBytes.int(value))
    }

    /// The header's `key` (an existing one) set to `encoded` (a term without version byte).
    public mutating func setHeader(_ key: String, encoded: [UInt8]) {
        replace(0, at: Self.headerValue(key), with: encoded)
    }

    /// The trailer's (the last term's) `key` set to `value`.
    public mutating func setTrailer(_ key: String, _ value: Int64) {
        replace(terms.count - 1, at: Self.trailerValue(key), with: ETFBytes.int(value))
    }

    /// Tick number `n`'s Ts set to `value`.
    public mutating func setTickTs(_ n: Int, _ value: Int64) {
        replace(ticks[n], at: Self.tickTs, with: ETFBytes.int(value))
    }

    /// Item `item` of every sample of tick number `n` set to `encoded` (a term without version byte).
    public mutating func setItem(tick n: Int, _ item: String, _ encoded: [UInt8]) {
        let index = ticks[n]
        var sample = 0
        while let range = Self.locate(terms[index], Self.itemValue(sample: sample, item)) {
            terms[index].replaceSubrange(range, with: encoded)
            sample += 1
        }
        precondition(sample > 0, "tick \(n) has no sample with \(item)")
    }

    /// Item `item` of sample `sample` of tick number `n` set to `encoded`.
    public mutating func setItem(tick n: Int, sample: Int, _ item: String, _ encoded: [UInt8]) {
        replace(ticks[n], at: Self.itemValue(sample: sample, item), with: encoded)
    }

    /// Sample `sample` of tick number `n` given the pid `<0.number.serial>`.
    public mutating func setPid(tick n: Int, sample: Int, number: UInt32, serial: UInt32) {
        replace(ticks[n], at: Self.samplePid(sample), with: ETFBytes.samplePid(number, serial))
    }

    /// Copies of tick number `n` inserted after the last tick, Ts `step` apart
    /// from the last one's; each is handed to `edit` with its tick number first.
    public mutating func appendCopies(of n: Int, count: Int, step: Int64, edit: (inout CaptureEditor, Int) -> Void = { _, _ in }) {
        let source = terms[ticks[n]]
        var last = ticks.count - 1
        var ts = tickTs(last)
        var at = ticks[last] + 1
        for _ in 0..<count {
            ts += step
            terms.insert(source, at: at)
            for i in ticks.indices where ticks[i] >= at { ticks[i] += 1 }
            ticks.insert(at, at: last + 1)
            last += 1
            at += 1
            setTickTs(last, ts)
            edit(&self, last)
        }
    }

    /// Only ticks number `kept` (in that order) between the header and the last term (the trailer);
    /// the other terms between them go too.
    public mutating func keepTicks(_ kept: [Int]) {
        terms = [terms[0]] + kept.map { terms[ticks[$0]] } + [terms[terms.count - 1]]
        ticks = Array(1..<(kept.count + 1))
    }

    /// The bytes of item `item` of sample `sample` of tick number `n` (for copying into new ticks).
    public func item(tick n: Int, sample: Int, _ item: String) -> [UInt8] {
        let term = terms[ticks[n]]
        guard let range = Self.locate(term, Self.itemValue(sample: sample, item)) else { preconditionFailure("no \(item)") }
        return Array(term[range])
    }

    private mutating func replace(_ index: Int, at locator: Locator, with encoded: [UInt8]) {
        guard let range = Self.locate(terms[index], locator) else { preconditionFailure("value not found in term \(index)") }
        terms[index].replaceSubrange(range, with: encoded)
    }

    private func integer(in term: [UInt8], at locator: Locator) -> Int64 {
        guard let range = Self.locate(term, locator) else { preconditionFailure("value not found") }
        return Array(term[range]).withUnsafeBytes { raw in
            var r = ETFReader(bytes: raw)
            return (try? r.readInt64()) ?? 0
        }
    }

    // MARK: Locating values

    /// Walks a term from just after its version byte; returns the byte range of a value, or nil.
    typealias Locator = (inout ETFReader) throws(ETFError) -> Range<Int>?

    static func locate(_ term: [UInt8], _ locator: Locator) -> Range<Int>? {
        term.withUnsafeBytes { raw in
            var r = ETFReader(bytes: raw)
            r.position = 1
            return try? locator(&r)
        }
    }

    static func atomIs(_ r: inout ETFReader, _ text: String) throws(ETFError) -> Bool {
        let atom = try r.readAtom()
        return r.slice(atom.start, atom.count).elementsEqual(text.utf8)
    }

    /// The range of the next term.
    static func next(_ r: inout ETFReader) throws(ETFError) -> Range<Int> {
        let start = r.position
        try r.skipTerm()
        return start..<r.position
    }

    /// The value of atom key `key` in the map at the reader.
    static func mapValue(_ r: inout ETFReader, _ key: String) throws(ETFError) -> Range<Int>? {
        guard try r.readUInt8(tag: nil) == 116 else { return nil }  // MAP_EXT
        let count = try r.readUInt32(tag: 116)
        for _ in 0..<count {
            let keyStart = r.position
            if (try? atomIs(&r, key)) == true { return try next(&r) }
            r.position = keyStart
            try r.skipTerm()
            try r.skipTerm()
        }
        return nil
    }

    static func headerValue(_ key: String) -> Locator {
        { (r: inout ETFReader) throws(ETFError) in
            guard try r.readTupleArity() == 3, try atomIs(&r, "flame_dump") else { return nil }
            try r.skipTerm()
            return try mapValue(&r, key)
        }
    }

    static func trailerValue(_ key: String) -> Locator {
        { (r: inout ETFReader) throws(ETFError) in
            guard try r.readTupleArity() == 2, try atomIs(&r, "flame_dump_end") else { return nil }
            return try mapValue(&r, key)
        }
    }

    static func tickTs(_ r: inout ETFReader) throws(ETFError) -> Range<Int>? {
        guard try r.readTupleArity() == 3, try atomIs(&r, "samples") else { return nil }
        return try next(&r)
    }

    /// The pid of sample `sample`.
    static func samplePid(_ sample: Int) -> Locator {
        { (r: inout ETFReader) throws(ETFError) in
            guard try tickTs(&r) != nil, case .cons(let count) = try r.readListStart(), sample < count else { return nil }
            for _ in 0..<sample { try r.skipTerm() }
            guard try r.readTupleArity() == 2 else { return nil }
            return try next(&r)
        }
    }

    /// `{Key, Value}` of sample `sample`'s items whose key is `item`: Value's range.
    static func itemValue(sample: Int, _ item: String) -> Locator {
        { (r: inout ETFReader) throws(ETFError) in
            guard try tickTs(&r) != nil, case .cons(let count) = try r.readListStart(), sample < count else { return nil }
            for _ in 0..<sample { try r.skipTerm() }
            guard try r.readTupleArity() == 2 else { return nil }
            try r.skipTerm()  // the pid
            guard case .cons(let items) = try r.readListStart() else { return nil }
            for _ in 0..<items {
                guard try r.readTupleArity() == 2 else { return nil }
                if try atomIs(&r, item) { return try next(&r) }
                try r.skipTerm()
            }
            return nil
        }
    }
}
