import FlameDump

/// One archive member's bytes, as the dump reader reads a file: a reader of
/// its own over the archive, moved to the member, read to the member's end.
final class ArchiveMemberInput: StreamedInput {
    private let reader: ArchiveReader
    private let display: String

    private init(reader: ArchiveReader, display: String) {
        self.reader = reader
        self.display = display
    }

    /// The member `member` of the archive at `path`, read from the start of
    /// the archive again: a compressed archive cannot be entered in the middle.
    /// The archive must still be the one discovery listed (`identity`), and the
    /// member still have its name and size.
    static func open(archive path: String, identity: FileIdentity, member: ArchiveReader.Member, shownAs display: String) throws(DumpError) -> FileInput {
        try ArchiveCursor().open(archive: path, identity: identity, member: member, shownAs: display)
    }

    /// The member the reader stands on now (during discovery's single pass).
    static func current(of reader: ArchiveReader, member: ArchiveReader.Member, shownAs display: String) -> FileInput {
        FileInput(path: display, identity: reader.identity, streaming: ArchiveMemberInput(reader: reader, display: display))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) -> Int {
        try reader.read(into: buffer, shownAs: display)
    }
}
