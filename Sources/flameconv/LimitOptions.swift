import ArgumentParser
import ETF
import FlameDump
import FlameModel

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

    @Option(help: ArgumentHelp("Most processes whose last sample is remembered for deltas (about 170 bytes each); past it the least recently seen are forgotten and start over if they come back.", valueName: "count"))
    var maxProcesses: Int = DumpLimits.default.maxProcesses

    @Option(help: ArgumentHelp(
        "Most memory reading one term may hold at once, in bytes: its frame, its (inflated) bytes and its decoded subterms together.",
        valueName: "bytes"))
    var maxTermMemory: Int = ETFLimits.default.maxTermMemory

    @Option(help: ArgumentHelp("Most bytes of big integers in one term (printing them takes time growing faster than their size).", valueName: "bytes"))
    var maxBignumBytes: Int = ETFLimits.default.maxBignumBytes

    @Option(help: ArgumentHelp("Most bytes the tables of distinct names, functions, frames and stacks may hold (their ids stay the same for the whole run).", valueName: "bytes"))
    var maxSymbolBytes: Int = DumpLimits.default.maxSymbolBytes

    func validate() throws {
        let values = [("--max-frame-bytes", maxFrameBytes), ("--max-term-bytes", maxTermBytes), ("--max-depth", maxDepth), ("--max-term-nodes", maxTermNodes),
                      ("--max-term-memory", maxTermMemory), ("--max-bignum-bytes", maxBignumBytes), ("--max-processes", maxProcesses),
                      ("--max-symbol-bytes", maxSymbolBytes)]
        for (name, value) in values where value < 1 {
            throw ValidationError("\(name) must be at least 1, not \(value).")
        }
        if maxProcesses > Int(Int32.max) { throw ValidationError("--max-processes cannot exceed \(Int32.max).") }
        if maxFrameBytes > Int(UInt32.max) || maxTermBytes > Int(UInt32.max) {
            throw ValidationError("--max-frame-bytes and --max-term-bytes cannot exceed \(UInt32.max) (a frame length is 32 bits).")
        }
    }

    var dumpLimits: DumpLimits {
        DumpLimits(maxFrameBytes: maxFrameBytes, term: ETFLimits(
            maxDecompressedBytes: maxTermBytes, maxDepth: maxDepth, maxNodes: maxTermNodes,
            maxTermMemory: maxTermMemory, maxBignumBytes: maxBignumBytes),
                   maxProcesses: maxProcesses, maxSymbolBytes: maxSymbolBytes)
    }
}

extension LimitOptions {
    /// The captures among the walked inputs, after reporting the inputs that are
    /// no dump and warning of files passed over. Exits with status 1 when there is
    /// nothing to work on.
    func scan(_ walk: InputWalk.Result, doing work: String) throws -> CaptureCatalog.Scan {
        let scan = CaptureCatalog.scan(walk, limits: dumpLimits)
        for problem in scan.problems { Diagnostics.error(LimitHint.text(problem)) }
        for warning in scan.warnings { Diagnostics.warning(warning) }
        guard !scan.captures.isEmpty else {
            Diagnostics.error("no dump files to \(work)")
            throw ExitCode(1)
        }
        return scan
    }
}

/// Errors as the user reads them: a library names the limit an input went
/// over; the command adds the option that raises it.
enum LimitHint {
    static func text(_ error: DumpError) -> String {
        guard let option = option(for: error.reason) else { return error.description }
        return "\(error.description) (raise it with \(option))"
    }

    static func option(for reason: DumpError.Reason) -> String? {
        switch reason {
        case .frameTooLarge: return "--max-frame-bytes"
        case .term(let error):
            switch error.reason {
            case .decompressedTooLarge: return "--max-term-bytes"
            case .tooDeep: return "--max-depth"
            case .tooManyNodes: return "--max-term-nodes"
            case .tooManyBignumBytes: return "--max-bignum-bytes"
            case .overMemoryBudget(_, _, let purpose):
                return purpose == SampleParser.symbolTablesPurpose ? "--max-symbol-bytes" : "--max-term-memory"
            default: return nil
            }
        default: return nil
        }
    }
}
