#!/usr/bin/env bash
# taskloom map against xargs -P and GNU parallel on the same machine, in the same run:
# N runs of `true` with 2 at a time (pure per-item overhead: spawn, wait, collect).
# Each tool runs REPEAT times, alternating (taskloom, xargs, parallel, taskloom, ...),
# and the median wall time of each is appended to bench/MAP_RESULTS.md.
#
#   bash bench/map_bench.sh                 # N=10000, JOBS=2, REPEAT=3
#   N=2000 REPEAT=5 bash bench/map_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10000}
JOBS=${JOBS:-2}
REPEAT=${REPEAT:-3}
OUT=bench/MAP_RESULTS.md

cargo build --release --quiet
TASKLOOM=${CARGO_TARGET_DIR:-$PWD/target}/release/taskloom

if ! command -v parallel >/dev/null; then
    if command -v apt-get >/dev/null; then
        echo "installing GNU parallel with apt-get" >&2
        (apt-get install -y parallel >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && apt-get install -y parallel >/dev/null 2>&1; }) ||
            echo "apt-get could not install GNU parallel; it is left out" >&2
    else
        echo "no apt-get here: GNU parallel is left out (install it to compare)" >&2
    fi
fi
source bench/rounds.sh
HAVE_PARALLEL=0
have_gnu_parallel && HAVE_PARALLEL=1

ITEMS=$(mktemp)
WARM=$(mktemp)
trap 'rm -f "$ITEMS" "$WARM"' EXIT
seq "$N" >"$ITEMS"
seq 100 >"$WARM"

# Each reads its items from the file named by $1.
run_taskloom() { "$TASKLOOM" map -j "$JOBS" --no-progress -- true ::: $(cat "$1"); }
run_xargs() { xargs -P "$JOBS" -n 1 true <"$1"; }
run_parallel() { parallel --will-cite -j "$JOBS" true <"$1"; }

tools=(taskloom xargs)
[ "$HAVE_PARALLEL" = 1 ] && tools+=(parallel)
time_rounds "$ITEMS" "$WARM"

[ -f "$OUT" ] || printf '# taskloom map benchmarks\n\nAppended by `bash bench/map_bench.sh`; newest last.\n' >"$OUT"
{
    echo
    echo "## taskloom map"
    echo
    echo "$(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sr); load average (1, 5, 15 min)"
    echo "$load_before before, $load_after after; \`true\` $N times, \`-j $JOBS\`;"
    echo "median of $REPEAT runs each, alternating. Commands: \`taskloom map -j $JOBS -- true ::: \$(seq $N)\`,"
    echo "\`seq $N | xargs -P $JOBS -n 1 true\`, \`seq $N | parallel -j $JOBS true\`."
    echo
    echo "| tool | median s | ms per item | runs (s) | taskloom's throughput relative to it |"
    echo "|---|---|---|---|---|"
    for tool in "${tools[@]}"; do
        rel=$(ratio "${med[$tool]}" "${med[taskloom]}")
        echo "| $tool | ${med[$tool]} | $(per_item "${med[$tool]}") | ${times[$tool]% } | ${rel}x |"
    done
    if [ "$HAVE_PARALLEL" = 0 ]; then
        echo
        echo "GNU parallel was not available (and could not be installed), so it is left out."
    fi
    echo
    echo "Goal: at least xargs' throughput (ratio >= 1.00) and 4x GNU parallel's."
} >>"$OUT"
tail -n 14 "$OUT"
