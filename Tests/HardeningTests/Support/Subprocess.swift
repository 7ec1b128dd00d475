import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `flameconv` as a child process (posix_spawn) under an address
/// space limit and a timeout, and collects what it did.
enum Flameconv {
    /// `ulimit -v` for every run: 512 MiB of address space.
    static let addressSpaceKiB = 524_288
    static let timeout: Double = 10

    struct Run: CustomStringConvertible {
        var arguments: [String]
        var exitCode: Int32?
        var signal: Int32?
        var timedOut = false
        var stdout: [UInt8]
        var stderr: String
        var seconds: Double
        /// Peak resident set, from wait4's rusage; 0 when not above the test runner's own.
        var maxRSSKiB: Int

        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }

        var description: String {
            "flameconv \(arguments.joined(separator: " ")): exit \(exitCode.map(String.init) ?? "-") signal \(signal.map(String.init) ?? "-")\(timedOut ? " TIMED OUT" : "") in \(String(format: "%.2f", seconds)) s, max RSS \(maxRSSKiB / 1024) MiB\nstderr: \(stderr.prefix(2000))"
        }
    }

    /// The `flameconv` next to the test bundle: .build/<config>/flameconv, or $FLAMECONV_BIN.
    static let binary: String? = {
        if let path = ProcessInfo.processInfo.environment["FLAMECONV_BIN"], access(path, X_OK) == 0 { return path }
        var candidates: [URL] = []
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let argv0 = URL(fileURLWithPath: CommandLine.arguments.first ?? "").standardizedFileURL
        for start in [exe, argv0, Bundle.main.bundleURL] {
            var dir = start.deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("flameconv"))
                dir = dir.deletingLastPathComponent()
            }
        }
        return candidates.map(\.path).first { path in
            var info = stat()
            return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
        }
    }()

    /// True when this test process runs under AddressSanitizer (swift test --sanitize=address):
    /// its flameconv is instrumented too and reserves terabytes of shadow memory, so the
    /// address space limit cannot apply.
    static let underASan: Bool = dlsym(nil, "__asan_init") != nil  // nil handle: RTLD_DEFAULT

    static var limitsApply: Bool { !underASan }
    static var effectiveTimeout: Double { underASan ? timeout * 4 : timeout }

    /// Runs `flameconv ARGUMENTS` with stdin from /dev/null (or `stdin`), stdout and
    /// stderr to files, under `ulimit -v` and the timeout (killed with SIGKILL past it).
    static func run(_ arguments: [String], stdin: String = "/dev/null", stdout: String? = nil, cwd: String? = nil,
                    addressSpaceKiB: Int? = addressSpaceKiB, timeout: Double? = nil,
                    whileRunning: ((pid_t) -> Void)? = nil) throws -> Run {
        guard let binary else { throw Failure("flameconv binary not found next to the tests; build it (swift build) or set FLAMECONV_BIN") }
        let scratch = try TempDir()
        let outPath = scratch.path("stdout"), errPath = scratch.path("stderr")
        // sh applies the limit, then execs flameconv: the pid we wait for is flameconv's.
        var script = "exec \"$0\" \"$@\""
        if let kib = addressSpaceKiB, limitsApply { script = "ulimit -v \(kib) || exit 97; " + script }
        if let cwd { script = "cd \"\(cwd)\" || exit 98; " + script }
        let argv = ["/bin/sh", "-c", script, binary] + arguments

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let pid = try spawn(argv, actions: &actions)
        let result = try wait(pid, timeout: timeout ?? effectiveTimeout, whileRunning: whileRunning)
        return Run(arguments: arguments, exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut,
                   stdout: (try? scratch.read("stdout")) ?? [], stderr: String(decoding: (try? scratch.read("stderr")) ?? [], as: UTF8.self),
                   seconds: result.seconds, maxRSSKiB: result.maxRSSKiB)
    }

    static func spawn(_ argv: [String], actions: inout posix_spawn_file_actions_t) throws -> pid_t {
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal dispositions (the test runner may ignore some).
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, environ)
        guard status == 0 else { throw Failure("posix_spawn \(argv[0]): \(String(cString: strerror(status)))") }
        return pid
    }

    struct Waited {
        var exitCode: Int32?
        var signal: Int32?
        var timedOut: Bool
        var seconds: Double
        var maxRSSKiB: Int
    }

    /// Waits for `pid`, polling; SIGKILL past `timeout`.
    static func wait(_ pid: pid_t, timeout: Double, whileRunning: ((pid_t) -> Void)? = nil) throws -> Waited {
        let start = now()
        var timedOut = false
        var status: Int32 = 0
        var usage = rusage()
        var calledBack = false
        while true {
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw Failure("wait4: \(String(cString: strerror(errno)))") }
            if !calledBack, let whileRunning {
                calledBack = true
                whileRunning(pid)
                continue
            }
            if now() - start > timeout && !timedOut {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(2000)
        }
        let seconds = now() - start
        // posix_spawn's vfork child records the test runner's RSS high-water mark at exec,
        // so wait4's figure is a floor of the runner's own: report 0 ("below") then.
        var own = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &own)
        if usage.ru_maxrss <= own.ru_maxrss { usage.ru_maxrss = 0 }
        // WIFEXITED / WIFSIGNALED by hand (the C macros do not import).
        let low = status & 0x7F
        if low == 0 { return Waited(exitCode: (status >> 8) & 0xFF, signal: nil, timedOut: timedOut, seconds: seconds, maxRSSKiB: usage.ru_maxrss) }
        return Waited(exitCode: nil, signal: low, timedOut: timedOut, seconds: seconds, maxRSSKiB: usage.ru_maxrss)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// A scratch directory, removed on deinit.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("flameconv-hardening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: url.appendingPathComponent(name))
        return path(name)
    }
    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url.appendingPathComponent(name))) }
    /// Names in the folder, hidden ones included.
    func contents() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] }
    func partials() -> [String] { contents().filter { $0.contains(".partial-") } }
}

enum Fixtures {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let bad = root.appendingPathComponent("Fixtures/bad")
    static let captures = root.appendingPathComponent("Fixtures/captures")
    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}

/// The frames of a framed dump: (start of the length prefix, term bytes).
func framesOf(_ bytes: [UInt8]) -> [(start: Int, term: ArraySlice<UInt8>)] {
    var frames: [(Int, ArraySlice<UInt8>)] = []
    var i = 0
    while i + 4 <= bytes.count {
        let n = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        guard i + 4 + n <= bytes.count else { break }
        frames.append((i, bytes[(i + 4)..<(i + 4 + n)]))
        i += 4 + n
    }
    return frames
}

func frame(_ term: [UInt8]) -> [UInt8] {
    let n = UInt32(term.count)
    return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + term
}
