// swift-tools-version: 6.1
// Fuzz targets for flameconv, kept out of the root package so `swift test` never
// builds them. The library targets are the root package's own sources, reached
// through symlinks in Sources/, so they are built with the fuzzer's coverage
// instrumentation too. Build and run with ./run.sh TARGET SECONDS.
import PackageDescription

let package = Package(
    name: "flameconv-fuzz",
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd"),
        .target(name: "ETF", dependencies: ["CZlib"]),
        .target(name: "FlameModel"),
        .target(name: "FlameDump", dependencies: ["ETF", "FlameModel", "CZlib", "CZstd"]),
        .target(name: "FlameFormats", dependencies: ["FlameModel", "FlameDump"]),
        .target(name: "FlameRun", dependencies: ["FlameModel", "FlameDump", "FlameFormats", "CZlib"]),
        // libFuzzer supplies main(); the Swift file only defines LLVMFuzzerTestOneInput.
        .executableTarget(
            name: "FuzzETFDecode", dependencies: ["ETF"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "FuzzDumpConvert", dependencies: ["ETF", "FlameModel", "FlameDump", "FlameFormats", "FlameRun"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v6]
)
