/// Checks a term's bytes as `TermDecoder` reads them, without building the term:
/// for the terms a dump reader skips (`{system, …}`, terms of unknown kinds),
/// which need neither a node arena nor their maps' keys sorted.
///
/// Every tag goes through the decoder's `TagReader`, within the same depth limit
/// and memory budget, so the faults the decoder reports are reported here, with
/// the same reason at the same offset. `maxNodes` and `maxBignumBytes` are not
/// applied: they bound the tree and its printing, which this does not make.
/// Repeated map keys are looked for by hashing: each key gets a `TermHash`,
/// which equal terms share whatever their encoding, and a map's key hashes are
/// sorted as plain integers. A map whose key hashes repeat is reported, not
/// judged: decoding the term tells a duplicate key from a collision.
public struct TermValidator {
    public enum Outcome: Sendable, Equatable {
        case valid
        /// Two keys of the map whose tag is at `mapOffset` hash alike: decode the
        /// term to learn whether they are the same term (an error) or not.
        case keysMayRepeat(mapOffset: Int)
    }

    public var limits: ETFLimits

    /// An open container.
    private struct Level {
        var remaining: Int
        var tagOffset: Int
        /// For a map: where its keys' hashes start in `keyHashes`; for a fun: where
        /// its declared size says it ends.
        var mark: Int
        var kind: TermKind
        /// Whether its own hash is wanted: it lies inside a map key.
        var hashing: Bool
    }

    /// What a container inside a map key has hashed so far (one per hashing level).
    private struct Running {
        /// Tuples and funs: the hash of the children so far; maps: the sum of pair hashes.
        var hash: UInt64
        /// Tuples and maps: their size; funs: the hash of their fixed fields.
        var head: UInt64
        /// Maps: the hash of the key whose value comes next.
        var pendingKey: UInt64 = 0
        /// Lists.
        var list = TermHash.ListHash()
    }

    /// A complete term's hash, and for a list the parts a list ending in it needs.
    private struct Value {
        var hash: UInt64 = 0
        var list: TermHash.ListHash?
    }

    private var levels: [Level] = []
    private var running: [Running] = []
    private var keyHashes: [UInt64] = []

    public init(limits: ETFLimits = .default) {
        self.limits = limits
    }

    /// Checks the term in `bytes` (version byte first; a compressed one is
    /// inflated). `heldByCaller` counts in the memory budget as for the decoder.
    public mutating func validate(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0, heldByCaller: Int = 0) throws(ETFError) -> Outcome {
        var reader = ETFReader(bytes: bytes, baseOffset: baseOffset)
        let version = try reader.readUInt8(tag: nil)
        guard version == ETFTag.version else {
            throw reader.error(.badVersion(version), tag: nil, at: 0)
        }
        let retained = releaseLargeStorage()
        if reader.remaining > 0, reader.byte(at: reader.position) == ETFTag.compressed {
            let inflated = try CompressedTerm.inflate(bytes, baseOffset: baseOffset, limits: limits, heldByCaller: heldByCaller + retained)
            return try validate(inflated: inflated, compressedAt: baseOffset + reader.position, heldByCaller: heldByCaller)
        }
        return try validateBody(&reader, budget: MemoryBudget(limit: limits.maxTermMemory, held: heldByCaller + retained))
    }

    /// Checks a compressed term that `CompressedTerm.inflate` has inflated; errors
    /// name `tagOffset` and the place in the inflated bytes, as the decoder's do.
    public mutating func validate(inflated: [UInt8], compressedAt tagOffset: Int, heldByCaller: Int = 0) throws(ETFError) -> Outcome {
        let budget = MemoryBudget(limit: limits.maxTermMemory, held: heldByCaller + releaseLargeStorage() + inflated.capacity)
        var outcome = Outcome.valid
        var failure: ETFError?
        inflated.withUnsafeBytes { raw in
            var reader = ETFReader(bytes: raw, baseOffset: 0)
            do throws(ETFError) {
                outcome = try validateBody(&reader, budget: budget)
            } catch {
                var wrapped = error
                wrapped.inflatedOffset = error.offset
                wrapped.offset = tagOffset
                failure = wrapped
            }
        }
        if let failure { throw failure }
        return outcome
    }

    /// Stacks are kept from one term to the next up to this many entries.
    static let keptEntries = 1 << 16

    private mutating func releaseLargeStorage() -> Int {
        levels.removeAll(keepingCapacity: levels.capacity <= Self.keptEntries)
        running.removeAll(keepingCapacity: running.capacity <= Self.keptEntries)
        keyHashes.removeAll(keepingCapacity: keyHashes.capacity <= Self.keptEntries)
        return levels.capacity * MemoryLayout<Level>.stride + running.capacity * MemoryLayout<Running>.stride
            + keyHashes.capacity * MemoryLayout<UInt64>.stride
    }

