"""Every test module ends with no worker process left: they are counted through /proc."""

import gc
import os
import time

import pytest

# Marks a worker's command line (see taskloom/_pool.py).
WORKER_MARK = b"taskloom._worker"


def workers_of(pid: int) -> list:
    """The pids of the worker processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        # The parent pid follows the command name, which is in parentheses.
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        if ppid == pid and WORKER_MARK in cmdline:
            found.append(int(entry))
    return found


def wait_for_no_workers(pid: int, seconds: float = 5.0) -> list:
    """Waits until `pid` has no worker left; the ones still there after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        left = workers_of(pid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


@pytest.fixture(autouse=True, scope="module")
def no_worker_left():
    yield
    gc.collect()
    assert wait_for_no_workers(os.getpid()) == [], "worker processes outlived their pools"
