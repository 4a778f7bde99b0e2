#!/usr/bin/env bash
# taskloom on MPI against Dask distributed, side by side: sets up the Dask venv, builds
# taskloom in release mode with the `mpi` feature when the crate has it, generates the
# graphs, runs both sides alternately and writes bench/MPI_RESULTS.md (then refreshes its
# section of bench/RESULTS.md).
# Usage: bash bench/mpi.sh [--repeat N] [--tree LEAVES] [--chain TASKS] [--dask-tree LEAVES]
#                         [--dask-chain TASKS] [--tcp]
#   (defaults: 3 runs, the 100,000-leaf tree, a 10,000-task chain, shared memory; Dask
#   runs a 5,000-leaf tree and a 1,000-task chain: at its 2-7 ms per task the full sizes
#   take more than 15 minutes a run here, and its per-task figure is compared)
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=3
TREE=100000
CHAIN=10000
DASK_TREE=5000
DASK_CHAIN=1000
TCP=()
while [ $# -gt 0 ]; do
    case "$1" in
        --repeat) REPEAT="$2"; shift 2 ;;
        --tree) TREE="$2"; shift 2 ;;
        --chain) CHAIN="$2"; shift 2 ;;
        --dask-tree) DASK_TREE="$2"; shift 2 ;;
        --dask-chain) DASK_CHAIN="$2"; shift 2 ;;
        --tcp) TCP=(--tcp); shift ;;
        *) echo "usage: bash bench/mpi.sh [--repeat N] [--tree LEAVES] [--chain TASKS] [--dask-tree LEAVES] [--dask-chain TASKS] [--tcp]" >&2; exit 2 ;;
    esac
done

command -v mpirun >/dev/null || { echo "mpi.sh: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
bash bench/setup.sh
if grep -qE '^mpi *=' Cargo.toml; then
    cargo build --release --features mpi --bin taskloom --example mpi_bench
else
    echo "mpi.sh: this taskloom has no \`mpi\` feature yet: only the Dask side is measured" >&2
    cargo build --release
fi
bench/.venv/bin/python bench/gen_graphs.py --tree 1000000 100000 "$TREE" --chain 1000000 10000 "$CHAIN"
bench/.venv/bin/python bench/mpi_report.py --repeat "$REPEAT" --tree "$TREE" --chain "$CHAIN" \
    --dask-tree "$DASK_TREE" --dask-chain "$DASK_CHAIN" "${TCP[@]}" \
    --command "bash bench/mpi.sh --repeat $REPEAT --tree $TREE --chain $CHAIN --dask-tree $DASK_TREE --dask-chain $DASK_CHAIN ${TCP[*]}"
python3 bench/report.py --refresh-included
