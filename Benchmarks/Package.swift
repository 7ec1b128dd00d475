// swift-tools-version: 6.1
// Benchmarks for flameconv. A package of its own so that `swift test` at the
// repository root never builds it (or fetches package-benchmark).
//
//     cd Benchmarks && swift package benchmark
//
// See ../BENCHMARKS.md for the figures and how they were taken.
import PackageDescription

let package = Package(
    name: "flameconv-benchmarks",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "DumpSynth", targets: ["DumpSynth"]),
        .executable(name: "dumpsynth", targets: ["dumpsynth"]),
    ],
    dependencies: [
        // The repository was renamed from package-benchmark; the plugin warns about
        // the old identity. The malloc interposer gives the malloc metrics; no jemalloc.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(name: "flameconv", path: ".."),
    ],
    targets: [
        // Deterministic, realistic flame dump frames encoded straight to ETF bytes.
        .target(name: "DumpSynth"),
        .executableTarget(name: "dumpsynth", dependencies: ["DumpSynth"]),
        // A bare decode loop to run under perf or valgrind.
        .executableTarget(
            name: "decodeprof",
            dependencies: ["DumpSynth", .product(name: "ETF", package: "flameconv")]),
        .executableTarget(
            name: "DecodeBenchmarks",
            dependencies: [
                "DumpSynth",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ETF", package: "flameconv"),
                .product(name: "FlameDump", package: "flameconv"),
            ],
            path: "Benchmarks/DecodeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
