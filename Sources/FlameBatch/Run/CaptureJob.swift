import FlameDump
import FlameFormats
import FlameRun
#if canImport(Glibc)
import Glibc
#endif

/// Converts one capture to one output per format, as `flameconv convert
/// <its files> -o <each output>` would: the same run driver (`ProfileRun`),
/// the same plan, the same rules for when outputs are written, so each output
/// is byte for byte the one convert writes. Outputs appear only when complete
/// (written under a temporary name, synced, renamed), all of them or none.
struct CaptureJob {
    let capture: BatchCapture
    let settings: BatchSettings
    let plan: RunPlan
    /// The job's open archive, kept from capture to capture.
    let cursor: ArchiveCursor

    /// Converts, and says what happened; never throws: a capture that fails is
    /// a record with its error, and the batch goes on.
    func run() -> CaptureRecord {
        let hashed = HashedInputs(capture.files, locations: capture.locations, cursor: cursor)
        var record = CaptureRecord(
            capture: capture.id, status: .failed, inputs: capture.inputs, outputs: [], warnings: capture.warnings, error: nil,
            damaged: false, options: settings.optionsKey, shard: settings.shard.description, finishedAt: 0)
        let names = settings.outputNames(forCapture: capture.id)
        var outs: [OpenOutput] = []
        func abandonAll() { for out in outs { out.abandon() } }
        // One compression thread per output: the batch's parallelism is its jobs.
        let compression = CompressionSettings(threads: 1)
        for name in names {
            do throws(OutputError) {
                outs.append(try OpenOutput.open(OutputRequest(path: "\(settings.out)/\(name.file)", format: name.format),
                                                plan: plan, options: settings.formatOptions, compression: compression))
            } catch {
                abandonAll()
                return finished(record, error: error.description)
            }
        }
        let run = ProfileRun(captures: [hashed.capture], plan: plan, sinks: outs.map(\.sink))
        let summary: RunSummary
        do throws(OutputError) {
            summary = try run.run()
        } catch {
            abandonAll()
            return finished(record, error: error.description)
        }
        record.warnings += Self.warnings(summary, outputs: outs)
        if let reason = summary.stoppedEarly {
            abandonAll()
            return finished(record, error: "stopped: \(reason.description)")
        }
        record.damaged = summary.files.contains { $0.tailError != nil }
        if summary.ticks == 0 && (!summary.openErrors.isEmpty || record.damaged) {
            // convert writes nothing then either: an empty output would hide the failure.
            abandonAll()
            let causes = summary.openErrors.map(\.description) + summary.files.compactMap { $0.tailError?.description }
            return finished(record, error: "no tick could be read: " + causes.joined(separator: "; "))
        }
        // The inputs' hashes, read to their ends, before the outputs go into place.
        for (index, digest) in hashed.finishAll().enumerated() {
            switch digest {
            case .success(let hash): record.inputs[index].contentHash = hash
            case .failure(let error): record.warnings.append("no content hash: \(error.description)")
            }
        }
        for (index, out) in outs.enumerated() {
            do throws(OutputError) {
                try out.commit()
            } catch {
                for later in outs[(index + 1)...] { later.abandon() }
                // What was renamed already goes too: all outputs or none.
                for earlier in outs[..<index] { for file in earlier.files { unlinkCommitted(file.displayName) } }
                return finished(record, error: error.description)
            }
        }
        for out in outs {
            for file in out.files {
                do throws(FileHash.Failure) {
                    let (hash, bytes) = try FileHash.of(file.displayName)
                    // Every output was named "OUT/NAME" above (a companion file beside it).
                    let relative = String(file.displayName.dropFirst(settings.out.count + 1))
                    record.outputs.append(OutputRecord(file: relative, bytes: bytes, contentHash: hash))
                } catch {
                    return finished(record, error: error.description)
                }
            }
        }
        record.status = .done
        return finished(record, error: nil)
    }

    private func finished(_ record: CaptureRecord, error: String?) -> CaptureRecord {
        var record = record
        record.error = error
        if error != nil { record.status = .failed; record.outputs = [] }
        record.finishedAt = Self.nowMicros()
        return record
    }

    private func unlinkCommitted(_ path: String) {
        _ = PathName.withCString(path) { unlink($0) }
    }

    /// What convert would warn of, for the manifest and the summary.
    static func warnings(_ summary: RunSummary, outputs: [OpenOutput]) -> [String] {
        var out: [String] = []
        for error in summary.openErrors { out.append("cannot read: \(error.description)") }
        for file in summary.files {
            if let tail = file.tailError {
                out.append("\(tail.description); converted the \(file.ticks) ticks before it")
            } else if file.truncated {
                out.append("\(file.path): no trailer: the file was cut short (converted all \(file.ticks) ticks in it)")
            }
            if file.unknownTerms > 0 { out.append("\(file.path): skipped \(file.unknownTerms) terms of unknown kinds") }
        }
        for (reason, seen) in summary.skippedSamples.sorted(by: { $0.key < $1.key }) {
            out.append("skipped \(seen.count) sample\(seen.count == 1 ? "" : "s"): \(reason) (\(seen.place))")
        }
        for output in outputs {
            for note in output.sink.notes { out.append("\(output.request.format.rawValue): \(note)") }
        }
        return out
    }

    static func nowMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
