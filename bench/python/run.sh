#!/usr/bin/env bash
# taskloom.Pool against multiprocessing.Pool (bench/python/pool.py), and taskloom.get
# and compute against Dask's schedulers (bench/python/graph.py): builds the package's
# wheel with the release profile into the test virtualenv, runs each pair side by
# side, writes bench/python/RESULTS.md and GRAPH_RESULTS.md and refreshes their
# sections of bench/RESULTS.md.
#
#   bash bench/python/run.sh            # REPEAT=3
#   REPEAT=5 bash bench/python/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

python=$(PROFILE=release scripts/python-package.sh)
"$python" bench/python/pool.py
PROFILE=release "$python" bench/python/graph.py
python3 bench/report.py --refresh-included
