"""The installed package: typed for editors, quick to import, no panic across the FFI."""

import os
import subprocess
import sys

import pytest

import taskloom
from taskloom import _core


def test_the_wheel_carries_its_stubs_and_typed_marker():
    folder = os.path.dirname(taskloom.__file__)
    assert os.path.exists(os.path.join(folder, "py.typed"))
    assert os.path.exists(os.path.join(folder, "_core.pyi"))


def test_import_is_quick():
    code = "import time; t = time.perf_counter(); import taskloom; print(time.perf_counter() - t)"
    seconds = min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    )
    # The goal is 50 ms on an idle machine; the bound leaves room for a busy one.
    assert seconds < 0.25


def test_the_core_refuses_bad_input_with_python_errors():
    with pytest.raises(ValueError, match="at least one worker"):
        _core.Pool(0, sys.executable, [])
    with pytest.raises(RuntimeError, match="cannot start"):
        _core.Pool(1, "/nonexistent/python", [])
    with pytest.raises(OverflowError):
        _core.Pool(-1, sys.executable, [])