    private mutating func validateBody(_ reader: inout ETFReader, budget: MemoryBudget) throws(ETFError) -> Outcome {
        var budget = budget
        // One tag's nodes, read into scratch slots and dropped after hashing.
        let scratch = UnsafeMutablePointer<TermNode>.allocate(capacity: TagReader.nodesPerTag)
        scratch.initialize(repeating: TermNode(kind: .emptyList, end: 0), count: TagReader.nodesPerTag)
        defer { scratch.deallocate() }
        var ignoredBignumBytes = 0
        while true {
            let hashing = levels.last.map { $0.hashing || ($0.kind == .map && $0.remaining % 2 == 0) } ?? false
            let tagPosition = reader.position
            let tag = try reader.readUInt8(tag: nil)
            var out = NodeWriter(base: scratch, count: 0)
            let (opened, openedEnd) = try TagReader.read(tag, at: tagPosition, &reader, &out,
                                                         bignumBytes: &ignoredBignumBytes, maxBignumBytes: .max)
            if opened < 0 { continue }  // a zero-length list: its tail, read next, is the term
            if opened > 0 {
                if levels.count >= limits.maxDepth {
                    throw reader.error(.tooDeep(limit: limits.maxDepth), tag: tag, at: tagPosition)
                }
                try open(scratch, count: out.count, opened: opened, openedEnd: openedEnd, at: tagPosition, hashing: hashing, &budget, reader, tag: tag)
                continue
            }
            if tag == ETFTag.newFun {
                try TagReader.checkFunEnd(tagOffset: tagPosition, expectedEnd: openedEnd, reader)
            }
            var value = Value()
            if hashing { value = Self.leafValue(scratch, count: out.count, reader) }
            // One term is complete: hand it to its container, closing every container it completes.
            while !levels.isEmpty {
                let last = levels.count - 1
                deliver(value, to: last)
                levels[last].remaining -= 1
                if levels[last].remaining > 0 { break }
                let top = levels.removeLast()
                switch top.kind {
                case .map:
                    let keys = keyHashes.count - top.mark
                    keyHashes[top.mark...].sort()
                    for i in (top.mark + 1)..<(top.mark + keys) where keyHashes[i] == keyHashes[i - 1] {
                        return .keysMayRepeat(mapOffset: reader.baseOffset + top.tagOffset)
                    }
                    keyHashes.removeLast(keys)
                case .localFun:
                    try TagReader.checkFunEnd(tagOffset: top.tagOffset, expectedEnd: top.mark, reader)
                default:
                    break
                }
                if top.hashing { value = Self.finish(running.removeLast(), kind: top.kind) }
            }
            if levels.isEmpty {
                if reader.remaining > 0 {
                    throw reader.error(.trailingBytes(reader.remaining), tag: nil)
                }
                return .valid
            }
        }
    }

    /// Pushes the container whose nodes are in `scratch`, growing the stacks within the budget.
    private mutating func open(_ scratch: UnsafeMutablePointer<TermNode>, count: Int, opened: Int, openedEnd: Int, at tagPosition: Int,
                               hashing: Bool, _ budget: inout MemoryBudget, _ reader: ETFReader, tag: UInt8) throws(ETFError) {
        let kind = scratch[0].kind
        if let reason = budget.reserve(&levels, minimum: levels.count + 1, preferred: max(64, 2 * levels.capacity),
                                       purpose: { "a stack of \($0) open containers" })
            ?? (hashing ? budget.reserve(&running, minimum: running.count + 1, preferred: max(64, 2 * running.capacity),
                                         purpose: { "hashes of \($0) open containers in map keys" }) : nil)
            ?? (kind == .map ? budget.reserve(&keyHashes, minimum: keyHashes.count + opened / 2,
                                              preferred: max(keyHashes.count + opened / 2, 2 * keyHashes.capacity),
                                              purpose: { "hashes of \($0) map keys" }) : nil) {
            throw reader.error(reason, tag: tag, at: tagPosition)
        }
        levels.append(Level(remaining: opened, tagOffset: tagPosition, mark: kind == .map ? keyHashes.count : openedEnd,
                            kind: kind, hashing: hashing))
        guard hashing else { return }
        switch kind {
        case .tuple, .map:
            running.append(Running(hash: 0, head: UInt64(scratch[0].count)))
        case .localFun:
            running.append(Running(hash: 0, head: Self.funHead(scratch, reader)))
        default:
            running.append(Running(hash: 0, head: 0))
        }
    }

    /// Hands a complete term to the open container at `level`.
    private mutating func deliver(_ value: Value, to level: Int) {
        let container = levels[level]
        if container.kind == .map {
            let isKey = container.remaining % 2 == 0
            if isKey { keyHashes.append(value.hash) }
            guard container.hashing else { return }
            if isKey {
                running[running.count - 1].pendingKey = value.hash
            } else {
                let key = running[running.count - 1].pendingKey
                running[running.count - 1].hash &+= TermHash.mix(TermHash.combine(key, value.hash))
            }
            return
        }
        guard container.hashing else { return }
        let last = running.count - 1
        if container.kind == .list {
            if container.remaining > 1 {
                running[last].list.append(element: value.hash)
            } else if let rest = value.list {
                running[last].list.append(rest: rest)
            } else {
                running[last].list.tail = value.hash
            }
        } else {
            running[last].hash = TermHash.combine(running[last].hash, value.hash)
        }
    }

