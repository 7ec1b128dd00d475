// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "flameconv",
    products: [
        .executable(name: "flameconv", targets: ["flameconv"]),
        .library(name: "ETF", targets: ["ETF"]),
        .library(name: "FlameDump", targets: ["FlameDump"]),
        .library(name: "FlameConvert", targets: ["FlameConvert"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, found through pkg-config; see scripts/setup.sh for the Debian packages.
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),

        // External Term Format: bounded reader, term arena, decoder, Erlang-syntax printer.
        .target(name: "ETF", dependencies: ["CZlib"]),
        // Byte sources (plain, gzip, zstd), framing, the dump reader and typed samples.
        .target(name: "FlameDump", dependencies: ["ETF", "CZlib", "CZstd"]),
        // Deltas, categories, filters and output emitters.
        .target(name: "FlameConvert", dependencies: ["FlameDump", "CZlib"]),
        .executableTarget(
            name: "flameconv",
            dependencies: [
                "ETF", "FlameDump", "FlameConvert",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "ETFTests", dependencies: ["ETF"]),
        .testTarget(name: "FlameDumpTests", dependencies: ["FlameDump", "ETF"]),
        .testTarget(name: "FlameConvertTests", dependencies: ["FlameConvert", "FlameDump"]),
        .testTarget(name: "flameconvTests", dependencies: ["FlameDump"]),
        .testTarget(name: "HardeningTests", dependencies: ["FlameDump", "FlameConvert", "ETF"]),
    ],
    swiftLanguageModes: [.v6]
)
