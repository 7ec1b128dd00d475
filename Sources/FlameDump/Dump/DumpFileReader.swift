import FlameModel
import ETF

/// Reads one dump file: its header, then tick after tick, then its trailer.
///
/// Samples terms take the fast path (`SampleParser`); of the rare other terms,
/// the trailer is decoded as a tree, the rest only checked (`TermValidator`). A bad frame ends the file: what came before it stands, and
/// the problem is kept in `tailError` for the caller to report.
public final class DumpFileReader {
    public let path: String
    public let header: DumpHeader
    public private(set) var trailer: DumpTrailer?
    public private(set) var tailError: DumpError?
    public private(set) var unknownTerms = 0
    public private(set) var systemTerms = 0
    public private(set) var ticks = 0
    public var compression: Compression { frames.source.compression }
    /// The file this reader reads, as the kernel knows it.
    public var identity: FileIdentity { frames.source.input.identity }
    /// False for a pipe, FIFO or device: it cannot be opened and read again.
    public var isRegularFile: Bool { frames.source.input.isRegularFile }
    public var container: FrameReader.Container? { frames.container }

    private let frames: FrameReader
    private var decoder: TermDecoder
    private var validator: TermValidator
    private var term = Term()
    private let limits: DumpLimits
    private var finished = false

    /// Opens `path` and reads its header. Throws when the file cannot be read or
    /// does not start with a valid header.
    public convenience init(path: String, limits: DumpLimits = .default) throws(DumpError) {
        try self.init(input: FileInput(path: path), limits: limits)
    }

    /// Reads the header from `input`, which has not been read yet.
    public init(input: FileInput, limits: DumpLimits = .default) throws(DumpError) {
        self.path = input.path
        self.limits = limits
        frames = FrameReader(source: try ByteSource(input: input), limits: limits)
        decoder = TermDecoder(limits: limits.term)
        validator = TermValidator(limits: limits.term)
        let firstFrame: FrameReader.Frame?
        do throws(DumpError) {
            firstFrame = try frames.next()
        } catch {
            throw Self.explainFirstFrame(error, head: frames.leadingBytes(8) ?? [])
        }
        guard let first = firstFrame else {
            throw DumpError(path: path, offset: 0, reason: .empty)
        }
        do throws(ETFError) {
            try decoder.decode(first.bytes, baseOffset: first.offset, into: &term, heldByCaller: frames.bufferBytes)
        } catch {
            throw DumpError(path: path, offset: error.offset, reason: .term(error))
        }
        switch DumpHeader.parse(term) {
        case .success(let header): self.header = header
        case .failure(let problem): throw DumpError(path: path, offset: first.offset, reason: .notADump(problem.description))
        }
        decoder.recycle(&term)
    }

    /// A first frame that cannot be a frame usually means the file is no dump at
    /// all (a PNG, a log): say so, rather than suggest raising a limit. `head` is
    /// what the frame reader holds of the start: the file is not opened again.
    private static func explainFirstFrame(_ error: DumpError, head: [UInt8]) -> DumpError {
        guard error.offset == 0 else { return error }
        switch error.reason {
        case .frameTooLarge, .emptyFrame:
            let hex = head.map { byte in
                let digits = String(byte, radix: 16, uppercase: true)
                return digits.count == 1 ? "0" + digits : digits
            }.joined(separator: " ")
            return DumpError(path: error.path, offset: 0, reason: .notADump(
                "it starts with bytes \(hex), neither a frame length nor an external term (131): \(error.reasonText)"))
        default:
            return error
        }
    }

    /// Reads the next tick into `tick` (replacing it); false at the end of the file.
    public func nextTick(into tick: inout Tick, parser: inout SampleParser, symbols: inout Symbols, catalogue: inout MetricCatalogue) -> Bool {
        while !finished {
            let frame: FrameReader.Frame
            do throws(DumpError) {
                guard let next = try frames.next() else {
                    finished = true
                    return false
                }
                frame = next
            } catch {
                tailError = error
                finished = true
                return false
            }
            do throws(ETFError) {
                if try readFrame(frame, &tick, &parser, &symbols, &catalogue) { return true }
            } catch {
                tailError = DumpError(path: path, offset: error.offset, reason: .term(error))
                finished = true
                return false
            }
        }
        return false
    }

