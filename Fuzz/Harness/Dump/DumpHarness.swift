import ETF
import FlameFormats
import FlameModel
import FlameRun
import FlameDump
#if canImport(Glibc)
import Glibc
#endif

/// Drops what it is given: the harness checks the run, not its text.
final class DiscardOutput: ByteOutput {
    func write(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {}
}

/// FuzzDumpConvert's body, also run by Tests/HardeningTests (FuzzReplayTests) on
/// every saved fail case: write arbitrary bytes to a file, then run what
/// `flameconv convert` and `flameconv inspect` run on it (catalogue scan, a
/// ProfileRun into every format's sink, discarding their bytes, and a stats sink;
/// FrameReader + TermDecoder + TermPrinter). Any outcome is fine except a crash,
/// a hang or unbounded memory.
public enum DumpHarness {
    public static let limits = DumpLimits(maxFrameBytes: 16 << 20, term: ETFLimits(maxDecompressedBytes: 64 << 20, maxDepth: 100_000, maxNodes: 1_000_000))

    /// One scratch file per process, rewritten for every input.
    nonisolated(unsafe) static var scratch: String = {
        var template = Array("/tmp/flameconv-fuzz-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        precondition(fd >= 0, "mkstemp failed")
        close(fd)
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    public static func run(_ bytes: UnsafeRawBufferPointer) {
        let path = scratch
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        precondition(fd >= 0, "cannot open \(path)")
        var at = 0
        while at < bytes.count {
            let n = write(fd, bytes.baseAddress! + at, bytes.count - at)
            precondition(n > 0, "cannot write \(path)")
            at += n
        }
        close(fd)
        runFile(path)
    }

    public static func runFile(_ path: String) {
        // convert
        let scan = CaptureCatalog.scan([path], limits: limits)
        for problem in scan.problems { _ = problem.description }
        if !scan.captures.isEmpty {
            let perf = PerfSink(dialect: .portable, output: DiscardOutput(), chunk: 64 << 10)
            // Every format, as `convert -o a.perf -o a.folded -o a.speedscope.json -o a.pprof` runs them.
            let weight = Weight.delta(MetricCatalogue.reductions)
            let sinks: [any ProfileSink] = [
                perf, StatsSink(weight: weight, groups: true),
                FoldedSink(output: DiscardOutput(), weight: weight),
                SpeedscopeSink(output: DiscardOutput(), weight: weight, grouping: .category, exporter: "fuzz"),
                PprofSink(output: DiscardOutput(), weight: weight, metrics: nil, catalogue: MetricCatalogue(), levelSpecs: ["status"]),
            ]
            let run = ProfileRun(captures: scan.captures, plan: RunPlan(weight: weight, limits: limits), sinks: sinks)
            if let summary = try? run.run() {
                for file in summary.files { _ = file.tailError?.description }
                for error in summary.openErrors { _ = error.description }
            }
            _ = perf.notes
        }
        // inspect
        do throws(DumpError) {
            let reader = FrameReader(source: try ByteSource(path: path), limits: limits, chunkSize: 4096)
            var decoder = TermDecoder(limits: limits.term)
            let printer = TermPrinter()
            var term = Term()
            var out: [UInt8] = []
            while let frame = try reader.next() {
                do throws(ETFError) {
                    try decoder.decode(frame.bytes, baseOffset: frame.offset, into: &term)
                } catch {
                    _ = DumpError(path: path, offset: error.offset, reason: .term(error)).description
                    return
                }
                _ = DumpHeader.nodeName(in: term)
                printer.print(term, into: &out) { (chunk: inout [UInt8]) in chunk.removeAll(keepingCapacity: true) }
                out.removeAll(keepingCapacity: true)
            }
        } catch {
            _ = error.description
        }
    }
}
