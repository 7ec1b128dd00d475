import FlameModel

/// The processes of a report's summary: samples, registered name, and when
/// their status changed, for the ones with the most samples.
struct ReportProcesses {
    struct Process: Sendable {
        /// `ProcessSample.pidKey`.
        var key: UInt64
        var pid: String
        var name: String
        var samples: Int
        /// Not all its samples are in the process filter's entries (`ReportSink`, pruning).
        var partial = false
        /// (wall-clock milliseconds, status) each time the status changed, at most `maxChanges`.
        var changes: [(millis: Int64, status: String)]

        func json(into out: inout [UInt8]) {
            out.append(contentsOf: Array("{\"pid\":".utf8))
            ReportEncoding.jsonString(pid, into: &out)
            out.append(contentsOf: Array(",\"name\":".utf8))
            ReportEncoding.jsonString(name, into: &out)
            out.append(contentsOf: Array(",\"samples\":\(samples),\"partial\":\(partial),\"changes\":[".utf8))
            for (i, change) in changes.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: Array("[\(change.millis),".utf8))
                ReportEncoding.jsonString(change.status, into: &out)
                out.append(UInt8(ascii: "]"))
            }
            out.append(contentsOf: Array("]}".utf8))
        }
    }

    private struct Seen {
        var samples = 0
        var name = Symbols.none
        var status = Symbols.none
        var changes: [(Int64, UInt32)] = []
    }

    /// Status changes kept per process: a process that flips every tick would otherwise grow without end.
    static let maxChanges = 256

    private var seen: [UInt64: Seen] = [:]

    mutating func add(_ event: borrowing ProfileEvent, _ profile: Profile) {
        let sample = event.sample
        let millis = event.wallMicros / 1000
        seen[sample.pidKey, default: Seen()].samples += 1
        if sample.registeredName != Symbols.none { seen[sample.pidKey]!.name = sample.registeredName }
        if seen[sample.pidKey]!.status != sample.status || seen[sample.pidKey]!.changes.isEmpty {
            seen[sample.pidKey]!.status = sample.status
            if seen[sample.pidKey]!.changes.count < Self.maxChanges { seen[sample.pidKey]!.changes.append((millis, sample.status)) }
        }
    }

    /// The keys of the `count` processes with the most samples so far.
    func topKeys(_ count: Int) -> [UInt64] {
        seen.sorted { $0.value.samples != $1.value.samples ? $0.value.samples > $1.value.samples : $0.key < $1.key }.prefix(count).map(\.key)
    }

    /// The `count` processes with the most samples, most first.
    func top(_ count: Int, _ profile: Profile) -> [Process] {
        func text(_ id: UInt32) -> String { id == Symbols.none ? "" : String(decoding: profile.symbols.name(id), as: UTF8.self) }
        return seen.sorted { $0.value.samples != $1.value.samples ? $0.value.samples > $1.value.samples : $0.key < $1.key }
            .prefix(count)
            .map { key, value in
                Process(key: key, pid: "<0.\(key >> 32).\(key & 0xFFFF_FFFF)>", name: text(value.name), samples: value.samples,
                        changes: value.changes.map { ($0.0, text($0.1)) })
            }
    }
}
