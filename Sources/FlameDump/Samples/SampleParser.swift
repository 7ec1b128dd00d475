import FlameModel
import ETF

#if canImport(Glibc)
/// glibc's `malloc_trim` (malloc.h is not in the Glibc module).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// Pulls typed samples out of a `{samples, Ts, [{Pid, Items}]}` term without
/// building a term tree.
///
/// Values that repeat from tick to tick (stack traces, `{M, F, A}` tuples,
/// atoms) are looked up by their raw encoded bytes, so a known stack costs a
/// hash, not a parse. A sample whose shape is wrong (not `{Pid, [Item]}`, a
/// stack frame that is not `{M, F, A, Loc}` …) is skipped and counted; only
/// bytes that are not a valid term fail the frame.
public struct SampleParser {
    /// The `process_info` items the parser reads; others are skipped.
    enum Item: UInt32, CaseIterable {
        case status, current_function, current_stacktrace, initial_call, registered_name,
            reductions, message_queue_len, memory, total_heap_size, heap_size, stack_size,
            garbage_collection, garbage_collection_info, dictionary
    }

    /// Counts of what was skipped and why.
    public private(set) var skipped: [String: Int] = [:]

    private var itemNames = ByteInterner(capacity: 32)
    private var keyNames = ByteInterner(capacity: 8)  // minor_gcs, '$initial_call'
    private var rawStacks = ByteInterner(capacity: 4096)
    private var rawStackIDs: [UInt32] = []
    private var rawFunctions = ByteInterner(capacity: 1024)
    private var rawFunctionIDs: [UInt32] = []
    /// Stack frames `{M, F, A, Location}` by their raw bytes: a new stack is
    /// mostly frames seen before.
    private var rawFrames = ByteInterner(capacity: 4096)
    private var rawFrameIDs: [UInt32] = []
    private var rawAtoms = ByteInterner(capacity: 256)
    private var rawAtomIDs: [UInt32] = []
    private var frameScratch: [UInt32] = []
    /// Per position in the samples list: the pid there last tick and the raw
    /// stack (an id of `rawStacks`) it had. A process's stack is most often
    /// the one it had a tick before, and processes keep their places in the
    /// list, so comparing those bytes first spares walking and hashing them.
    private var stackGuesses: [(pid: UInt64, raw: UInt32)] = []
    private var sampleIndex = 0
    private var samplePid: UInt64 = 0
    private var textScratch: [UInt8] = []

    private static let minorGCsKey: UInt32 = 0
    private static let initialCallKey: UInt32 = 1

    public init() {
        for item in Item.allCases { _ = itemNames.internText("\(item)") }
        _ = keyNames.internText("minor_gcs")
        _ = keyNames.internText("$initial_call")
    }

    /// A sample whose shape is not what `process_info` returns.
    struct ShapeError: Error {
        var reason: String
    }

    /// Past this many bytes of distinct raw stack traces (with their frame lists),
    /// the stack caches start over: memory stays bounded on dumps where nearly
    /// every stack is new, and real captures, whose stacks repeat, never get here.
    public var stackCacheLimit = 16 << 20

    /// Positions in a samples list whose stack is remembered (16 bytes each):
    /// a tick may list millions of processes, and those past this many are
    /// parsed without a guess.
    public var stackGuessLimit = DumpLimits.default.maxProcesses
    var stackGuessCount: Int { stackGuesses.count }

