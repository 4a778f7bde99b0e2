"""CPython's own tests of multiprocessing.Pool (Lib/test/_test_multiprocessing.py, class
`_TestPool`), run against taskloom.Pool. The `test` package is CPython's test suite: a
Debian python3 has it in libpython3.X-testsuite (scripts/python-env.sh installs it)."""

import unittest

import taskloom

try:
    from test import _test_multiprocessing as cpython
except ImportError as missing:  # pragma: no cover - a machine without CPython's tests
    raise ImportError(
        "CPython's test package is missing: install Debian's libpython3-testsuite "
        "(scripts/python-env.sh does)"
    ) from missing


class TestTaskloomPool(cpython._TestPool, unittest.TestCase):
    TYPE = "processes"
    Pool = staticmethod(taskloom.Pool)
