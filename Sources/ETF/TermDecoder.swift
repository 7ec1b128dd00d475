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
    /// `bytes` must be the one term. `heldByCaller` is what the caller holds for
    /// this term (its frame buffer), counted in `limits.maxTermMemory` with what
    /// decoding holds.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0, into term: inout Term, heldByCaller: Int = 0) throws(ETFError) {
        var reader = ETFReader(bytes: bytes, baseOffset: baseOffset)
        let version = try reader.readUInt8(tag: nil)
        guard version == ETFTag.version else {
            throw reader.error(.badVersion(version), tag: nil, at: 0)
        }
        let retained = releaseLargeStorage(&term)
        if reader.remaining > 0, reader.byte(at: reader.position) == ETFTag.compressed {
            let inflated = try CompressedTerm.inflate(bytes, baseOffset: baseOffset, limits: limits, heldByCaller: heldByCaller + retained)
            try decode(inflated: inflated, compressedAt: baseOffset + reader.position, into: &term, heldByCaller: heldByCaller)
            return
        }
        // Payload offsets must point into `term.bytes`, so read from the term's own copy.
        var budget = MemoryBudget(limit: limits.maxTermMemory, held: heldByCaller + retained)
        guard budget.charge(bytes.count) else {
            throw reader.error(budget.exceeded(adding: bytes.count, "a \(bytes.count)-byte copy of the term"), tag: nil, at: 0)
        }
        let storage = Array(bytes)
        term.bytes = storage
        try Self.withBytes(storage) { (copy) throws(ETFError) in
            var copyReader = ETFReader(bytes: copy, baseOffset: baseOffset)
            copyReader.position = 1
            try decodeBody(&copyReader, into: &term, budget: budget)
        }
    }

    /// Decodes a compressed term that `CompressedTerm.inflate` has inflated
    /// (`inflated` has no version byte; the term keeps it, without a copy).
    /// `tagOffset` is where its tag 80 stands in the input: errors name that
    /// place, and where inside the inflated bytes they are.
    public mutating func decode(inflated: [UInt8], compressedAt tagOffset: Int, into term: inout Term, heldByCaller: Int = 0) throws(ETFError) {
        let retained = releaseLargeStorage(&term)
        let budget = MemoryBudget(limit: limits.maxTermMemory, held: heldByCaller + retained + inflated.capacity)
        term.bytes = inflated  // shared, not copied: map key ordering reads payloads through it
        do throws(ETFError) {
            try Self.withBytes(inflated) { (inner) throws(ETFError) in
                var innerReader = ETFReader(bytes: inner, baseOffset: 0)
                try decodeBody(&innerReader, into: &term, budget: budget)
            }
        } catch {
            var wrapped = error
            wrapped.inflatedOffset = error.offset
            wrapped.offset = tagOffset
            throw wrapped
        }
    }

    /// Node arenas, key orders and stacks are kept from one term to the next up
    /// to these sizes (24, 4, 8 and 32 MiB); larger ones are freed, so one
    /// large term does not keep its memory while the next is read.
    static let keptNodes = 1 << 20
    static let keptKeys = 1 << 20
    static let keptStackEntries = 1 << 20

    /// Call when done with `term`: frees its bytes, and what it and the decoder
    /// hold above the sizes kept for the next term, so a large term's memory is
    /// not held while the next frame is read.
    public mutating func recycle(_ term: inout Term) {
        _ = releaseLargeStorage(&term)
    }

    /// Frees the previous term's bytes, and storage above the sizes kept; returns
    /// the bytes still held, which the next decode counts in its budget.
    private mutating func releaseLargeStorage(_ term: inout Term) -> Int {
        term.bytes = []
        if term.nodes.capacity > Self.keptNodes { term.nodes = [] }
        if term.mapKeyOrder.capacity > Self.keptKeys { term.mapKeyOrder = [] }
        if keyScratch.capacity > Self.keptKeys { keyScratch = [] }
        if stack.capacity > Self.keptStackEntries || !isKnownUniquelyReferenced(&stack) { stack = ContainerStack() }
        return term.nodes.capacity * MemoryLayout<TermNode>.stride + term.mapKeyOrder.capacity * MemoryLayout<UInt32>.stride
            + keyScratch.capacity * MemoryLayout<Int>.stride + stack.bytes
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
        var budget: MemoryBudget
        /// Nodes decoded so far: the index the next node takes.
        var nodes = 0
        /// Open containers.
        var depth = 0
        /// Children the innermost open container still expects (its entry on the
        /// stack is brought up to date only when another container opens inside it).
        var remaining = 0
        /// Resume by completing a child (the map just ordered) rather than reading a tag.
        var resumeClosing = false
        /// Bytes of big integers so far.
        var bignumBytes = 0
    }

    private static let nodesPerTag = TagReader.nodesPerTag

    private mutating func decodeBody(_ reader: inout ETFReader, into term: inout Term, budget: MemoryBudget) throws(ETFError) {
        term.mapKeyOrder.removeAll(keepingCapacity: true)
        // The arena is written through a pointer, not appended to: `term.nodes` holds
        // initialized slots (the previous term's nodes, then placeholders added as
        // needed) that the loop overwrites, and is cut to the nodes decoded at the end.
        var state = LoopState(budget: budget)
        defer { term.nodes.removeLast(term.nodes.count - state.nodes) }
        while true {
            if term.nodes.count - state.nodes <= Self.nodesPerTag {
                try addSlots(&term.nodes, &state, reader)
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
                try orderMapKeys(node, tagOffset: tagOffset, &reader, &term, &state.budget)
                state.resumeClosing = true
            case .failed(let error):
                throw error
            }
        }
    }

    /// Makes room in the arena for the loop to go on. The arena never needs more
    /// nodes than `maxNodes`, nor than the bytes left (every node takes at least
    /// one), so a term of moderate size gets its arena in one allocation; a large
    /// one doubles, within the memory budget, up to that bound.
    private func addSlots(_ nodes: inout [TermNode], _ state: inout LoopState, _ reader: ETFReader) throws(ETFError) {
        let needed = state.nodes + Self.nodesPerTag + 1
        if nodes.capacity < needed {
            let bound = min(limits.maxNodes, state.nodes + reader.remaining) + 2 * Self.nodesPerTag + 1
            let stride = MemoryLayout<TermNode>.stride
            let preferred = bound * stride <= Self.arenaReservedAtOnce ? bound : min(bound, max(needed, 2 * nodes.capacity))
            if let reason = state.budget.reserve(&nodes, minimum: needed, preferred: preferred, purpose: { "a node arena of \($0) subterms" }) {
                throw reader.error(reason, tag: nil)
            }
        }
        // Small steps, so the slots are still in cache when the loop writes them.
        let step = max(4096, min(nodes.count / 8, 1 << 16))
        let target = min(nodes.capacity, nodes.count + step)
        nodes.append(contentsOf: repeatElement(TermNode(kind: .emptyList, end: 0), count: target - nodes.count))
    }

    /// Arenas up to this size are allocated whole at the first node.
    static let arenaReservedAtOnce = 16 << 20

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
        let maxBignumBytes = limits.maxBignumBytes
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
                let (opened, openedEnd) = try TagReader.read(tag, at: tagPosition, &reader, &out,
                                                             bignumBytes: &state.bignumBytes, maxBignumBytes: maxBignumBytes)
                if opened < 0 { continue }  // a zero-length list: its tail, read next, is the term

                if opened > 0 {
                    if depth >= maxDepth {
                        throw reader.error(.tooDeep(limit: maxDepth), tag: tag, at: tagPosition)
                    }
                    if depth == stack.capacity {
                        try growStack(stack, &state.budget, reader, tag: tag, at: tagPosition)
                    }
                    if depth > 0 { stack[depth - 1].remaining = remaining }
                    stack.push(OpenContainer(node: index, remaining: opened, tagOffset: tagPosition, expectedEnd: openedEnd), at: depth)
                    depth += 1
                    remaining = opened
                    continue
                }
                if tag == ETFTag.newFun {
                    // A fun with no free variables is complete at once.
                    try TagReader.closeFun(index, tagOffset: tagPosition, expectedEnd: openedEnd, &reader, &out)
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
                    try TagReader.closeFun(top.node, tagOffset: top.tagOffset, expectedEnd: top.expectedEnd, &reader, &out)
                default:
                    out[top.node].end = UInt32(out.count)
                }
            }
            if depth == 0 { return .done }
        }
    }

    @inline(never)
    private func growStack(_ stack: ContainerStack, _ budget: inout MemoryBudget, _ reader: ETFReader, tag: UInt8, at position: Int) throws(ETFError) {
        let bytes = stack.bytes
        guard budget.charge(2 * bytes) else {
            throw reader.error(budget.exceeded(adding: 2 * bytes, "a stack of \(2 * stack.capacity) open containers"), tag: tag, at: position)
        }
        stack.grow()
        budget.release(bytes)
    }

    /// Sorts a map's keys in term order, records the order, and rejects duplicates.
    /// Inner maps closed earlier, so comparing keys never sorts again.
    private mutating func orderMapKeys(_ index: Int, tagOffset: Int, _ reader: inout ETFReader, _ term: inout Term,
                                       _ budget: inout MemoryBudget) throws(ETFError) {
        keyScratch.removeAll(keepingCapacity: true)
        let pairs = Int(term.nodes[index].count)
        if let reason = budget.reserve(&keyScratch, minimum: pairs, preferred: pairs, purpose: { "\($0) map keys to sort" })
            ?? budget.reserve(&term.mapKeyOrder, minimum: term.mapKeyOrder.count + pairs, preferred: 2 * term.mapKeyOrder.capacity,
                              purpose: { "the key order of \($0) map keys" }) {
            throw reader.error(reason, tag: ETFTag.map, at: tagOffset)
        }
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