    /// Reads the samples list (the reader stands at the list, after `Ts`) into `tick`.
    public mutating func parseSamples(_ reader: inout ETFReader, into tick: inout Tick, symbols: inout Symbols) throws(ETFError) {
        if rawStacks.byteCount + symbols.stackFrameCount * 4 > stackCacheLimit {
            rawStacks.removeAll()
            rawStackIDs.removeAll(keepingCapacity: false)
            stackGuesses.removeAll(keepingCapacity: true)
            symbols.startNewStackEpoch()
            #if canImport(Glibc)
            // The old epoch's many small arrays are free now: hand their pages
            // back, or peak memory creeps up epoch after epoch (fragmentation).
            _ = glibcMallocTrim(0)
            #endif
        }
        let count: Int
        switch try reader.readListStart() {
        case .empty: return
        case .cons(let n): count = n
        case .bytes: throw reader.error(.unexpectedTag(expected: "a list of samples"), tag: ETFTag.string)
        }
        for index in 0..<count {
            sampleIndex = index
            let start = reader.position
            let gcStart = tick.gcInfo.count
            do {
                var sample = ProcessSample()
                if try parseSample(&reader, &sample, &tick, &symbols) {
                    tick.samples.append(sample)
                }
            } catch let shape as ShapeError {
                tick.gcInfo.removeSubrange(gcStart...)
                skipped[shape.reason, default: 0] += 1
                reader.position = start
                try reader.skipTerm()
            } catch let error as ETFError {
                // Wrong shape at the byte level (a tag where another was expected):
                // the term may still be well formed, so step over it if we can.
                tick.gcInfo.removeSubrange(gcStart...)
                reader.position = start
                try reader.skipTerm()
                skipped["malformed sample (\(error.reasonText))", default: 0] += 1
            } catch {
                fatalError("unexpected error \(error)")
            }
        }
        // An improper tail (`[S1, S2 | Junk]`) is a valid term: skip and count it
        // like a bad sample, keeping the samples before it.
        let tailStart = reader.position
        if case .empty? = try? reader.readListStart() { return }
        reader.position = tailStart
        try reader.skipTerm()
        skipped["improper samples list tail", default: 0] += 1
    }

