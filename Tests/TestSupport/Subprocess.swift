import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a child process did.
public struct ProcessResult: CustomStringConvertible, Sendable {
    /// The command as asked for (for `Flameconv.run`: `flameconv` and its arguments).
    public var command: [String]
    /// The exit code, or nil when a signal ended the process.
    public var exitCode: Int32?
    /// The signal that ended the process, if one did.
    public var signal: Int32?
    /// Killed (SIGKILL) because it ran past its time limit.
    public var timedOut = false
    public var stdout: [UInt8]
    public var stderr: String
    public var seconds: Double
    /// Peak resident set, from wait4's rusage; 0 when not above the test runner's own.
    public var maxRSSKiB: Int

    /// The exit code, or -1 when a signal ended the process.
    public var status: Int32 { exitCode ?? -1 }
    /// Standard output as UTF-8 text.
    public var out: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard error (the same as `stderr`).
    public var err: String { stderr }

    public var description: String {
        "\(command.joined(separator: " ")): exit \(exitCode.map(String.init) ?? "-") signal \(signal.map(String.init) ?? "-")\(timedOut ? " TIMED OUT" : "") in \(String(format: "%.2f", seconds)) s, max RSS \(maxRSSKiB / 1024) MiB\nstderr: \(stderr.prefix(2000))"
    }
}

/// Child processes for tests, started with posix_spawn: standard output and
/// error go to files (a chatty child cannot block on a full pipe), an optional
/// address-space limit (`ulimit -v`) and time limit (SIGKILL past it) apply,
/// and the child starts as from a shell, with no signal blocked or ignored.
public enum Subprocess {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Runs `argv` (its first element a path) to its end.
    /// - `stdin`: the file standard input reads; `stdout`: a file for standard output
    ///   instead of collecting it (then `stdout` of the result is empty).
    /// - `setup`: shell commands (bash) run first, in the same shell that then execs `argv`
    ///   (`cd DIR;`, `ulimit -n 100;`, `exec < <(…);`, a writer started with `&` …).
    /// - `addressSpaceKiB`: `ulimit -v` for the child; `timeout`: seconds before SIGKILL (nil: none).
    /// - `whileRunning`: called once with the child's pid soon after it started.
    public static func run(_ argv: [String], stdin: String = "/dev/null", stdout: String? = nil, setup: String = "",
                           addressSpaceKiB: Int? = nil, timeout: Double? = nil,
                           whileRunning: ((pid_t) -> Void)? = nil) throws -> ProcessResult {
        try start(argv, stdin: stdin, stdout: stdout, setup: setup, addressSpaceKiB: addressSpaceKiB)
            .wait(timeout: timeout, whileRunning: whileRunning)
    }

    /// Starts `argv` as `run` does and returns at once: for tests that signal or feed the child while it runs.
    public static func start(_ argv: [String], stdin: String = "/dev/null", stdout: String? = nil, setup: String = "",
                             addressSpaceKiB: Int? = nil) throws -> Child {
        try Child(argv, stdin: stdin, stdout: stdout, setup: setup, addressSpaceKiB: addressSpaceKiB)
    }

    /// A started child; its output goes to a scratch folder of its own until `wait` reads it.
    public final class Child: @unchecked Sendable {
        public let pid: pid_t
        public let command: [String]
        private let output = ScratchDir()
        private let collectsStdout: Bool

        init(_ argv: [String], stdin: String, stdout: String?, setup: String, addressSpaceKiB: Int?) throws {
            command = argv
            collectsStdout = stdout == nil
            var spawned = argv
            if !setup.isEmpty || addressSpaceKiB != nil {
                // bash applies the limit and runs the setup, then execs the command: the pid waited for is the command's.
                let limit = addressSpaceKiB.map { "ulimit -v \($0) || exit 97; " } ?? ""
                spawned = ["/bin/bash", "-c", "\(limit)\(setup) exec \"$0\" \"$@\""] + argv
            }
            pid = try Subprocess.spawn(spawned, stdin: stdin, stdout: stdout ?? output.file("stdout"), stderr: output.file("stderr"))
        }

        /// Waits for the child to end (SIGKILL past `timeout` seconds, if given) and collects what it did.
        public func wait(timeout: Double? = nil, whileRunning: ((pid_t) -> Void)? = nil) throws -> ProcessResult {
            let waited = try Subprocess.wait(pid, timeout: timeout, whileRunning: whileRunning)
            return ProcessResult(command: command, exitCode: waited.exitCode, signal: waited.signal, timedOut: waited.timedOut,
                                 stdout: collectsStdout ? output.read("stdout") ?? [] : [],
                                 stderr: String(decoding: output.read("stderr") ?? [], as: UTF8.self),
                                 seconds: waited.seconds, maxRSSKiB: waited.maxRSSKiB)
        }
    }

    /// Starts `argv` with its standard streams opened on the given files.
    public static func spawn(_ argv: [String], stdin: String, stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        return try spawn(argv, actions: &actions)
    }

