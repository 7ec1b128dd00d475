import ETF
import FlameModel

#if canImport(Glibc)
/// glibc's `malloc_trim` (malloc.h is not in the Glibc module).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Pulls typed samples out of a `{samples, Ts, [{Pid, Items}]}` term without
/// building a term tree: names become ids of the run's `Symbols`, numbers a
/// metric vector keyed by the run's `MetricCatalogue`.
///
/// Values that repeat from tick to tick (stack traces, `{M, F, A}` tuples,
/// atoms) are found by their raw encoded bytes (`RawTermCache`), so a known
/// stack costs a hash, not a parse. A sample whose shape is wrong (not
/// `{Pid, [Item]}`, a stack frame that is not `{M, F, A, Loc}` …) is skipped
/// and counted; only bytes that are not a valid term fail the frame.
public struct SampleParser {
    /// Counts of what was skipped and why.
    var skipped: [String: ParserOccurrences] = [:]
    /// `garbage_collection_info` entries left out because the catalogue was full.
    var metricEntriesDropped = ParserOccurrences()
    /// `garbage_collection_info` entries left out: the name is longer than `MetricCatalogue.maxNameBytes`.
    var metricNamesTooLong = ParserOccurrences()
    /// On, every count above is also logged, in order, for `CaptureReader.takeCountsNoted`.
    var logsCounts = false
    var countLog: [(what: ReaderCount, file: Int, offset: Int)] = []
    /// Which file of the capture is being read (its index in the capture), and the tick's offset in it: where a skip happened.
    public var fileSerial = 0
    var tickOffset = 0

    /// Past this many bytes of distinct raw stack traces, the raw stack cache
    /// starts over: memory stays bounded on dumps where nearly every stack is
    /// new, and real captures, whose stacks repeat, never get here. Stack ids
    /// do not change: they are the symbol table's.
    public var stackCacheLimit = 16 << 20
    /// Most bytes the run's symbol tables may hold (`DumpLimits.maxSymbolBytes`).
    public var symbolBudget = DumpLimits.default.maxSymbolBytes
    /// Positions in a samples list whose stack is remembered (16 bytes each):
    /// a tick may list millions of processes, and those past this many are
    /// parsed without a guess.
    public var stackGuessLimit = DumpLimits.default.maxProcesses
    var stackGuessCount: Int { stackGuesses.count }

    let itemNames = SampleItem.table()
    let keyNames = SampleKey.table()
    /// The item keys, proplist keys and atoms met last time at each place of
    /// their lists (`KeyMemo`): most are the same, sample after sample.
    var itemKeyMemo = KeyMemo(positions: 32)
    var pairKeyMemo = KeyMemo(positions: PairList.dictionary.memoPositions.upperBound)
    var atomMemo = KeyMemo(positions: AtomPlace.garbageCollectionInfo + 48)
    var atoms = RawTermCache(capacity: 256)
    var functions = RawTermCache(capacity: 1024)
    /// Stack frames `{M, F, A, Location}`: a new stack is mostly frames seen before.
    var frames = RawTermCache(capacity: 4096)
    var stacks = RawTermCache(capacity: 4096)
    var labels = RawTermCache(capacity: 64)
    /// Per position in the samples list: the pid there last tick and the raw
    /// stack entry it had. A process's stack is most often the one it had a
    /// tick before, and processes keep their places in the list, so comparing
    /// those bytes first spares walking and hashing them.
    var stackGuesses: [(pid: UInt64, entry: UInt32)] = []
    var sampleIndex = 0
    var samplePid: UInt64 = 0
    /// The metric of each `garbage_collection_info` name, by name id: -1 not
    /// looked up yet, -2 no room in the catalogue.
    var gcMetricByName: [Int16] = []
    /// The sample being parsed: its metric values by id, and which are set.
    var metricValues = [Int64](repeating: 0, count: MetricCatalogue.capacity)
    var present = MetricSet()
    var presentInGC = MetricSet()
    var frameScratch: [UInt32] = []
    var textScratch: [UInt8] = []
    /// Full samples, for the agent's short ones.
    var fullSamples = FullSampleMemory()
    /// The tick of the sample being parsed, and the full sample a short one names.
    var tickTime: Int64 = 0
    var rememberFullSamples = true
    var unchangedSince: Int64?
    /// Last tick's samples by place, to read a repeated sample by its integers only.
    var templates = SampleTemplates()
    /// Off: every sample goes through the general parser (tests compare the two).
    public var replaysRepeatedSamples = true
    var labelDecoder = TermDecoder(limits: ETFLimits(maxDecompressedBytes: 1 << 20, maxDepth: 1000, maxNodes: 100_000))
    var labelTerm = Term()

