import FlameDump
import FlameRun
import Synchronization

/// A batch over one shard's captures: what stands is skipped, the rest is
/// converted on `jobs` threads, each record appended to the shard's manifest
/// as soon as its capture is done.
///
/// The hot path has no lock shared by the jobs: a job takes the next capture
/// with one atomic increment, converts it with a plan and tables of its own,
/// and appends its record with one `write` (the kernel orders appends). Only
/// the list of results, touched once per capture, is behind a mutex.
public enum BatchRun {
    public struct Result: Sendable {
        /// Converted (or failed) in this run, in capture id order.
        public var converted: [CaptureRecord]
        /// Records that stood, in capture id order.
        public var skipped: [CaptureRecord]
        /// Manifest appends that failed (the capture will be done again next time).
        public var manifestErrors: [String]
    }

    public static func run(captures: [BatchCapture], previous: ManifestStore, settings: BatchSettings, log: ManifestLog,
                           jobs: Int, force: Bool, retryFailed: Bool, progressStyle: BatchProgress.Style) -> Result {
        var todo: [BatchCapture] = []
        var skipped: [CaptureRecord] = []
        for capture in captures {
            if !force, let record = previous.captures[capture.id],
               UpToDate.stands(record, for: capture, settings: settings, retryFailed: retryFailed) {
                skipped.append(record)
            } else {
                todo.append(capture)
            }
        }
        // Archive members in their order, so each job's cursor mostly reads on.
        todo.sort { a, b in
            let (x, y) = (a.locations.first?.order ?? ("", 0), b.locations.first?.order ?? ("", 0))
            return x != y ? x < y : a.id < b.id
        }
        let progress = BatchProgress(style: progressStyle, captures: todo.count, bytes: todo.reduce(0) { $0 + $1.bytes })
        let work = SharedWork(todo)
        let results = Mutex<(records: [CaptureRecord], errors: [String])>(([], []))
        WorkerThreads.run(max(1, min(jobs, todo.count))) { _ in
            let plan: RunPlan
            do {
                plan = try settings.makePlan()
            } catch {
                // Validated before the run; should it fail here, every capture says why.
                while let capture = work.next() {
                    let record = CaptureRecord(capture: capture.id, status: .failed, inputs: capture.inputs, outputs: [], warnings: [],
                                               error: "cannot make the run plan: \(error)", damaged: false, options: settings.optionsKey,
                                               shard: settings.shard.description, finishedAt: CaptureJob.nowMicros())
                    results.withLock { $0.records.append(record) }
                }
                return
            }
            let cursor = ArchiveCursor()
            while let capture = work.next() {
                let record = CaptureJob(capture: capture, settings: settings, plan: plan, cursor: cursor).run()
                var failure: String?
                do throws(ManifestLog.Failure) {
                    try log.append(record)
                } catch {
                    failure = error.description
                }
                results.withLock { results in
                    results.records.append(record)
                    if let failure { results.errors.append(failure) }
                }
                progress.finished(capture.id, bytes: capture.bytes, failed: record.status == .failed)
            }
        }
        progress.finish()
        var (records, errors) = results.withLock { ($0.records, $0.errors) }
        do throws(ManifestLog.Failure) {
            try log.sync()
        } catch {
            errors.append(error.description)
        }
        return Result(converted: records.sorted { $0.capture < $1.capture }, skipped: skipped, manifestErrors: errors)
    }
}
