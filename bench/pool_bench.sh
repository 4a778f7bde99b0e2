#!/usr/bin/env bash
# The Pool API against Python's multiprocessing.Pool on the same machine, in the same
# run, both with 2 worker processes, started and warmed up (one untimed map of the
# same size) before the clock:
#   - map of `inc` over 1,000,000 ints with automatic chunks (Chunking::Auto; Python's
#     default chunksize, which is the same rule: about 4 chunks per worker);
#   - map of `inc` over 10,000 ints one item per chunk (Chunking::Dynamic(1);
#     chunksize=1): the per-message cost.
# Each side runs REPEAT times, alternating (taskloom, python, taskloom, ...); the
# medians in microseconds per item are appended to bench/POOL_RESULTS.md.
#
#   bash bench/pool_bench.sh              # REPEAT=3
#   REPEAT=5 bash bench/pool_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=${REPEAT:-3}
OUT=bench/POOL_RESULTS.md
PYTHON=${PYTHON:-python3}

cargo build --release --quiet --example pool_bench
BENCH=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/pool_bench

RAW=$(mktemp)
trap 'rm -f "$RAW"' EXIT
for i in $(seq "$REPEAT"); do
    "$BENCH" | sed 's/^/taskloom /' >>"$RAW"
    "$PYTHON" bench/pool_bench.py | sed 's/^/python /' >>"$RAW"
done

median() { # tool case
    awk -v t="$1" -v c="$2" '$1 == t && $2 == c { print $3 }' "$RAW" | sort -g |
        awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
all() { # tool case: every figure, in run order
    awk -v t="$1" -v c="$2" '$1 == t && $2 == c { printf "%s%s", sep, $3; sep = ", " }' "$RAW"
}

T_AUTO=$(median taskloom auto_1M)
P_AUTO=$(median python auto_1M)
T_ONE=$(median taskloom chunk1_10k)
P_ONE=$(median python chunk1_10k)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

{
    if [ ! -s "$OUT" ]; then
        echo "# Pool API benchmark"
        echo
        echo "\`bash bench/pool_bench.sh\` appends one section per run: taskloom's"
        echo "\`Pool::processes(2).map(\"inc\", ...)\` against Python's"
        echo "\`multiprocessing.Pool(2).map(inc, ...)\`, alternating, median of REPEAT runs,"
        echo "in microseconds per item (lower is better; ratio = taskloom / Python). Both"
        echo "pools are started, and warmed up by one untimed 1,000,000-item map, before the"
        echo "clock starts. The Rust program uses mimalloc, as the \`taskloom\` binary does."
        echo "Programs: examples/pool_bench.rs, bench/pool_bench.py."
        echo
    fi
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $("$PYTHON" --version 2>&1)"
    echo
    echo "| case | taskloom µs/item | multiprocessing µs/item | ratio |"
    echo "|---|---:|---:|---:|"
    echo "| 1,000,000 ints, automatic chunks | $T_AUTO | $P_AUTO | $(ratio "$T_AUTO" "$P_AUTO") |"
    echo "| 10,000 ints, one item per chunk | $T_ONE | $P_ONE | $(ratio "$T_ONE" "$P_ONE") |"
    echo
    echo "Every run (µs/item): taskloom auto $(all taskloom auto_1M); python auto $(all python auto_1M);"
    echo "taskloom one-per-chunk $(all taskloom chunk1_10k); python one-per-chunk $(all python chunk1_10k)."
    echo
} >>"$OUT"
tail -n 9 "$OUT"
