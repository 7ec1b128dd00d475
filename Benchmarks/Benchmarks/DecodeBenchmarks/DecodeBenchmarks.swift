// Decode throughput of flameconv's ETF decoder over a realistic synthetic dump.
//
//     cd Benchmarks && swift package benchmark --target DecodeBenchmarks
//
// The dump is the file named by FLAMECONV_DECODE_DUMP (scripts/run-decode-bench.sh
// sets it, so that binary_to_term is measured on the very same frames), else a
// ~96 MB dump made by DumpSynth (500 processes, seed 1) and kept in the
// temporary directory (the same bytes as `dumpsynth --bytes 96M --stack-variety high OUT`). One iteration decodes every frame of it once.
// "Decode (MB/s)" is frame bytes (the 4-byte length prefixes excluded, as for
// binary_to_term) per second of wall clock, MB = 10^6 bytes.

import Benchmark
import DumpSynth
import ETF
import FlameDump

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The dump file: FLAMECONV_DECODE_DUMP, else one DumpSynth makes once.
struct DumpFile: Sendable {
    let path: String
    /// Sum of the frames' term bytes (length prefixes excluded).
    let termBytes: Int

    static let defaultOptions = SynthOptions(processes: 500, seed: 1, stackVariety: .high)
    static let defaultTarget = 96 << 20

    /// Finds or makes the file, and counts its frame bytes in one streaming pass
    /// (the streaming benchmarks never hold the whole file, so their peak memory
    /// is the reader's, not the dump's).
    static func prepare() -> DumpFile {
        let path: String
        if let given = getenv("FLAMECONV_DECODE_DUMP").map({ String(cString: $0) }), !given.isEmpty {
            path = given
        } else {
            let tmp = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
            path = "\(tmp)/flameconv-synth-p\(defaultOptions.processes)-s\(defaultOptions.seed)-96M.flame"
            if access(path, R_OK) != 0 {
                let partial = path + ".partial.\(getpid())"
                guard let f = fopen(partial, "wb") else { fatalError("cannot write \(partial)") }
                DumpSynthesizer.writeDump(options: defaultOptions, targetBytes: defaultTarget) { chunk in
                    if fwrite(chunk.baseAddress, 1, chunk.count, f) != chunk.count { fatalError("cannot write \(partial)") }
                }
                guard fclose(f) == 0, rename(partial, path) == 0 else { fatalError("cannot write \(path)") }
            }
        }
        var bytes = 0
        do {
            let reader = FrameReader(source: try ByteSource(path: path))
            while let frame = try reader.next() { bytes &+= frame.bytes.count }
        } catch {
            fatalError("cannot read \(path): \(error)")
        }
        return DumpFile(path: path, termBytes: bytes)
    }
}

/// The whole dump in memory, and where its frames are.
struct DumpInMemory: Sendable {
    let bytes: [UInt8]
    let frames: [Range<Int>]
    let termBytes: Int

    static func load(_ file: DumpFile) -> DumpInMemory {
        guard let f = fopen(file.path, "rb") else { fatalError("cannot open \(file.path)") }
        defer { fclose(f) }
        fseek(f, 0, SEEK_END)
        let size = ftell(f)
        fseek(f, 0, SEEK_SET)
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = fread(buffer.baseAddress, 1, size, f)
        }
        let frames = DumpSynthesizer.frameRanges(of: bytes)
        let termBytes = frames.reduce(0) { $0 + $1.count }
        precondition(termBytes == file.termBytes)
        return DumpInMemory(bytes: bytes, frames: frames, termBytes: termBytes)
    }
}

/// Made on first use, in a benchmark's setup (outside the measurement). Each
/// benchmark runs in a process of its own, so only the in-memory one loads the dump.
let dumpFile = DumpFile.prepare()
let dump = DumpInMemory.load(dumpFile)

let mbPerSecond = BenchmarkMetric.custom("Decode (MB/s)", polarity: .prefersLarger, useScalingFactor: false)

/// Records frame bytes per second for one iteration that took `elapsed`.
func record(_ benchmark: Benchmark, bytes: Int, elapsed: Duration) {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    benchmark.measurement(mbPerSecond, Int((Double(bytes) / 1e6 / seconds).rounded()))
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal, mbPerSecond],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(20),
        maxIterations: 15
    )

    // Every frame decoded from memory into one reused Term: the decoder alone.
    Benchmark("TermDecoder.decode, in memory") { benchmark in
        var decoder = TermDecoder()
        var term = Term()
        let clock = ContinuousClock()
        let start = clock.now
        var nodes = 0
        dump.bytes.withUnsafeBytes { all in
            for range in dump.frames {
                let frame = UnsafeRawBufferPointer(rebasing: all[range])
                do {
                    try decoder.decode(frame, baseOffset: range.lowerBound, into: &term)
                } catch {
                    fatalError("decode failed: \(error)")
                }
                nodes &+= term.nodes.count
            }
        }
        let elapsed = clock.now - start
        blackHole(nodes)
        record(benchmark, bytes: dump.termBytes, elapsed: elapsed)
    } setup: {
        _ = dump.frames.count
    }

    // What a conversion does: read the file through ByteSource and FrameReader, decode each frame.
    Benchmark("FrameReader + decode, from file") { benchmark in
        var decoder = TermDecoder()
        var term = Term()
        let clock = ContinuousClock()
        let start = clock.now
        var bytes = 0
        do {
            let reader = FrameReader(source: try ByteSource(path: dumpFile.path))
            while let frame = try reader.next() {
                try decoder.decode(frame.bytes, baseOffset: frame.offset, into: &term)
                bytes &+= frame.bytes.count
            }
        } catch {
            fatalError("streaming decode failed: \(error)")
        }
        let elapsed = clock.now - start
        precondition(bytes == dumpFile.termBytes)
        record(benchmark, bytes: bytes, elapsed: elapsed)
    } setup: {
        _ = dumpFile.termBytes
    }

    // The reading and framing alone, to tell I/O from decoding.
    Benchmark("FrameReader only, from file") { benchmark in
        let clock = ContinuousClock()
        let start = clock.now
        var bytes = 0
        do {
            let reader = FrameReader(source: try ByteSource(path: dumpFile.path))
            while let frame = try reader.next() { bytes &+= frame.bytes.count }
        } catch {
            fatalError("reading failed: \(error)")
        }
        let elapsed = clock.now - start
        precondition(bytes == dumpFile.termBytes)
        record(benchmark, bytes: bytes, elapsed: elapsed)
    } setup: {
        _ = dumpFile.termBytes
    }
}
