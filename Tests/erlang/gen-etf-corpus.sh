#!/bin/sh
# Build the ETF test corpus: compile etf_gen.erl into a temporary folder and
# run it. Usage: gen-etf-corpus.sh OUTDIR [SEED] [COUNT]   (defaults 1, 2000)
# Exits non-zero if compiling or generating fails (etf_gen halts with 1 on
# any failed self-check).
set -eu

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
    echo "usage: $0 OUTDIR [SEED] [COUNT]" >&2
    exit 2
fi
out=$1
seed=${2:-1}
count=${3:-2000}

here=$(cd "$(dirname "$0")" && pwd)
ebin=$(mktemp -d "${TMPDIR:-/tmp}/etf_gen.XXXXXX")
trap 'rm -rf "$ebin"' EXIT INT TERM

erlc -o "$ebin" "$here/etf_gen.erl"
mkdir -p "$out"
erl -noshell -pa "$ebin" -run etf_gen main "$out" "$seed" "$count" -s init stop
