/// What a node of a decoded term is.
public enum TermKind: UInt8, Sendable {
    /// `value` holds the Int64 bit pattern.
    case integer
    /// Beyond Int64. `payload` is the magnitude, little-endian; `flags` is 1 when negative.
    case bigInteger
    /// `value` holds the Double bit pattern.
    case float
    /// `payload` is the text; `flags` is 1 for UTF-8, 0 for Latin-1; `count` is its length in characters.
    case atom
    /// `count` elements follow as children.
    case tuple
    /// The empty list.
    case emptyList
    /// `count` elements then the tail follow as children (`count + 1` in all).
    case list
    /// A list of small integers sent as STRING_EXT; `payload` holds them.
    case byteList
    case binary
    /// `payload` holds the bytes; `flags` is the number of bits used in the last one (1 to 7).
    case bitstring
    /// `count` key/value pairs follow as children, key first. `aux` indexes the
    /// keys in term order in `Term.mapKeyOrder`.
    case map
    /// Child: the node atom. `value` is `id << 32 | serial`; `aux` is the creation.
    case pid
    /// Child: the node atom. `value` is the id; `aux` is the creation.
    case port
    /// Child: the node atom. `payload` holds `count` big-endian UInt32 ids; `aux` is the creation.
    case reference
    /// Children: module, old index, old uniq, creator pid, then `count` free variables.
    /// `aux` is the arity and `value` the index.
    case localFun
    /// Children: module atom, function atom, arity.
    case export
}

/// One node of the arena: 24 bytes, no references, so an arena is one allocation.
public struct TermNode: Sendable, Equatable {
    public var kind: TermKind
    public var flags: UInt8
    public var count: UInt32
    public var aux: UInt32
    /// Index one past this node's last descendant: the next sibling, if any.
    public var end: UInt32
    public var value: UInt64

    @inlinable
    init(kind: TermKind, flags: UInt8 = 0, count: UInt32 = 0, aux: UInt32 = 0, end: UInt32, value: UInt64 = 0) {
        self.kind = kind
        self.flags = flags
        self.count = count
        self.aux = aux
        self.end = end
        self.value = value
    }

    /// Offset of the payload in `Term.bytes`.
    @inlinable public var payloadStart: Int { Int(truncatingIfNeeded: value >> 32) }
    /// Length of the payload in bytes.
    @inlinable public var payloadLength: Int { Int(truncatingIfNeeded: value & 0xFFFF_FFFF) }

    @inlinable
    static func payload(start: Int, length: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: start) << 32 | UInt64(truncatingIfNeeded: length)
    }
}

/// A decoded term: a flat arena of nodes in preorder, and the bytes their payloads point into.
///
/// Node 0 is the root. The children of node `i` start at `i + 1`; each child's
/// `end` is the index of its next sibling. A `Term` can be reused across decodes
/// to keep its storage.
public struct Term: Sendable {
    public internal(set) var nodes: [TermNode] = []
    /// The bytes of the term (inflated, for a compressed term); payloads index into it.
    public internal(set) var bytes: [UInt8] = []
    /// Per map, its key node indices in Erlang term order (see `TermNode.aux`).
    public internal(set) var mapKeyOrder: [UInt32] = []

    public init() {}

    public var root: Int { 0 }

    /// Indices of the children of node `index`, in order.
    public func children(of index: Int) -> [Int] {
        var result: [Int] = []
        var child = index + 1
        let end = Int(nodes[index].end)
        while child < end {
            result.append(child)
            child = Int(nodes[child].end)
        }
        return result
    }

    /// The index of child number `n` of node `index` (walks siblings; for fixed, small n).
    public func child(_ n: Int, of index: Int) -> Int {
        var child = index + 1
        for _ in 0..<n { child = Int(nodes[child].end) }
        return child
    }

    public func payload(of index: Int) -> ArraySlice<UInt8> {
        let node = nodes[index]
        return bytes[node.payloadStart..<(node.payloadStart + node.payloadLength)]
    }

    /// The text of an atom node, decoded from Latin-1 or UTF-8.
    public func atomText(_ index: Int) -> String {
        let bytes = payload(of: index)
        if nodes[index].flags == 1 { return String(decoding: bytes, as: UTF8.self) }
        // Latin-1: each byte is the code point of the same value, two UTF-8
        // bytes from 0x80 on. Built directly, not through a generic scalar view.
        let count = bytes.reduce(0) { $0 + ($1 < 0x80 ? 1 : 2) }
        return String(unsafeUninitializedCapacity: count) { out in
            var at = 0
            for byte in bytes {
                if byte < 0x80 {
                    out[at] = byte
                    at += 1
                } else {
                    out[at] = 0xC0 | byte >> 6
                    out[at + 1] = 0x80 | byte & 0x3F
                    at += 2
                }
            }
            return at
        }
    }

    public func integerValue(_ index: Int) -> Int64? {
        nodes[index].kind == .integer ? Int64(bitPattern: nodes[index].value) : nil
    }

    public func floatValue(_ index: Int) -> Double? {
        nodes[index].kind == .float ? Double(bitPattern: nodes[index].value) : nil
    }
}
