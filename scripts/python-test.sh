#!/usr/bin/env bash
# The Python package's tests: builds and installs its wheel into the test virtualenv
# (scripts/python-package.sh) and runs its pytest suites (python/tests); arguments go
# to pytest.
#
# CPython's own tests of multiprocessing.Pool (Lib/test/_test_multiprocessing.py) run
# against taskloom.Pool: they are in the interpreter's `test` package, which Debian
# ships apart, as libpython3.X-testsuite (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

python=$(scripts/python-package.sh)

if ! "$python" -c "import test._test_multiprocessing" >/dev/null 2>&1; then
    version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    echo "python-test.sh: error: CPython's tests are missing: install libpython$version-testsuite (scripts/test.sh does)" >&2
    exit 1
fi

cd python/tests
exec "$python" -m pytest -q -p no:cacheprovider "$@"
