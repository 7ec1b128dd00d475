import FlameModel

/// Ids of values already parsed, by the raw ETF bytes that encoded them.
///
/// Samples repeat: the same stack trace, function and atom bytes come back
/// tick after tick. Finding their raw bytes turns parsing a known value into
/// a hash and a comparison.
struct RawTermCache {
    private(set) var raw: ByteInterner
    private var ids: [UInt32] = []

    init(capacity: Int) {
        raw = ByteInterner(capacity: capacity)
    }

    /// Bytes of raw encodings held.
    var byteCount: Int { raw.byteCount }

    @inline(__always)
    func lookup(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        raw.lookup(bytes).map { ids[Int($0)] }
    }

    /// Remembers that `bytes` parse to `id`; returns the raw entry's own index.
    @discardableResult
    mutating func insert(_ bytes: UnsafeRawBufferPointer, id: UInt32) -> UInt32 {
        let entry = raw.intern(bytes)
        if entry.isNew { ids.append(id) }
        return entry.id
    }

    /// The id parsed from raw entry `entry`.
    @inline(__always)
    func id(ofEntry entry: UInt32) -> UInt32 { ids[Int(entry)] }

    /// When `bytes` start with raw entry `entry`'s encoding: its length.
    @inline(__always)
    func prefixLength(of entry: UInt32, in bytes: UnsafeRawBufferPointer) -> Int? {
        raw.prefixLength(of: entry, in: bytes)
    }

    mutating func removeAll() {
        raw.removeAll()
        ids.removeAll(keepingCapacity: false)
    }
}
