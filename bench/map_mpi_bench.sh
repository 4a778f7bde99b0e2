#!/usr/bin/env bash
# taskloom map with its items spread over MPI ranks, against the same map on one
# machine and GNU parallel, in the same run: N runs of `true` (pure per-item overhead:
# hand out, spawn, wait, report back). `mpirun -n 3` gives 2 worker ranks of MPI_JOBS
# items at once each; the others run JOBS at once. Each tool runs REPEAT times,
# alternating, and the medians, their ratios and the load average are appended to
# bench/MAP_MPI_RESULTS.md.
#
#   bash bench/map_mpi_bench.sh                   # N=10000, JOBS=2, MPI_JOBS=1, REPEAT=3
#   N=2000 REPEAT=5 bash bench/map_mpi_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10000}
JOBS=${JOBS:-2}
MPI_JOBS=${MPI_JOBS:-1}
REPEAT=${REPEAT:-3}
OUT=bench/MAP_MPI_RESULTS.md

cargo build --release --quiet --features mpi
TASKLOOM=${CARGO_TARGET_DIR:-$PWD/target}/release/taskloom

source bench/rounds.sh
HAVE_PARALLEL=0
have_gnu_parallel && HAVE_PARALLEL=1

ITEMS=$(mktemp)
WARM=$(mktemp)
trap 'rm -f "$ITEMS" "$WARM"' EXIT
seq "$N" >"$ITEMS"
seq 100 >"$WARM"

# Each reads its items from the file named by $1.
run_mpi() {
    mpirun --allow-run-as-root --oversubscribe -q -n 3 \
        "$TASKLOOM" map --executor mpi -j "$MPI_JOBS" --no-progress -- true ::: $(cat "$1")
}
run_local() { "$TASKLOOM" map --executor local -j "$JOBS" --no-progress -- true ::: $(cat "$1"); }
run_parallel() { parallel --will-cite -j "$JOBS" true <"$1"; }

tools=(mpi local)
[ "$HAVE_PARALLEL" = 1 ] && tools+=(parallel)
time_rounds "$ITEMS" "$WARM"

[ -f "$OUT" ] || printf '# taskloom map on MPI ranks\n\nAppended by `bash bench/map_mpi_bench.sh`; newest last.\n' >"$OUT"
{
    echo
    echo "## \`true\` $N times"
    echo
    echo "$(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sr); load average (1, 5, 15 min)"
    echo "$load_before before, $load_after after; median of $REPEAT runs each, alternating. Commands:"
    echo "\`mpirun -q -n 3 taskloom map --executor mpi -j $MPI_JOBS -- true ::: \$(seq $N)\`,"
    echo "\`taskloom map --executor local -j $JOBS -- true ::: \$(seq $N)\`, \`seq $N | parallel -j $JOBS true\`."
    echo
    echo "| tool | median s | ms per item | runs (s) | time relative to mpi |"
    echo "|---|---|---|---|---|"
    for tool in "${tools[@]}"; do
        echo "| $tool | ${med[$tool]} | $(per_item "${med[$tool]}") | ${times[$tool]% } | $(ratio "${med[$tool]}" "${med[mpi]}")x |"
    done
    if [ "$HAVE_PARALLEL" = 0 ]; then
        echo
        echo "GNU parallel was not available, so it is left out."
    fi
} >>"$OUT"
tail -n 14 "$OUT"
