import FlameModel

/// Renders `CaptureStats` for people and for scripts.
public enum StatsReport {
    public static func text(_ captures: [CaptureStats]) -> String {
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
            if let grouping = stats.grouping { out += groups(stats, grouping) }
        }
        // Names, ids and frames from the dump: no control character reaches the terminal.
        return DisplayText.escapedLines(out)
    }

    /// The groups of the chosen levels and the top stacks by the chosen weight.
    private static func groups(_ stats: CaptureStats, _ grouping: CaptureStats.Grouping) -> String {
        let weighed = grouping.weight != "samples"
        let total = stats.categories.reduce(Int64(0)) { $0.saturatingAdding($1.weight) }
        var out = "\ncategories by \(grouping.levels.joined(separator: " > "))\(weighed ? ", weighed by \(grouping.weight)" : ""):\n"
        out += weighed ? "       samples   share           weight   share  category\n" : "       samples   share  category\n"
        for category in stats.categories {
            var line = "  \(pad(category.samples, 12))  \(percent(category.samples, of: stats.samples))"
            if weighed {
                line += "  \(pad(Int(category.weight), 15))  \(percent(category.weight, of: total))"
            }
            line += "  \(category.path.joined(separator: " > "))"
            if category.unweighed > 0 { line += "  (\(category.unweighed) without \(grouping.weight))" }
            out += line + "\n"
        }
        if weighed {
            out += "\ntop \(stats.topByWeight.count) stacks by \(grouping.weight):\n"
            for stack in stats.topByWeight {
                out += "  \(pad(Int(stack.weight), 15))  \(stack.frames.joined(separator: ";"))\n"
            }
        }
        if grouping.wordSizeAssumed {
            out += "\nsizes counted in words are shown in bytes assuming 8-byte words: the header does not record word_size\n"
        }
        return out
    }

    public static func json(_ captures: [CaptureStats]) -> String {
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
            if let grouping = s.grouping {
                fields.append("\"grouping\": {\"levels\": [\(grouping.levels.map(quote).joined(separator: ", "))], \"weight\": \(quote(grouping.weight)), \"word_size_assumed\": \(grouping.wordSizeAssumed)}")
                fields.append("\"categories\": [\(s.categories.map { c in "{\"path\": [\(c.path.map(quote).joined(separator: ", "))], \"samples\": \(c.samples), \"weight\": \(c.weight), \"unweighed\": \(c.unweighed)}" }.joined(separator: ", "))]")
                fields.append("\"top_by_weight\": [\(s.topByWeight.map { stack in "{\"samples\": \(stack.samples), \"weight\": \(stack.weight), \"frames\": [\(stack.frames.map(quote).joined(separator: ", "))]}" }.joined(separator: ", "))]")
            }
            out += "{" + fields.joined(separator: ", ") + "}"
        }
        return out + "]}\n"
    }

    private static func stackJSON(_ stack: CaptureStats.Stack) -> String {
        "{\"samples\": \(stack.samples), \"reductions_delta\": \(stack.reductions), \"frames\": [\(stack.frames.map(quote).joined(separator: ", "))]}"
    }

    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            case _ where DisplayText.rawByteScalars.contains(scalar.value):
                // A file name's byte that is not UTF-8: JSON text cannot hold it; shown as \xHH.
                out += "\\\\x" + String(scalar.value - DisplayText.rawByteBase, radix: 16, uppercase: true)
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
        percent(Int64(part), of: Int64(whole))
    }

    private static func percent(_ part: Int64, of whole: Int64) -> String {
        guard whole > 0 else { return "   -  " }
        // In doubles: weights may be near the ends of Int64.
        let tenths = Int64((Double(part) * 1000 / Double(whole)).rounded())
        let text = "\(tenths / 10).\(tenths % 10)%"
        return String(repeating: " ", count: max(0, 6 - text.count)) + text
    }
}

