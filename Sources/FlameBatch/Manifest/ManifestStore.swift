import FlameDump
import FlameModel
#if canImport(Glibc)
import Glibc
#endif

/// What every manifest in --out says: the latest record of each capture, and
/// the problem inputs. Reading is all a re-run and a merge need; a line cut
/// short or damaged is passed over (and counted), never fatal.
public struct ManifestStore {
    public private(set) var captures: [String: CaptureRecord] = [:]
    public private(set) var problems: [String: ProblemRecord] = [:]
    /// Lines that are no record (a torn last line of a killed run).
    public private(set) var unreadableLines = 0
    public private(set) var files: [String] = []

    /// Lines longer than this are no record this tool wrote.
    static let maxLineBytes = 16 << 20

    public init(out: String) {
        for path in ManifestFiles.all(in: out) {
            files.append(path)
            guard let bytes = Self.readAll(path) else { continue }
            var start = 0
            for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
                take(Array(bytes[start..<index]))
                start = index + 1
            }
            if start < bytes.count { unreadableLines += 1 }
        }
    }

    private mutating func take(_ line: [UInt8]) {
        guard let value = try? JSONValue.parse(line, maxInputBytes: Self.maxLineBytes) else {
            unreadableLines += 1
            return
        }
        if let record = CaptureRecord(value) {
            if let held = captures[record.capture], held.finishedAt > record.finishedAt { return }
            captures[record.capture] = record
        } else if let problem = ProblemRecord(value) {
            problems[problem.path] = problem
        } else {
            unreadableLines += 1
        }
    }

    private static func readAll(_ path: String) -> [UInt8]? {
        let fd = PathName.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }
}