    /// One `{Pid, Items}`; false when the process had gone (`{Pid, undefined}`).
    private mutating func parseSample(_ reader: inout ETFReader, _ sample: inout ProcessSample, _ tick: inout Tick, _ symbols: inout Symbols) throws -> Bool {
        guard try reader.readTupleArity() == 2 else { throw ShapeError(reason: "sample is not {Pid, Items}") }
        (sample.pidNumber, sample.pidSerial) = try reader.readPid()
        samplePid = UInt64(sample.pidNumber) << 32 | UInt64(sample.pidSerial)
        if reader.remaining > 0, reader.byte(at: reader.position) != ETFTag.list, reader.byte(at: reader.position) != ETFTag.nil {
            throw ShapeError(reason: "process gone (items not a list)")
        }
        guard case .cons(let items) = try reader.readListStart() else { return true }
        sample.gcInfo = tick.gcInfo.count..<tick.gcInfo.count
        for _ in 0..<items {
            guard try reader.readTupleArity() == 2 else { throw ShapeError(reason: "item is not {Key, Value}") }
            let key = try reader.readAtom()
            guard let item = itemNames.lookup(reader.slice(key.start, key.count)).flatMap({ Item(rawValue: $0) }) else {
                try reader.skipTerm()
                continue
            }
            try parseItem(item, &reader, &sample, &tick, &symbols)
        }
        guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "items list is improper") }
        sample.gcInfo = sample.gcInfo.lowerBound..<tick.gcInfo.count
        return true
    }

    private mutating func parseItem(_ item: Item, _ reader: inout ETFReader, _ sample: inout ProcessSample, _ tick: inout Tick, _ symbols: inout Symbols) throws {
        switch item {
        case .status:
            sample.status = try atom(&reader, &symbols)
            sample.present.insert(.status)
        case .current_function:
            if reader.remaining > 0, reader.byte(at: reader.position) != ETFTag.smallTuple {
                _ = try reader.readAtom()  // `undefined`: native code
                sample.currentFunction = Symbols.none
            } else {
                sample.currentFunction = try function(&reader, &symbols)
            }
            sample.present.insert(.currentFunction)
        case .current_stacktrace:
            sample.stack = try stack(&reader, &symbols)
            sample.present.insert(.currentStacktrace)
        case .initial_call:
            sample.initialCall = try function(&reader, &symbols)
            sample.present.insert(.initialCall)
        case .registered_name:
            if reader.remaining > 0, reader.byte(at: reader.position) == ETFTag.nil {
                reader.position += 1
            } else {
                sample.registeredName = try atom(&reader, &symbols)
            }
            sample.present.insert(.registeredName)
        case .reductions:
            sample.reductions = try reader.readInt64()
            sample.present.insert(.reductions)
        case .message_queue_len:
            sample.messageQueueLen = try reader.readInt64()
            sample.present.insert(.messageQueueLen)
        case .memory:
            sample.memory = try reader.readInt64()
            sample.present.insert(.memory)
        case .total_heap_size:
            sample.totalHeapSize = try reader.readInt64()
            sample.present.insert(.totalHeapSize)
        case .heap_size:
            sample.heapSize = try reader.readInt64()
            sample.present.insert(.heapSize)
        case .stack_size:
            sample.stackSize = try reader.readInt64()
            sample.present.insert(.stackSize)
        case .garbage_collection:
            try Self.forEachPair(&reader, keys: keyNames) { (reader, key) throws in
                if key == Self.minorGCsKey {
                    sample.minorGCs = try reader.readInt64()
                    sample.present.insert(.minorGCs)
                } else {
                    try reader.skipTerm()
                }
            }
            sample.present.insert(.garbageCollection)
        case .garbage_collection_info:
            let count: Int
            switch try reader.readListStart() {
            case .empty: count = 0  // `[]`: no entries, still a list
            case .cons(let n): count = n
            case .bytes: throw ShapeError(reason: "garbage_collection_info is not a list")
            }
            for _ in 0..<count {
                guard try reader.readTupleArity() == 2 else { throw ShapeError(reason: "garbage_collection_info entry is not a pair") }
                let name = try atom(&reader, &symbols)
                let tag = reader.remaining > 0 ? reader.byte(at: reader.position) : 0
                if tag == ETFTag.smallInteger || tag == ETFTag.integer || tag == ETFTag.smallBig {
                    tick.gcInfo.append(MetricEntry(name: name, value: try reader.readInt64()))
                } else {
                    try reader.skipTerm()  // not an integer: not a metric
                }
            }
            if count > 0 {
                guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "garbage_collection_info is improper") }
            }
            sample.present.insert(.garbageCollectionInfo)
        case .dictionary:
            try Self.forEachPair(&reader, keys: keyNames) { (reader, key) throws in
                let start = reader.position
                if key == Self.initialCallKey, (try? reader.readTupleArity()) == 3 {
                    reader.position = start
                    sample.dictionaryInitialCall = try function(&reader, &symbols)
                } else {
                    reader.position = start
                    try reader.skipTerm()
                }
            }
            sample.present.insert(.dictionary)
        }
    }

    /// Walks a proplist `[{Key, Value}]`, handing `body` the id of each atom key
    /// it knows (`minor_gcs`, `'$initial_call'`) and skipping the rest.
    private static func forEachPair(_ reader: inout ETFReader, keys keyNames: ByteInterner, _ body: (inout ETFReader, UInt32) throws -> Void) throws {
        guard case .cons(let count) = try reader.readListStart() else { return }
        for _ in 0..<count {
            guard try reader.readTupleArity() == 2 else { throw ShapeError(reason: "list entry is not a pair") }
            let keyStart = reader.position
            var known: UInt32?
            if reader.remaining > 0, [ETFTag.smallAtomUTF8, ETFTag.atomUTF8, ETFTag.smallAtom, ETFTag.atom].contains(reader.byte(at: reader.position)) {
                let key = try reader.readAtom()
                known = keyNames.lookup(reader.slice(key.start, key.count))
            } else {
                reader.position = keyStart
                try reader.skipTerm()
            }
            if let known {
                try body(&reader, known)
            } else {
                try reader.skipTerm()
            }
        }
        guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "list is improper") }
    }

    // MARK: Interned values

    /// An atom's name id, by its raw encoding.
    private mutating func atom(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let start = reader.position
        let text = try reader.readAtom()
        let raw = reader.slice(start, reader.position - start)
        if let known = rawAtoms.lookup(raw) { return rawAtomIDs[Int(known)] }
        // Intern only once the name is valid: ids and rawAtomIDs must stay in step.
        let name = try internAtomText(text, reader, &symbols)
        _ = rawAtoms.intern(raw)
        rawAtomIDs.append(name)
        return name
    }

    private mutating func internAtomText(_ text: (start: Int, count: Int, isUTF8: Bool), _ reader: ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let bytes = reader.slice(text.start, text.count)
        if text.isUTF8 {
            guard UTF8Check.isValid(bytes) else { throw ShapeError(reason: "atom is not valid UTF-8") }
            return symbols.internName(bytes)
        }
        textScratch.removeAll(keepingCapacity: true)
        for byte in bytes { UTF8Check.appendScalar(UInt32(byte), to: &textScratch) }
        return textScratch.withUnsafeBytes { symbols.internName($0) }
    }

    /// `{M, F, Arity}` (or an argument list in place of the arity): a function id.
    private mutating func function(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let start = reader.position
        try reader.skipTerm()
        let raw = reader.slice(start, reader.position - start)
        if let known = rawFunctions.lookup(raw) { return rawFunctionIDs[Int(known)] }
        var sub = reader
        sub.position = start
        // Intern only once the whole tuple parsed (a bad atom or arity throws):
        // ids and rawFunctionIDs must stay in step.
        guard try sub.readTupleArity() == 3 else { throw ShapeError(reason: "function is not {M, F, A}") }
        let module = try atom(&sub, &symbols)
        let name = try atom(&sub, &symbols)
        let arity = try self.arity(&sub)
        let function = symbols.internFunction(Symbols.Function(module: module, name: name, arity: arity))
        _ = rawFunctions.intern(raw)
        rawFunctionIDs.append(function)
        return function
    }

    private func arity(_ reader: inout ETFReader) throws -> Int32 {
        let tag = reader.remaining > 0 ? reader.byte(at: reader.position) : 0
        switch tag {
        case ETFTag.nil, ETFTag.list, ETFTag.string:
            // An argument list (a crash's stack frame): its length is the arity.
            switch try reader.readListStart() {
            case .empty: return 0
            case .bytes(_, let count): return Int32(count)
            case .cons(let count):
                for _ in 0...count { try reader.skipTerm() }
                return Int32(count)
            }
        default:
            let value = try reader.readInt64()
            guard (0...255).contains(value) else { throw ShapeError(reason: "arity out of range") }
            return Int32(value)
        }
    }

    /// A `current_stacktrace` list: a stack id, by its raw encoding.
    private mutating func stack(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let start = reader.position
        if sampleIndex < stackGuesses.count, stackGuesses[sampleIndex].pid == samplePid {
            // ETF is prefix-free: bytes that begin with a whole stored term are that term.
            let guess = stackGuesses[sampleIndex].raw
            if let length = rawStacks.prefixLength(of: guess, in: reader.slice(start, reader.remaining)) {
                reader.position = start + length
                return rawStackIDs[Int(guess)]
            }
        }
        try reader.skipTerm()
        let raw = reader.slice(start, reader.position - start)
        if let known = rawStacks.lookup(raw) {
            rememberStack(known)
            return rawStackIDs[Int(known)]
        }
        var sub = reader
        sub.position = start
        frameScratch.removeAll(keepingCapacity: true)
        switch try sub.readListStart() {
        case .empty: break
        case .bytes: throw ShapeError(reason: "current_stacktrace is not a list of frames")
        case .cons(let count):
            for _ in 0..<count { frameScratch.append(try frame(&sub, &symbols)) }
            guard case .empty = try sub.readListStart() else { throw ShapeError(reason: "current_stacktrace is improper") }
        }
        let id = symbols.addStack(frameScratch)
        rememberStack(rawStacks.intern(raw).id)
        rawStackIDs.append(id)
        return id
    }

    private mutating func rememberStack(_ raw: UInt32) {
        if sampleIndex < stackGuesses.count {
            stackGuesses[sampleIndex] = (samplePid, raw)
        } else if sampleIndex == stackGuesses.count, sampleIndex < stackGuessLimit {
            stackGuesses.append((samplePid, raw))
        }
    }

    /// `{M, F, Arity, Location}`, Location a list that may hold `{file, Chars}` and `{line, N}`.
    private mutating func frame(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        // The whole stack term was walked already: the frame is a well-formed term.
        let start = reader.position
        try reader.skipTerm()
        let raw = reader.slice(start, reader.position - start)
        if let known = rawFrames.lookup(raw) { return rawFrameIDs[Int(known)] }
        let end = reader.position
        reader.position = start
        let id = try parseFrame(&reader, &symbols)
        if reader.position == end {
            _ = rawFrames.intern(raw)
            rawFrameIDs.append(id)
        }
        return id
    }

    private mutating func parseFrame(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let arity = try reader.readTupleArity()
        guard arity == 4 || arity == 3 else { throw ShapeError(reason: "stack frame is not {M, F, A, Location}") }
        let module = try atom(&reader, &symbols)
        let name = try atom(&reader, &symbols)
        let functionArity = try self.arity(&reader)
        var file = Symbols.none
        var line: Int32 = -1
        if arity == 4 {
            switch try reader.readListStart() {
            case .empty: break
            case .bytes: throw ShapeError(reason: "stack frame location is not a list")
            case .cons(let count):
                for _ in 0..<count {
                    let entryStart = reader.position
                    if (try? reader.readTupleArity()) == 2, let key = try? reader.readAtom() {
                        let keyBytes = reader.slice(key.start, key.count)
                        if keyBytes.elementsEqual("file".utf8) {
                            file = try chars(&reader, &symbols)
                            continue
                        }
                        if keyBytes.elementsEqual("line".utf8) {
                            let value = try reader.readInt64()
                            line = Int32(clamping: value)
                            continue
                        }
                        try reader.skipTerm()
                        continue
                    }
                    reader.position = entryStart
                    try reader.skipTerm()
                }
                guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "location is improper") }
            }
        }
        let function = symbols.internFunction(Symbols.Function(module: module, name: name, arity: functionArity))
        return symbols.internFrame(Symbols.Frame(function: function, file: file, line: line))
    }

    /// A file name: a charlist (STRING_EXT or a list of code points) or a binary, as UTF-8.
    private mutating func chars(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        textScratch.removeAll(keepingCapacity: true)
        let tag = reader.remaining > 0 ? reader.byte(at: reader.position) : 0
        if tag == ETFTag.binary {
            reader.position += 1
            let length = Int(try reader.readUInt32(tag: tag))
            let start = try reader.skipBytes(length, tag: tag)
            return symbols.internName(reader.slice(start, length))
        }
        switch try reader.readListStart() {
        case .empty: break
        case .bytes(let start, let count):
            let bytes = reader.slice(start, count)
            // Latin-1 below 0x80 is UTF-8 already (nearly every file name).
            if !bytes.contains(where: { $0 >= 0x80 }) { return symbols.internName(bytes) }
            for byte in bytes { UTF8Check.appendScalar(UInt32(byte), to: &textScratch) }
        case .cons(let count):
            for _ in 0..<count {
                let value = try reader.readInt64()
                guard (0...0x10FFFF).contains(value) else { throw ShapeError(reason: "file name is not characters") }
                UTF8Check.appendScalar(UInt32(value), to: &textScratch)
            }
            guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "file name is improper") }
        }
        return textScratch.withUnsafeBytes { symbols.internName($0) }
    }
}

extension ByteInterner {
    mutating func internText(_ text: String) -> UInt32 {
        var text = text
        return text.withUTF8 { intern(UnsafeRawBufferPointer($0)).id }
    }
}

/// Small UTF-8 helpers for names taken from atoms and charlists.
enum UTF8Check {
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func appendScalar(_ scalar: UInt32, to out: inout [UInt8]) {
        guard let value = Unicode.Scalar(scalar) else {
            out.append(contentsOf: [0xEF, 0xBF, 0xBD])  // a surrogate: U+FFFD
            return
        }
        UTF8.encode(value) { out.append($0) }
    }
}
