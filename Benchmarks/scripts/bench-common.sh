# Shared by the run-*-bench.sh scripts: source it after setting ROOT, DATA and
# RESULTS. Gives note, median, flameconv_at REV, and the standard inputs:
# SYNTH (dumpsynth), synthetic dumps under $DATA, CAPTURES (the real ones).

note() { echo "$*" | tee -a "$RESULTS"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# REV -> the path of its release flameconv, built once in a temporary worktree
# (scratch path .build-bench-s-SHA, kept for the next run), with the Swift
# runtime linked in as scripts/setup.sh builds it (--static-swift-stdlib).
flameconv_at() {
    local sha dir tree
    sha=$(git -C "$ROOT" rev-parse --short "$1")
    dir=$ROOT/.build-bench-s-$sha
    if [ ! -x "$dir/release/flameconv" ]; then
        tree=$(mktemp -d)
        git -C "$ROOT" worktree add --detach "$tree" "$sha" >/dev/null 2>&1
        (cd "$tree" && swift build -c release --static-swift-stdlib --scratch-path "$dir" --product flameconv >/dev/null)
        git -C "$ROOT" worktree remove --force "$tree"
    fi
    echo "$dir/release/flameconv"
}

# Synthetic dumps of 500 processes, seed 1: realistic and high stack variety,
# 20 MB (instruction counts) and 200 MB (time, memory); made once.
(cd "$ROOT/Benchmarks" && swift build -c release --product dumpsynth >/dev/null)
SYNTH=$ROOT/Benchmarks/.build/release/dumpsynth
for size in 20M 200M; do
    for variety in realistic high; do
        f=$DATA/synth-$variety-$size.flame
        [ -f "$f" ] || "$SYNTH" --bytes "$size" --processes 500 --seed 1 --stack-variety "$variety" "$f" >/dev/null
    done
done

# The four real captures, merged: a folder of links to their folders (the
# README.md in Fixtures/captures is not a dump).
CAPTURES=$DATA/real-captures
mkdir -p "$CAPTURES"
for c in plain rotated compressed top100; do ln -sfn "$ROOT/Fixtures/captures/$c" "$CAPTURES/$c"; done
