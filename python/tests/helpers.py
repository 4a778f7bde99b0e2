"""Functions the tests run in worker processes: importable, so they travel by reference."""

import ctypes
import os
import signal
import time

STATE = {"value": None}


def square(x):
    return x * x


def add(a, b):
    return a + b


def keyword(a, b=0, *, c=0):
    return (a, b, c)


def fail_on(x, bad=3):
    if x == bad:
        raise KeyError(f"bad item {x}")
    return x


def crash(how):
    """Dies as a worker can: a segfault, os._exit, or SIGKILL (as from the OOM killer)."""
    if how == "segfault":
        ctypes.string_at(0)
    elif how == "exit":
        os._exit(3)
    elif how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    return how


def crash_at(x, bad=3):
    if x == bad:
        os._exit(7)
    return x * 10


def remember(value):
    STATE["value"] = value


def remembered(_=None):
    return STATE["value"]


def pid(_=None):
    return os.getpid()


def sleep_then(x, seconds=0.05):
    time.sleep(seconds)
    return x


def shout(x):
    print("hello from a worker", x)
    return x


def touch(path):
    with open(path, "w") as f:
        f.write("ran")
    return path


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("refuses to be pickled")


def array_facts(array):
    """What a worker sees of a NumPy argument: its sum, whether it may write to it,
    the file its buffer is mapped from (if any), and its own pid."""
    import numpy as np

    was_mapped = mapped(array)
    array[0] = -1.0  # its own copy-on-write page: the caller's array stays as it was
    return float(np.sum(array[1:])), was_mapped, os.getpid()


def mapped(array):
    """Whether a NumPy array views a mapped file (shared memory) rather than a copy."""
    import mmap

    base = array
    while getattr(base, "base", None) is not None and not isinstance(base, memoryview):
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


def make_array(n, value):
    import numpy as np

    return np.full(n, value)


def crash_holding(array, how="exit"):
    """Dies, as `crash` does, with a (large) argument in hand."""
    return crash(how), array


def shared_owner():
    """Whom a worker names its shared-memory files after."""
    from taskloom import _shared

    return _shared.owner


def refuse_to_load():
    raise ValueError("this object cannot be unpickled here")


class Unloadable:
    """Pickles in the caller; unpickling it raises."""

    def __reduce__(self):
        return (refuse_to_load, ())
