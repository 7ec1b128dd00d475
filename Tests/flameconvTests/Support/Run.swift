import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The repository root, from this file's place in it.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(4)  // Tests/flameconvTests/Support/Run.swift
    return parts.joined(separator: "/")
}()

func isExecutable(_ path: String) -> Bool {
    var info = stat()
    return access(path, X_OK) == 0 && stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// The `flameconv` binary under test: `$FLAMECONV`, else the one built next to
/// this test runner (SwiftPM puts every product of a build in one directory,
/// whatever `--scratch-path` says), else `.build/debug/flameconv`.
let flameconvBinary: String? = {
    if let env = getenv("FLAMECONV"), env.pointee != 0 { return String(cString: env) }
    var candidates: [String] = []
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    var runner = n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    if runner.isEmpty, let arg0 = CommandLine.arguments.first, let resolved = realpath(arg0, nil) {
        runner = String(cString: resolved)
        free(resolved)
    }
    // …/debug/flameconvPackageTests.xctest (Linux) or …/debug/X.xctest/Contents/MacOS/X (macOS)
    var dir = Substring(runner)
    for _ in 0..<4 {
        guard let slash = dir.lastIndex(of: "/") else { break }
        dir = dir[..<slash]
        candidates.append("\(dir)/flameconv")
    }
    candidates += ["\(repositoryRoot)/.build/debug/flameconv", "\(repositoryRoot)/.build/release/flameconv"]
    return candidates.first(where: isExecutable)
}()

struct RunResult {
    var status: Int32
    /// The signal that ended the process, if one did.
    var signal: Int32?
    var stdout: [UInt8]
    var stderr: [UInt8]
    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
}

/// The first real-time signal number; the classic signals lie below it.
private let firstRealTimeSignal: Int32 = 32

/// Starts `argv` with stdout and stderr into files of `scratch`; returns its pid.
func spawn(_ argv: [String], in scratch: ScratchDir, name: String, stdin: String = "/dev/null") -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "\(scratch.path)/\(name).stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "\(scratch.path)/\(name).stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // The test runner's threads may block or ignore signals; a child must start as
    // from a shell: nothing blocked, every signal at its default.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for sig in 1..<firstRealTimeSignal where sig != SIGKILL && sig != SIGSTOP { sigaddset(&defaults, sig) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, environ)
    precondition(rc == 0, "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
    return pid
}

func wait(_ pid: pid_t, scratch: ScratchDir, name: String) -> RunResult {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let signal = status & 0x7F
    return RunResult(status: signal == 0 ? (status >> 8) & 0xFF : -1, signal: signal == 0 ? nil : signal,
                     stdout: readFile("\(scratch.path)/\(name).stdout") ?? [], stderr: readFile("\(scratch.path)/\(name).stderr") ?? [])
}

/// Runs `argv` to the end.
func run(_ argv: [String], in scratch: ScratchDir, stdin: String = "/dev/null") -> RunResult {
    let name = "run-\(nextRunNumber())"
    return wait(spawn(argv, in: scratch, name: name, stdin: stdin), scratch: scratch, name: name)
}

private nonisolated(unsafe) var runCounter = 0
private nonisolated(unsafe) let runLock: UnsafeMutablePointer<pthread_mutex_t> = {
    let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(lock, nil)
    return lock
}()

private func nextRunNumber() -> Int {
    pthread_mutex_lock(runLock)
    defer { pthread_mutex_unlock(runLock) }
    runCounter += 1
    return runCounter
}

/// Runs `flameconv ARGS`.
func flameconv(_ arguments: [String], in scratch: ScratchDir, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
    let binary = try #require(flameconvBinary, "no flameconv binary: build it (swift build) or set FLAMECONV", sourceLocation: sourceLocation)
    return run([binary] + arguments, in: scratch)
}

/// A scratch directory, removed at deinit.
final class ScratchDir: @unchecked Sendable {
    let path: String

    init() {
        var template = Array("/tmp/flameconv-cli-tests.XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit {
        var pid: pid_t = 0
        var args: [UnsafeMutablePointer<CChar>?] = (["/bin/rm", "-rf", path] as [String]).map { strdup($0) } + [nil]
        defer { for a in args { free(a) } }
        if posix_spawn(&pid, "/bin/rm", nil, nil, &args, environ) == 0 {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let full = "\(path)/\(name)"
        writeFile(full, bytes)
        return full
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// The names in the directory, hidden ones included.
    func entries(_ sub: String = "") -> [String] {
        guard let d = opendir(sub.isEmpty ? path : "\(path)/\(sub)") else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot create \(path)")
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            precondition(n > 0)
            offset += n
        }
    }
    close(fd)
}

func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return out }
        out.append(contentsOf: chunk[..<n])
    }
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Offsets of the 4-byte length prefixes of a framed dump's frames.
func frameStarts(_ bytes: [UInt8]) -> [Int] {
    var starts: [Int] = []
    var at = 0
    while at + 4 <= bytes.count {
        starts.append(at)
        let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        at += 4 + length
    }
    return starts
}

/// Events of a perf text, each its whole block (event line, frames, the blank line).
func eventBlocks(_ text: String) -> [Substring] {
    var blocks: [Substring] = []
    var rest = Substring(text)
    while let end = rest.firstRange(of: "\n\n") {
        blocks.append(rest[..<end.upperBound])
        rest = rest[end.upperBound...]
    }
    return blocks
}

/// flame_prof dialect: comm, pid (`0.N.S`) and time (µs) of an event block.
func eventHeader(_ block: Substring) -> (comm: String, pid: String, micros: Int64) {
    let line = block.prefix { $0 != "\n" }
    let tab = line.split(separator: "\t", maxSplits: 1)
    let fields = tab[1].split(separator: " ")
    let time = fields[2].dropLast()  // "S.UUUUUU:"
    let parts = time.split(separator: ".")
    return (String(tab[0]), String(fields[0]), Int64(parts[0])! * 1_000_000 + Int64(parts[1])!)
}

let capturesDir = "\(repositoryRoot)/Fixtures/captures"
