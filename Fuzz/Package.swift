// swift-tools-version: 6.1
// Fuzz targets for flameconv, kept out of the root package so `swift test` never
// builds them (they need -parse-as-library and libFuzzer's main). Each is a
// libFuzzer entry point around its body in one of the root package's harness
// libraries (Fuzz/Harness, which the replay tests in Tests/HardeningTests run too).
// The root package and its libraries are built in the same build as these
// targets, so run.sh's -sanitize=fuzzer,address instruments them all.
// Build and run with ./run.sh TARGET SECONDS.
import PackageDescription

let package = Package(
    name: "flameconv-fuzz",
    dependencies: [
        .package(name: "flameconv", path: ".."),
    ],
    targets: [
        // libFuzzer supplies main(); the Swift file only defines LLVMFuzzerTestOneInput.
        .executableTarget(
            name: "FuzzETFDecode",
            dependencies: [.product(name: "FuzzETFHarness", package: "flameconv"), .product(name: "ETF", package: "flameconv")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "FuzzDumpConvert",
            dependencies: [
                .product(name: "FuzzDumpHarness", package: "flameconv"),
                .product(name: "ETF", package: "flameconv"), .product(name: "FlameModel", package: "flameconv"),
                .product(name: "FlameDump", package: "flameconv"), .product(name: "FlameFormats", package: "flameconv"),
                .product(name: "FlameRun", package: "flameconv"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v6]
)
