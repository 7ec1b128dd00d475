#if canImport(Glibc)
import Glibc
#endif

/// A scratch folder for one test, under $TMPDIR (else /tmp), removed with
/// everything in it when the test lets go of it.
public final class ScratchDir: @unchecked Sendable {
    public let path: String

    public init() {
        let base = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/flameconv-tests.XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { buffer in
            guard let made = mkdtemp(buffer.baseAddress!) else { preconditionFailure("mkdtemp in \(base): \(String(cString: strerror(errno)))") }
            return String(cString: made)
        }
    }

    deinit {
        // rm -rf: it does not follow links (a test may leave one to /), and empties read-only folders.
        guard let pid = try? Subprocess.spawn(["/bin/rm", "-rf", path], stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null") else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// The path of `name` (which may hold slashes) in the folder.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `bytes` to `name`, replacing it; returns its path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) -> String {
        let full = file(name)
        writeFile(full, bytes)
        return full
    }

    /// The bytes of `name`, or nil when it cannot be read.
    public func read(_ name: String) -> [UInt8]? { readFile(file(name)) }

    /// The names in the folder (or in its subfolder `sub`), hidden ones included, sorted.
    public func entries(_ sub: String = "") -> [String] {
        listDirectory(sub.isEmpty ? path : file(sub), includingHidden: true)
    }

    /// The partial outputs flameconv left in the folder (`.NAME.partial-PID`).
    public func partials() -> [String] { entries().filter { $0.contains(".partial-") } }
}

// MARK: Files

/// Writes `bytes` to `path`, replacing it (mode 0644 when new).
public func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    precondition(fd >= 0, "cannot create \(path): \(String(cString: strerror(errno)))")
    defer { close(fd) }
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 && errno == EINTR { continue }
            precondition(n > 0, "cannot write \(path): \(String(cString: strerror(errno)))")
            offset += n
        }
    }
}

/// The bytes of the file at `path`, or nil when it cannot be opened.
public func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return out }
        out.append(contentsOf: chunk[..<n])
    }
}

public func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Whether `path` is a regular file this process may execute.
public func isExecutable(_ path: String) -> Bool {
    var info = stat()
    return access(path, X_OK) == 0 && stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// Whether `path` is a folder (after links).
public func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// The names in the folder `path`, sorted; those starting with a dot only when
/// `includingHidden` (never `.` and `..`). Empty when it cannot be read.
public func listDirectory(_ path: String, includingHidden: Bool = false) -> [String] {
    guard let d = opendir(path) else { return [] }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        if name == "." || name == ".." { continue }
        if includingHidden || !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted()
}
