import FlameDump
#if canImport(Glibc)
import Glibc
#endif

/// Finds the captures among the inputs a user gave: dump files, directories
/// (walked as convert walks them) and tar archives of dumps.
///
/// What a file is comes from its bytes, never its name: a file is tried as a
/// dump first (plain, gzip or zstd), then as a tar archive (plain or through
/// any compression libarchive reads). Only each file's or member's header is
/// read here, one at a time, so memory does not grow with the files' sizes.
/// Files are grouped into captures by their headers alone, wherever they sit.
public enum Discovery {
    public struct Scan {
        public var captures: [BatchCapture]
        /// Inputs that are no dump (nor an archive), or could not be read.
        public var problems: [DumpError]
        /// Things passed over on purpose.
        public var warnings: [String]
    }

    private struct Found {
        var file: CaptureFile
        var input: InputRecord
        var location: InputLocation
    }

    /// `skippingDirectory`: the output folder: its files are outputs, not
    /// inputs, when it sits inside an input folder.
    public static func scan(_ paths: [String], limits: DumpLimits, skippingDirectory: String? = nil) -> Scan {
        let walk = InputWalk.expand(paths)
        var problems = walk.problems
        var warnings = walk.skipped
        var found: [Found] = []
        let skipped = skippingDirectory.flatMap { FileIdentity(path: $0) }
        for input in walk.files {
            if let skipped, !input.named, FileIdentity(path: parent(of: input.path)) == skipped { continue }
            if input.isStandardInput {
                problems.append(DumpError(path: input.path, offset: 0, reason: .io("batch reads files, not standard input (it reads every file twice: once for its header, once to convert it)")))
                continue
            }
            switch dumpFile(input.path, limits: limits) {
            case .success(let file):
                found.append(file)
            case .failure(let dumpError):
                if !mayBeArchive(dumpError) {
                    problems.append(dumpError)
                } else if let members = archiveMembers(input.path, limits: limits, problems: &problems, warnings: &warnings) {
                    found += members
                } else {
                    problems.append(dumpError)
                }
            }
        }
        return Scan(captures: group(found, warnings: &warnings), problems: problems, warnings: warnings)
    }

    /// Files grouped by capture id, each group in seq order as convert orders
    /// it (CaptureCatalog.group), with that capture's own warnings.
    private static func group(_ found: [Found], warnings: inout [String]) -> [BatchCapture] {
        var foundByPath: [String: Found] = [:]
        var byID: [String: [CaptureFile]] = [:]
        for entry in found {
            foundByPath[entry.file.path] = entry
            byID[entry.file.header.capture ?? entry.file.path, default: []].append(entry.file)
        }
        return byID.keys.sorted().compactMap { id in
            var own: [String] = []
            guard let files = CaptureCatalog.group(byID[id]!, warnings: &own).first else { return nil }
            warnings += own
            let entries = files.files.map { foundByPath[$0.path]! }
            return BatchCapture(files: files, inputs: entries.map(\.input), locations: entries.map(\.location), warnings: own)
        }
    }

    /// The header of a file of its own, and how to read it again.
    private static func dumpFile(_ path: String, limits: DumpLimits) -> Result<Found, DumpError> {
        do throws(DumpError) {
            let input = try FileInput(path: path, regularFileOnly: true)
            let identity = input.identity
            let reader = try DumpFileReader(input: input, limits: limits)
            var info = stat()
            guard PathName.withCString(path, { stat($0, &info) }) == 0 else {
                throw DumpError(path: path, offset: 0, reason: .io("cannot stat: \(String(cString: strerror(errno)))"))
            }
            let record = InputRecord(path: path, member: nil, size: Int64(info.st_size),
                                     modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
            let location = InputLocation.file(path: path, identity: identity)
            let file = CaptureFile(path: path, header: reader.header, identity: identity) { () throws(DumpError) -> FileInput in
                try location.open(cursor: nil)
            }
            return .success(Found(file: file, input: record, location: location))
        } catch {
            return .failure(error)
        }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A file that is not a readable dump may still be an archive of dumps; one
    /// that could not be opened, or is empty, is neither.
    private static func mayBeArchive(_ error: DumpError) -> Bool {
        switch error.reason {
        case .io, .empty: return false
        default: return true
        }
    }

    /// The dump members of a tar archive; nil when `path` is no archive.
    /// Members that are no dump are problems, named archive[member].
    private static func archiveMembers(_ path: String, limits: DumpLimits, problems: inout [DumpError], warnings: inout [String]) -> [Found]? {
        let reader: ArchiveReader
        let first: ArchiveReader.Member?
        do throws(DumpError) {
            reader = try ArchiveReader(path: path)
            first = try reader.nextMember()
        } catch {
            return nil
        }
        var found: [Found] = []
        var namesSeen: Set<String> = []
        var member = first
        while let current = member {
            if current.isRegularFile {
                // Two members of one name (tar appends): each keeps its own display name.
                let unique = namesSeen.insert(current.name).inserted
                let shown = unique ? current.name : "\(current.name)#\(current.index)"
                let display = ArchiveReader.displayName(archive: path, member: shown)
                do throws(DumpError) {
                    let input = ArchiveMemberInput.current(of: reader, member: current, shownAs: display)
                    let header = try DumpFileReader(input: input, limits: limits).header
                    let identity = reader.identity
                    let location = InputLocation.member(archive: path, identity: identity, member: current, display: display)
                    let file = CaptureFile(path: display, header: header, identity: identity) { () throws(DumpError) -> FileInput in
                        try location.open(cursor: nil)
                    }
                    found.append(Found(file: file, input: InputRecord(path: path, member: shown, size: current.size, modified: current.modified),
                                       location: location))
                } catch {
                    problems.append(error)
                }
            } else if !current.isDirectory {
                warnings.append("\(ArchiveReader.displayName(archive: path, member: current.name)): skipped: not a regular file (a link or device in the archive is never followed)")
            }
            do throws(DumpError) {
                member = try reader.nextMember()
            } catch {
                problems.append(error)
                member = nil
            }
        }
        return found
    }
}
