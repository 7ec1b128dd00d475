import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Outputs are never half-written, inputs never touched.
@Suite("Outputs and inputs", .serialized)
struct OutputSafetyTests {
    /// About `megabytes` MB of dump: the plain capture's header, its ticks again and
    /// again, its trailer.
    static func bigInput(_ dir: ScratchDir, megabytes: Int) throws -> String {
        let bytes = try Fixtures.bytes(Fixtures.captures.appendingPathComponent("plain/plain-000000.flame"))
        let frames = ETFBytes.frames(in: bytes)
        let ticks = Array(bytes[frames[1].start..<frames.last!.start])
        let path = dir.file("big.flame")
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes[..<frames[1].start]))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        let data = Data(ticks)
        for _ in 0..<max(1, (megabytes << 20) / ticks.count) { try handle.write(contentsOf: data) }
        try handle.write(contentsOf: Data(bytes[frames.last!.start...]))
        try handle.close()
        return path
    }

    @Test("SIGINT or SIGTERM during convert -o leaves neither the output nor a partial file",
          arguments: [SIGINT, SIGTERM])
    func interrupted(_ sig: Int32) throws {
        try Self.interrupt(sig, output: "out.perf")
    }

    @Test("SIGTERM while compression threads run (gzip members, libzstd's workers) leaves neither the output nor a partial file",
          arguments: ["out.perf.gz", "out.perf.zst"])
    func interruptedCompressed(_ name: String) throws {
        try Self.interrupt(SIGTERM, output: name, extra: ["--threads", "2"])
    }

    static func interrupt(_ sig: Int32, output name: String, extra: [String] = []) throws {
        let dir = ScratchDir()
        let input = try Self.bigInput(dir, megabytes: 100)
        let out = dir.file(name)
        var signalled = false
        let run = try Flameconv.run(["convert", "--quiet", input, "-o", out] + extra, timeout: 60) { pid in
            // Wait until the partial file holds data: the job is mid-write.
            let deadline = Subprocess.now() + 30
            while Subprocess.now() < deadline {
                if let partial = dir.partials().first,
                   let size = try? FileManager.default.attributesOfItem(atPath: dir.file(partial))[.size] as? Int, size > 0 {
                    kill(pid, sig)
                    signalled = true
                    return
                }
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG | WNOWAIT) == pid { return }  // finished first
                usleep(1000)
            }
        }
        try #require(signalled, "convert finished before it could be interrupted: \(run)")
        #expect(run.signal == sig, "expected death by signal \(sig) (the handler re-raises it): \(run)")
        #expect(!FileManager.default.fileExists(atPath: out), "\(name) exists")
        #expect(dir.partials().isEmpty, "left \(dir.partials())")
    }

    @Test("-o /dev/full: a clear message, exit 1, nothing created in /dev")
    func devFull() throws {
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? [])
        let run = try Flameconv.run(["convert", "--quiet", Fixtures.bad.appendingPathComponent("base.flame").path, "-o", "/dev/full"])
        #expect(run.exitCode == 1 && run.signal == nil, "\(run)")
        #expect(run.stderr.contains("/dev/full: write failed: No space left on device"), "\(run.stderr)")
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? [])
        #expect(after.subtracting(before).filter { $0.contains("partial") }.isEmpty)
        var info = stat()
        #expect(stat("/dev/full", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR, "/dev/full is no longer a device")
    }

    @Test("-o /dev/null and -o /dev/stdout write directly")
    func specialFiles() throws {
        let input = Fixtures.bad.appendingPathComponent("base.flame").path
        let null = try Flameconv.run(["convert", "--quiet", input, "-o", "/dev/null"])
        #expect(null.exitCode == 0, "\(null)")
        let stdout = try Flameconv.run(["convert", "--quiet", input, "-o", "/dev/stdout"])
        let plain = try Flameconv.run(["convert", "--quiet", input])
        #expect(stdout.exitCode == 0 && !stdout.stdout.isEmpty && stdout.stdout == plain.stdout, "\(stdout)")
    }

    @Test("-o into a folder of /dev (a tmpfs such as /dev/shm) writes a file there, through a temporary file",
          .enabled(if: FileManager.default.fileExists(atPath: "/dev/shm")))
    func fileInDeviceFolder() throws {
        let dir = "/dev/shm/flameconv-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = Fixtures.bad.appendingPathComponent("base.flame").path
        let plain = try Flameconv.run(["convert", "--quiet", input])
        for _ in 0..<2 { // once new, once over the file the first run wrote
            let run = try Flameconv.run(["convert", "--quiet", input, "-o", dir + "/out.perf"])
            #expect(run.exitCode == 0, "\(run)")
            let same = FileManager.default.contents(atPath: dir + "/out.perf").map { [UInt8]($0) } == plain.stdout
            #expect(same, "out.perf differs from what standard output gets")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.perf"])
        }
    }

    /// Root and a kernel that lets this container mount tmpfs.
    static let tmpfs: String? = {
        guard getuid() == 0 else { return nil }
        let dir = NSTemporaryDirectory() + "flameconv-tmpfs-probe-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { rmdir(dir) }
        guard mount("tmpfs", dir, "tmpfs", 0, "size=64k") == 0 else { return nil }
        umount(dir)
        return "ok"
    }()

    @Test("a full 64 KiB tmpfs: ENOSPC message, exit 1, no output, no partial file",
          .enabled(if: tmpfs != nil, "needs root and mount -t tmpfs (not permitted here)"))
    func fullDisk() throws {
        let dir = ScratchDir()
        let mountPoint = dir.file("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try #require(mount("tmpfs", mountPoint, "tmpfs", 0, "size=64k") == 0, "mount: \(String(cString: strerror(errno)))")
        defer { umount(mountPoint) }
        let out = mountPoint + "/out.perf"
        // The plain capture converts to about 320 KB.
        let run = try Flameconv.run(["convert", "--quiet", Fixtures.captures.appendingPathComponent("plain").path, "-o", out])
        #expect(run.exitCode == 1 && run.signal == nil, "\(run)")
        #expect(run.stderr.contains("\(out): write failed: No space left on device") || run.stderr.contains("No space left on device"), "\(run.stderr)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: mountPoint)) ?? []
        #expect(left.isEmpty, "left \(left) on the full disk")
        // And gzip output hits the same wall.
        let gz = try Flameconv.run(["convert", "--quiet", Fixtures.captures.appendingPathComponent("top100").path, "-o", mountPoint + "/out.perf.gz"])
        #expect(gz.exitCode == 1 || gz.exitCode == 0, "\(gz)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: mountPoint)) ?? []).allSatisfy { !$0.contains(".partial-") })
    }

    struct Snapshot: Equatable {
        var bytes: [UInt8]
        var size: Int
        var mtime: timespec
        var ctime: timespec
        var mode: UInt32
        static func == (a: Snapshot, b: Snapshot) -> Bool {
            a.bytes == b.bytes && a.size == b.size && a.mode == b.mode
                && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec
                && a.ctime.tv_sec == b.ctime.tv_sec && a.ctime.tv_nsec == b.ctime.tv_nsec
        }
    }

    static func snapshot(_ path: String) throws -> Snapshot {
        var info = stat()
        try #require(stat(path, &info) == 0)
        return Snapshot(bytes: try Fixtures.bytes(URL(fileURLWithPath: path)), size: Int(info.st_size), mtime: info.st_mtim, ctime: info.st_ctim, mode: info.st_mode)
    }

    @Test("inputs are unchanged: contents, size, mode, mtime and ctime, good or bad")
    func inputsUntouched() throws {
        let dir = ScratchDir()
        // Copies, so the check does not depend on the checkout's own timestamps.
        var inputs: [String] = []
        for url in FuzzReplayTests.files(Fixtures.bad) + [Fixtures.captures.appendingPathComponent("rotated/rotated-000000.flame")] {
            inputs.append(dir.write("in-" + url.lastPathComponent, try Fixtures.bytes(url)))
        }
        let before = try inputs.map(Self.snapshot)
        usleep(20_000)  // so a write would show in mtime
        for input in inputs {
            _ = try Flameconv.run(["convert", "--quiet", input, "-o", dir.file("out.perf")])
            _ = try Flameconv.run(["inspect", input], stdout: "/dev/null")
        }
        _ = try Flameconv.run(["convert", "--quiet", dir.path, "-o", dir.file("all.perf")])
        let after = try inputs.map(Self.snapshot)
        for (i, input) in inputs.enumerated() {
            #expect(before[i] == after[i], "\(input) changed")
        }
    }

    @Test("convert | head -1 and inspect | head -1 end quietly", arguments: ["convert", "inspect"])
    func brokenPipe(_ command: String) throws {
        let binary = try Flameconv.requireBinary()
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        let dir = ScratchDir()
        let errPath = dir.file("stderr")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The plain capture gives ~320 KB (convert) or ~1 MB (inspect): more than a pipe holds.
        let input = Fixtures.captures.appendingPathComponent("plain/plain-000000.flame").path
        let pid = try Subprocess.spawn([binary, command, input], actions: &actions)
        close(fds[1])
        // head -1: read one line, then close the pipe.
        var byte: UInt8 = 0
        var line = 0
        while read(fds[0], &byte, 1) == 1 {
            line += 1
            if byte == 0x0A { break }
        }
        close(fds[0])
        let waited = try Subprocess.wait(pid, timeout: Flameconv.effectiveTimeout)
        let stderr = String(decoding: dir.read("stderr") ?? [], as: UTF8.self)
        #expect(line > 1)
        #expect(waited.signal == nil && !waited.timedOut, "killed by \(String(describing: waited.signal)): \(stderr)")
        #expect(waited.exitCode == 0, "exit \(String(describing: waited.exitCode)): \(stderr)")
        #expect(!stderr.contains("error"), "\(stderr)")
    }
}
