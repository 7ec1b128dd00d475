// swift-tools-version: 6.1
import PackageDescription

// The stages, each a module that knows only what it must:
//   FlameModel   samples, symbols, metrics, deltas, categories, filters (no ETF, no output format)
//   FlameDump    reading: inputs, decompression, frames, the dump reader, the sample parser (ETF)
//   FlameFormats the outputs, one folder each (perf, stats, …)
//   FlameRun     the one-pass driver, output files, signals
//   flameconv    the command-line tool
let package = Package(
    name: "flameconv",
    products: [
        .executable(name: "flameconv", targets: ["flameconv"]),
        .library(name: "ETF", targets: ["ETF"]),
        .library(name: "FlameModel", targets: ["FlameModel"]),
        .library(name: "FlameDump", targets: ["FlameDump"]),
        .library(name: "FlameFormats", targets: ["FlameFormats"]),
        .library(name: "FlameRun", targets: ["FlameRun"]),
        .library(name: "FlameBatch", targets: ["FlameBatch"]),
        // The fuzz targets' bodies, for Fuzz/ (a package of its own) and the replay tests; not part of the tool.
        .library(name: "FuzzETFHarness", targets: ["FuzzETFHarness"]),
        .library(name: "FuzzDumpHarness", targets: ["FuzzDumpHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // pprof's profile.proto messages (Sources/FlameFormats/Pprof/Generated, made by scripts/generate-pprof-proto.sh).
        // No traits: its default ones import all of Foundation (and ICU), which
        // doubled the start-up work of every command; we use neither API.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
    ],
    targets: [
        // System libraries, found through pkg-config; see scripts/install-deps.sh for the Debian packages.
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        // Compressing .gz outputs, block by block (FlameRun/Compression).
        .systemLibrary(
            name: "CDeflate", path: "Sources/CDeflate", pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]),

        // Tar archives of dumps, read member by member as streams (FlameBatch).
        // The header only: FlameBatch loads libarchive on first use (LibArchive.swift).
        .systemLibrary(
            name: "CArchive", path: "Sources/CArchive",
            providers: [.apt(["libarchive-dev"])]),

        // External Term Format: bounded reader, term arena, decoder, Erlang-syntax printer.
        .target(name: "ETF", dependencies: ["CZlib", "CDeflate"]),
        // Samples, symbols, metrics, deltas, category levels and filters.
        .target(name: "FlameModel"),
        // Byte sources (plain, gzip, zstd), framing, the dump reader and the sample parser.
        .target(name: "FlameDump", dependencies: ["ETF", "FlameModel", "CZlib", "CZstd"]),
        // Output formats: one folder per output.
        .target(
            name: "FlameFormats",
            dependencies: ["FlameModel", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            // The source of Pprof/Generated/profile.pb.swift, and the report page's
            // sources (embedded by scripts/embed-report-assets.sh); not compiled.
            exclude: ["Pprof/profile.proto", "Report/Assets"]),
        // The one-pass driver, output files (gzip, zstd) and signal cleanup.
        .target(name: "FlameRun", dependencies: ["FlameModel", "FlameDump", "FlameFormats", "CZlib", "CZstd", "CDeflate"]),
        // flameconv batch: discovery (files, folders, tar archives), manifests, shards, parallel jobs.
        .target(name: "FlameBatch", dependencies: ["FlameModel", "FlameDump", "FlameFormats", "FlameRun", "CArchive"]),
        .executableTarget(
            name: "flameconv",
            dependencies: [
                "ETF", "FlameModel", "FlameDump", "FlameFormats", "FlameRun", "FlameBatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // What the test targets share: a scratch folder, the ETF term and dump builder, the
        // capture editor, the child-process runner (flameconv, erl, tools), the fixtures' paths.
        .target(name: "TestSupport", dependencies: ["ETF", "FlameDump", "CZlib"], path: "Tests/TestSupport"),
        // What each fuzz target does with one input (one module each, so FuzzETFDecode
        // carries no dump code). Fuzz/ builds them with libFuzzer's instrumentation;
        // HardeningTests run every saved fail case through them.
        .target(name: "FuzzETFHarness", dependencies: ["ETF"], path: "Fuzz/Harness/ETF"),
        .target(
            name: "FuzzDumpHarness", dependencies: ["ETF", "FlameModel", "FlameDump", "FlameFormats", "FlameRun"],
            path: "Fuzz/Harness/Dump"),
        .testTarget(name: "ETFTests", dependencies: ["ETF", "TestSupport"]),
        .testTarget(name: "FlameDumpTests", dependencies: ["FlameDump", "FlameModel", "ETF", "TestSupport"]),
        .testTarget(
            name: "FlameFormatsTests",
            dependencies: [
                "FlameFormats", "FlameRun", "FlameModel", "FlameDump", "TestSupport",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        .testTarget(name: "flameconvTests", dependencies: ["FlameDump", "FlameModel", "TestSupport"]),
        .testTarget(
            name: "HardeningTests",
            dependencies: ["FlameDump", "FlameModel", "FlameFormats", "FlameRun", "ETF", "FuzzDumpHarness", "FuzzETFHarness", "TestSupport"]),
        .testTarget(name: "FlameModelTests", dependencies: ["FlameModel", "TestSupport"]),
        .testTarget(name: "FlameBatchTests", dependencies: ["FlameBatch", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
