#!/usr/bin/env bash
# One command for the whole benchmark: sets up the Dask venv, builds taskloom in
# release mode, generates the graphs, runs taskloom and Dask alternately and
# writes bench/RESULTS.md.
# Usage: bash bench/run.sh [--repeat N] [--warmup W]   (defaults: 5 timed runs, each after 1 untimed)
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=5
WARMUP=1
while [ $# -gt 0 ]; do
    case "$1" in
        --repeat) REPEAT="$2"; shift 2 ;;
        --repeat=*) REPEAT="${1#*=}"; shift ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --warmup=*) WARMUP="${1#*=}"; shift ;;
        *) echo "usage: bash bench/run.sh [--repeat N] [--warmup W]" >&2; exit 2 ;;
    esac
done

bash bench/setup.sh
cargo build --release
bench/.venv/bin/python bench/gen_graphs.py
bench/.venv/bin/python bench/taskloom_bench.py --check
bench/.venv/bin/python bench/report.py --repeat "$REPEAT" --warmup "$WARMUP" \
    --command "bash bench/run.sh --repeat $REPEAT --warmup $WARMUP"
