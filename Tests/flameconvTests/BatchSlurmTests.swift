import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `flameconv batch` on a real Slurm cluster: scripts/slurm-localhost.sh starts
/// munged, slurmctld and slurmd on this machine, `sbatch --array=0-3 --wait`
/// runs four shards of the mixed archive as a job array (each shard takes its
/// index from SLURM_ARRAY_TASK_ID), and the shards together must convert every
/// capture exactly once, into a merged report equal to one machine's batch.
///
/// Not skipped when Slurm is missing: scripts/install-deps.sh installs it, and
/// the test says so when it is not there. Needs root, as CI runs.
@Suite("Batch on Slurm", .serialized, .timeLimit(.minutes(5)))
struct BatchSlurmTests {
    static let script = "\(repositoryRoot)/scripts/slurm-localhost.sh"

    func shell(_ command: String, timeout: Double) async throws -> ProcessResult {
        try await offThePool { try Subprocess.run(["/bin/bash", "-c", command], timeout: timeout) }
    }

    @Test("sbatch --array=0-3 over a mixed archive: every capture once, and the merged report is one machine's")
    func jobArray() async throws {
        try #require(getuid() == 0, "the Slurm test starts slurmctld and slurmd as root: run the tests as root, as CI does")
        let binary = try Flameconv.requireBinary()
        let archive = try MixedArchive()
        let clusterDir = archive.dir.file("slurm")
        let environment = "export FLAMECONV_SLURM_DIR='\(clusterDir)' SLURM_CONF='\(clusterDir)/slurm.conf';"
        let started = try await shell("\(environment) '\(Self.script)' start", timeout: 90)
        defer { _ = try? Subprocess.run(["/bin/bash", "-c", "\(environment) '\(Self.script)' stop"], timeout: 60) }
        try #require(started.status == 0, "the local Slurm cluster did not start (scripts/install-deps.sh installs slurmctld, slurmd, munge): \(started)")

        let out = archive.dir.file("sharded")
        let logs = archive.dir.file("logs")
        mkdir(logs, 0o755)
        // Each task's exit status is kept beside its log: the corrupt file makes
        // its shard's status 1, which must not read as Slurm failing the task.
        let job = archive.dir.write("job.sh", Array("""
            #!/bin/bash
            '\(binary)' batch '\(archive.inputs)' --out '\(out)' --format folded --format speedscope --shard auto --jobs 1
            echo $? > '\(logs)/status-'"$SLURM_ARRAY_TASK_ID"
            """.utf8))
        let submitted = try await shell("\(environment) cd '\(archive.dir.path)' && sbatch --array=0-3 --wait -o '\(logs)/task-%a.log' '\(job)'", timeout: 240)
        try #require(submitted.status == 0, "sbatch --array=0-3 --wait failed: \(submitted)")

        var done: [String] = []
        for task in 0..<4 {
            let log = String(decoding: try #require(readFile("\(logs)/task-\(task).log"), "task \(task) left no log"), as: UTF8.self)
            #expect(log.contains("shard \(task)/4"), "task \(task) did not run shard \(task)/4:\n\(log)")
            let status = String(decoding: readFile("\(logs)/status-\(task)") ?? [], as: UTF8.self)
            #expect(["0\n", "1\n"].contains(status), "task \(task) exited \(status):\n\(log)")
            done += log.split(separator: "\n").compactMap { line in line.range(of: ": done ").map { String(line[$0.upperBound...]) } }
        }
        #expect(done.count == archive.goodCaptures.count, "the shards converted \(done.count) captures, not \(archive.goodCaptures.count): \(done)")
        #expect(Set(done).count == done.count, "a capture was converted by two shards: \(done)")
        #expect(listDirectory("\(out)/.flameconv-batch").count == 4, "one manifest per shard")

        let single = archive.dir.file("single")
        let one = try await offThePool {
            try Flameconv.run(["batch", archive.inputs, "--out", single, "--format", "folded", "--format", "speedscope"], limited: false, timeout: 120)
        }
        #expect(one.status == 1, "\(one)")
        let merged = try await offThePool { try Flameconv.run(["batch", "--merge-manifests", "--out", out], limited: false, timeout: 60) }
        let reference = try await offThePool { try Flameconv.run(["batch", "--merge-manifests", "--out", single], limited: false, timeout: 60) }
        #expect(merged.out.split(separator: "\n").count == archive.goodCaptures.count + 3, "captures and the three inputs that are no dump:\n\(merged.out)")
        #expect(merged.out == reference.out, "the shards' merged report differs from one machine's:\n\(merged.out)\n---\n\(reference.out)")
        for name in listDirectory(single) {
            #expect(readFile("\(single)/\(name)") == readFile("\(out)/\(name)"), "\(name) differs")
        }
    }
}
