import FlameDump

/// One job's open archive, left at the member it read last.
///
/// A compressed tar can only be read from its start, so reading member k
/// afresh costs decompressing everything before it; a capture whose files
/// sit in one .tar.gz, read member after member from a new reader each,
/// would cost the archive's square. The cursor keeps the last reader, and a
/// later member of the same archive is reached by reading on from there. At
/// most one archive is held open per job, so memory stays that of one reader.
/// Used by one job's thread only.
final class ArchiveCursor {
    private var reader: ArchiveReader?

    init() {}

    func open(archive path: String, identity: FileIdentity, member: ArchiveReader.Member, shownAs display: String) throws(DumpError) -> FileInput {
        if let reader, reader.path == path, reader.identity == identity, let at = reader.current?.index ?? reader.lastIndex, at < member.index {
            while let next = try reader.nextMember() {
                guard next.index < member.index else {
                    guard next.index == member.index, next.name == member.name, next.size == member.size else { break }
                    return ArchiveMemberInput.current(of: reader, member: next, shownAs: display)
                }
            }
            self.reader = nil
            throw DumpError(path: display, offset: 0, reason: .io("the archive changed since its members were listed: this member is gone"))
        }
        let fresh = try ArchiveReader(path: path)
        guard fresh.identity == identity else {
            throw DumpError(path: display, offset: 0, reason: .io("the archive was replaced since its members were listed"))
        }
        reader = fresh
        while let next = try fresh.nextMember() {
            guard next.index < member.index else {
                guard next.index == member.index, next.name == member.name, next.size == member.size else { break }
                return ArchiveMemberInput.current(of: fresh, member: next, shownAs: display)
            }
        }
        reader = nil
        throw DumpError(path: display, offset: 0, reason: .io("the archive changed since its members were listed: this member is gone"))
    }
}