    private static func finish(_ state: Running, kind: TermKind) -> Value {
        switch kind {
        case .list:
            return Value(hash: state.list.hash, list: state.list)
        case .map:
            return Value(hash: TermHash.combine(TermHash.combine(TermHash.mapSeed, state.head), state.hash))
        case .localFun:
            return Value(hash: TermHash.combine(state.head, state.hash))
        default:
            return Value(hash: TermHash.combine(TermHash.combine(TermHash.tupleSeed, state.head), state.hash))
        }
    }

    /// What compares in a local fun besides its free variables: module, index,
    /// old uniq and the number of free variables (see `Term.queueLocalFun`).
    /// Nodes: the fun, its module, old index, old uniq, creator pid, pid's node.
    private static func funHead(_ nodes: UnsafeMutablePointer<TermNode>, _ reader: ETFReader) -> UInt64 {
        let index = UInt64(UInt32(truncatingIfNeeded: nodes[0].value))
        let oldUniq = UInt64(UInt32(truncatingIfNeeded: Int64(bitPattern: nodes[3].value)))
        return [atomHash(nodes[1], reader), index, oldUniq, UInt64(nodes[0].count)].reduce(TermHash.funSeed, TermHash.combine)
    }

    private static func atomHash(_ node: TermNode, _ reader: ETFReader) -> UInt64 {
        TermHash.atom(reader.slice(node.payloadStart, node.payloadLength), isUTF8: node.flags == 1)
    }

    /// The hash of a term complete in one tag (a leaf, or an empty container).
    private static func leafValue(_ nodes: UnsafeMutablePointer<TermNode>, count: Int, _ reader: ETFReader) -> Value {
        let node = nodes[0]
        func payload() -> UnsafeRawBufferPointer { reader.slice(node.payloadStart, node.payloadLength) }
        switch node.kind {
        case .integer:
            return Value(hash: TermHash.integer(Int64(bitPattern: node.value)))
        case .bigInteger:
            return Value(hash: TermHash.bytes(payload(), seed: TermHash.combine(TermHash.bignumSeed, UInt64(node.flags))))
        case .float:
            return Value(hash: TermHash.combine(TermHash.floatSeed, node.value))
        case .atom:
            return Value(hash: atomHash(node, reader))
        case .emptyList:
            return Value(hash: TermHash.emptyList, list: TermHash.ListHash())
        case .byteList:
            var list = TermHash.ListHash()
            for byte in payload() { list.append(element: TermHash.integer(Int64(byte))) }
            return Value(hash: list.hash, list: list)
        case .binary:
            return Value(hash: TermHash.bytes(payload(), seed: TermHash.binarySeed))
        case .bitstring:
            // Only the bits in use of the last byte count.
            let bytes = payload()
            let last = bytes[bytes.count - 1] & UInt8(truncatingIfNeeded: 0xFF << (8 - Int(node.flags)))
            let head = TermHash.bytes(UnsafeRawBufferPointer(rebasing: bytes.dropLast()), seed: TermHash.combine(TermHash.bitstringSeed, UInt64(node.flags)))
            return Value(hash: TermHash.combine(head, UInt64(last)))
        case .pid:
            return Value(hash: [node.value, UInt64(node.aux)].reduce(TermHash.combine(TermHash.pidSeed, atomHash(nodes[1], reader)), TermHash.combine))
        case .port:
            return Value(hash: [node.value, UInt64(node.aux)].reduce(TermHash.combine(TermHash.portSeed, atomHash(nodes[1], reader)), TermHash.combine))
        case .reference:
            // The ids as one number: high zero words do not count.
            let bytes = payload()
            var words = bytes.count / 4
            while words > 0, bytes.loadUnaligned(fromByteOffset: 4 * (words - 1), as: UInt32.self) == 0 { words -= 1 }
            let head = [UInt64(node.aux)].reduce(TermHash.combine(TermHash.referenceSeed, atomHash(nodes[1], reader)), TermHash.combine)
            return Value(hash: TermHash.bytes(UnsafeRawBufferPointer(rebasing: bytes.prefix(4 * words)), seed: head))
        case .export:
            let seed = TermHash.combine(TermHash.combine(TermHash.exportSeed, atomHash(nodes[1], reader)), atomHash(nodes[2], reader))
            return Value(hash: TermHash.combine(seed, nodes[3].value))
        case .localFun:
            return Value(hash: TermHash.combine(funHead(nodes, reader), 0))
        case .tuple:
            return Value(hash: TermHash.combine(TermHash.combine(TermHash.tupleSeed, 0), 0))
        case .map:
            return Value(hash: TermHash.combine(TermHash.combine(TermHash.mapSeed, 0), 0))
        case .list:
            preconditionFailure("a list with elements is never complete in one tag")
        }
    }
}
