/// One input file of a capture as the manifest records it: where it is, what
/// the file system says of it, and (once read) a hash of its bytes as stored.
public struct InputRecord: Sendable, Equatable {
    /// The file given or found while walking; for an archive member, the archive.
    public var path: String
    /// The member's name as stored in the archive; nil for a file of its own.
    public var member: String?
    public var size: Int64
    /// Modification time, nanoseconds since the epoch (a member's own, from its header).
    public var modified: Int64
    /// XXH64 of the bytes as stored (compressed or not); nil until read.
    public var contentHash: String?

    public init(path: String, member: String?, size: Int64, modified: Int64, contentHash: String? = nil) {
        self.path = path
        self.member = member
        self.size = size
        self.modified = modified
        self.contentHash = contentHash
    }

    /// Same place, size and time: the cheap test a re-run makes before it
    /// trusts the recorded outputs (as make and rsync do).
    public func looksUnchanged(from other: InputRecord) -> Bool {
        path == other.path && member == other.member && size == other.size && modified == other.modified
    }
}
