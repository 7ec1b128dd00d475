#if canImport(Glibc)
import Glibc
#endif

/// The files of one capture, in `seq` order.
public struct CaptureFiles: Sendable {
    /// The header's `capture` id, or the path for a file that has none.
    public var id: String
    public var files: [(path: String, header: DumpHeader)]
}

/// Turns the paths a user gave (files and directories) into captures.
///
/// Directories are walked recursively in name order, skipping hidden entries.
/// Only each file's first frame is read here; files that are no dump are
/// reported as problems, not fatal.
public enum CaptureCatalog {
    public struct Scan: Sendable {
        public var captures: [CaptureFiles]
        public var problems: [DumpError]
    }

    public static func scan(_ paths: [String], limits: DumpLimits = .default) -> Scan {
        var problems: [DumpError] = []
        var headers: [(path: String, header: DumpHeader)] = []
        for path in paths.flatMap({ expand($0, problems: &problems) }) {
            do throws(DumpError) {
                let reader = try DumpFileReader(path: path, limits: limits)
                headers.append((path, reader.header))
            } catch {
                problems.append(error)
            }
        }
        var byID: [String: [(path: String, header: DumpHeader)]] = [:]
        for entry in headers {
            byID[entry.header.capture ?? entry.path, default: []].append(entry)
        }
        let captures = byID.keys.sorted().map { id in
            CaptureFiles(id: id, files: byID[id]!.sorted { ($0.header.seq, $0.path) < ($1.header.seq, $1.path) })
        }
        return Scan(captures: captures, problems: problems)
    }

    static func expand(_ path: String, problems: inout [DumpError]) -> [String] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            problems.append(DumpError(path: path, offset: 0, reason: .io("cannot read: \(String(cString: strerror(errno)))")))
            return []
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return [path] }
        guard let dir = opendir(path) else {
            problems.append(DumpError(path: path, offset: 0, reason: .io("cannot list: \(String(cString: strerror(errno)))")))
            return []
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        return names.sorted().flatMap { expand("\(base)/\($0)", problems: &problems) }
    }
}
