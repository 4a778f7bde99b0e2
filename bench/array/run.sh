#!/usr/bin/env bash
# The array benchmark in one command: taskloom's array engine against dask.array, NumPy
# and the disk, written to bench/ARRAY_RESULTS.md (see bench/array/bench.py).
# Usage: bash bench/array/run.sh [--quick] [--repeat N] [--cold-repeat N] [--only GROUPS]
#   (every group: generated arrays, the sort through files against dd, the rechunk under
#   a limit, the 4 GiB and 32 GiB Zarr sums; bench.py --only picks some)
#   --quick: small sizes (seconds, not the 4 GiB / 32 GiB cases), a smoke run.
# Needs root for the cold case (it drops the page cache) and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/../.."

ARGS=()
COMMAND="bash bench/array/run.sh"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) ARGS+=(--quick); COMMAND+=" --quick"; shift ;;
        --repeat|--cold-repeat|--only) ARGS+=("$1" "$2"); COMMAND+=" $1 $2"; shift 2 ;;
        *) echo "usage: bash bench/array/run.sh [--quick] [--repeat N] [--cold-repeat N] [--only GROUPS]" >&2; exit 2 ;;
    esac
done

bash bench/setup.sh
# The array cases also need zarr-python (the data), pandas and pyarrow (dask.dataframe's sort).
if ! bench/.venv/bin/python -c "import zarr, pandas, pyarrow" 2>/dev/null; then
    bench/.venv/bin/python -m pip install -q "zarr>=3.1,<4" "pandas>=2.2" "pyarrow>=18"
fi
cargo build --release --bin taskloom --example array_bench

mkdir -p bench/out/array
# The Zarr arrays are GiBs: remove them however the run ends.
trap 'rm -rf bench/out/array/warm.zarr bench/out/array/cold.zarr' EXIT
bench/.venv/bin/python bench/array/bench.py "${ARGS[@]}" --command "$COMMAND"
