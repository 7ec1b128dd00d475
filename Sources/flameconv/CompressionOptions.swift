import ArgumentParser
import FlameRun

/// How compressed outputs are written: the same options on every command that
/// writes output files (convert).
struct CompressionOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Threads that compress each .gz or .zst output while the conversion goes on (pprof's gzip stays on one thread). The file is the same whatever the count. Default: the processors online, at most \(CompressionOptions.defaultThreadCap). 1 also reads the input on the converting thread (otherwise a reader thread parses beside it).",
        valueName: "count"))
    var threads: Int?

    /// Bytes of text in each gzip member: hidden, for tests that need several
    /// members from a small capture, and for measuring.
    @Option(help: ArgumentHelp("Bytes of text in each gzip member.", valueName: "bytes", visibility: .hidden))
    var gzipBlockSize: Int = CompressionSettings.defaultGzipBlockSize

    /// The level of .gz (libdeflate, 1 to 12) and .zst (libzstd, 1 to 19)
    /// outputs instead of the chosen ones: hidden, for measuring.
    @Option(help: ArgumentHelp("Compression level of .gz and .zst outputs.", valueName: "level", visibility: .hidden))
    var compressionLevel: Int32?

    /// The default count's ceiling: past it the converting thread, one core's
    /// worth, cannot keep more busy.
    static let defaultThreadCap = 8

    func validate() throws {
        if let threads, !(1...CompressionSettings.maxThreads).contains(threads) {
            throw ValidationError("--threads must be 1 to \(CompressionSettings.maxThreads), not \(threads).")
        }
        if let compressionLevel, !(1...19).contains(compressionLevel) {
            throw ValidationError("--compression-level must be 1 to 19, not \(compressionLevel).")
        }
        let sizes = CompressionSettings.gzipBlockSizes
        if !sizes.contains(gzipBlockSize) {
            throw ValidationError("--gzip-block-size must be \(sizes.lowerBound) to \(sizes.upperBound) bytes, not \(gzipBlockSize).")
        }
    }

    var settings: CompressionSettings {
        CompressionSettings(threads: threads ?? min(CompressionSettings.availableProcessors, Self.defaultThreadCap),
                            gzipBlockSize: gzipBlockSize, level: compressionLevel)
    }
}