    /// The first real-time signal number; the classic signals lie below it.
    private static let firstRealTimeSignal: Int32 = 32

    /// Starts `argv` with the given file actions: nothing blocked, every classic signal at its default
    /// (the test runner's threads may block or ignore some).
    public static func spawn(_ argv: [String], actions: inout posix_spawn_file_actions_t) throws -> pid_t {
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in 1..<firstRealTimeSignal where sig != SIGKILL && sig != SIGSTOP { sigaddset(&defaults, sig) }
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

    public struct Waited: Sendable {
        public var exitCode: Int32?
        public var signal: Int32?
        public var timedOut: Bool
        public var seconds: Double
        public var maxRSSKiB: Int
    }

    /// Waits for `pid`, polling; SIGKILL past `timeout` seconds (nil: no limit).
    /// `whileRunning` is called once, with the pid, while the child runs.
    public static func wait(_ pid: pid_t, timeout: Double?, whileRunning: ((pid_t) -> Void)? = nil) throws -> Waited {
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
            if let timeout, now() - start > timeout && !timedOut {
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

    /// Seconds on the monotonic clock.
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// The path of `tool` in a folder of $PATH, if it is an executable there.
    public static func onPath(_ tool: String) -> String? {
        guard let path = getenv("PATH") else { return nil }
        return String(cString: path).split(separator: ":").map { "\($0)/\(tool)" }.first(where: isExecutable)
    }

    /// Whether the tests run under CI (`CI=true`), where a missing tool must fail rather than skip.
    public static let inCI: Bool = getenv("CI").map { String(cString: $0) == "true" } ?? false
}

/// The `flameconv` binary under test, run as a user runs it.
public enum Flameconv {
    /// `ulimit -v` for a limited run: 512 MiB of address space.
    public static let addressSpaceKiB = 524_288
    /// Seconds a limited run may take.
    public static let timeout: Double = 10

    /// `$FLAMECONV` (or `$FLAMECONV_BIN`), else the one built next to this test runner
    /// (SwiftPM puts every product of a build in one folder, whatever `--scratch-path`
    /// says), else `.build/debug/flameconv` or `.build/release/flameconv`.
    public static let binary: String? = {
        for name in ["FLAMECONV", "FLAMECONV_BIN"] {
            if let value = getenv(name), value.pointee != 0 { return String(cString: value) }
        }
        var runners: [String] = []
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { runners.append(String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        if let arg0 = CommandLine.arguments.first, let resolved = realpath(arg0, nil) {
            runners.append(String(cString: resolved))
            free(resolved)
        }
        // …/debug/flameconvPackageTests.xctest (Linux) or …/debug/X.xctest/Contents/MacOS/X (macOS)
        var candidates: [String] = []
        for runner in runners {
            var dir = Substring(runner)
            for _ in 0..<4 {
                guard let slash = dir.lastIndex(of: "/") else { break }
                dir = dir[..<slash]
                candidates.append("\(dir)/flameconv")
            }
        }
        candidates += ["\(repositoryRoot)/.build/debug/flameconv", "\(repositoryRoot)/.build/release/flameconv"]
        return candidates.first(where: isExecutable)
    }()

    /// True when this test process runs under AddressSanitizer (swift test --sanitize=address):
    /// its flameconv is instrumented too and reserves terabytes of shadow memory, so the
    /// address space limit cannot apply, and it runs slower.
    public static let underASan: Bool = dlsym(nil, "__asan_init") != nil  // nil handle: RTLD_DEFAULT

    public static var limitsApply: Bool { !underASan }
    /// The time limit of a limited run: `timeout`, four times that under AddressSanitizer.
    public static var effectiveTimeout: Double { underASan ? timeout * 4 : timeout }

    /// The binary, or an error that says how to get one.
    public static func requireBinary() throws -> String {
        guard let binary else { throw Subprocess.Failure("no flameconv binary next to the tests: build it (swift build) or set FLAMECONV") }
        return binary
    }

    /// Runs `flameconv ARGUMENTS` (see `Subprocess.run`). `limited`: under `ulimit -v 524288`
    /// (not under AddressSanitizer) and killed past `timeout` (default `effectiveTimeout`).
    public static func run(_ arguments: [String], stdin: String = "/dev/null", stdout: String? = nil, setup: String = "",
                           limited: Bool = true, timeout: Double? = nil,
                           whileRunning: ((pid_t) -> Void)? = nil) throws -> ProcessResult {
        var result = try Subprocess.run([try requireBinary()] + arguments, stdin: stdin, stdout: stdout, setup: setup,
                                        addressSpaceKiB: limited && limitsApply ? addressSpaceKiB : nil,
                                        timeout: limited ? timeout ?? effectiveTimeout : timeout,
                                        whileRunning: whileRunning)
        result.command = ["flameconv"] + arguments
        return result
    }
}
