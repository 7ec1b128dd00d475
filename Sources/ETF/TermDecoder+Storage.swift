/// The decoder's working storage: the open-container stack and the arena writer.
/// Both are written through pointers, so the loop pays no uniqueness or
/// capacity check per node (Array's `append` does both, out of line).

/// An open container: which node, how many children are still to come.
struct OpenContainer {
    var node: Int
    var remaining: Int
    /// Where its tag stands, for errors found when it closes.
    var tagOffset: Int
    /// For a fun: the position its declared size says it ends at.
    var expectedEnd: Int
}

/// A growable stack of open containers owned by one `TermDecoder` (a copied
/// decoder makes its own on its next decode).
final class ContainerStack {
    private var base: UnsafeMutablePointer<OpenContainer>
    /// Entries it holds without growing; the decoder grows it (through its
    /// memory budget) before pushing past this.
    private(set) var capacity: Int

    static var entryBytes: Int { MemoryLayout<OpenContainer>.stride }
    var bytes: Int { capacity * Self.entryBytes }

    init() {
        capacity = 64
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    /// Entry `index`, which must be below the depth pushed so far.
    subscript(index: Int) -> OpenContainer {
        @inline(__always) get { base[index] }
        @inline(__always) set { base[index] = newValue }
    }

    /// Stores `entry` at `depth` (the current depth), which must be below `capacity`.
    @inline(__always)
    func push(_ entry: OpenContainer, at depth: Int) {
        (base + depth).initialize(to: entry)
    }

    /// Doubles the capacity.
    @inline(never)
    func grow() {
        let larger = UnsafeMutablePointer<OpenContainer>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base, count: capacity)
        base.deallocate()
        base = larger
        capacity *= 2
    }
}

/// Writes nodes into initialized slots of the arena (see `TermDecoder.decodeBody`);
/// the caller guarantees room for every node written.
struct NodeWriter {
    let base: UnsafeMutablePointer<TermNode>
    /// Nodes written so far: the index the next node takes.
    var count: Int

    @inline(__always)
    mutating func append(_ node: TermNode) {
        base[count] = node
        count &+= 1
    }

    subscript(index: Int) -> TermNode {
        @inline(__always) get { base[index] }
        @inline(__always) nonmutating set { base[index] = newValue }
    }
}
