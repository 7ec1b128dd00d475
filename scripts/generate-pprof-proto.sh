#!/usr/bin/env bash
# Regenerates Sources/FlameFormats/Pprof/Generated/profile.pb.swift from
# Sources/FlameFormats/Pprof/profile.proto. Run it by hand after editing the
# .proto; the generated file is committed, and neither the build nor CI runs this.
#
#   scripts/generate-pprof-proto.sh            build the plugin if needed, then generate
#   scripts/generate-pprof-proto.sh --plugin   only build the plugin (slow: ~10 minutes on 2 cores)
#
# It needs protoc (Debian's protobuf-compiler, installed when missing) and
# protoc-gen-swift of the same swift-protobuf version as Package.swift names,
# built from source in a throwaway package under .build-protoc/ (gitignored).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="1.39.0"            # keep equal to the swift-protobuf version in Package.swift
scratch="$root/.build-protoc"
plugin="$scratch/build/release/protoc-gen-swift"
proto_dir="$root/Sources/FlameFormats/Pprof"
out_dir="$proto_dir/Generated"

if ! command -v protoc >/dev/null 2>&1; then
    echo "installing: protobuf-compiler"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq protobuf-compiler >/dev/null
fi

if [ ! -x "$plugin" ]; then
    mkdir -p "$scratch/plugin/Sources/Placeholder"
    cat > "$scratch/plugin/Package.swift" <<MANIFEST
// swift-tools-version: 6.1
// Throwaway package: only here so that SwiftPM checks out swift-protobuf $version
// and builds its protoc plugin.
import PackageDescription
let package = Package(
    name: "ProtocPlugin",
    dependencies: [.package(url: "https://github.com/apple/swift-protobuf", exact: "$version")],
    targets: [.target(name: "Placeholder", path: "Sources/Placeholder")]
)
MANIFEST
    echo "// empty" > "$scratch/plugin/Sources/Placeholder/Placeholder.swift"
    echo "building protoc-gen-swift $version (slow) ..."
    swift build -c release --package-path "$scratch/plugin" --scratch-path "$scratch/build" \
        --product protoc-gen-swift
fi
[ "${1:-}" = "--plugin" ] && exit 0

mkdir -p "$out_dir"
protoc --plugin=protoc-gen-swift="$plugin" \
    --proto_path="$proto_dir" \
    --swift_out="$out_dir" \
    --swift_opt=Visibility=Internal \
    --swift_opt=FileNaming=DropPath \
    profile.proto
echo "wrote $out_dir/profile.pb.swift"