    /// What the symbol budget's error says the memory is for.
    public static let symbolTablesPurpose = "the tables of distinct names, functions, frames and stacks"

    public init() {}

    /// A new file of the capture begins: a short sample names a full one of
    /// its own file. Full samples are kept only where the header says short
    /// ones may follow.
    public mutating func beginFile(mayHoldShortSamples: Bool) {
        fullSamples.beginFile()
        rememberFullSamples = mayHoldShortSamples
    }

    /// Reads the samples list (the reader stands at the list, after `Ts`) into `tick`.
    public mutating func parseSamples(_ reader: inout ETFReader, into tick: inout Tick, symbols: inout Symbols, catalogue: inout MetricCatalogue) throws(ETFError) {
        tickOffset = tick.offset
        if stacks.byteCount > stackCacheLimit {
            stacks.removeAll()
            stackGuesses.removeAll(keepingCapacity: true)
            #if canImport(Glibc)
            // The old cache's pages are free now: hand them back, or peak
            // memory creeps up cache after cache (fragmentation).
            _ = glibcMallocTrim(0)
            #endif
        }
        let symbolBytes = symbols.byteEstimate
        if symbolBytes > symbolBudget {
            throw reader.error(.overMemoryBudget(limit: symbolBudget, needed: symbolBytes, purpose: Self.symbolTablesPurpose), tag: nil)
        }
        let count: Int
        switch try reader.readListStart() {
        case .empty: return
        case .cons(let n): count = n
        case .bytes: throw reader.error(.unexpectedTag(expected: "a list of samples"), tag: ETFTag.string)
        }
        tickTime = tick.monotonic
        var listRead = false
        // A tick that fails may leave an entry half replayed: start over.
        defer { if !listRead { templates.removeAll() } }
        let replays = replaysRepeatedSamples
        for index in 0..<count {
            sampleIndex = index
            let start = reader.position
            let key = replays ? Self.templateKey(reader) : nil
            do {
                var sample = ProcessSample()
                let parsed: Bool
                if let key, let replayed = try replay(key, &reader, &symbols) {
                    sample = replayed
                    parsed = true
                } else {
                    if replays { templates.beginSample(key: key, start: start) }
                    parsed = try parseSample(&reader, &sample, &symbols, &catalogue)
                    if let key {
                        if parsed {
                            templates.endSample(new: reader.buffer, end: reader.position, sample: sample,
                                                present: present, presentInGC: presentInGC, unchangedSince: unchangedSince)
                        } else {
                            templates.forget(key)
                        }
                    }
                }
                if parsed {
                    if unchangedSince != nil { try completeShortSample(&sample) }
                    sample.firstValue = tick.metricValues.count
                    appendPresentValues(to: &tick.metricValues)
                    sample.metrics = present
                    sample.garbageCollectionMetrics = presentInGC
                    tick.samples.append(sample)
                    if rememberFullSamples, unchangedSince == nil {
                        tick.metricValues.withUnsafeBufferPointer { values in
                            fullSamples.remember(sample, values: UnsafeBufferPointer(rebasing: values[sample.firstValue...]), tick: tickTime, place: index)
                        }
                    }
                }
            } catch let shape as ShapeError {
                if let key { templates.forget(key) }
                note(.skippedSample(reason: shape.reason))
                reader.position = start
                try reader.skipTerm()
            } catch let error as ETFError {
                // Wrong shape at the byte level (a tag where another was expected):
                // the term may still be well formed, so step over it if we can.
                if let key { templates.forget(key) }
                reader.position = start
                try reader.skipTerm()
                note(.skippedSample(reason: "malformed sample (\(error.reasonText))"))
            } catch {
                fatalError("unexpected error \(error)")
            }
        }
        listRead = true
        // An improper tail (`[S1, S2 | Junk]`) is a valid term: skip and count it
        // like a bad sample, keeping the samples before it.
        let tailStart = reader.position
        if case .empty? = try? reader.readListStart() { return }
        reader.position = tailStart
        try reader.skipTerm()
        note(.skippedSample(reason: "improper samples list tail"))
    }

    /// What a sample is kept under in `templates`: its pid and how many items
    /// it has; nil when it does not start as `{Pid, [Item | _]}`.
    private static func templateKey(_ reader: ETFReader) -> SampleTemplates.Key? {
        var peek = reader
        guard (try? peek.readTupleArity()) == 2, let (number, serial) = try? peek.readPid(),
              case .cons(let items)? = try? peek.readListStart() else { return nil }
        return SampleTemplates.Key(pid: UInt64(number) << 32 | UInt64(serial), items: items)
    }

