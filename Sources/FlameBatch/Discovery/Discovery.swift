import FlameDump
import Synchronization
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

    /// What one walked file held: its dump, an archive's dump members, or problems.
    private struct FileScan {
        var found: [Found] = []
        var problems: [DumpError] = []
        var warnings: [String] = []
    }

    /// Each walked file's results, in walk order, filled by the threads that
    /// scan them: each slot is written by the one thread that took its index
    /// (an atomic counter hands each out once), and read after they all ended.
    private final class Results: @unchecked Sendable {
        private let slots: UnsafeMutableBufferPointer<FileScan>
        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: FileScan())
        }
        deinit {
            slots.deinitialize()
            slots.deallocate()
        }
        func put(_ scan: FileScan, at index: Int) { slots[index] = scan }
        var all: [FileScan] { Array(slots) }
    }

    /// `skippingDirectory`: the output folder: its files are outputs, not
    /// inputs, when it sits inside an input folder. `jobs`: files read at once
    /// (each file's header, or an archive's listing, is independent of the
    /// others; the results are the same in any order, as they are grouped
    /// and sorted afterwards).
    public static func scan(_ paths: [String], limits: DumpLimits, skippingDirectory: String? = nil, jobs: Int = 1) -> Scan {
        let walk = InputWalk.expand(paths)
        let skipped = skippingDirectory.flatMap { FileIdentity(path: $0) }
        let files = walk.files.filter { input in
            guard let skipped, !input.named else { return true }
            return FileIdentity(path: parent(of: input.path)) != skipped
        }
        let results = Results(count: files.count)
        let next = Atomic<Int>(0)
        let box = WalkedFiles(files: files)
        WorkerThreads.run(max(1, min(jobs, files.count))) { _ in
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < box.files.count else { return }
                results.put(scanFile(box.files[index], limits: limits), at: index)
            }
        }
        var problems = walk.problems
        var warnings = walk.skipped
        var found: [Found] = []
        for result in results.all {
            found += result.found
            problems += result.problems
            warnings += result.warnings
        }
        return Scan(captures: group(found, warnings: &warnings), problems: problems, warnings: warnings)
    }

    private struct WalkedFiles: Sendable {
        let files: [InputPath]
    }

    /// One walked file: a dump, else an archive of dumps, else a problem.
    private static func scanFile(_ input: InputPath, limits: DumpLimits) -> FileScan {
        var result = FileScan()
        if input.isStandardInput {
            result.problems.append(DumpError(path: input.path, offset: 0, reason: .io("batch reads files, not standard input (it reads every file twice: once for its header, once to convert it)")))
            return result
        }
        switch dumpFile(input.path, limits: limits) {
        case .success(let file):
            result.found.append(file)
        case .failure(let dumpError):
            if !mayBeArchive(dumpError) {
                result.problems.append(dumpError)
            } else if let members = archiveMembers(input.path, limits: limits, problems: &result.problems, warnings: &result.warnings) {
                result.found += members
            } else {
                result.problems.append(dumpError)
                if case .failure(let loadError) = LibArchive.loaded {
                    result.warnings.append("\(input.path): not tried as a tar archive: \(loadError)")
                }
            }
        }
        return result
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
