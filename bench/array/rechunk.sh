#!/usr/bin/env bash
# A misaligned rechunk of a 4 GiB Zarr array under --memory-limit 256MiB: taskloom's
# peak RSS against the bound (400 MiB) and Dask's peak on the same rechunk, side by side
# in one run (bench/ARRAY_RESULTS.md, section "Rechunk under a memory limit").
# Usage: bash bench/array/rechunk.sh [PYTHON] [REPEAT]
#   PYTHON: an interpreter with dask[array] and zarr 3 (default bench/.venv/bin/python).
# The input is 16384 x 32768 float64 in 1024 x 4096 chunks (32 MiB), uncompressed; the
# output's 3000 x 700 chunks cross the input's on both axes (each reads parts of up to
# 8 input chunks). Both write uncompressed; both use 2 workers.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${1:-bench/.venv/bin/python}
REPEAT=${2:-3}
TL=target/release/taskloom
OUT=bench/out/array
mkdir -p "$OUT"
trap 'rm -rf "$OUT"/rechunk-in.zarr "$OUT"/rechunk-in.zarr.rechunked "$OUT"/rechunk-out.zarr' EXIT
"$TL" array create "$OUT"/rechunk-in.zarr --shape 16384,32768 --chunks 1024,4096 --random \
    --compression none --overwrite
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$REPEAT"); do
    rm -rf "$OUT"/rechunk-out.zarr
    /usr/bin/time -f "taskloom seconds %e peak_kib %M" "$TL" array rechunk "$OUT"/rechunk-in.zarr \
        --chunks 3000,700 --out "$OUT"/rechunk-out.zarr --memory-limit 256MiB --workers 2 \
        --compression none --progress 2>&1 | tr '\r' '\n' | grep -E "taskloom seconds|tasks" | tail -2
    /usr/bin/time -f "dask seconds %e peak_kib %M" "$PY" bench/array/dask_cases.py zarr_rechunk \
        3000 700 "$OUT"/rechunk-in.zarr 2>&1 | tail -2
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
done