    /// The sample read against the same process's last sample of its shape
    /// (`SampleTemplates`): its holes read here, the rest compared. nil, the
    /// reader unmoved, when anything else differs.
    private mutating func replay(_ key: SampleTemplates.Key, _ reader: inout ETFReader, _ symbols: inout Symbols) throws -> ProcessSample? {
        let start = reader.position
        guard var cursor = templates.beginReplay(key, at: start) else { return nil }
        let entry = templates.entry(cursor)
        var sample = entry.sample
        samplePid = sample.pidKey
        // Short samples (of processes that did not run) mostly repeat byte for
        // byte; full ones almost never do, and comparing them whole first only costs.
        if entry.unchangedSince != nil, let end = templates.replayWhole(cursor, new: reader.buffer, values: &metricValues) {
            reader.position = end
            present = entry.present
            presentInGC = entry.presentInGC
            unchangedSince = entry.unchangedSince
            return sample
        }
        while true {
            switch templates.step(&cursor, new: reader.buffer, values: &metricValues) {
            case .mismatch:
                reader.position = start
                return nil
            case .hole(let hole, let at):
                reader.position = at
                switch hole {
                case .status: sample.status = try atom(&reader, &symbols, memoAt: AtomPlace.status)
                case .currentFunction: sample.currentFunction = try currentFunction(&reader, &symbols)
                case .currentStacktrace: sample.stack = try stack(&reader, &symbols)
                }
                templates.holeRead(&cursor, end: reader.position)
            case .matched(let end):
                reader.position = end
                templates.finishReplay(cursor, new: reader.buffer, end: end, sample: sample)
                present = entry.present
                presentInGC = entry.presentInGC
                unchangedSince = entry.unchangedSince
                return sample
            }
        }
    }

