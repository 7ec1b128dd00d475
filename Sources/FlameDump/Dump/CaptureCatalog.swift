/// One file of a capture.
public struct CaptureFile {
    public var path: String
    public var header: DumpHeader
    public var identity: FileIdentity
    /// For a pipe, FIFO or device: the reader that read the header, to read on
    /// from (such a file cannot be opened and read again). Nil for a regular
    /// file, which is opened again when its turn comes.
    public let stream: HeldStream?
    /// For a file that is not a path of its own (an archive member): how to
    /// read it again from its start. Nil for a file opened by `path`.
    public let reopen: Reopen?

    public typealias Reopen = @Sendable () throws(DumpError) -> FileInput

    init(path: String, header: DumpHeader, identity: FileIdentity, stream: HeldStream?) {
        self.path = path
        self.header = header
        self.identity = identity
        self.stream = stream
        reopen = nil
    }

    /// A file read through `reopen` each time its turn comes.
    public init(path: String, header: DumpHeader, identity: FileIdentity, reopen: @escaping Reopen) {
        self.path = path
        self.header = header
        self.identity = identity
        stream = nil
        self.reopen = reopen
    }
}

/// A reader that was opened once and is handed over once.
public final class HeldStream {
    private var reader: DumpFileReader?

    init(_ reader: DumpFileReader) { self.reader = reader }

    /// The reader, the first time; nil after that.
    func take() -> DumpFileReader? {
        defer { reader = nil }
        return reader
    }
}

/// The files of one capture, in `seq` order.
public struct CaptureFiles {
    /// The header's `capture` id, or the path for a file that has none.
    public var id: String
    public var files: [CaptureFile]

    public init(id: String, files: [CaptureFile]) {
        self.id = id
        self.files = files
    }
}

/// Turns the paths a user gave (files and directories) into captures.
///
/// Only each file's first frame is read here; regular files are closed again,
/// so the number of files never costs open descriptors. Files that are no dump
/// are reported as problems, not fatal.
public enum CaptureCatalog {
    public struct Scan {
        public var captures: [CaptureFiles]
        public var problems: [DumpError]
        /// Files passed over on purpose and odd seq numbers, for warnings.
        public var warnings: [String]
    }

    public static func scan(_ paths: [String], limits: DumpLimits = .default) -> Scan {
        scan(InputWalk.expand(paths), limits: limits)
    }

    public static func scan(_ walk: InputWalk.Result, limits: DumpLimits = .default) -> Scan {
        var problems = walk.problems
        var warnings = walk.skipped
        var entries: [CaptureFile] = []
        var seen: Set<FileIdentity> = []
        for input in walk.files {
            do throws(DumpError) {
                let file = input.isStandardInput
                    ? try FileInput(standardInputNamed: input.path)
                    : try FileInput(path: input.path, regularFileOnly: !input.named)
                // Standard input may be a file also named on the command line.
                guard seen.insert(file.identity).inserted else { continue }
                let reader = try DumpFileReader(input: file, limits: limits)
                entries.append(CaptureFile(path: input.path, header: reader.header, identity: file.identity,
                                           stream: file.isRegularFile ? nil : HeldStream(reader)))
            } catch {
                problems.append(error)
            }
        }
        let captures = group(entries, warnings: &warnings)
        return Scan(captures: captures, problems: problems, warnings: warnings)
    }

    /// Files grouped into captures by their headers' capture id (or path),
    /// captures in id order, each one's files in seq order (then path), one per
    /// seq. Wherever the files were found: batch groups archive members with them.
    public static func group(_ entries: [CaptureFile], warnings: inout [String]) -> [CaptureFiles] {
        var byID: [String: [CaptureFile]] = [:]
        for entry in entries {
            byID[entry.header.capture ?? entry.path, default: []].append(entry)
        }
        return byID.keys.sorted().map { id in
            let files = byID[id]!.sorted { ($0.header.seq, $0.path) < ($1.header.seq, $1.path) }
            return CaptureFiles(id: id, files: SeqCheck.distinct(files, capture: id, warnings: &warnings))
        }
    }
}

/// A capture's files in `seq` order should be 0, 1, 2 … (or start later, when the
/// agent's `max_files` removed the oldest): one file per seq, no gaps.
enum SeqCheck {
    /// `files` (sorted by seq, then path) with one file per seq: of two files with
    /// the same seq, the first in path order is read and the other skipped.
    /// Warns about those and about missing seq numbers.
    static func distinct(_ files: [CaptureFile], capture: String, warnings: inout [String]) -> [CaptureFile] {
        var kept: [CaptureFile] = []
        for file in files {
            if let last = kept.last {
                if file.header.seq == last.header.seq {
                    warnings.append("capture \(capture): \(last.path) and \(file.path) both hold seq \(file.header.seq): read \(last.path) (first in path order), skipped \(file.path)")
                    continue
                }
                if file.header.seq > last.header.seq &+ 1 {
                    let missing = file.header.seq == last.header.seq + 2 ? "seq \(last.header.seq + 1) is" : "seq \(last.header.seq + 1) to \(file.header.seq - 1) are"
                    warnings.append("capture \(capture): \(missing) missing between \(last.path) and \(file.path): deltas are taken across the gap")
                }
            }
            kept.append(file)
        }
        return kept
    }
}
