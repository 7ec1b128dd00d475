import ETF
import Foundation
@testable import FlameFormats
@testable import FlameModel
import FlameDump
import FlameRun
import TestSupport
import Testing

/// The report page's Swift side: its embedded sources, how hostile names are
/// embedded, and the range edges of its grid. What the page shows is judged in
/// headless Chromium against the FlameScope fork (Tests/browser).
@Suite("Report")
struct ReportTests {
    @Test("the embedded page sources equal Sources/FlameFormats/Report/Assets byte for byte (run scripts/embed-report-assets.sh)",
          arguments: ["report.html", "report.css", "report.js"])
    func embeddedAssetsMatchTheirFiles(name: String) throws {
        let file = try Fixtures.bytes(Fixtures.root.appendingPathComponent("Sources/FlameFormats/Report/Assets/\(name)"))
        let embedded = name == "report.html" ? ReportAssets.html : name == "report.css" ? ReportAssets.css : ReportAssets.js
        #expect(Array(embedded.utf8) == file)
    }

    /// Names no page may let loose: an end of the script, markup, quotes,
    /// control characters and line separators. (An atom that is not UTF-8
    /// never gets this far: the reader refuses it; `notUTF8` covers the encoder.)
    static let hostile: [(atom: [UInt8], expected: String)] = [
        (Array("</script><script>alert(1)</script>".utf8), "</script><script>alert(1)</script>"),
        (Array("q\"uo'te\\back`tick${x}".utf8), "q\"uo'te\\back`tick${x}"),
        (Array("ctl\u{01}\n\r\t\u{7F}end".utf8), "ctl\u{01}\n\r\t\u{7F}end"),
        (Array("sep\u{2028}\u{2029}<!--&amp;".utf8), "sep\u{2028}\u{2029}<!--&amp;"),
    ]

    /// The page of a dump whose functions bear the hostile names.
    func hostilePage() throws -> [UInt8] {
        let scratch = ScratchDir()
        var ticks: [(ts: Int64, samples: [SampleSpec])] = []
        for (i, name) in Self.hostile.enumerated() {
            let function = E.tuple(E.atom("m"), E.atomUTF8(name.atom), E.int(1))
            let frame = E.tuple(E.atom("m"), E.atomUTF8(name.atom), E.int(1), E.list([]))
            ticks.append((Int64(i) * 20_000, [SampleSpec(currentFunction: function, stack: [frame])]))
        }
        let path = scratch.write("hostile.flame", dumpBytes(ticks: ticks))
        let out = MemoryOutput()
        let sink = ReportSink(output: out, weight: .samples, metrics: ReportSink.defaultMetrics, perfMetrics: nil, title: "</title><b>t")
        let run = ProfileRun(captures: CaptureCatalog.scan([path]).captures, plan: RunPlan(), sinks: [sink])
        _ = try run.run()
        #expect(sink.samplesWritten == Self.hostile.count)
        return out.bytes
    }

    @Test("hostile frame names stay inside the page's data: one end of each script element, and the JSON gives the names back")
    func hostileNamesAreEscaped() throws {
        let page = try hostilePage()
        let text = String(decoding: page, as: UTF8.self)
        // The template's two </script> and nothing else; no stray title end either.
        #expect(text.components(separatedBy: "</script").count - 1 == 2)
        #expect(text.components(separatedBy: "</title").count - 1 == 1)
        #expect(!text.contains("<b>t"))
        let open = "<script type=\"application/json\" id=\"report-data\">"
        let start = try #require(text.range(of: open)).upperBound
        let end = try #require(text.range(of: "</script>", range: start..<text.endIndex)).lowerBound
        let data = String(text[start..<end])
        // Nothing the HTML parser reads inside a script element: no '<', no raw control character.
        #expect(!data.contains("<"))
        #expect(!data.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x2028 || $0.value == 0x2029 })
        let json = try JSONValue.parse(data)
        guard case .object(let top) = json, case .object(let capture)? = top.first(where: { $0.key == "capture" })?.value,
              case .array(let names)? = capture.first(where: { $0.key == "names" })?.value else {
            Issue.record("no capture.names in the page's data")
            return
        }
        let strings = names.compactMap { value -> String? in if case .string(let s) = value { return s } else { return nil } }
        for name in Self.hostile {
            #expect(strings.contains("m:\(name.expected)/1"), "\(name.expected.debugDescription) not among \(strings)")
        }
    }

    @Test("bytes that are not UTF-8 become U+FFFD, and what HTML reads is escaped")
    func notUTF8() {
        var out: [UInt8] = []
        ReportEncoding.jsonString([0x62, 0xFF, 0xFE, 0x3C, 0x2F, 0xC3], into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"b\u{FFFD}\u{FFFD}\\u003c/\u{FFFD}\"")
    }

    @Test("a sample's range edges say exactly which ranges the fork's inclusive time test gives it",
          arguments: [50, 49, 99, 10])
    func rangeEdgesFollowTheForksTimeTest(rows: Int) {
        let grid = ReportGrid(rows: rows)
        let baseSecond: Int64 = 1_795_583_143
        let base = Double(baseSecond)
        // Times on and beside cell boundaries, where the float arithmetic can fall either way.
        var micros: [Int64] = []
        for k in 0...rows {
            let edge = Int64((Double(k) * 1_000_000 / Double(rows)).rounded())
            for d: Int64 in -2...2 { micros.append(baseSecond * 1_000_000 + 1_000_000 + edge + d) }
        }
        for us in micros {
            let ts = ReportGrid.seconds(us)
            let (second, bucket) = grid.cell(ts)
            let index = Int(second - baseSecond) * rows + bucket
            let edges = grid.edges(ts, index: index, base: base)
            for a in (index - 3)...(index + 3) where a >= 0 {
                for b in a...(index + 3) {
                    let fork = grid.rangeStart(a, base: base) <= ts && ts <= grid.rangeEnd(b, base: base)
                    let page = a <= index + edges.starts && index + edges.ends <= b
                    #expect(fork == page, "ts \(us) µs, cell \(index), range \(a)...\(b)")
                }
            }
        }
    }

    @Test("varints and base64 read back as written, negatives and 2^53 included")
    func columnsRoundTrip() throws {
        let values: [Int64] = [0, 1, -1, 63, -64, 64, 127, 128, 300, -300, Int64(Int32.max), Int64(Int32.min), 1 << 53, -(1 << 53)]
        var bytes: [UInt8] = []
        for value in values { ReportEncoding.putVarint(value, &bytes) }
        var text: [UInt8] = []
        ReportEncoding.base64(bytes, into: &text)
        // Foundation's base64 is the independent reader here.
        let decoded = try #require(Data(base64Encoded: Data(text)))
        var read: [Int64] = []
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for byte in decoded {
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 != 0 {
                shift += 7
                continue
            }
            read.append(Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1))
            value = 0
            shift = 0
        }
        #expect(read == values)
    }
}
