#!/usr/bin/env bash
# Regenerates the flame_prof-dialect golden outputs from the real captures:
#
#   Fixtures/captures/<capture>/  ->  Fixtures/golden/<capture>.flame_prof.perf
#                                     Fixtures/golden/<capture>.flame_prof.summary.json
#
# with the independent oracle Tests/reference/flame_prof_ref.escript (the
# summary is its --summary: per-category sample counts and metric sums, the
# shape Tests/reference/fork_totals.py prints). A text over 4 MB is stored
# gzipped as <capture>.flame_prof.perf.gz instead, to keep the repository
# small (FlameScope and the tests read either). Run it again whenever the
# captures are re-made (their timestamps and pids change every run).
#
#   Tests/reference/make-golden.sh            # all captures
#   Tests/reference/make-golden.sh plain      # only the named ones
set -euo pipefail
top=$(git rev-parse --show-toplevel)
cd "$top"
ref=Tests/reference/flame_prof_ref.escript
out=Fixtures/golden
limit=$((4 * 1024 * 1024))
mkdir -p "$out"

if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for d in Fixtures/captures/*/; do names+=("$(basename "$d")"); done
fi
[ ${#names[@]} -gt 0 ] || { echo "no captures under Fixtures/captures/" >&2; exit 1; }

for name in "${names[@]}"; do
  dir="Fixtures/captures/$name"
  [ -d "$dir" ] || { echo "$dir: no such capture folder" >&2; exit 1; }
  tmp=$(mktemp "$out/.$name.XXXXXX")
  trap 'rm -f "$tmp" "$tmp.json"' EXIT
  escript "$ref" "$dir" > "$tmp"
  escript "$ref" --summary "$dir" > "$tmp.json" 2>/dev/null
  rm -f "$out/$name.flame_prof.perf" "$out/$name.flame_prof.perf.gz"
  size=$(wc -c < "$tmp")
  if [ "$size" -gt "$limit" ]; then
    gzip -n -9 -c "$tmp" > "$out/$name.flame_prof.perf.gz"
    rm -f "$tmp"
    echo "$out/$name.flame_prof.perf.gz ($size bytes of text)"
  else
    chmod 644 "$tmp"
    mv "$tmp" "$out/$name.flame_prof.perf"
    echo "$out/$name.flame_prof.perf ($size bytes)"
  fi
  mv "$tmp.json" "$out/$name.flame_prof.summary.json"
  trap - EXIT
done
