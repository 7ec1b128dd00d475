import ArgumentParser
import ETF
import FlameDump

/// Bounds on what one input may cost; the defaults handle any real capture.
struct LimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Largest frame or concatenated term to buffer, in bytes.", valueName: "bytes"))
    var maxFrameBytes: Int = DumpLimits.default.maxFrameBytes

    @Option(help: ArgumentHelp("Largest inflated size a compressed term may declare, in bytes.", valueName: "bytes"))
    var maxTermBytes: Int = ETFLimits.default.maxDecompressedBytes

    @Option(help: ArgumentHelp("Deepest nesting of a term.", valueName: "levels"))
    var maxDepth: Int = ETFLimits.default.maxDepth

    @Option(help: ArgumentHelp("Most subterms in one term (each costs 24 bytes while decoded).", valueName: "count"))
    var maxTermNodes: Int = ETFLimits.default.maxNodes

    @Option(help: ArgumentHelp(
        "Most memory reading one term may hold at once, in bytes: its frame, its (inflated) bytes and its decoded subterms together.",
        valueName: "bytes"))
    var maxTermMemory: Int = ETFLimits.default.maxTermMemory

    @Option(help: ArgumentHelp("Most bytes of big integers in one term (printing them takes time growing faster than their size).", valueName: "bytes"))
    var maxBignumBytes: Int = ETFLimits.default.maxBignumBytes

    func validate() throws {
        let values = [("--max-frame-bytes", maxFrameBytes), ("--max-term-bytes", maxTermBytes), ("--max-depth", maxDepth), ("--max-term-nodes", maxTermNodes),
                      ("--max-term-memory", maxTermMemory), ("--max-bignum-bytes", maxBignumBytes)]
        for (name, value) in values where value < 1 {
            throw ValidationError("\(name) must be at least 1, not \(value).")
        }
        if maxFrameBytes > Int(UInt32.max) || maxTermBytes > Int(UInt32.max) {
            throw ValidationError("--max-frame-bytes and --max-term-bytes cannot exceed \(UInt32.max) (a frame length is 32 bits).")
        }
    }

    var dumpLimits: DumpLimits {
        DumpLimits(maxFrameBytes: maxFrameBytes, term: ETFLimits(
            maxDecompressedBytes: maxTermBytes, maxDepth: maxDepth, maxNodes: maxTermNodes,
            maxTermMemory: maxTermMemory, maxBignumBytes: maxBignumBytes))
    }
}

extension LimitOptions {
    /// The captures among `inputs`, after reporting the inputs that are no dump.
    /// Exits with status 1 when there is nothing to work on.
    func scan(_ inputs: [String], doing work: String) throws -> CaptureCatalog.Scan {
        let scan = CaptureCatalog.scan(inputs, limits: dumpLimits)
        for problem in scan.problems { Diagnostics.error(problem.description) }
        guard !scan.captures.isEmpty else {
            Diagnostics.error("no dump files to \(work)")
            throw ExitCode(1)
        }
        return scan
    }
}
