#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One input file found among the paths a user gave.
public struct InputPath: Sendable {
    public var path: String
    /// Given on the command line: read whatever it is (a FIFO, /dev/stdin). Files
    /// met in a directory are read only when they are regular files.
    public var named: Bool
    /// `-`: standard input, read once as a stream.
    public var isStandardInput: Bool
    /// What the path led to when it was walked; nil for standard input.
    public var identity: FileIdentity?
}

/// Turns the paths a user gave into the files to read, each once.
///
/// Directories are walked recursively in name order, skipping hidden entries.
/// Every directory and file is entered or listed once, by device and inode, so a
/// link cycle ends and a file reached twice (named twice, or through a link) is
/// read once. Links given on the command line are followed wherever they lead.
/// Met while walking, a link to a file is followed, and a link to a directory is
/// followed one level: the files directly in it are read, its subdirectories are
/// not entered. A folder of links to capture folders works, and a link to `/`
/// costs one listing, not a walk of the disk.
public enum InputWalk {
    public struct Result: Sendable {
        public var files: [InputPath] = []
        /// Paths that could not be read or listed.
        public var problems: [DumpError] = []
        /// Things passed over on purpose, for a warning.
        public var skipped: [String] = []
    }

    /// The name `-` stands for in messages.
    public static let standardInputName = "standard input"

    public static func expand(_ arguments: [String]) -> Result {
        var walk = Walk()
        for argument in arguments { walk.named(argument) }
        return walk.result
    }

    private struct Walk {
        var result = Result()
        /// Directories walked through, subdirectories included.
        var seenDirectories: Set<FileIdentity> = []
        /// Directories whose files were taken through a link; walked in full
        /// still when they are met in a tree that was named.
        var listedDirectories: Set<FileIdentity> = []
        var seenFiles: Set<FileIdentity> = []
        var sawStandardInput = false

        mutating func named(_ path: String) {
            if path == "-" {
                if !sawStandardInput {
                    sawStandardInput = true
                    result.files.append(InputPath(path: InputWalk.standardInputName, named: true, isStandardInput: true, identity: nil))
                }
                return
            }
            var info = stat()
            guard PathName.withCString(path, { stat($0, &info) }) == 0 else {
                result.problems.append(DumpError(path: path, offset: 0, reason: .io("cannot read: \(String(cString: strerror(errno)))")))
                return
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                directory(path, FileIdentity(info), throughLink: false)
            } else {
                file(path, FileIdentity(info), named: true)
            }
        }

        mutating func file(_ path: String, _ identity: FileIdentity, named: Bool) {
            guard seenFiles.insert(identity).inserted else { return }
            result.files.append(InputPath(path: path, named: named, isStandardInput: false, identity: identity))
        }

        /// Lists `path`; with `throughLink` (reached by a link met while walking)
        /// only its files are taken.
        mutating func directory(_ path: String, _ identity: FileIdentity, throughLink: Bool) {
            if throughLink {
                guard !seenDirectories.contains(identity), listedDirectories.insert(identity).inserted else { return }
            } else {
                guard seenDirectories.insert(identity).inserted else { return }
            }
            guard let names = list(path) else { return }
            let base = path.hasSuffix("/") ? String(path.dropLast()) : path
            var subdirectoriesLeft = 0
            for name in names {
                let entry = "\(base)/\(name)"
                var own = stat()
                var info = stat()
                guard PathName.withCString(entry, { lstat($0, &own) == 0 && stat($0, &info) == 0 }) else {
                    result.problems.append(DumpError(path: entry, offset: 0, reason: .io("cannot read: \(String(cString: strerror(errno)))")))
                    continue
                }
                let isLink = (own.st_mode & S_IFMT) == S_IFLNK
                switch info.st_mode & S_IFMT {
                case S_IFREG:
                    file(entry, FileIdentity(info), named: false)
                case S_IFDIR:
                    if throughLink {
                        if !seenDirectories.contains(FileIdentity(info)) { subdirectoriesLeft += 1 }
                    } else {
                        directory(entry, FileIdentity(info), throughLink: isLink)
                    }
                default:
                    result.skipped.append("\(entry): skipped: not a regular file (name it on the command line to read a FIFO or device)")
                }
            }
            if subdirectoriesLeft > 0 {
                result.skipped.append("\(path): reached through a link, so its \(subdirectoriesLeft) subdirector\(subdirectoriesLeft == 1 ? "y was" : "ies were") not walked (name it on the command line to walk it all)")
            }
        }

        /// The visible names in `path`, sorted; the directory is closed before any is entered.
        mutating func list(_ path: String) -> [String]? {
            guard let dir = PathName.withCString(path, { opendir($0) }) else {
                result.problems.append(DumpError(path: path, offset: 0, reason: .io("cannot list: \(String(cString: strerror(errno)))")))
                return nil
            }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                // The name's bytes as they are: not always UTF-8.
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    PathName.string(fromBytes: raw.prefix { $0 != 0 })
                }
                if name.hasPrefix(".") { continue }
                names.append(name)
            }
            return names.sorted()
        }
    }
}
