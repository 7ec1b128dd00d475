import Foundation
import Testing
@testable import FlameFormats
@testable import FlameRun
@testable import FlameModel
import FlameDump
import TestSupport

/// What a speedscope file should hold, worked out from the events directly:
/// per profile (by name, in first-seen order) the total weight of each path
/// of frame names, and how many samples are left once consecutive samples of
/// one path are merged.
struct Sample: Equatable {
    var path: [String]
    var weight: Int64
}

final class SpeedscopeExpectation: ProfileSink {
    let weight: Weight
    let grouping: SpeedscopeGrouping
    var order: [String] = []
    var totals: [String: [[String]: Int64]] = [:]
    /// Per profile, its samples in order, consecutive ones of one path merged.
    var sequences: [String: [Sample]] = [:]
    var pidNames: [UInt64: String] = [:]
    var missing = 0
    var written = 0

    init(weight: Weight, grouping: SpeedscopeGrouping) {
        self.weight = weight
        self.grouping = grouping
    }

    func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
        guard let value = weight.of(event) else {
            missing += 1
            return
        }
        var path: [String] = value < 0 ? ["negative"] : []
        let labels = event.categories.map { profile.categoryText($0) }
        let group: String
        switch grouping {
        case .category:
            group = labels[0]
            path += labels.dropFirst()
        case .process:
            let sample = event.sample
            let pid = "<0.\(sample.pidNumber).\(sample.pidSerial)>"
            if pidNames[sample.pidKey] == nil || pidNames[sample.pidKey] == pid, sample.registeredName != Symbols.none {
                pidNames[sample.pidKey] = pid + " " + profile.symbols.nameText(sample.registeredName)
            } else if pidNames[sample.pidKey] == nil {
                pidNames[sample.pidKey] = pid
            }
            group = "pid \(sample.pidKey)"
            path += labels
        }
        path += profile.frames(of: event.stack).reversed().map { profile.frame($0).displayName(profile.symbols) }
        if totals[group] == nil {
            order.append(group)
            totals[group] = [:]
        }
        totals[group]![path, default: 0] += Int64(value.magnitude)
        if let last = sequences[group]?.last, last.path == path {
            sequences[group]![sequences[group]!.count - 1].weight += Int64(value.magnitude)
        } else {
            sequences[group, default: []].append(Sample(path: path, weight: Int64(value.magnitude)))
        }
        written += 1
    }

    func finish(_ profile: Profile) throws(OutputError) {
        guard grouping == .process else { return }
        // Profile names: the pid and its first registered name.
        let byKey = Dictionary(uniqueKeysWithValues: pidNames.map { ("pid \($0.key)", $0.value) })
        order = order.map { byKey[$0]! }
        totals = Dictionary(uniqueKeysWithValues: totals.map { (byKey[$0.key]!, $0.value) })
        sequences = Dictionary(uniqueKeysWithValues: sequences.map { (byKey[$0.key]!, $0.value) })
    }

    var notes: [String] { [] }
    var samplesWritten: Int { written }
}

/// A speedscope file read back the way speedscope reads it: per profile, the
/// total weight per path of frame names.
struct SpeedscopeFile {
    var json: [String: Any]
    var frames: [[String: Any]]
    var profiles: [(name: String, unit: String, endValue: Int64, samples: [Sample], totals: [[String]: Int64])]

