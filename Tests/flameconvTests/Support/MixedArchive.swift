import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An archive of captures as users keep them, made with the real tools (gzip,
/// zstd, tar, Python's tarfile for names tar refuses to write) from the
/// fixtures: plain, gzip and zstd files, a rotated capture split across loose
/// files and two compressed tars (one member itself gzip), a tar with hostile
/// entry names holding captures with hostile ids, and a corrupt file.
///
/// `sources` keeps every capture's files as plain files outside `inputs`, for
/// `flameconv convert` to make the reference outputs from.
struct MixedArchive {
    let dir = ScratchDir()
    var inputs: String { dir.file("archive") }
    /// Capture id → its files' copies outside the archive.
    private(set) var sources: [String: [String]] = [:]
    static let hostileIDs = ["../../escape", "/abs/\u{1B}[31mred\nline", "..", ""]
    let corrupt = "archive/loose/corrupt.flame"

    init() throws {
        for sub in ["archive", "archive/loose", "archive/loose/deep", "archive/nested", "src", "stage"] { mkdir(dir.file(sub), 0o755) }
        let captures = "\(repositoryRoot)/Fixtures/captures"
        // plain: gzip, loose.
        try copy("\(captures)/plain/plain-000000.flame", to: "src/plain.flame")
        try shell("gzip -c src/plain.flame > archive/loose/p.flame.gz")
        sources["plain"] = [dir.file("src/plain.flame")]
        // compressed: zstd, loose, deeper.
        try copy("\(captures)/compressed/compressed-000000.flame", to: "src/compressed.flame")
        try shell("zstd -q -c src/compressed.flame > archive/loose/deep/c.flame.zst")
        sources["compressed"] = [dir.file("src/compressed.flame")]
        // rotated: seq 0, 3, 4 loose (4 under a name that sorts first), 1 in a .tar.gz, 2 gzip'd in a .tar.zst.
        var rotated: [String] = []
        for seq in 0..<5 {
            try copy("\(captures)/rotated/rotated-00000\(seq).flame", to: "src/rotated-\(seq).flame")
            rotated.append(dir.file("src/rotated-\(seq).flame"))
        }
        sources["rotated"] = rotated
        try copy(rotated[0], to: "archive/loose/r0.flame")
        try copy(rotated[3], to: "archive/loose/deep/r3.flame")
        try copy(rotated[4], to: "archive/loose/aaa.flame")
        mkdir(dir.file("stage/x"), 0o755)
        try copy(rotated[1], to: "stage/x/r1.flame")
        try shell("tar -C stage -czf archive/nested/a.tar.gz x")
        try shell("gzip -c \(rotated[2]) > stage/r2.flame.gz && tar -C stage --zstd -cf archive/b.tar.zst r2.flame.gz")
        // The same rotated files as another capture, all five in one .tar.gz,
        // members 0, 1, 2 in order (a job reads on through the archive) and
        // then 4 before 3 (it starts the archive again for 3).
        mkdir(dir.file("stage/one"), 0o755)
        var inOneTar: [String] = []
        for seq in 0..<5 {
            let bytes = Self.withCaptureID("rotated-in-one-tar", try #require(readFile(rotated[seq])))
            inOneTar.append(dir.write("stage/one/seq-\(seq).flame", bytes))
        }
        sources["rotated-in-one-tar"] = inOneTar
        try shell("tar -C stage/one -czf archive/one.tar.gz seq-0.flame seq-1.flame seq-2.flame seq-4.flame seq-3.flame")
        // top100, in a plain tar with a README beside it (no dump: reported, the rest goes on).
        try copy("\(captures)/top100/top100-000000.flame", to: "stage/top.flame")
        sources["top100"] = [dir.file("stage/top.flame")]
        // Hostile: capture ids that are paths, controls, "..", empty; entry names that climb out.
        let plainBytes = try #require(readFile(dir.file("src/plain.flame")))
        var names: [String] = []
        for (index, id) in Self.hostileIDs.enumerated() {
            let bytes = Self.withCaptureID(id, plainBytes)
            let source = dir.write("src/hostile-\(index).flame", bytes)
            sources[id] = [source]
            names.append(source)
        }
        writeFile(dir.file("stage/README"), Array("not a dump\n".utf8))
        try run(["/usr/bin/python3", "-c", """
            import sys, tarfile
            out, readme, files = sys.argv[1], sys.argv[2], sys.argv[3:]
            names = ["../../evil.flame", "/tmp/flameconv-abs-evil.flame", "ctl\\x1b]0;title\\x07.flame", "../../../../../../etc/evil.flame"]
            with tarfile.open(out, "w") as tar:
                for name, path in zip(names, files):
                    tar.add(path, arcname=name)
                tar.add(readme, arcname="../README")
            """, dir.file("archive/hostile.tar"), dir.file("stage/README")] + names)
        try shell("tar -C stage -cf archive/nested/top.tar top.flame README")
        // Corrupt: gzip's magic, then noise.
        writeFile(dir.file(corrupt), [0x1F, 0x8B, 0x08, 0x00] + (0..<600).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
    }

    /// The files convert is given for capture `id`.
    func sourcesOf(_ id: String) -> [String]? { sources[id] }

    /// The ids of the captures that must come out.
    var goodCaptures: [String] { sources.keys.sorted() }

    /// `bytes` (a framed dump) with its header's capture id replaced.
    static func withCaptureID(_ id: String, _ bytes: [UInt8]) -> [UInt8] {
        var editor = CaptureEditor(bytes)
        editor.setHeader("capture", encoded: ETFBytes.binary(id))
        return editor.bytes
    }

    private func copy(_ from: String, to: String) throws {
        writeFile(dir.file(to), try #require(readFile(from)))
    }

    private func shell(_ command: String) throws {
        try run(["/bin/bash", "-c", "cd '\(dir.path)' && \(command)"])
    }

    private func run(_ argv: [String]) throws {
        let result = try Subprocess.run(argv, timeout: 60)
        guard result.status == 0 else { throw Subprocess.Failure("\(result)") }
    }
}
