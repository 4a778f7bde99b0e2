#!/usr/bin/env bash
# Sets up the benchmark's Python side: a venv in bench/.venv with pinned Dask
# (the baseline we compare taskloom against), numpy and psutil. Idempotent:
# does nothing when the pinned versions are already installed.
set -euo pipefail
cd "$(dirname "$0")"

DASK_VERSION=2026.8.0   # latest 2026.x on PyPI when this harness was written
NUMPY_VERSION=2.4.6
PSUTIL_VERSION=7.2.2
REQS=("dask[distributed]==$DASK_VERSION" "numpy==$NUMPY_VERSION" "psutil==$PSUTIL_VERSION")

# GNU time gives the peak RSS of the taskloom process ("Maximum resident set size").
if ! [ -x /usr/bin/time ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq time
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
if .venv/bin/python - "$DASK_VERSION" "$NUMPY_VERSION" "$PSUTIL_VERSION" <<'PY' 2>/dev/null
import sys, importlib.metadata as m
want = dict(zip(["dask", "distributed", "numpy", "psutil"], [sys.argv[1], sys.argv[1], sys.argv[2], sys.argv[3]]))
sys.exit(0 if all(m.version(k) == v for k, v in want.items()) else 1)
PY
then
    echo "setup: bench/.venv already has dask $DASK_VERSION, numpy $NUMPY_VERSION, psutil $PSUTIL_VERSION"
else
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q "${REQS[@]}"
    echo "setup: installed ${REQS[*]} into bench/.venv"
fi
