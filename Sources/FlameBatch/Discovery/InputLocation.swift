import FlameDump

/// Where a dump file's bytes are, so a job can read it again.
enum InputLocation {
    /// A file of its own, which must still be the file discovery read.
    case file(path: String, identity: FileIdentity)
    /// A member of a tar archive, shown as `display` (archive[member]).
    case member(archive: String, identity: FileIdentity, member: ArchiveReader.Member, display: String)

    /// Opens it from its start. An archive member is read through `cursor`,
    /// which goes on from the member a job read before when it can.
    func open(cursor: ArchiveCursor?) throws(DumpError) -> FileInput {
        switch self {
        case .file(let path, let identity):
            let input = try FileInput(path: path, regularFileOnly: true)
            guard input.identity == identity else {
                throw DumpError(path: path, offset: 0, reason: .io("replaced by another file since its header was read"))
            }
            return input
        case .member(let archive, let identity, let member, let display):
            if let cursor { return try cursor.open(archive: archive, identity: identity, member: member, shownAs: display) }
            return try ArchiveMemberInput.open(archive: archive, identity: identity, member: member, shownAs: display)
        }
    }

    /// Work is handed out in this order: the members of one archive in their
    /// order, so a job's cursor mostly moves forward.
    var order: (String, Int) {
        switch self {
        case .file(let path, _): return (path, 0)
        case .member(let archive, _, let member, _): return (archive, member.index)
        }
    }
}
