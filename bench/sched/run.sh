#!/usr/bin/env bash
# The scheduler core alone and the 64-node prediction: builds core_throughput and
# taskloom in release mode, generates the tree, measures task decisions per second for
# 10 to 10,000 workers, runs `taskloom simulate` with the measured cost, and writes
# bench/SCHED_RESULTS.md (then refreshes its section of bench/RESULTS.md).
# Usage: bash bench/sched/run.sh [--repeat N]   (default: 3 runs of each figure)
# Needs only Python's standard library.
set -euo pipefail
cd "$(dirname "$0")/../.."

REPEAT=3
while [ $# -gt 0 ]; do
    case "$1" in
        --repeat) REPEAT="$2"; shift 2 ;;
        *) echo "usage: bash bench/sched/run.sh [--repeat N]" >&2; exit 2 ;;
    esac
done

cargo build --release -p taskloom-sched --example core_throughput
cargo build --release --bin taskloom
python3 bench/gen_graphs.py
python3 bench/sched/report.py --repeat "$REPEAT" --command "bash bench/sched/run.sh --repeat $REPEAT"
python3 bench/report.py --refresh-included
