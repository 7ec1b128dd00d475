import ETF
import FlameModel

extension SampleParser {
    /// A `current_stacktrace` list: a stack id, by its raw encoding.
    mutating func stack(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let start = reader.position
        if sampleIndex < stackGuesses.count, stackGuesses[sampleIndex].pid == samplePid {
            // ETF is prefix-free: bytes that begin with a whole stored term are that term.
            let guess = stackGuesses[sampleIndex].entry
            if let length = stacks.prefixLength(of: guess, in: reader.slice(start, reader.remaining)) {
                reader.position = start + length
                return stacks.id(ofEntry: guess)
            }
        }
        try reader.skipTerm()
        let raw = reader.slice(start, reader.position - start)
        if let entry = stacks.raw.lookup(raw) {
            rememberStack(entry)
            return stacks.id(ofEntry: entry)
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
        let id = symbols.internStack(frameScratch)
        rememberStack(stacks.insert(raw, id: id))
        return id
    }

    private mutating func rememberStack(_ entry: UInt32) {
        if sampleIndex < stackGuesses.count {
            stackGuesses[sampleIndex] = (samplePid, entry)
        } else if sampleIndex == stackGuesses.count, sampleIndex < stackGuessLimit {
            stackGuesses.append((samplePid, entry))
        }
    }

    /// `{M, F, Arity, Location}`, Location a list that may hold `{file, Chars}` and `{line, N}`.
    private mutating func frame(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        // The whole stack term was walked already: the frame is a well-formed term.
        let start = reader.position
        try reader.skipTerm()
        let raw = reader.slice(start, reader.position - start)
        if let known = frames.lookup(raw) { return known }
        let end = reader.position
        reader.position = start
        let id = try parseFrame(&reader, &symbols)
        if reader.position == end { frames.insert(raw, id: id) }
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
                            line = Int32(clamping: try reader.readInt64())
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
}
