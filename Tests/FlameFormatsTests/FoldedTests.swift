import ETF
@testable import FlameFormats
@testable import FlameModel
import FlameDump
import FlameRun
import TestSupport
import Testing

/// Folded stacks (docs/output-formats.md): real captures through `FoldedSink`,
/// judged by a plain sum over the same events and by `StatsSink`.
@Suite("Folded stacks")
struct FoldedTests {
    /// Sums every event's weight by what a folded line shows (category label
    /// bytes, then frame display names root first) and by sign, the simplest
    /// way: a dictionary of the texts. Nothing shared with `FoldedSink`.
    final class DirectSums: ProfileSink {
        let weight: Weight
        var sums: [Key: Int64] = [:]
        var missing = 0
        struct Key: Hashable {
            var negative: Bool
            var frames: [[UInt8]]
        }
        init(weight: Weight) { self.weight = weight }
        func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
            guard let w = weight.of(event) else {
                missing += 1
                return
            }
            var frames = event.categories.map { Array(profile.categoryName($0)) }
            frames += profile.frames(of: event.stack).reversed().map { Array(profile.frame($0).displayName(profile.symbols).utf8) }
            // Clamped like every total of the project (Int64 saturating).
            let key = Key(negative: w < 0, frames: frames)
            sums[key] = (sums[key] ?? 0).saturatingAdding(w < 0 ? w.saturatingNegation : w)
        }
        func finish(_ profile: Profile) throws(OutputError) {}
        var notes: [String] { [] }
        var samplesWritten: Int { 0 }
    }

    struct Run {
        var folded: FoldedSink
        var text: [UInt8]
        var negativeText: [UInt8]?
        var direct: DirectSums
        var stats: StatsSink
        var profile: Profile
        var events: Int
    }

    /// Converts `inputs` with these levels and weight into folded text (and
    /// a negative file when `split`), beside the direct sums and stats.
    func run(_ inputs: [String], levels: [String], weight: String, split: Bool = false) throws -> Run {
        var catalogue = MetricCatalogue()
        let parsedLevels = try levels.map { try CategoryLevels.parse($0, catalogue: &catalogue) }
        let weight = try Weight.parse(weight, catalogue: &catalogue).get()
        let out = MemoryOutput()
        let negativeOut = split ? MemoryOutput() : nil
        let folded = FoldedSink(output: out, negativeOutput: negativeOut, weight: weight, chunk: 512)
        let direct = DirectSums(weight: weight)
        let stats = StatsSink(weight: weight, groups: true)
        let plan = RunPlan(levels: parsedLevels, catalogue: catalogue, weight: weight)
        let run = ProfileRun(captures: CaptureCatalog.scan(inputs).captures, plan: plan, sinks: [folded, direct, stats])
        let summary = try run.run()
        return Run(folded: folded, text: out.bytes, negativeText: negativeOut?.bytes, direct: direct, stats: stats, profile: run.profile, events: summary.events)
    }

    /// A folded text's lines, each (frames, count), checked to be well formed:
    /// UTF-8, exactly one blank (before the count), a positive count, no empty frame.
    func lines(_ text: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> [(frames: [[UInt8]], count: Int64)] {
        #expect(String(validating: text, as: UTF8.self) != nil, "not UTF-8", sourceLocation: sourceLocation)
        #expect(text.isEmpty || text.last == 0x0A, sourceLocation: sourceLocation)
        var out: [(frames: [[UInt8]], count: Int64)] = []
        for line in text.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            let blanks = line.indices.filter { line[$0] <= 0x20 || line[$0] == 0x7F }
            guard blanks.count == 1, let space = blanks.first, line[space] == 0x20,
                  let count = Int64(String(decoding: line[(space + 1)...], as: UTF8.self)), count > 0 else {
                Issue.record("malformed line: \(String(decoding: line, as: UTF8.self))", sourceLocation: sourceLocation)
                continue
            }
            #expect(line.first != UInt8(ascii: "#"), sourceLocation: sourceLocation)
            let frames = line[..<space].split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
            #expect(!frames.contains { $0.isEmpty }, "an empty frame: \(String(decoding: line, as: UTF8.self))", sourceLocation: sourceLocation)
            out.append((frames.map { FoldedText.unescape($0) }, count))
        }
        return out
    }

    static let captures = "\(repositoryRoot)/Fixtures/captures"

    static let choices: [(levels: [String], weight: String)] = [
        (["status"], "samples"),
        (["registered_name", "status"], "memory_delta"),
        (["bucket(memory,log2)"], "reductions_per_second"),
        (["pid"], "total_heap_size_delta"),
        (["initial_call", "bucket(message_queue_len,decimal)", "node"], "reductions_delta"),
    ]

    @Test("a real capture: every line well formed; each (path, stack, sign) total is the plain sum over the events; per path, stats' weight",
          arguments: ["top100", "rotated"], 0..<FoldedTests.choices.count)
    func realCapture(capture: String, choice: Int) throws {
        let (levels, weight) = Self.choices[choice]
        let result = try run(["\(Self.captures)/\(capture)"], levels: levels, weight: weight)
        let parsed = lines(result.text)
        #expect(!parsed.isEmpty)
        // Each line once, its text as the direct sums say; zero totals have no line.
        var got: [DirectSums.Key: Int64] = [:]
        for (frames, count) in parsed {
            // No label of these captures is `negative`.
            let negative = frames.first == FoldedSink.negativeFrame
            let key = negative ? DirectSums.Key(negative: true, frames: Array(frames.dropFirst())) : DirectSums.Key(negative: false, frames: frames)
            #expect(got[key] == nil, "two lines for \(frames.map { String(decoding: $0, as: UTF8.self) })")
            got[key] = count
        }
        #expect(got == result.direct.sums.filter { $0.value != 0 })
        // Per category path, positive minus negative lines is stats' signed weight.
        var perPath: [[String]: Int64] = [:]
        for (key, sum) in got {
            let path = key.frames.prefix(levels.count).map { String(decoding: $0, as: UTF8.self) }
            perPath[path, default: 0] += key.negative ? -sum : sum
        }
        let stats = result.stats.categoryTotals(result.profile)
        #expect(perPath.filter { $0.value != 0 } == Dictionary(uniqueKeysWithValues: stats.map { ($0.path, $0.weight) }).filter { $0.value != 0 })
        // Samples without the weight's metric: left out, counted, and named.
        let unweighed = stats.reduce(0) { $0 + $1.unweighed }
        #expect(result.folded.samplesWritten == result.events - unweighed)
        #expect(result.direct.missing == unweighed)
        if unweighed > 0 {
            let metric = try #require(result.folded.weight.metric)
            #expect(result.folded.notes.contains("skipped \(unweighed) samples: missing \(result.profile.catalogue[metric].name)"), "\(result.folded.notes)")
        } else {
            #expect(result.folded.notes.isEmpty, "\(result.folded.notes)")
        }
    }

    @Test("memory_delta falls as often as it rises: negative weights under a `negative` root, or in the second file without it")
    func negativeWeights() throws {
        let input = ["\(Self.captures)/top100"]
        let together = try run(input, levels: ["status"], weight: "memory_delta")
        let split = try run(input, levels: ["status"], weight: "memory_delta", split: true)
        let all = lines(together.text)
        let main = lines(split.text)
        let negative = lines(try #require(split.negativeText))
        #expect(together.folded.lines.negative > 0 && together.folded.lines.positive > 0)
        let under = all.filter { $0.frames.first == FoldedSink.negativeFrame }
        #expect(under.count == together.folded.lines.negative)
        // The same lines, the `negative` frame moved out into the second file.
        #expect(main.map { $0.frames } == all.filter { $0.frames.first != FoldedSink.negativeFrame }.map { $0.frames })
        #expect(negative.map { $0.frames } == under.map { Array($0.frames.dropFirst()) })
        #expect(negative.map { $0.count } == under.map { $0.count })
        #expect(!main.contains { $0.frames.first == FoldedSink.negativeFrame })
        // Every positive line before every negative one.
        let firstNegative = try #require(all.firstIndex { $0.frames.first == FoldedSink.negativeFrame })
        #expect(!all[firstNegative...].contains { $0.frames.first != FoldedSink.negativeFrame })
    }

    @Test("the same input twice gives the same bytes; lines follow first appearance")
    func deterministic() throws {
        let a = try run(["\(Self.captures)/rotated"], levels: ["registered_name"], weight: "reductions_delta")
        let b = try run(["\(Self.captures)/rotated"], levels: ["registered_name"], weight: "reductions_delta")
        #expect(a.text == b.text)
        #expect(!a.text.isEmpty)
    }

    @Test("the tables grow with distinct stacks, not samples: 20 more copies of every tick add no entry")
    func memoryFollowsDistinctStacks() throws {
        let dir = ScratchDir()
        var editor = try #require(try CaptureEditor.capture("plain").first)
        let once = dir.write("once-000000.flame", editor.bytes)
        let ticks = editor.ticks.count
        for n in 0..<ticks { editor.appendCopies(of: n, count: 20, step: 1_000_000) }
        let many = dir.write("many-000000.flame", editor.bytes)
        let small = try run([once], levels: ["status"], weight: "samples")
        let large = try run([many], levels: ["status"], weight: "samples")
        #expect(large.events == small.events * 21)
        #expect(large.folded.entryCount == small.folded.entryCount)
        #expect(lines(large.text).map(\.frames) == lines(small.text).map(\.frames))
        #expect(lines(large.text).map(\.count) == lines(small.text).map { $0.count * 21 })
    }

    // MARK: Hostile names

    /// Names that break folded lines if written as they are: separators,
    /// blanks where readers trim or split, line ends, a comment mark, the
    /// escape character, an empty atom.
    static let hostile = ["a;b", "two words", "line\nbreak", "cr\rhere", "tab\there", "# not a comment", "%41", " lead", "trail ",
                          "nbsp\u{A0}", "ends 12", "x 1.5", "", "#", "caf\u{E9} \u{2028}"]

    @Test("a real capture edited to hold hostile names: every line still parses, and every name reads back as itself")
    func hostileNames() throws {
        var editor = try #require(try CaptureEditor.capture("plain").first)
        // One sample each, from the first tick on.
        var places: [(tick: Int, sample: Int)] = []
        for tick in editor.ticks.indices where places.count < Self.hostile.count {
            for sample in 0..<editor.sampleCount(tick: tick) { places.append((tick, sample)) }
        }
        try #require(places.count >= Self.hostile.count)
        for (i, name) in Self.hostile.enumerated() {
            editor.setItem(tick: places[i].tick, sample: places[i].sample, "registered_name", E.atom(name))
            editor.setItem(tick: places[i].tick, sample: places[i].sample, "current_function", E.mfa(name, name + ";f g", Int64(i)))
        }
        let dir = ScratchDir()
        let path = dir.write("hostile-000000.flame", editor.bytes)
        let result = try run([path], levels: ["registered_name"], weight: "samples")
        let parsed = lines(result.text)
        var got: [DirectSums.Key: Int64] = [:]
        for (frames, count) in parsed { got[DirectSums.Key(negative: false, frames: frames), default: 0] += count }
        // The empty atom is the one name written as another (`''`).
        let direct = Dictionary(uniqueKeysWithValues: result.direct.sums.map { key, sum in
            (DirectSums.Key(negative: false, frames: key.frames.map { $0.isEmpty ? Array("''".utf8) : $0 }), sum)
        })
        #expect(got == direct)
        let labels = Set(parsed.map { $0.frames[0] })
        for name in Self.hostile {
            #expect(labels.contains(name.isEmpty ? Array("''".utf8) : Array(name.utf8)), "\(name.debugDescription) is not a root frame")
            let leaf = Array("\(name):\(name);f g/".utf8)
            #expect(parsed.contains { $0.frames.last!.starts(with: leaf) }, "\(name.debugDescription) is not a leaf")
        }
        // What the readers cut at never appears as itself.
        let text = String(decoding: result.text, as: UTF8.self)
        #expect(!text.contains("\u{A0}") && !text.contains("\u{2028}") && !text.contains("\t") && !text.contains("\r"))
        #expect(text.contains("''"))
    }

    // MARK: Spelling

    @Test("escapes: %XX for separators, blanks, controls, % itself, Unicode whitespace, bytes that are not UTF-8, a leading #",
          arguments: [
              ("gen_server:loop/7:871", "gen_server:loop/7:871"),
              ("(proc_lib:init_p/5)", "(proc_lib:init_p/5)"),
              ("a;b", "a%3Bb"), ("a b", "a%20b"), ("a\nb\r", "a%0Ab%0D"), ("\t", "%09"), ("\u{7F}", "%7F"),
              ("50%", "50%25"), ("#x", "%23x"), ("x#", "x#"), ("", "''"),
              ("caf\u{E9}", "caf\u{E9}"), ("\u{1F525}", "\u{1F525}"), ("a\u{A0}b", "a%C2%A0b"), ("\u{3000}", "%E3%80%80"),
          ])
    func escapes(name: String, expected: String) {
        #expect(String(decoding: FoldedText.frame(Array(name.utf8)), as: UTF8.self) == expected)
    }

    @Test("bytes that are not UTF-8 are escaped one by one; valid sequences around them stay")
    func invalidUTF8() {
        let name: [UInt8] = [0x61, 0xFF, 0xC3, 0xA9, 0xC3, 0x28, 0xE2, 0x82]
        #expect(String(decoding: FoldedText.frame(name), as: UTF8.self) == "a%FF\u{E9}%C3(%E2%82")
    }

    @Test("any non-empty name reads back from its frame, and the frame holds none of what readers cut at")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array(0...0x7F) + [0xC2, 0xA0, 0x85, 0xE2, 0x80, 0xA8, 0xE3, 0xFF, 0xC3, 0xA9]
        for _ in 0..<3000 {
            let name = (0..<Int.random(in: 1...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let frame = FoldedText.frame(name)
            #expect(FoldedText.unescape(frame) == name, "\(name)")
            #expect(String(validating: frame, as: UTF8.self) != nil, "\(name)")
            #expect(!frame.contains { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: ";") }, "\(name)")
            #expect(frame.first != UInt8(ascii: "#"))
            let text = String(decoding: frame, as: UTF8.self)
            #expect(!text.unicodeScalars.contains { $0.properties.isWhitespace }, "\(name)")
        }
    }

    @Test("the negative file's name", arguments: [
        ("out.folded", "out.negative.folded"), ("out.folded.gz", "out.negative.folded.gz"),
        ("dir.x/out.collapsed", "dir.x/out.negative.collapsed"), ("OUT.FOLDED", "OUT.negative.FOLDED"),
        ("out.txt", "out.txt.negative"), ("out", "out.negative"), ("out.gz", "out.negative.gz"), (".folded", ".folded.negative"),
    ])
    func negativePath(path: String, expected: String) {
        #expect(FoldedText.negativePath(path) == expected)
    }

    @Test("counts: every digit of Int64.max, and 1")
    func decimals() {
        for value: Int64 in [1, 9, 10, 1234567890, .max] {
            var out: [UInt8] = []
            FoldedSink.appendDecimal(value, &out)
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
    }

    @Test("every sample weighing 0 writes nothing, and says so")
    func allZero() throws {
        let dir = ScratchDir()
        let path = dir.write("z-000000.flame", dumpBytes(ticks: [(0, [SampleSpec()]), (10_000, [SampleSpec()])]))
        let result = try run([path], levels: ["status"], weight: "memory_delta")
        #expect(result.text.isEmpty)
        #expect(result.folded.samplesWritten == 2)
        #expect(result.folded.notes.contains { $0.hasPrefix("every sample weighed 0") }, "\(result.folded.notes)")
    }

    @Test("weights near Int64.max add up clamped, never as a negative or wrapped count")
    func clamped() throws {
        let dir = ScratchDir()
        let big = SampleSpec(memory: .max)
        let path = dir.write("big-000000.flame", dumpBytes(ticks: [(0, [big]), (10_000, [big, SampleSpec(pid: (86, 0), memory: .max)])]))
        let result = try run([path], levels: ["status"], weight: "memory")
        let parsed = lines(result.text)
        #expect(parsed.map(\.count) == [.max])
    }
}
