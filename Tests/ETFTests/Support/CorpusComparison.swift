import ETF

/// Checks every frame of a set against its expected `~w` text.
///
/// Each frame's text must match byte for byte, followed by a newline. The one tolerated difference is the order of
/// pairs inside maps of more than 32 keys (see `MapCanonicalizer`): such a line
/// passes when both texts are equal after those maps' pairs are sorted, and only
/// if the line really has such a map.
struct CorpusComparison {
    /// Maps of more than this many pairs print in hash order on OTP 25.
    static let flatmapLimit = 32

    struct Report {
        var set: String
        /// Frames, one expected text each.
        var lines = 0
        var exact = 0
        /// Lines equal only after sorting the pairs of their large maps.
        var tolerated = 0
        /// Human-readable failures: decode errors, differing texts, a text longer or shorter than the frames.
        var failures: [String] = []
    }

    static func check(_ set: CorpusSet) -> Report {
        var report = Report(set: set.name, lines: set.frames.count)
        let canonicalizer = MapCanonicalizer(sortingMapsLargerThan: flatmapLimit)
        let expected = set.expected
        var offset = 0  // where frame `index`'s text starts in `expected`
        for (index, frame) in set.frames.enumerated() {
            let place = "\(set.name) frame \(index) (text at byte \(offset) of \(set.name).expected)"
            guard offset < expected.count else {
                report.failures.append("\(place): \(set.name).expected ends before this frame's text")
                break
            }
            let printed: [UInt8]
            switch CorpusPrinting.decode(frame) {
            case .success(let term):
                printed = CorpusPrinting.print(term)
            case .failure(let error):
                report.failures.append("\(place): decode failed: \(error)")
                offset = (expected[offset...].firstIndex(of: 0x0A) ?? expected.count) + 1
                continue
            }
            // The expected text of this frame: as long as the printed one (sorting
            // map pairs keeps the length) and followed by a newline.
            let end = offset + printed.count
            if end < expected.count, expected[end] == 0x0A {
                let text = Array(expected[offset..<end])
                if text == printed {
                    report.exact += 1
                    offset = end + 1
                    continue
                }
                if tolerate(printed: printed, expected: text, canonicalizer: canonicalizer) == .tolerated {
                    report.tolerated += 1
                    offset = end + 1
                    continue
                }
            }
            // A real difference: report it against the text up to the next newline, and resume there.
            let lineEnd = expected[offset...].firstIndex(of: 0x0A) ?? expected.count
            let text = Array(expected[offset..<lineEnd])
            var why = "differs"
            if case .different(let reason) = tolerate(printed: printed, expected: text, canonicalizer: canonicalizer) { why = reason }
            report.failures.append("\(place): \(why)\n  expected: \(clip(text))\n  printed:  \(clip(printed))")
            offset = lineEnd + 1
        }
        if offset < expected.count {
            report.failures.append("\(set.name).expected has \(expected.count - offset) bytes after the text of the last frame")
        }
        return report
    }

    enum Verdict: Equatable {
        case tolerated
        case different(String)
    }

    /// Whether two texts that differ are the same up to the order of large-map pairs.
    static func tolerate(printed: [UInt8], expected: [UInt8], canonicalizer: MapCanonicalizer) -> Verdict {
        let limit = canonicalizer.minimumPairsToSort
        let a: MapCanonicalizer.Result, b: MapCanonicalizer.Result
        do {
            a = try canonicalizer.canonicalize(expected)
        } catch {
            return .different("expected text: \(error)")
        }
        do {
            b = try canonicalizer.canonicalize(printed)
        } catch {
            return .different("printed text: \(error)")
        }
        guard a.text == b.text else {
            return .different("texts differ (also after sorting the pairs of maps over \(limit) keys), first at byte \(firstDifference(a.text, b.text)) of the sorted forms")
        }
        // Only maps over the limit are sorted, so equal canonical forms of unequal
        // texts imply such a map; check it anyway, so the tolerance cannot widen unseen.
        guard a.sortedMaps > 0, a.largestMap > limit, b.largestMap > limit else {
            return .different("texts differ but hold no map of more than \(limit) pairs")
        }
        return .tolerated
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        for (i, (x, y)) in zip(a, b).enumerated() where x != y { return i }
        return min(a.count, b.count)
    }

    static func clip(_ bytes: [UInt8]) -> String {
        bytes.count <= 400 ? latin1String(bytes) : latin1String(bytes.prefix(400)) + "... (\(bytes.count) bytes)"
    }
}
