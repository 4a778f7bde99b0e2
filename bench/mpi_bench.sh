#!/usr/bin/env bash
# The MPI executor's figures (bench/MPI_RESULTS.md): the 100,000-leaf tree in µs per
# task, the 10,000-task chain in µs per hop, and 2,000 `busy(1)` tasks on 1 and 2
# worker ranks (S(2)), each under `mpirun -n K` with one task thread per rank, timed
# by rank 0 from loading the file to the result (examples/mpi_bench.rs), which also
# reports the result bytes moved between ranks.
# Usage: bash bench/mpi_bench.sh [REPEAT]   (default 3 runs of each)
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT="${1:-3}"
cargo build --release --features mpi --example mpi_bench
python3 bench/gen_graphs.py --tree 100000 --chain 10000
MPIRUN=(mpirun --allow-run-as-root --oversubscribe -q)
BENCH=target/release/examples/mpi_bench
for _ in $(seq "$REPEAT"); do
    "${MPIRUN[@]}" -n 3 "$BENCH" bench/out/tree_100000.tl total 1
    "${MPIRUN[@]}" -n 3 "$BENCH" bench/out/chain_10000.tl c9999 1
    "${MPIRUN[@]}" -n 2 "$BENCH" bench/out/busy.tl total 1
    "${MPIRUN[@]}" -n 3 "$BENCH" bench/out/busy.tl total 1
done
