#!/bin/sh
# Prints the path of a Python interpreter with numpy and zarr-python 3, creating the
# virtualenv (target/pyenv) on first use. The interop tests call this to check our
# Zarr files against the reference implementation; a lock keeps parallel tests from
# building the same environment twice. The Python package's tests (scripts/
# python-test.sh) run in it too: maturin builds the package, pytest and hypothesis run
# its suites, cloudpickle is the package's one dependency, and Dask (with its array, bag
# and dataframe collections) and scikit-learn are what its Dask scheduler and examples
# are checked against.
#
# Environment: PYTHON (the interpreter to build from, default python3),
# TASKLOOM_PYENV (the virtualenv's directory, default <repo>/target/pyenv).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
env_dir=${TASKLOOM_PYENV:-$root/target/pyenv}
python=${PYTHON:-python3}
# Named after what the environment holds: an environment made before maturin, pytest
# cloudpickle, Dask and scikit-learn were added is made again.
ready="$env_dir/.ready-python-dask"

mkdir -p "$(dirname "$env_dir")"
exec 9>"$env_dir.lock"
flock 9

if [ ! -f "$ready" ]; then
    rm -rf "$env_dir"
    "$python" -m venv "$env_dir" >&2
    "$env_dir/bin/python" -m pip install --quiet --upgrade pip >&2
    "$env_dir/bin/python" -m pip install --quiet "numpy>=1.26" "zarr>=3,<4" \
        "maturin>=1.5,<2" "pytest>=7" "hypothesis>=6" "cloudpickle>=2" \
        "dask[array,bag,dataframe]>=2024.12" "scikit-learn>=1.3" >&2
    "$env_dir/bin/python" -c "import numpy, zarr; assert zarr.__version__.startswith('3')" >&2
    touch "$ready"
fi

echo "$env_dir/bin/python"
