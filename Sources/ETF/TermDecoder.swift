/// Decodes one external term into a `Term` arena.
///
/// The decoder is iterative: nesting costs an entry on an explicit stack, not a
/// machine stack frame, so a term nested a million levels deep decodes (or is
/// refused past `limits.maxDepth`) without crashing. Every length field is
/// checked against the bytes that remain before anything is allocated.
public struct TermDecoder {
    public var limits: ETFLimits

    /// Open containers, innermost last; reused across decodes.
    private var stack = ContainerStack()
    private var keyScratch: [Int] = []

    public init(limits: ETFLimits = .default) {
        self.limits = limits
    }

    /// Decodes the term in `bytes` (starting with the version byte 131) into `term`,
    /// replacing its contents. `baseOffset` is added to offsets in errors. All of
    /// `bytes` must be the one term.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0, into term: inout Term) throws(ETFError) {
        var reader = ETFReader(bytes: bytes, baseOffset: baseOffset)
        let version = try reader.readUInt8(tag: nil)
        guard version == ETFTag.version else {
            throw reader.error(.badVersion(version), tag: nil, at: 0)
        }
        if reader.remaining > 0, reader.byte(at: reader.position) == ETFTag.compressed {
            let tagPosition = reader.position
            let storage = try CompressedTerm.inflate(bytes, baseOffset: baseOffset, limits: limits)
            term.bytes = storage  // shared, not copied: map key ordering reads payloads through it
            do throws(ETFError) {
                try Self.withBytes(storage) { (inner) throws(ETFError) in
                    var innerReader = ETFReader(bytes: inner, baseOffset: 0)
                    try decodeBody(&innerReader, into: &term)
                }
            } catch {
                // Name the compressed term's place in the input, and where inside the inflated bytes it failed.
                var wrapped = error
                wrapped.inflatedOffset = error.offset
                wrapped.offset = baseOffset + tagPosition
                throw wrapped
            }
            return
        }
        // Payload offsets must point into `term.bytes`, so read from the term's own copy.
        let storage = Array(bytes)
        term.bytes = storage
        try Self.withBytes(storage) { (copy) throws(ETFError) in
            var copyReader = ETFReader(bytes: copy, baseOffset: baseOffset)
            copyReader.position = 1
            try decodeBody(&copyReader, into: &term)
        }
    }

    /// `Array.withUnsafeBytes` rethrows untyped errors; this keeps them typed.
    private static func withBytes(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ETFError) -> Void) throws(ETFError) {
        var failure: ETFError?
        array.withUnsafeBytes { raw in
            do throws(ETFError) { try body(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Why the decoding loop handed control back to `decodeBody`.
    private enum Pause {
        /// The term is complete.
        case done
        /// The arena needs more slots before the next tag.
        case needRoom
        /// A map closed: its keys must be put in order, which reads the arena as a `Term`.
        /// The loop resumes with the rest of the containers that map completes.
        case orderMap(node: Int, tagOffset: Int)
        case failed(ETFError)
    }

    /// What the loop keeps between pauses.
    private struct LoopState {
        /// Nodes decoded so far: the index the next node takes.
        var nodes = 0
        /// Open containers.
        var depth = 0
        /// Children the innermost open container still expects (its entry on the
        /// stack is brought up to date only when another container opens inside it).
        var remaining = 0
        /// Resume by completing a child (the map just ordered) rather than reading a tag.
        var resumeClosing = false
    }

    /// The most nodes one tag adds: a fun's own node, its module atom, two integers,
    /// and its creator pid with the pid's node atom.
    private static let nodesPerTag = 6

    private mutating func decodeBody(_ reader: inout ETFReader, into term: inout Term) throws(ETFError) {
        term.mapKeyOrder.removeAll(keepingCapacity: true)
        if !isKnownUniquelyReferenced(&stack) { stack = ContainerStack() }
        // The arena is written through a pointer, not appended to: `term.nodes` holds
        // initialized slots (the previous term's nodes, then placeholders added as
        // needed) that the loop overwrites, and is cut to the nodes decoded at the end.
        var state = LoopState()
        defer { term.nodes.removeLast(term.nodes.count - state.nodes) }
        while true {
            let free = term.nodes.count - state.nodes
            if free <= Self.nodesPerTag {
                // Small steps, so the slots are still in cache when the loop writes them.
                let more = max(4096, min(term.nodes.count / 8, 1 << 16))
                term.nodes.append(contentsOf: repeatElement(TermNode(kind: .emptyList, end: 0), count: more))
            }
            let stack = self.stack
            let pause = term.nodes.withUnsafeMutableBufferPointer { buffer -> Pause in
                do throws(ETFError) {
                    return try run(&reader, buffer.baseAddress!, slots: buffer.count, stack, &state)
                } catch {
                    return .failed(error)
                }
            }
            switch pause {
            case .done:
                if reader.remaining > 0 {
                    throw reader.error(.trailingBytes(reader.remaining), tag: nil)
                }
                return
            case .needRoom:
                continue
            case .orderMap(let node, let tagOffset):
                try orderMapKeys(node, tagOffset: tagOffset, &reader, &term)
                state.resumeClosing = true
            case .failed(let error):
                throw error
            }
        }
    }

    /// Decodes tags into the slots at `nodes` until the term is complete, a map
    /// closes, fewer than `nodesPerTag` slots are left, or the input is bad.
    private func run(_ reader: inout ETFReader, _ nodes: UnsafeMutablePointer<TermNode>, slots: Int,
                     _ stack: ContainerStack, _ state: inout LoopState) throws(ETFError) -> Pause {
        var out = NodeWriter(base: nodes, count: state.nodes)
        var depth = state.depth
        var remaining = state.remaining
        defer {
            state.nodes = out.count
            state.depth = depth
            state.remaining = remaining
        }
        let lastSlot = slots - Self.nodesPerTag
        let maxNodes = limits.maxNodes
        let maxDepth = limits.maxDepth
        var closing = state.resumeClosing
        state.resumeClosing = false

        while true {
            if !closing {
                if out.count >= lastSlot { return .needRoom }
                if out.count >= maxNodes {
                    throw reader.error(.tooManyNodes(limit: maxNodes), tag: nil)
                }
                let tagPosition = reader.position
                let tag = try reader.readUInt8(tag: nil)
                let index = out.count
                var opened = 0  // children a container just opened expects
                var openedEnd = -1

                switch tag {
                case ETFTag.atom:
                    // Latin-1 atoms, what OTP 25 writes by default: the commonest tag, inlined.
                    let length = Int(try reader.readUInt16(tag: tag))
                    let start = try reader.skipBytes(length, tag: tag)
                    if length > 255 {
                        throw reader.error(.atomTooLong(characters: length), tag: tag, at: tagPosition)
                    }
                    out.append(TermNode(kind: .atom, count: UInt32(length), end: UInt32(index + 1), value: TermNode.payload(start: start, length: length)))
                case ETFTag.smallAtom, ETFTag.atomUTF8, ETFTag.smallAtomUTF8:
                    try appendAtom(tag: tag, &reader, &out)
                case ETFTag.smallTuple, ETFTag.largeTuple:
                    let arity = tag == ETFTag.smallTuple ? UInt32(try reader.readUInt8(tag: tag)) : try reader.readUInt32(tag: tag)
                    try reader.requireClaim(UInt64(arity), minimumBytesEach: 1, field: "tuple arity", tag: tag)
                    out.append(TermNode(kind: .tuple, count: arity, end: UInt32(index + 1)))
                    opened = Int(arity)
                case ETFTag.smallInteger, ETFTag.integer, ETFTag.smallBig, ETFTag.largeBig:
                    try appendInteger(tag: tag, &reader, &out)
                case ETFTag.newFloat:
                    let bits = try reader.readUInt64(tag: tag)
                    guard Double(bitPattern: bits).isFinite else {
                        throw reader.error(.nonFiniteFloat, tag: tag, at: tagPosition)
                    }
                    out.append(TermNode(kind: .float, end: UInt32(index + 1), value: bits))
                case ETFTag.float:
                    let start = try reader.skipBytes(31, tag: tag)
                    guard let value = Self.parseFloatString(reader.slice(start, 31)) else {
                        throw reader.error(.badFloatString, tag: tag, at: tagPosition)
                    }
                    out.append(TermNode(kind: .float, end: UInt32(index + 1), value: value.bitPattern))
                case ETFTag.nil:
                    out.append(TermNode(kind: .emptyList, end: UInt32(index + 1)))
                case ETFTag.string:
                    let length = Int(try reader.readUInt16(tag: tag))
                    let start = try reader.skipBytes(length, tag: tag)
                    if length == 0 {
                        out.append(TermNode(kind: .emptyList, end: UInt32(index + 1)))
                    } else {
                        out.append(TermNode(kind: .byteList, count: UInt32(length), end: UInt32(index + 1), value: TermNode.payload(start: start, length: length)))
                    }
                case ETFTag.list:
                    let length = try reader.readUInt32(tag: tag)
                    // Each element takes at least one byte (so does the tail, found missing when read).
                    try reader.requireClaim(UInt64(length), minimumBytesEach: 1, field: "list length", tag: tag)
                    if length == 0 {
                        // binary_to_term reads a zero-length list as its tail alone.
                        continue
                    }
                    out.append(TermNode(kind: .list, count: length, end: UInt32(index + 1)))
                    opened = Int(length) + 1
                case ETFTag.binary:
                    let length = try reader.readUInt32(tag: tag)
                    try reader.requireClaim(UInt64(length), minimumBytesEach: 1, field: "binary length", tag: tag)
                    let start = try reader.skipBytes(Int(length), tag: tag)
                    out.append(TermNode(kind: .binary, end: UInt32(index + 1), value: TermNode.payload(start: start, length: Int(length))))
                case ETFTag.bitBinary:
                    let length = try reader.readUInt32(tag: tag)
                    let bits = try reader.readUInt8(tag: tag)
                    try reader.requireClaim(UInt64(length), minimumBytesEach: 1, field: "bitstring length", tag: tag)
                    let start = try reader.skipBytes(Int(length), tag: tag)
                    if length == 0 ? bits != 0 : (bits == 0 || bits > 8) {
                        throw reader.error(.badBitCount(bits), tag: tag, at: tagPosition)
                    }
                    let kind: TermKind = (bits == 8 || length == 0) ? .binary : .bitstring
                    out.append(TermNode(kind: kind, flags: kind == .bitstring ? bits : 0, end: UInt32(index + 1), value: TermNode.payload(start: start, length: Int(length))))
                case ETFTag.map:
                    let pairs = try reader.readUInt32(tag: tag)
                    try reader.requireClaim(UInt64(pairs), minimumBytesEach: 2, field: "map size", tag: tag)
                    out.append(TermNode(kind: .map, count: pairs, end: UInt32(index + 1)))
                    opened = Int(pairs) * 2
                case ETFTag.newPid, ETFTag.pid:
                    try appendPid(tag: tag, &reader, &out)
                case ETFTag.port, ETFTag.newPort, ETFTag.v4Port:
                    out.append(TermNode(kind: .port, end: 0))
                    try appendNodeAtom(owner: tag, &reader, &out)
                    let id = tag == ETFTag.v4Port ? try reader.readUInt64(tag: tag) : UInt64(try reader.readUInt32(tag: tag))
                    let creation = tag == ETFTag.port ? UInt32(try reader.readUInt8(tag: tag)) : try reader.readUInt32(tag: tag)
                    out[index].value = id
                    out[index].aux = creation
                    out[index].end = UInt32(out.count)
                case ETFTag.reference, ETFTag.newReference, ETFTag.newerReference:
                    try appendReference(tag: tag, tagPosition: tagPosition, &reader, &out)
                case ETFTag.export:
                    out.append(TermNode(kind: .export, end: 0))
                    try appendAtomChild(owner: tag, &reader, &out)
                    try appendAtomChild(owner: tag, &reader, &out)
                    let arityPosition = reader.position
                    try appendSmallIntegerChild(owner: tag, &reader, &out)
                    let arityNode = out[out.count - 1]
                    let arity = Int64(bitPattern: arityNode.value)
                    guard arityNode.kind == .integer, (0...255).contains(arity) else {
                        throw reader.error(.unexpectedTag(expected: "an arity from 0 to 255"), tag: tag, at: arityPosition)
                    }
                    out[index].end = UInt32(out.count)
                case ETFTag.newFun:
                    let sizeFieldStart = reader.position
                    let size = try reader.readUInt32(tag: tag)
                    let arity = try reader.readUInt8(tag: tag)
                    _ = try reader.skipBytes(16, tag: tag)  // uniq: an MD5 that printing does not use
                    let funIndex = try reader.readUInt32(tag: tag)
                    let free = try reader.readUInt32(tag: tag)
                    try reader.requireClaim(UInt64(free), minimumBytesEach: 1, field: "fun free-variable count", tag: tag)
                    out.append(TermNode(kind: .localFun, count: free, aux: UInt32(arity), end: 0, value: UInt64(funIndex)))
                    try appendAtomChild(owner: tag, &reader, &out)
                    try appendSmallIntegerChild(owner: tag, &reader, &out)
                    try appendSmallIntegerChild(owner: tag, &reader, &out)
                    try appendPidChild(owner: tag, &reader, &out)
                    opened = Int(free)
                    openedEnd = sizeFieldStart + Int(size)
                case ETFTag.compressed:
                    throw reader.error(.compressedNotAtTop, tag: tag, at: tagPosition)
                default:
                    if let why = ETFTag.unsupportedReason(tag) {
                        throw reader.error(.unsupportedTag(why), tag: tag, at: tagPosition)
                    }
                    throw reader.error(.unknownTag, tag: tag, at: tagPosition)
                }

                if opened > 0 {
                    if depth >= maxDepth {
                        throw reader.error(.tooDeep(limit: maxDepth), tag: tag, at: tagPosition)
                    }
                    if depth > 0 { stack[depth - 1].remaining = remaining }
                    stack.push(OpenContainer(node: index, remaining: opened, tagOffset: tagPosition, expectedEnd: openedEnd), at: depth)
                    depth += 1
                    remaining = opened
                    continue
                }
                if tag == ETFTag.newFun {
                    // A fun with no free variables is complete at once.
                    try closeFun(index, tagOffset: tagPosition, expectedEnd: openedEnd, &reader, &out)
                }
            }
            closing = false
            // One child is complete: close every container it completes.
            while depth > 0 {
                remaining -= 1
                if remaining > 0 { break }
                depth -= 1
                let top = stack[depth]
                remaining = depth > 0 ? stack[depth - 1].remaining : 0
                switch out[top.node].kind {
                case .map:
                    out[top.node].end = UInt32(out.count)
                    return .orderMap(node: top.node, tagOffset: top.tagOffset)
                case .localFun:
                    try closeFun(top.node, tagOffset: top.tagOffset, expectedEnd: top.expectedEnd, &reader, &out)
                default:
                    out[top.node].end = UInt32(out.count)
                }
            }
            if depth == 0 { return .done }
        }
    }

    /// Finishes a fun whose free variables are all decoded: its declared size must
    /// end where its last free variable did.
    private func closeFun(_ index: Int, tagOffset: Int, expectedEnd: Int, _ reader: inout ETFReader, _ out: inout NodeWriter) throws(ETFError) {
        out[index].end = UInt32(out.count)
        if reader.position != expectedEnd {
            let declared = UInt32(truncatingIfNeeded: expectedEnd - tagOffset - 1)
            throw reader.error(.badFunSize(declared: declared, actual: reader.position - tagOffset - 1), tag: ETFTag.newFun, at: tagOffset)
        }
    }

    /// Sorts a map's keys in term order, records the order, and rejects duplicates.
    /// Inner maps closed earlier, so comparing keys never sorts again.
    private mutating func orderMapKeys(_ index: Int, tagOffset: Int, _ reader: inout ETFReader, _ term: inout Term) throws(ETFError) {
        keyScratch.removeAll(keepingCapacity: true)
        var child = index + 1
        let end = Int(term.nodes[index].end)
        while child < end {
            keyScratch.append(child)
            child = Int(term.nodes[child].end)  // skip the key
            child = Int(term.nodes[child].end)  // skip the value
        }
        if let ordered = Self.orderAtomKeys(&keyScratch, term) {
            // All atoms of one encoding, as nearly every map's keys are.
            if !ordered {
                throw reader.error(.duplicateMapKey, tag: ETFTag.map, at: tagOffset)
            }
        } else {
            // The copy shares the arena's storage and must be gone before the arena
            // is written below, or that write copies every node: once per map, which
            // makes a term of many maps quadratic wherever the optimizer does not end
            // the copy's life early (debug builds).
            let snapshot = term
            keyScratch.sort { snapshot.compare($0, $1) < 0 }
            for i in keyScratch.indices.dropFirst() where snapshot.compare(keyScratch[i - 1], keyScratch[i]) == 0 {
                throw reader.error(.duplicateMapKey, tag: ETFTag.map, at: tagOffset)
            }
        }
        term.nodes[index].aux = UInt32(term.mapKeyOrder.count)
        term.mapKeyOrder.append(contentsOf: keyScratch.lazy.map { UInt32($0) })
    }

    /// When `keys` are all atoms with the same encoding flag, sorts them as
    /// `Term.compare` orders such atoms (by their bytes, then by length: see
    /// `Term.compareAtoms`) and returns whether they are all distinct; nil, with
    /// `keys` untouched, for any other keys. No copy of the term, no closure
    /// context: the general path's retains and releases cost more than the
    /// comparisons in maps of a few atom keys.
    private static func orderAtomKeys(_ keys: inout [Int], _ term: Term) -> Bool? {
        guard let first = keys.first else { return true }
        let flags = term.nodes[first].flags
        for key in keys where term.nodes[key].kind != .atom || term.nodes[key].flags != flags {
            return nil
        }
        return term.bytes.withUnsafeBufferPointer { bytes -> Bool in
            term.nodes.withUnsafeBufferPointer { nodes -> Bool in
                func compare(_ a: Int, _ b: Int) -> Int {
                    let na = nodes[a], nb = nodes[b]
                    let la = na.payloadLength, lb = nb.payloadLength
                    let pa = na.payloadStart, pb = nb.payloadStart
                    for i in 0..<min(la, lb) {
                        let x = bytes[pa + i], y = bytes[pb + i]
                        if x != y { return x < y ? -1 : 1 }
                    }
                    return la == lb ? 0 : (la < lb ? -1 : 1)
                }
                if keys.count <= 16 {
                    // Insertion sort: maps of a few keys, and usually in order already.
                    for i in 1..<keys.count {
                        let key = keys[i]
                        var j = i
                        while j > 0, compare(keys[j - 1], key) > 0 {
                            keys[j] = keys[j - 1]
                            j -= 1
                        }
                        keys[j] = key
                    }
                } else {
                    keys.sort { compare($0, $1) < 0 }
                }
                for i in keys.indices.dropFirst() where compare(keys[i - 1], keys[i]) == 0 {
                    return false
                }
                return true
            }
        }
    }
}
