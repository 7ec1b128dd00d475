import ArgumentParser
import FlameFormats
import FlameRun
import FlameModel
import FlameDump

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise captures: node, time span, counts, files, metrics and the hottest stacks.",
        discussion: """
            Shows, per capture: its id, node, OTP release, time span, ticks, samples, \
            processes, overruns, whether each file was cut short, the metrics present, \
            and the top stacks by samples and by reductions delta.

            Examples:
              flameconv stats /tmp/flame
              flameconv stats --json capture-*.flame | jq '.captures[0].ticks'
              flameconv stats --top 25 archive/2026-11-24/
            """
    )

    @Argument(help: ArgumentHelp("Dump files or directories; - is standard input.", valueName: "file-or-dir"))
    var inputs: [String]

    @Flag(help: "Print JSON for scripts.")
    var json = false

    @Option(help: "How many stacks to list in each ranking.")
    var top = 10

    @OptionGroup(title: "Limits")
    var limits: LimitOptions

    func validate() throws {
        if top < 0 { throw ValidationError("--top must not be negative.") }
    }

    /// Writes the report; a closed pipe is not an error.
    private static func write(_ text: String) -> Result<Void, OutputError> {
        do throws(OutputError) {
            try OutputFile().write(Array(text.utf8))
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    func run() throws {
        PartialOutputs.installSignalHandlers()
        let scan = try limits.scan(InputWalk.expand(inputs), doing: "summarise")
        let all = scan.captures.map { CaptureStats.collect($0, limits: limits.dumpLimits, top: top) }
        let text = json ? StatsReport.json(all) : StatsReport.text(all)
        if case .failure(let error) = Self.write(text), case .failed = error {
            Diagnostics.error(error.description)
            throw ExitCode(1)
        }
        if !scan.problems.isEmpty { throw ExitCode(1) }
        if all.contains(where: { $0.files.contains { $0.tailError != nil } }) { throw ExitCode(2) }
    }
}

/// Renders `CaptureStats` for people and for scripts.
enum StatsReport {
    static func text(_ captures: [CaptureStats]) -> String {
        var out = ""
        for (index, stats) in captures.enumerated() {
            if index > 0 { out += "\n" }
            out += "capture    \(stats.capture)\n"
            out += "node       \(stats.node ?? "?")  (OTP \(stats.otpRelease ?? "?"), \(stats.agent ?? "unknown agent")\(stats.sampleIntervalMs.map { ", every \($0) ms" } ?? ""))\n"
            if let first = stats.firstTick, let last = stats.lastTick, let span = stats.spanMicros {
                out += "span       \(UTCTime.format(first)) to \(UTCTime.format(last))  (\(seconds(span)) s)\n"
            } else {
                out += "span       no ticks\n"
            }
            out += "ticks      \(stats.ticks)\n"
            out += "samples    \(stats.samples)\n"
            out += "processes  \(stats.processes)\(stats.processesForgotten > 0 ? " (\(stats.processesForgotten) forgotten past --max-processes; any that came back counted again)" : "")\n"
            out += "overruns   \(stats.overruns.map(String.init) ?? "unknown (no trailer says)")\n"
            let cut = stats.files.filter(\.truncated).count
            out += "files      \(stats.files.count)\(cut > 0 ? ", \(cut) cut short (no trailer)" : ", all closed cleanly")\n"
            for file in stats.files {
                var line = "  seq \(file.seq)  \(file.compression)  \(file.ticks) ticks  \(file.truncated ? "TRUNCATED " : "")\(file.path)"
                if let tail = file.tailError { line += "\n      damaged tail: \(tail)" }
                out += line + "\n"
            }
            out += "metrics    \(stats.metrics.joined(separator: ", "))\n"
            out += "statuses   \(stats.statuses.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))\n"
            if !stats.skippedSamples.isEmpty {
                out += "skipped    \(stats.skippedSamples.sorted { $0.key < $1.key }.map { "\($0.value) (\($0.key))" }.joined(separator: ", "))\n"
            }
            out += "\ntop \(stats.topBySamples.count) stacks by samples (samples, share, outermost frame first):\n"
            for stack in stats.topBySamples {
                out += "  \(pad(stack.samples, 8))  \(percent(stack.samples, of: stats.samples))  \(stack.frames.joined(separator: ";"))\n"
            }
            out += "\ntop \(stats.topByReductions.count) stacks by reductions delta:\n"
            for stack in stats.topByReductions {
                out += "  \(pad(Int(stack.reductions), 12))  \(stack.frames.joined(separator: ";"))\n"
            }
        }
        return out
    }

    static func json(_ captures: [CaptureStats]) -> String {
        var out = "{\"captures\": ["
        for (index, s) in captures.enumerated() {
            if index > 0 { out += ", " }
            var fields: [String] = []
            fields.append("\"capture\": \(quote(s.capture))")
            fields.append("\"node\": \(s.node.map(quote) ?? "null")")
            fields.append("\"otp_release\": \(s.otpRelease.map(quote) ?? "null")")
            fields.append("\"agent\": \(s.agent.map(quote) ?? "null")")
            fields.append("\"sample_interval_ms\": \(s.sampleIntervalMs.map(String.init) ?? "null")")
            fields.append("\"first_tick_us\": \(s.firstTick.map(String.init) ?? "null")")
            fields.append("\"last_tick_us\": \(s.lastTick.map(String.init) ?? "null")")
            fields.append("\"span_seconds\": \(s.spanMicros.map(seconds) ?? "null")")
            fields.append("\"ticks\": \(s.ticks)")
            fields.append("\"samples\": \(s.samples)")
            fields.append("\"processes\": \(s.processes)")
            fields.append("\"processes_forgotten\": \(s.processesForgotten)")
            fields.append("\"overruns\": \(s.overruns.map(String.init) ?? "null")")
            fields.append("\"metrics\": [\(s.metrics.map(quote).joined(separator: ", "))]")
            fields.append("\"statuses\": {\(s.statuses.sorted { $0.key < $1.key }.map { "\(quote($0.key)): \($0.value)" }.joined(separator: ", "))}")
            fields.append("\"skipped_samples\": {\(s.skippedSamples.sorted { $0.key < $1.key }.map { "\(quote($0.key)): \($0.value)" }.joined(separator: ", "))}")
            fields.append("\"files\": [\(s.files.map { f in "{\"path\": \(quote(f.path)), \"seq\": \(f.seq), \"compression\": \(quote(f.compression)), \"ticks\": \(f.ticks), \"truncated\": \(f.truncated), \"tail_error\": \(f.tailError.map(quote) ?? "null")}" }.joined(separator: ", "))]")
            fields.append("\"top_by_samples\": [\(s.topBySamples.map(stackJSON).joined(separator: ", "))]")
            fields.append("\"top_by_reductions\": [\(s.topByReductions.map(stackJSON).joined(separator: ", "))]")
            out += "{" + fields.joined(separator: ", ") + "}"
        }
        return out + "]}\n"
    }

    private static func stackJSON(_ stack: CaptureStats.Stack) -> String {
        "{\"samples\": \(stack.samples), \"reductions_delta\": \(stack.reductions), \"frames\": [\(stack.frames.map(quote).joined(separator: ", "))]}"
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Microseconds as seconds with six decimals, sign first (`-0.000005`):
    /// text for people and a valid JSON number alike.
    private static func seconds(_ micros: Int64) -> String {
        let magnitude = micros.magnitude  // -Int64.min does not fit in Int64
        let fraction = String(magnitude % 1_000_000)
        return "\(micros < 0 ? "-" : "")\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "   -  " }
        let tenths = (part * 1000 + whole / 2) / whole
        let text = "\(tenths / 10).\(tenths % 10)%"
        return String(repeating: " ", count: max(0, 6 - text.count)) + text
    }
}

/// Epoch microseconds as `2026-11-25 04:54:04.234871 UTC`, without Foundation.
enum UTCTime {
    static func format(_ micros: Int64) -> String {
        // Floor division by the remainder's sign: `micros - 999_999` would overflow near Int64.min.
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            seconds -= 1
            fraction += 1_000_000
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        // Days since 1970-01-01 to a civil date (proleptic Gregorian).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let micro = String(fraction)
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)).\(String(repeating: "0", count: 6 - micro.count))\(micro) UTC"
    }
}
