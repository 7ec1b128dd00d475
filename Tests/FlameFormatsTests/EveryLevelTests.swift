@testable import FlameFormats
@testable import FlameModel
import FlameDump
import FlameRun
import TestSupport
import Testing

/// What every category level must do, whichever it is: a new level in
/// `CategoryLevels.kinds` is checked here without a test of its own.
@Suite("Every category level")
struct EveryLevelTests {
    /// Collects each event's label at the one level under test.
    final class LabelSink: ProfileSink {
        var labels: [String: Int] = [:]
        func consume(_ event: borrowing ProfileEvent, in profile: Profile) throws(OutputError) {
            labels[profile.categoryText(event.categories[0]), default: 0] += 1
        }
        func finish(_ profile: Profile) throws(OutputError) {}
        var notes: [String] { [] }
        var samplesWritten: Int { labels.values.reduce(0, +) }
    }

    static var specs: [String] {
        CategoryLevels.kinds.map { kind in kind.usage.contains("(") ? "bucket(memory,log2)" : kind.keyword }
    }

    @Test("labels every sample of a real capture with readable text; its spec reads back as itself", arguments: EveryLevelTests.specs)
    func labelsEverySample(spec: String) throws {
        var catalogue = MetricCatalogue()
        let level = try CategoryLevels.parse(spec, catalogue: &catalogue)
        #expect(level.spec == spec)
        #expect(try CategoryLevels.parse(level.spec, catalogue: &catalogue).spec == spec)
        let scan = CaptureCatalog.scan(["\(repositoryRoot)/Fixtures/captures/top100"])
        let sink = LabelSink()
        let summary = try ProfileRun(captures: scan.captures, plan: RunPlan(levels: [level], catalogue: catalogue), sinks: [sink]).run()
        #expect(summary.events == 9450)
        #expect(sink.labels.values.reduce(0, +) == summary.events)
        for label in sink.labels.keys {
            #expect(!label.isEmpty)
            #expect(!label.unicodeScalars.contains { $0.value < 0x20 || $0 == " " }, "\(spec): \(label) holds a blank or a control character")
        }
    }

    @Test("a keyword level refuses arguments", arguments: CategoryLevels.kinds.filter { !$0.usage.contains("(") }.map { $0.keyword })
    func refusesArguments(keyword: String) {
        var catalogue = MetricCatalogue()
        #expect(throws: CategorySpecError.self) { try CategoryLevels.parse("\(keyword)(1)", catalogue: &catalogue) }
    }
}