    /// True when the frame was a tick.
    private func readFrame(_ frame: FrameReader.Frame, _ tick: inout Tick, _ parser: inout SampleParser, _ symbols: inout Symbols, _ catalogue: inout MetricCatalogue) throws(ETFError) -> Bool {
        let held = frames.bufferBytes
        if CompressedTerm.isCompressed(frame.bytes) {
            let inner = try CompressedTerm.inflate(frame.bytes, baseOffset: frame.offset, limits: limits.term, heldByCaller: held)
            var result: Bool?
            var failure: ETFError?
            inner.withUnsafeBytes { raw in
                do throws(ETFError) {
                    result = try readTick(raw, bodyStart: 0, offset: frame.offset, &tick, &parser, &symbols, &catalogue)
                } catch {
                    var wrapped = error
                    wrapped.inflatedOffset = error.offset - frame.offset
                    wrapped.offset = frame.offset
                    failure = wrapped
                }
            }
            if let failure { throw failure }
            if let result { return result }
            let kind = inner.withUnsafeBytes { Self.kind(of: $0, bodyStart: 0) }
            if kind != .trailer, try validator.validate(inflated: inner, compressedAt: frame.offset + 1, heldByCaller: held) == .valid {
                count(kind)
                return false
            }
            // Decode the bytes already inflated (the tree shares them).
            try decoder.decode(inflated: inner, compressedAt: frame.offset + 1, into: &term, heldByCaller: held)
            classifyOther()
            return false
        }
        if let result = try readTick(frame.bytes, bodyStart: 1, offset: frame.offset, &tick, &parser, &symbols, &catalogue) { return result }
        let kind = Self.kind(of: frame.bytes, bodyStart: 1)
        if kind != .trailer, try validator.validate(frame.bytes, baseOffset: frame.offset, heldByCaller: held) == .valid {
            count(kind)
            return false
        }
        try decoder.decode(frame.bytes, baseOffset: frame.offset, into: &term, heldByCaller: held)
        classifyOther()
        return false
    }

    /// What a term that is not a tick says it is, from its first bytes.
    private enum OtherKind {
        case trailer, system, unknown
    }

    /// Only a trailer is read; docs/dump-format.md has readers skip system terms and terms
    /// of unknown kinds. Those are checked (`TermValidator`: the same faults as
    /// decoding finds) but not built, so they cost neither a node arena nor a
    /// sort of their maps' keys; only a map whose key hashes repeat is decoded,
    /// to tell a duplicate key from a collision.
    private static func kind(of bytes: UnsafeRawBufferPointer, bodyStart: Int) -> OtherKind {
        var reader = ETFReader(bytes: bytes)
        reader.position = bodyStart
        guard let arity = try? reader.readTupleArity(), let atom = try? reader.readAtom() else { return .unknown }
        let name = reader.slice(atom.start, atom.count)
        if arity == 2, name.elementsEqual("flame_dump_end".utf8) { return .trailer }
        if arity == 3, name.elementsEqual("system".utf8) { return .system }
        return .unknown
    }

    private func count(_ kind: OtherKind) {
        if kind == .system { systemTerms += 1 } else { unknownTerms += 1 }
    }

    /// Reads a tick (true), or nil when the term is something else.
    private func readTick(_ bytes: UnsafeRawBufferPointer, bodyStart: Int, offset: Int, _ tick: inout Tick, _ parser: inout SampleParser, _ symbols: inout Symbols, _ catalogue: inout MetricCatalogue) throws(ETFError) -> Bool? {
        if bodyStart == 1, bytes.first != ETFTag.version {
            throw ETFError(offset: offset, tag: nil, reason: .badVersion(bytes.first ?? 0))
        }
        var reader = ETFReader(bytes: bytes, baseOffset: offset)
        reader.position = bodyStart
        guard Self.startsSamplesTuple(&reader) else { return nil }
        tick.reset()
        tick.offset = offset
        tick.monotonic = try reader.readInt64()
        tick.wallMicros = header.wallMicros(tick.monotonic)
        try parser.parseSamples(&reader, into: &tick, symbols: &symbols, catalogue: &catalogue)
        if reader.remaining > 0 {
            throw reader.error(.trailingBytes(reader.remaining), tag: nil)
        }
        ticks += 1
        return true
    }

    /// Counts the decoded non-tick term in `term`: trailer, system, or unknown.
    /// (A trailer, or a term whose map keys may repeat, is decoded.)
    private func classifyOther() {
        if let trailer = DumpTrailer.parse(term) {
            self.trailer = trailer
        } else if term.nodes[0].kind == .tuple, term.nodes[0].count == 3, term.isAtom(1, "system") {
            systemTerms += 1
        } else {
            unknownTerms += 1
        }
        decoder.recycle(&term)
    }

    /// Consumes `{samples,` when the term starts so; otherwise leaves the reader alone.
    private static func startsSamplesTuple(_ reader: inout ETFReader) -> Bool {
        let start = reader.position
        guard (try? reader.readTupleArity()) == 3, let atom = try? reader.readAtom(),
              reader.slice(atom.start, atom.count).elementsEqual("samples".utf8)
        else {
            reader.position = start
            return false
        }
        return true
    }
}

extension Array where Element == UInt8 {
    /// Keeps `withUnsafeBytes`'s error typed.
    func withTypedUnsafeBytes<E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        var failure: E?
        self.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Void in
            do throws(E) { try body(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
