#!/usr/bin/env bash
# Builds the fuzz targets (libFuzzer + AddressSanitizer) and runs one for a while.
#   Fuzz/run.sh FuzzETFDecode 60      Fuzz/run.sh FuzzDumpConvert 300
# A crash leaves its input in Fuzz/FailCases/<target>/crash-*; keep it there (the
# replay test in Tests/HardeningTests runs every file in those folders), fix the
# code, and run again. Exit status: 0 when no crash, else libFuzzer's.
# Environment: FUZZ_JOBS (parallel workers, default 1), FUZZ_ARGS (extra flags).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="${1:?usage: Fuzz/run.sh FuzzETFDecode|FuzzDumpConvert SECONDS}"
SECONDS_TO_RUN="${2:-60}"
case "$TARGET" in
    FuzzETFDecode) MAX_LEN=4096 ;;
    FuzzDumpConvert) MAX_LEN=65536 ;;
    *) echo "unknown target $TARGET" >&2; exit 64 ;;
esac
cd "$HERE"
# swiftc honours only its last -sanitize flag, hence fuzzer,address in one.
swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --product "$TARGET" >&2
BIN="$(swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --show-bin-path)/$TARGET"
[ -d "corpus/$TARGET" ] || ./make-seeds.sh >&2
mkdir -p "FailCases/$TARGET" "corpus/$TARGET"
# ASan's allocator may not return memory at once; 2 GB RSS is far above what the limits allow.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"
exec "$BIN" "corpus/$TARGET" \
    -dict=etf.dict -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=2048 \
    -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 \
    -artifact_prefix="FailCases/$TARGET/" ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} ${FUZZ_ARGS:-}
