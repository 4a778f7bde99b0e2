#!/usr/bin/env bash
# A 1 GiB NumPy array moved to a worker (bench/python/transfer.py): builds the
# package's wheel with the release profile into the test virtualenv, runs taskloom.Pool,
# multiprocessing.Pool and a plain NumPy copy side by side, writes
# bench/python/TRANSFER_RESULTS.md and refreshes its section of bench/RESULTS.md.
#
#   bash bench/python/transfer.sh            # REPEAT=3, the release profile
#   PROFILE=dev bash bench/python/transfer.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

export PROFILE=${PROFILE:-release}
python=$(scripts/python-package.sh)
"$python" bench/python/transfer.py
python3 bench/report.py --refresh-included
