#!/usr/bin/env bash
# Builds the taskloom Python package (python/) as a wheel, installs it into the test
# virtualenv (scripts/python-env.sh) and prints that virtualenv's interpreter.
#
# - maturin builds in the workspace's target/ (python/ is a member of the Cargo
#   workspace), so the wheel reuses the dependencies the Rust tests compiled.
# - PROFILE (default dev) is the Cargo profile: dev for the tests (scripts/
#   python-test.sh), release for the benchmarks (bench/python/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-dev}
python=$(scripts/python-env.sh)
bin=$(dirname "$python")

wheels=target/wheels/$profile
rm -rf "$wheels"
VIRTUAL_ENV=$(dirname "$bin") "$bin/maturin" build --quiet --manifest-path python/Cargo.toml \
    --profile "$profile" --interpreter "$python" --out "$wheels" >&2
"$python" -m pip install --quiet --force-reinstall --no-deps "$wheels"/taskloom-*.whl >&2
echo "$python"
