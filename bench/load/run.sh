#!/usr/bin/env bash
# Loading a large graph: builds taskloom and load_phases in release mode, and the
# simd-json bound (bench/load/bound, its own workspace, into bench/out/load/bound),
# generates the fan-in-32 tree of 1M and 10M leaves in the text and JSON forms and
# converts it to the binary form (taskloom convert), measures, writes
# bench/LOAD_RESULTS.md (then refreshes its section of bench/RESULTS.md) and deletes
# the 10M files.
# Usage: bash bench/load/run.sh [--repeat N] [--before BIN] [--sizes "N ..."] [--no-instructions]
#   --before BIN   a taskloom binary to compare against (e.g. one built from main)
#   --no-instructions   no callgrind counts (about 50 times slower than a run)
# Needs Python's standard library; Dask's reference figures need bench/.venv
# (bash bench/setup.sh) and are left out without it.
set -euo pipefail
cd "$(dirname "$0")/../.."

REPEAT=5
BEFORE=()
EXTRA=()
SIZES="1000000 10000000"
while [ $# -gt 0 ]; do
    case "$1" in
        --repeat) REPEAT="$2"; shift 2 ;;
        --before) BEFORE=(--before "$2" --before-label "$2"); shift 2 ;;
        --sizes) SIZES="$2"; shift 2 ;;
        --no-instructions) EXTRA+=(--no-instructions); shift ;;
        *) echo "usage: bash bench/load/run.sh [--repeat N] [--before BIN] [--sizes \"N ...\"] [--no-instructions]" >&2; exit 2 ;;
    esac
done

cargo build --release --bin taskloom
cargo build --release -p taskloom-graph --example load_phases
# The bound uses every instruction this processor has: it is the fastest tokenizer.
(cd bench/load/bound && RUSTFLAGS="-C target-cpu=native" \
    cargo build --release --target-dir ../../out/load/bound) || echo "run.sh: no simd-json bound" >&2
# shellcheck disable=SC2086
python3 bench/load/load_report.py --repeat "$REPEAT" --sizes $SIZES "${BEFORE[@]}" "${EXTRA[@]}" \
    --command "bash bench/load/run.sh --repeat $REPEAT${BEFORE:+ --before BIN}"
python3 bench/report.py --refresh-included