    init(_ bytes: [UInt8]) throws {
        json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let shared = try #require(json["shared"] as? [String: Any])
        frames = try #require(shared["frames"] as? [[String: Any]])
        let names = try frames.map { try #require($0["name"] as? String) }
        profiles = []
        for profile in try #require(json["profiles"] as? [[String: Any]]) {
            #expect(profile["type"] as? String == "sampled")
            #expect((profile["startValue"] as? NSNumber)?.int64Value == 0)
            let samples = try #require(profile["samples"] as? [[NSNumber]])
            let weights = try #require(profile["weights"] as? [NSNumber])
            #expect(samples.count == weights.count)
            var totals: [[String]: Int64] = [:]
            var sequence: [Sample] = []
            for (stack, weight) in zip(samples, weights) {
                #expect(weight.int64Value >= 0)
                let path = stack.map { names[$0.intValue] }
                totals[path, default: 0] += weight.int64Value
                sequence.append(Sample(path: path, weight: weight.int64Value))
            }
            profiles.append((try #require(profile["name"] as? String), try #require(profile["unit"] as? String),
                             try #require(profile["endValue"] as? NSNumber).int64Value, sequence, totals))
        }
    }
}

@Suite("speedscope output")
struct SpeedscopeSinkTests {
    static let captures = "\(repositoryRoot)/Fixtures/captures"
    static var allCaptures: [String] {
        listDirectory(captures).filter { isDirectory("\(captures)/\($0)") }.map { "\(captures)/\($0)" }
    }

    struct Conversion {
        var bytes: [UInt8]
        var sink: SpeedscopeSink
        var expected: SpeedscopeExpectation
    }

    static func convert(_ paths: [String], levels: [String] = ["status"], weight: String = "samples", grouping: SpeedscopeGrouping = .category,
                        memoryBudget: Int = SpeedscopeSink.defaultMemoryBudget, blockRecords: Int = 256,
                        maxProfiles: Int = SpeedscopeSink.defaultMaxProfiles) throws -> Conversion {
        var catalogue = MetricCatalogue()
        let parsedLevels = try levels.map { try CategoryLevels.parse($0, catalogue: &catalogue) }
        let parsedWeight = try Weight.parse(weight, catalogue: &catalogue).get()
        let scan = CaptureCatalog.scan(paths)
        #expect(scan.problems.isEmpty)
        let out = MemoryOutput()
        let sink = SpeedscopeSink(output: out, weight: parsedWeight, grouping: grouping, exporter: "flameconv@test",
                                  memoryBudget: memoryBudget, maxProfiles: maxProfiles, blockRecords: blockRecords, chunk: 4096)
        let expected = SpeedscopeExpectation(weight: parsedWeight, grouping: grouping)
        let run = ProfileRun(captures: scan.captures, plan: RunPlan(levels: parsedLevels, catalogue: catalogue, weight: parsedWeight),
                             sinks: [sink, expected])
        _ = try run.run()
        return Conversion(bytes: out.bytes, sink: sink, expected: expected)
    }

    /// Every profile holds what the events say, in first-seen order.
    static func check(_ conversion: Conversion, unit: String) throws {
        let file = try SpeedscopeFile(conversion.bytes)
        let expected = conversion.expected
        #expect(file.json["$schema"] as? String == "https://www.speedscope.app/file-format-schema.json")
        #expect(file.json["exporter"] as? String == "flameconv@test")
        #expect(!((file.json["name"] as? String) ?? "").isEmpty)
        #expect(file.profiles.map(\.name) == expected.order)
        for profile in file.profiles {
            #expect(profile.unit == unit)
            #expect(profile.totals == expected.totals[profile.name], "\(profile.name)")
            // Time order kept, consecutive samples of one path merged.
            #expect(profile.samples == expected.sequences[profile.name], "\(profile.name)")
            #expect(profile.endValue == profile.totals.values.reduce(0, +))
        }
        let heaviest = file.profiles.indices.max { file.profiles[$0].endValue < file.profiles[$1].endValue || 
            (file.profiles[$0].endValue == file.profiles[$1].endValue && $0 > $1) }
        #expect((file.json["activeProfileIndex"] as? Int) == heaviest)
        #expect(conversion.sink.samplesWritten == expected.written)
        #expect(expected.written > 0)
        // Frames listed once each: no two of a kind (category label, stack frame) share a name, file and line.
        let kinds = conversion.sink.frameKinds
        #expect(kinds.count == file.frames.count)
        let keys = zip(kinds, file.frames).map { "\($0.0)|\($0.1["name"] ?? "")|\($0.1["file"] ?? "")|\($0.1["line"] ?? "")" }
        #expect(Set(keys).count == keys.count)
    }

    @Test("per category: one profile per status, each holding its samples' totals", arguments: allCaptures)
    func perCategory(capture: String) throws {
        let conversion = try Self.convert([capture])
        try Self.check(conversion, unit: "none")
        #expect(conversion.sink.notes.isEmpty)
        #expect(conversion.sink.spills == 0)
    }

    @Test("later levels and negative weights become root frames; memory is in bytes")
    func levelsAndNegatives() throws {
        let conversion = try Self.convert(Self.allCaptures, levels: ["status", "registered_name"], weight: "memory_delta")
        try Self.check(conversion, unit: "bytes")
        let file = try SpeedscopeFile(conversion.bytes)
        let negative = file.profiles.flatMap { $0.totals.keys }.filter { $0.first == "negative" }
        #expect(!negative.isEmpty, "memory deltas of real captures go down as well as up")
    }

    @Test("per process: one profile per pid with its registered name, every level a root frame")
    func perProcess() throws {
        let conversion = try Self.convert(Self.allCaptures, levels: ["status", "bucket(memory,log2)"], weight: "reductions_delta", grouping: .process)
        try Self.check(conversion, unit: "none")
        let file = try SpeedscopeFile(conversion.bytes)
        #expect(file.profiles.count > 10)
        #expect(file.profiles.allSatisfy { $0.name.hasPrefix("<0.") })
        #expect(file.profiles.contains { $0.name.contains("> ") }, "some processes of the workload are registered")
    }

    @Test("a size in words stays a plain number; its _bytes metric is in bytes")
    func units() throws {
        try Self.check(try Self.convert([Self.allCaptures[0]], weight: "total_heap_size"), unit: "none")
        try Self.check(try Self.convert([Self.allCaptures[0]], weight: "total_heap_size_bytes"), unit: "bytes")
    }

    @Test("samples lacking the weight's metric are left out and counted")
    func missingMetric() throws {
        let conversion = try Self.convert(Self.allCaptures, weight: "reductions_per_second")
        try Self.check(conversion, unit: "none")
        #expect(conversion.expected.missing > 0)
        #expect(conversion.sink.notes == ["skipped \(conversion.expected.missing) samples: missing reductions_per_second"])
    }

    @Test("spilling to the temporary file changes no byte", arguments: [SpeedscopeGrouping.category, .process])
    func spill(grouping: SpeedscopeGrouping) throws {
        let inMemory = try Self.convert(Self.allCaptures, levels: ["status", "initial_call"], weight: "memory_delta", grouping: grouping)
        let spilled = try Self.convert(Self.allCaptures, levels: ["status", "initial_call"], weight: "memory_delta", grouping: grouping,
                                       memoryBudget: 1, blockRecords: 3)
        #expect(inMemory.sink.spills == 0)
        #expect(spilled.sink.spills > 100)
        #expect(spilled.bytes == inMemory.bytes)
        #expect(spilled.sink.pooledBytes == 36, "one block of three 12-byte records")
        try Self.check(spilled, unit: "bytes")
    }

    @Test("past the profile limit, the rest share one profile and keep their totals")
    func profileLimit() throws {
        // Per category: the label becomes the root frame of the shared profile.
        let all = try Self.convert(Self.allCaptures, levels: ["pid"])
        let limited = try Self.convert(Self.allCaptures, levels: ["pid"], maxProfiles: 5)
        let file = try SpeedscopeFile(limited.bytes)
        #expect(file.profiles.count == 6)
        #expect(file.profiles.last?.name == "(other categories)")
        var regrouped: [String: [[String]: Int64]] = [:]
        for profile in file.profiles.dropLast() { regrouped[profile.name] = profile.totals }
        for (path, total) in file.profiles.last!.totals {
            regrouped[path[0], default: [:]][Array(path.dropFirst()), default: 0] += total
        }
        #expect(regrouped == all.expected.totals)
        #expect(limited.sink.notes == ["\(all.expected.order.count - 5) categories past the first 5 share the profile (other categories), each under a root frame of its name"])

        // Per process: totals per path over all processes are kept.
        let byProcess = try Self.convert(Self.allCaptures, grouping: .process, maxProfiles: 5)
        let processFile = try SpeedscopeFile(byProcess.bytes)
        #expect(processFile.profiles.count == 6)
        #expect(processFile.profiles.last?.name == "(other processes)")
        var merged: [[String]: Int64] = [:]
        for profile in processFile.profiles { merged.merge(profile.totals, uniquingKeysWith: +) }
        var expected: [[String]: Int64] = [:]
        for totals in byProcess.expected.totals.values { expected.merge(totals, uniquingKeysWith: +) }
        #expect(merged == expected)
        #expect(byProcess.sink.notes.count == 1)
        #expect(byProcess.sink.notes.first?.hasSuffix("samples of processes past the first 5 share the profile (other processes)") == true)
    }

    static let hostile: [[UInt8]] = [
        Array("quote\" back\\slash /".utf8),
        [0x00, 0x01, 0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x1F, 0x20, 0x7F],
        Array("é ü 😀 \u{2028}\u{2029}".utf8),
        [0xFF, 0xFE, 0x41],
        [0xC0, 0x80, 0xC1, 0xBF],
        [0xE2, 0x82, 0x41, 0xE2, 0x82],
        [0xED, 0xA0, 0x80, 0xED, 0xBF, 0xBF],
        [0xF4, 0x90, 0x80, 0x80, 0xF0, 0x9F, 0x98],
        [0x80, 0xBF, 0xF8, 0x88, 0x80, 0x80, 0x80],
        [],
    ]

    @Test("any bytes make a JSON string that reads back as their UTF-8 decoding", arguments: hostile)
    func jsonString(bytes: [UInt8]) throws {
        var out = Array("[".utf8)
        JSONText.appendString(bytes, to: &out)
        out.append(UInt8(ascii: "]"))
        #expect(String(validating: out, as: UTF8.self) != nil)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String])
        #expect(parsed == [String(decoding: bytes, as: UTF8.self)])
    }

    @Test("hostile category labels, module and file names still make a valid file")
    func hostileNames() throws {
        let profile = Profile(levels: [StatusLevel()])
        _ = profile.addCapture(CaptureInfo(id: "cap\"\\\u{1}", node: nil, wordSize: nil))
        let out = MemoryOutput()
        let sink = SpeedscopeSink(output: out)
        var event = ProfileEvent()
        var frames: [String: String] = [:]
        for bytes in Self.hostile {
            let module = bytes.withUnsafeBytes { profile.symbols.internName($0) }
            let function = profile.symbols.internFunction(Symbols.Function(module: module, name: profile.symbols.internName("f\""), arity: 1))
            let file = bytes.withUnsafeBytes { profile.symbols.internName($0) }
            let frame = profile.symbols.internFrame(Symbols.Frame(function: function, file: file, line: 7))
            var sample = ProcessSample()
            sample.items = [.currentStacktrace, .currentFunction]
            sample.currentFunction = function
            sample.stack = profile.symbols.internStack([frame])
            event.sample = sample
            event.stack = profile.stacks.stack(of: sample, symbols: profile.symbols)
            event.categories = [profile.internCategory(bytes)]
            for id in profile.frames(of: event.stack) {
                frames[profile.frame(id).displayName(profile.symbols)] = String(decoding: bytes, as: UTF8.self)
            }
            try sink.consume(event, in: profile)
        }
        try sink.finish(profile)
        #expect(String(validating: out.bytes, as: UTF8.self) != nil)
        let file = try SpeedscopeFile(out.bytes)
        #expect(Set(file.profiles.map(\.name)) == Set(Self.hostile.map { String(decoding: $0, as: UTF8.self) }))
        for frame in file.frames {
            let name = try #require(frame["name"] as? String)
            #expect(frames[name] != nil, "\(name)")
            #expect(frame["file"] as? String == frames[name])
            #expect(frame["line"] as? Int == 7)
        }
        #expect(file.json["name"] as? String == "cap\"\\\u{1}: samples per status")
    }

    @Test("no samples: a valid file without profiles, and a note")
    func empty() throws {
        let out = MemoryOutput()
        let sink = SpeedscopeSink(output: out)
        let profile = Profile(levels: [StatusLevel()])
        try sink.finish(profile)
        let file = try SpeedscopeFile(out.bytes)
        #expect(file.profiles.isEmpty && file.frames.isEmpty)
        #expect(sink.notes == ["no samples: the speedscope file holds no profile"])
    }
}

@Suite("speedscope sample spill")
struct SampleSpillTests {
    @Test("records come back in order, from the file and the pool")
    func order() throws {
        let spill = SampleSpill(budget: 1, blockRecords: 2)
        let a = spill.addProfile(), b = spill.addProfile()
        var expected: [[UInt64]] = [[], []]
        for i in 0..<41 {
            let profile = i % 3 == 0 ? b : a
            let weight = UInt64(i) << 33 | UInt64(i)
            try spill.append(profile, path: UInt32(i), weight: weight)
            expected[profile].append(weight)
        }
        #expect(spill.spills > 5)
        for profile in [a, b] {
            var got: [UInt64] = []
            var paths: [UInt32] = []
            try spill.forEachRun(profile) { (run) throws(OutputError) in
                #expect(run.count % 3 == 0)
                for r in stride(from: 0, to: run.count, by: 3) {
                    paths.append(run[r])
                    got.append(UInt64(run[r + 2]) << 32 | UInt64(run[r + 1]))
                }
            }
            #expect(got == expected[profile])
            #expect(paths.map { UInt64($0) } == expected[profile].map { $0 & 0xFFFF_FFFF })
            #expect(spill.count(profile) == expected[profile].count)
        }
    }

    @Test("a temporary file that cannot be made is a clear error, not a crash")
    func noDirectory() throws {
        let spill = SampleSpill(budget: 1, blockRecords: 1, directory: "/nonexistent/flameconv-test")
        let profile = spill.addProfile()
        try spill.append(profile, path: 1, weight: 1)
        #expect(throws: OutputError.self) { try spill.append(profile, path: 2, weight: 1) }
        do {
            try spill.append(profile, path: 2, weight: 1)
        } catch {
            #expect(error.description.contains("cannot create a temporary file in /nonexistent/flameconv-test"))
        }
    }
}