    /// One `{Pid, Items}`; false when the process had gone (`{Pid, undefined}`).
    private mutating func parseSample(_ reader: inout ETFReader, _ sample: inout ProcessSample, _ symbols: inout Symbols, _ catalogue: inout MetricCatalogue) throws -> Bool {
        guard try reader.readTupleArity() == 2 else { throw ShapeError(reason: "sample is not {Pid, Items}") }
        (sample.pidNumber, sample.pidSerial) = try reader.readPid()
        samplePid = sample.pidKey
        present = MetricSet()
        presentInGC = MetricSet()
        unchangedSince = nil
        if reader.remaining > 0, reader.byte(at: reader.position) != ETFTag.list, reader.byte(at: reader.position) != ETFTag.nil {
            throw ShapeError(reason: "process gone (items not a list)")
        }
        guard case .cons(let items) = try reader.readListStart() else { return true }
        for position in 0..<items {
            guard try reader.readTupleArity() == 2 else { throw ShapeError(reason: "item is not {Key, Value}") }
            let key = try reader.readAtom()
            guard let item = itemKeyMemo.lookup(reader.slice(key.start, key.count), at: position, in: itemNames).flatMap({ SampleItem(rawValue: $0) }) else {
                // An item not read (heap_size, stack_size …): a replay steps over its integer.
                let at = reader.position
                let tag = reader.remaining > 0 ? reader.byte(at: at) : 0
                if tag == ETFTag.smallInteger || tag == ETFTag.integer || tag == ETFTag.smallBig, (try? reader.readInt64()) != nil {
                    templates.markIgnoredInteger(at: at)
                } else {
                    reader.position = at
                    try reader.skipTerm()
                }
                continue
            }
            try parseItem(item, &reader, &sample, &symbols, &catalogue)
        }
        guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "items list is improper") }
        return true
    }

    private mutating func parseItem(_ item: SampleItem, _ reader: inout ETFReader, _ sample: inout ProcessSample, _ symbols: inout Symbols, _ catalogue: inout MetricCatalogue) throws {
        if let metric = item.metric {
            let at = reader.position
            setMetric(metric, try reader.readInt64(), at: at)
            return
        }
        switch item {
        case .status:
            let at = reader.position
            sample.status = try atom(&reader, &symbols, memoAt: AtomPlace.status)
            templates.mark(.status, from: at, to: reader.position)
            sample.items.insert(.status)
        case .current_function:
            let at = reader.position
            sample.currentFunction = try currentFunction(&reader, &symbols)
            templates.mark(.currentFunction, from: at, to: reader.position)
            sample.items.insert(.currentFunction)
        case .current_stacktrace:
            let at = reader.position
            sample.stack = try stack(&reader, &symbols)
            templates.mark(.currentStacktrace, from: at, to: reader.position)
            sample.items.insert(.currentStacktrace)
        case .initial_call:
            sample.initialCall = try function(&reader, &symbols)
            sample.items.insert(.initialCall)
        case .registered_name:
            if reader.remaining > 0, reader.byte(at: reader.position) == ETFTag.nil {
                reader.position += 1
            } else {
                sample.registeredName = try atom(&reader, &symbols, memoAt: AtomPlace.registeredName)
            }
            sample.items.insert(.registeredName)
        case .garbage_collection:
            try forEachPair(&reader, .garbageCollection) { (parser, reader, key) throws in
                guard key == .minorGCs else { return try reader.skipTerm() }
                let at = reader.position
                parser.setMetric(MetricCatalogue.minorGCs, try reader.readInt64(), at: at)
            }
            sample.items.insert(.garbageCollection)
        case .garbage_collection_info:
            try garbageCollectionInfo(&reader, &symbols, &catalogue)
            sample.items.insert(.garbageCollectionInfo)
        case .flame_unchanged:
            unchangedSince = try reader.readInt64()
        case .dictionary:
            try forEachPair(&reader, .dictionary) { (parser, reader, key) throws in
                let start = reader.position
                switch key {
                case .initialCall where (try? reader.readTupleArity()) == 3:
                    reader.position = start
                    sample.dictionaryInitialCall = try parser.function(&reader, &symbols)
                case .processLabel:
                    reader.position = start
                    sample.processLabel = try parser.label(&reader, &symbols)
                default:
                    reader.position = start
                    try reader.skipTerm()
                }
            }
            sample.items.insert(.dictionary)
        default:
            try reader.skipTerm()
        }
    }

    /// `current_function`: `{M, F, A}`, or `undefined` in native code.
    private mutating func currentFunction(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        if reader.remaining > 0, reader.byte(at: reader.position) != ETFTag.smallTuple {
            _ = try reader.readAtom()  // `undefined`: native code
            return Symbols.none
        }
        return try function(&reader, &symbols)
    }

    /// A short sample: everything but its fresh items from the same process's
    /// full sample at the tick it names.
    private mutating func completeShortSample(_ sample: inout ProcessSample) throws {
        guard rememberFullSamples else {
            throw ShapeError(reason: "unchanged sample in a file whose header does not say unchanged => short")
        }
        guard let since = unchangedSince, let kept = fullSamples.recall(pid: samplePid, tick: since, place: sampleIndex) else {
            throw ShapeError(reason: "unchanged sample without its full sample in the file")
        }
        let full = fullSamples.sample(at: kept)
        let fresh = present
        let freshStatus = sample.status
        let freshItems = sample.items
        fullSamples.copyValues(at: kept, into: &metricValues, except: fresh)
        present = fresh.union(full.metrics)
        presentInGC = full.garbageCollectionMetrics
        let pid = (sample.pidNumber, sample.pidSerial)
        sample = full
        (sample.pidNumber, sample.pidSerial) = pid
        if freshItems.contains(.status) { sample.status = freshStatus }
        sample.items = sample.items.union(freshItems)
    }

    /// Counts one skipped sample or left-out entry, in the tick being read.
    mutating func note(_ what: ReaderCount) {
        switch what {
        case .skippedSample(let reason): skipped[reason, default: ParserOccurrences()].note(file: fileSerial, offset: tickOffset)
        case .metricEntryDropped: metricEntriesDropped.note(file: fileSerial, offset: tickOffset)
        case .metricNameTooLong: metricNamesTooLong.note(file: fileSerial, offset: tickOffset)
        }
        if logsCounts { countLog.append((what, fileSerial, tickOffset)) }
    }

    /// Appends the values of the metrics `present`, in catalogue order, in one append.
    @inline(__always)
    private func appendPresentValues(to values: inout [Int64]) {
        let present = self.present
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: MetricCatalogue.capacity) { row in
            let count = metricValues.withUnsafeBufferPointer { all in
                var count = 0
                for id in present {
                    row[count] = all[id.index]
                    count += 1
                }
                return count
            }
            values.append(contentsOf: UnsafeBufferPointer(rebasing: row[..<count]))
        }
    }

    /// `at`: where the integer's term starts, marked for replaying the sample.
    @inline(__always)
    mutating func setMetric(_ id: MetricID, _ value: Int64, at: Int) {
        metricValues[id.index] = value
        present.insert(id)
        templates.mark(id, at: at)
    }
}
