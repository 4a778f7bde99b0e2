#!/usr/bin/env bash
# Compares scheduling policies on the DAG suite with `taskloom simulate` and writes
# bench/simulate/RESULTS.md (bench/report.py includes it in bench/RESULTS.md).
# Usage: bash bench/simulate/run.sh [--workers 2,4,16,64]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release
python3 bench/simulate/gen_suite.py bench/out/simulate
python3 bench/simulate/report.py --command "bash bench/simulate/run.sh${*:+ $*}" "$@"
