#!/usr/bin/env bash
# `taskloom array reduce --op sum` of a 4 GiB Zarr array in the page cache, on threads
# and under `mpirun -n 3 ... --executor mpi` (rank 0 plans, two worker ranks of one
# thread each: one per core), with the bytes the ranks sent each other; written to
# bench/ARRAY_MPI_RESULTS.md. Needs Open MPI (openmpi-bin libopenmpi-dev) and
# /usr/bin/time.
# Usage: bash bench/array/mpi.sh [--quick] [--repeat N]
#   --quick: a 256 MiB array, a smoke run written to bench/out/array/QUICK_MPI_RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

SHAPE=16384,32768
CHUNKS=2048,2048
REPEAT=5
RESULTS=bench/ARRAY_MPI_RESULTS.md
COMMAND="bash bench/array/mpi.sh"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick)
            SHAPE=4096,8192; CHUNKS=1024,1024; RESULTS=bench/out/array/QUICK_MPI_RESULTS.md
            COMMAND+=" --quick"; shift ;;
        --repeat) REPEAT="$2"; COMMAND+=" --repeat $2"; shift 2 ;;
        *) echo "usage: bash bench/array/mpi.sh [--quick] [--repeat N]" >&2; exit 2 ;;
    esac
done

cargo build --release --features mpi --bin taskloom --example array_mpi_reduce
TASKLOOM=target/release/taskloom
EXAMPLE=target/release/examples/array_mpi_reduce
MPIRUN=(mpirun --allow-run-as-root --oversubscribe -q -n 3)
DIR=bench/out/array
DATA="$DIR/mpi.zarr"
mkdir -p "$DIR"
# The array is GiBs: remove it however the run ends.
trap 'rm -rf "$DATA"' EXIT
rm -rf "$DATA"
"$TASKLOOM" array create "$DATA" --shape "$SHAPE" --chunks "$CHUNKS" --random --seed 1 \
    --compression none
cat "$DATA"/c/*/* > /dev/null
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Seconds of one command (its output checked against the first sum).
seconds() {
    local out
    out=$({ /usr/bin/time -f "%e" "$@" > "$DIR/mpi.sum"; } 2>&1)
    [ "$(cat "$DIR/mpi.sum")" = "$SUM" ] || { echo "wrong sum from $*" >&2; exit 1; }
    echo "$out" | tail -1
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

THREADS=("$TASKLOOM" array reduce "$DATA" --op sum --workers 2)
MPI=("${MPIRUN[@]}" "$TASKLOOM" array reduce "$DATA" --op sum --workers 1 --executor mpi)
SUM=$("${THREADS[@]}")
: > "$DIR/mpi.threads"
: > "$DIR/mpi.mpi"
: > "$DIR/mpi.inprocess"
for i in $(seq "$REPEAT"); do
    # The sides alternate, the first swapping each repetition.
    if [ $((i % 2)) -eq 1 ]; then
        seconds "${THREADS[@]}" >> "$DIR/mpi.threads"
        seconds "${MPI[@]}" >> "$DIR/mpi.mpi"
    else
        seconds "${MPI[@]}" >> "$DIR/mpi.mpi"
        seconds "${THREADS[@]}" >> "$DIR/mpi.threads"
    fi
    "${MPIRUN[@]}" "$EXAMPLE" "$DATA" 1 >> "$DIR/mpi.inprocess"
done
T=$(median < "$DIR/mpi.threads")
M=$(median < "$DIR/mpi.mpi")
IN=$(sed 's/.*"seconds": \([0-9.]*\).*/\1/' "$DIR/mpi.inprocess" | median)
BYTES=$(sed 's/.*"bytes_moved": \([0-9]*\).*/\1/' "$DIR/mpi.inprocess" | median)
RATIO=$(awk -v m="$M" -v t="$T" 'BEGIN {printf "%.2f", m / t}')
MET=$(awk -v r="$RATIO" 'BEGIN {print (r <= 1.2) ? "**yes**" : "**no**"}')
GIB=$(du -sb "$DATA" | awk '{printf "%.2f", $1 / 2^30}')
MPIRUN_SECONDS=$({ /usr/bin/time -f "%e" "${MPIRUN[@]}" true; } 2>&1 | tail -1)

cat > "$RESULTS" <<MD
# taskloom arrays on MPI ranks: benchmark results

Reproduce with \`$COMMAND\`. Every number below was produced by that script in one run;
nothing is typed in by hand. Times are medians of $REPEAT runs of the whole process
(\`/usr/bin/time\`), the two sides alternating; the array (random float64, shape
$SHAPE in $CHUNKS chunks, uncompressed, $GIB GiB) is in the page cache.

| figure | command | seconds | goal | met |
|---|---|---|---|---|
| sum on threads | \`taskloom array reduce A --op sum --workers 2\` | $T | | |
| sum on 3 ranks | \`mpirun -n 3 taskloom array reduce A --op sum --workers 1 --executor mpi\` | $M | | |
| ratio mpi / threads | | ${RATIO}x | ≤ 1.2x | $MET |
| sum on 3 ranks, in the process (plan to result, no MPI start-up) | \`mpirun -n 3 array_mpi_reduce A 1\` | $IN | | |
| \`mpirun -n 3 true\` (the launcher's own cost) | | $MPIRUN_SECONDS | | |
| bytes moved between ranks (partial sums only) | \`array_mpi_reduce\` | $BYTES bytes | only partial results | |

## Environment

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M:%S UTC') |
| CPU | $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') |
| load average before the runs | $LOAD_BEFORE |
| MPI | $(mpirun --version | head -1) |
| taskloom | commit $(git rev-parse --short HEAD), \`cargo build --release --features mpi\` |

## Every run (seconds)

| side | runs |
|---|---|
| threads | $(paste -sd' ' "$DIR/mpi.threads") |
| mpi | $(paste -sd' ' "$DIR/mpi.mpi") |
| mpi, in the process | $(sed 's/.*"seconds": \([0-9.]*\).*/\1/' "$DIR/mpi.inprocess" | paste -sd' ') |
MD
rm -f "$DIR/mpi.sum" "$DIR/mpi.threads" "$DIR/mpi.mpi" "$DIR/mpi.inprocess"
cat "$RESULTS"
