import FlameModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per position in a list, the raw bytes of the last key met there and what
/// the tables said it is.
///
/// `process_info` lists repeat their keys in the same order sample after
/// sample (items, `garbage_collection_info` names, dictionary keys). Asking
/// the memo first turns the hash and probe of a table lookup into one short
/// comparison. What it returns is what the lookup returned for the same
/// bytes before, and the tables it stands in front of never forget an id, so
/// the answer is the same either way. Fixed size: `positions` keys of at most
/// `width` bytes; longer keys and later positions always take the lookup.
struct KeyMemo {
    /// Bytes of a key kept: item keys and `garbage_collection_info` names
    /// are shorter, with their tag and length.
    static let width = 40
    /// The answer for a key that is in no table (an unknown item or dictionary key).
    static let none = UInt32.max

    let positions: Int
    private var keys: [UInt8]
    /// Per position: its key's length (0: nothing kept) and answer.
    private var lengths: [UInt8]
    private var answers: [UInt32]

    init(positions: Int) {
        self.positions = positions
        keys = [UInt8](repeating: 0, count: positions * Self.width)
        lengths = [UInt8](repeating: 0, count: positions)
        answers = [UInt32](repeating: Self.none, count: positions)
    }

    /// The answer kept for `key` at `position`, if the key there was the same.
    @inline(__always)
    func recall(_ key: UnsafeRawBufferPointer, at position: Int) -> UInt32? {
        guard position < positions, key.count > 0, Int(lengths[position]) == key.count else { return nil }
        let same = keys.withUnsafeBytes { kept in
            memcmp(kept.baseAddress! + position * Self.width, key.baseAddress!, key.count) == 0
        }
        return same ? answers[position] : nil
    }

    /// Keeps `answer` as what `key` is at `position`.
    @inline(__always)
    mutating func remember(_ key: UnsafeRawBufferPointer, at position: Int, answer: UInt32) {
        guard position < positions, key.count > 0, key.count <= Self.width else { return }
        keys.withUnsafeMutableBytes { kept in
            (kept.baseAddress! + position * Self.width).copyMemory(from: key.baseAddress!, byteCount: key.count)
        }
        lengths[position] = UInt8(key.count)
        answers[position] = answer
    }

    /// What `table` says `key` is, asking the memo first; nil when it is not in the table.
    @inline(__always)
    mutating func lookup(_ key: UnsafeRawBufferPointer, at position: Int, in table: ByteInterner) -> UInt32? {
        if let known = recall(key, at: position) { return known == Self.none ? nil : known }
        let found = table.lookup(key)
        remember(key, at: position, answer: found ?? Self.none)
        return found
    }
}
