import CArchive
import FlameDump
#if canImport(Glibc)
import Glibc
#endif

/// A tar archive (plain, gzip, zstd, bzip2 or xz) read with libarchive, member
/// after member, each member's bytes as a stream: nothing is unpacked to disk,
/// and no member name is ever used as a path.
///
/// One reader is one pass from the start; reading a member again means a new
/// reader that passes over the members before it (`ArchiveMemberInput.open`).
final class ArchiveReader {
    /// One member's header.
    struct Member {
        /// Its place in the archive, counting every entry from 0.
        var index: Int
        /// Its name as stored: bytes, kept as `PathName` keeps them. Shown
        /// escaped, never opened.
        var name: String
        var isRegularFile: Bool
        var isDirectory: Bool
        var size: Int64
        var modified: Int64
    }

    let path: String
    let identity: FileIdentity
    /// Size and modification time of the archive file itself.
    let fileSize: Int64
    let fileModified: Int64
    private let library: LibArchive
    private let archive: OpaquePointer
    private let fd: Int32
    private var nextIndex = 0
    /// Bytes of the current member read so far, for error offsets.
    private(set) var memberOffset = 0
    private(set) var current: Member?
    /// The index of the last member whose header was read; nil before the first.
    var lastIndex: Int? { nextIndex > 0 ? nextIndex - 1 : nil }

    /// Opens `path` and checks that it is an archive libarchive can list.
    init(path: String) throws(DumpError) {
        self.path = path
        let library: LibArchive
        switch LibArchive.loaded {
        case .success(let loaded): library = loaded
        case .failure(let error): throw DumpError(path: path, offset: 0, reason: .io("\(error)"))
        }
        let fd = PathName.withCString(path) { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else {
            throw DumpError(path: path, offset: 0, reason: .io("cannot open: \(String(cString: strerror(errno)))"))
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & Glibc.S_IFMT == Glibc.S_IFREG else {
            close(fd)
            throw DumpError(path: path, offset: 0, reason: .io("is not a regular file"))
        }
        guard let archive = library.readNew() else {
            close(fd)
            throw DumpError(path: path, offset: 0, reason: .io("libarchive: out of memory"))
        }
        // Tar only, through any compression filter: zip, cpio, iso … are not dump archives.
        _ = library.readSupportFilterAll(archive)
        _ = library.readSupportFormatTar(archive)
        _ = library.readSupportFormatGnutar(archive)
        self.library = library
        self.fd = fd
        self.archive = archive
        identity = FileIdentity(info)
        fileSize = Int64(info.st_size)
        fileModified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if library.readOpenFd(archive, fd, 64 << 10) != ARCHIVE_OK {
            // Every property is set: deinit frees the archive and closes the file.
            let message = Self.errorText(archive, library)
            throw DumpError(path: path, offset: 0, reason: .notADump("not a tar archive either: \(message)"))
        }
    }

    deinit {
        _ = library.readFree(archive)
        close(fd)
    }

    /// The next member's header; nil at the end. A damaged archive throws, naming
    /// the byte offset in its (decompressed) stream.
    func nextMember() throws(DumpError) -> Member? {
        var entry: OpaquePointer?
        let status = library.readNextHeader(archive, &entry)
        if status == ARCHIVE_EOF { current = nil; return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            current = nil
            throw DumpError(path: path, offset: max(0, Int(library.readHeaderPosition(archive))),
                            reason: .io("archive: \(Self.errorText(archive, library))"))
        }
        let name: String
        if let raw = library.entryPathname(entry) {
            name = PathName.string(fromBytes: UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw)))
        } else {
            name = "(no name)"
        }
        let member = Member(
            index: nextIndex, name: name, isRegularFile: library.entryFiletype(entry) == UInt32(Glibc.S_IFREG),
            isDirectory: library.entryFiletype(entry) == UInt32(Glibc.S_IFDIR),
            size: library.entrySizeIsSet(entry) != 0 ? library.entrySize(entry) : -1,
            modified: Int64(library.entryMtime(entry)) * 1_000_000_000 + Int64(library.entryMtimeNsec(entry)))
        nextIndex += 1
        memberOffset = 0
        current = member
        return member
    }

    /// Reads the current member's bytes; 0 at its end. Errors name the member as `display`.
    func read(into buffer: UnsafeMutableRawBufferPointer, shownAs display: String) throws(DumpError) -> Int {
        guard current != nil else { return 0 }
        let n = library.readData(archive, buffer.baseAddress, buffer.count)
        if n < 0 {
            throw DumpError(path: display, offset: memberOffset,
                            reason: .io("archive: \(Self.errorText(archive, library))"))
        }
        memberOffset += n
        return n
    }

    /// How messages and manifests name a member: the archive, then the member
    /// as stored, with every control character escaped where it is shown.
    static func displayName(archive: String, member: String) -> String {
        "\(archive)[\(member)]"
    }

    private static func errorText(_ archive: OpaquePointer, _ library: LibArchive) -> String {
        library.errorString(archive).map { String(cString: $0) } ?? "unknown error"
    }
}
