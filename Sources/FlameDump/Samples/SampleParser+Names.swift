import ETF
import FlameModel

extension SampleParser {
    /// An atom's name id, by its raw encoding; `memoAt`: its place in `atomMemo`
    /// (an `AtomPlace`), for atoms that come back at the same place sample after sample.
    mutating func atom(_ reader: inout ETFReader, _ symbols: inout Symbols, memoAt place: Int) throws -> UInt32 {
        let start = reader.position
        _ = try reader.readAtom()
        let raw = reader.slice(start, reader.position - start)
        if let known = atomMemo.recall(raw, at: place) { return known }
        reader.position = start
        let name = try atom(&reader, &symbols)
        atomMemo.remember(raw, at: place, answer: name)
        return name
    }

    /// An atom's name id, by its raw encoding.
    mutating func atom(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let start = reader.position
        let text = try reader.readAtom()
        let raw = reader.slice(start, reader.position - start)
        if let known = atoms.lookup(raw) { return known }
        // Cache only once the name is valid.
        let bytes = reader.slice(text.start, text.count)
        let name: UInt32
        if text.isUTF8 {
            guard UTF8Validation.isValid(bytes) else { throw ShapeError(reason: "atom is not valid UTF-8") }
            name = symbols.internName(bytes)
        } else {
            name = internLatin1(bytes, &symbols)
        }
        atoms.insert(raw, id: name)
        return name
    }

    /// `{M, F, Arity}` (or an argument list in place of the arity): a function id.
    mutating func function(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let start = reader.position
        try reader.skipTerm()
        let raw = reader.slice(start, reader.position - start)
        if let known = functions.lookup(raw) { return known }
        var sub = reader
        sub.position = start
        // Cache only once the whole tuple parsed (a bad atom or arity throws).
        guard try sub.readTupleArity() == 3 else { throw ShapeError(reason: "function is not {M, F, A}") }
        let module = try atom(&sub, &symbols)
        let name = try atom(&sub, &symbols)
        let arity = try self.arity(&sub)
        let function = symbols.internFunction(Symbols.Function(module: module, name: name, arity: arity))
        functions.insert(raw, id: function)
        return function
    }

    func arity(_ reader: inout ETFReader) throws -> Int32 {
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

    /// A file name: a charlist (STRING_EXT or a list of code points) or a binary, as UTF-8.
    mutating func chars(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let tag = reader.remaining > 0 ? reader.byte(at: reader.position) : 0
        if tag == ETFTag.binary {
            reader.position += 1
            let length = Int(try reader.readUInt32(tag: tag))
            let start = try reader.skipBytes(length, tag: tag)
            return symbols.internName(reader.slice(start, length))
        }
        textScratch.removeAll(keepingCapacity: true)
        switch try reader.readListStart() {
        case .empty: break
        case .bytes(let start, let count):
            let bytes = reader.slice(start, count)
            // Latin-1 below 0x80 is UTF-8 already (nearly every file name).
            if UTF8Validation.isASCII(bytes) { return symbols.internName(bytes) }
            return internLatin1(bytes, &symbols)
        case .cons(let count):
            for _ in 0..<count {
                let value = try reader.readInt64()
                guard (0...0x10FFFF).contains(value) else { throw ShapeError(reason: "file name is not characters") }
                UTF8Validation.appendScalar(UInt32(value), to: &textScratch)
            }
            guard case .empty = try reader.readListStart() else { throw ShapeError(reason: "file name is improper") }
        }
        return textScratch.withUnsafeBytes { symbols.internName($0) }
    }

    /// `'$process_label'`: any term. An atom or a UTF-8 binary is its text;
    /// anything else is written as `io:format("~w")` would.
    mutating func label(_ reader: inout ETFReader, _ symbols: inout Symbols) throws -> UInt32 {
        let start = reader.position
        try reader.skipTerm()
        let raw = reader.slice(start, reader.position - start)
        if let known = labels.lookup(raw) { return known }
        var sub = reader
        sub.position = start
        let tag = raw.first ?? 0
        let name: UInt32
        if Self.isAtomTag(tag) {
            name = try atom(&sub, &symbols)
        } else if tag == ETFTag.binary, raw.count >= 5, UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: raw[5...])) {
            name = symbols.internName(UnsafeRawBufferPointer(rebasing: raw[5...]))
        } else {
            textScratch = [ETFTag.version] + Array(raw)
            do throws(ETFError) {
                try textScratch.withTypedUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws(ETFError) in
                    try labelDecoder.decode(bytes, into: &labelTerm)
                }
            } catch {
                throw ShapeError(reason: "process label is not a term this reader can print (\(error.reasonText))")
            }
            var text: [UInt8] = []
            TermPrinter(encoding: .utf8).print(labelTerm, into: &text) { (_: inout [UInt8]) in }
            labelDecoder.recycle(&labelTerm)
            name = text.withUnsafeBytes { symbols.internName($0) }
        }
        labels.insert(raw, id: name)
        return name
    }

    private mutating func internLatin1(_ bytes: UnsafeRawBufferPointer, _ symbols: inout Symbols) -> UInt32 {
        textScratch.removeAll(keepingCapacity: true)
        UTF8Validation.appendLatin1(bytes, to: &textScratch)
        return textScratch.withUnsafeBytes { symbols.internName($0) }
    }
}
