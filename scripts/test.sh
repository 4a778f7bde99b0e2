#!/usr/bin/env bash
# Every test suite of the workspace, on a fresh Debian machine too: installs what the
# tests need when it is missing, then runs them. Arguments go to `cargo test`.
#
# - Debian's chromium: the HTML profile is checked in headless Chromium.
# - Debian's parallel (GNU parallel): scripts/compare-parallel.sh, run by the tests,
#   checks `taskloom map` against it.
# - python3 with venv: scripts/python-env.sh builds the virtualenv with NumPy and
#   zarr-python 3 that the array tests check against, and maturin, pytest and
#   cloudpickle for the Python package. It is built here, first, so that a machine
#   without PyPI fails with one message instead of in many tests.
# - The Python package (python/): scripts/python-test.sh builds its wheel into that
#   virtualenv and runs its pytest suites, CPython's own multiprocessing.Pool tests
#   among them (from Debian's libpython3.X-testsuite, installed here when missing).
# - g++: libFuzzer, which the fuzz targets link, is C++.
# - OpenBLAS (libopenblas0-pthread): array matmul loads it at run time when present
#   (ndarray's own product otherwise); with it installed, the tests compare the two.
# - Open MPI (openmpi-bin, libopenmpi-dev) with libclang-dev and pkg-config, which the
#   `mpi` crate's bindings are generated with: the suites run with `--features mpi`, so
#   the MPI executor's tests run under a real mpirun.
# - Debian's Slurm and munge (slurmctld slurmd slurm-client munge): the batch-job tests
#   submit to a real single-node cluster, which they start with scripts/slurm.sh; it is
#   stopped here when the tests end.
# - `cargo test --workspace --features mpi` holds every suite but three:
# - the refusal of `--executor mpi` by a build without MPI, tested by a default build
#   of its own test target (tests/mpi_absent.rs);
# - the model checks of the threaded executor's lock-free pieces (crates/exec/src/
#   model.rs) explore every interleaving under loom, with the exec crate's `loom`
#   feature (loom's primitives in place of std's): a build of that crate alone, in
#   the `model` profile (Cargo.toml: its dependencies unoptimised, 1.7 min instead of 5).
# - every parser of user text is fuzzed for FUZZ_SECONDS (default 5) per target by
#   scripts/fuzz.sh, which builds the targets in target/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
# A test run compiles each crate once: the incremental state cargo keeps by default for
# the dev profile only costs time and disk here (it is for edit-and-rebuild loops).
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

# Installs the Debian packages the tests need that are missing (none: no apt-get).
install_packages() {
    local missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    parallel --version 2>/dev/null | grep -q "GNU parallel" || missing+=(parallel)
    command -v c++ >/dev/null 2>&1 || missing+=(g++)
    ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0 ' || missing+=(libopenblas0-pthread)
    command -v mpirun >/dev/null 2>&1 || missing+=(openmpi-bin)
    command -v mpicc >/dev/null 2>&1 || missing+=(libopenmpi-dev)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || missing+=(libclang-dev)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
    # CPython's own tests of multiprocessing.Pool, run against taskloom.Pool.
    if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import test._test_multiprocessing' >/dev/null 2>&1; then
        missing+=("libpython$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')-testsuite")
    fi
    command -v slurmctld >/dev/null 2>&1 || missing+=(slurmctld)
    command -v slurmd >/dev/null 2>&1 || missing+=(slurmd)
    command -v sbatch >/dev/null 2>&1 || missing+=(slurm-client)
    command -v munged >/dev/null 2>&1 || missing+=(munge)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "test.sh: installing ${missing[*]}" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Builds the reference tests' Python environment, or stops with one clear error.
python_env() {
    local log
    if ! log=$(scripts/python-env.sh 2>&1 >/dev/null); then
        printf '%s\n' "$log" | tail -n 5 >&2
        echo "test.sh: error: cannot build the Python environment (numpy, zarr-python 3, maturin, pytest, cloudpickle from PyPI) that the array and Python tests need" >&2
        exit 1
    fi
}

# Model-checks `Idle`, `Slots` and the trace's span room under loom.
model_checks() {
    cargo test -p taskloom-exec --features loom --lib --profile model -- model::
}

# Runs a phase of the tests and says how long it took, so that a slow CI run shows
# where its time went.
phase() {
    local name=$1 start=$SECONDS
    shift
    "$@"
    echo "test.sh: $name took $((SECONDS - start)) s" >&2
}

phase "installing packages" install_packages
phase "the Python environment" python_env
trap 'scripts/slurm.sh stop' EXIT
# Four tests at once on two cores: many of them wait (for mpirun, Slurm, sleeping
# items), so the suites end sooner (204 s instead of 280 s for the root binary).
export RUST_TEST_THREADS=${RUST_TEST_THREADS:-4}
phase "building the suites" cargo test --workspace --features mpi --no-run "$@"
phase "the Rust suites" cargo test --workspace --features mpi "$@"
phase "the Python suites" scripts/python-test.sh
phase "the build without MPI" cargo test --test mpi_absent "$@"
phase "the model checks" model_checks
phase "fuzzing" scripts/fuzz.sh "${FUZZ_SECONDS:-5}"
