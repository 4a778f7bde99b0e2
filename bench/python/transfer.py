"""A 1 GiB NumPy array as a task argument, moved to a worker: taskloom.Pool and
multiprocessing.Pool against a plain NumPy copy of the same bytes, side by side in one
run; writes bench/python/TRANSFER_RESULTS.md (transfer.sh builds and installs the
package first).

- "to a worker": `pool.apply(last, (a,))`, the worker returning the array's last
  element, so that it holds the array and has read from it.
- "there and back": `pool.apply(echo, (a,))`, the array returned whole.
- The reference is `a.copy()`: one pass over fresh memory, what moving the bytes once
  costs at the machine's memory bandwidth.

Each case runs REPEAT times, the sides alternating; pools are started and warmed up (a
small array, untimed) before the clock. Figures are medians, in GB/s of the array's
bytes (10^9 bytes per second); the load average and the CPU time other processes used
are recorded next to them.
"""

import multiprocessing
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import taskloom  # noqa: E402
from page import medians, page  # noqa: E402
from report import noise, noise_start  # noqa: E402
from tasks import echo, last  # noqa: E402

GIB = 1 << 30
POOLS = {"taskloom": taskloom.Pool, "multiprocessing": multiprocessing.Pool}


def timed(f):
    started = time.perf_counter()
    out = f()
    return time.perf_counter() - started, out


def measure(repeat, array):
    """Seconds by case and side, in run order."""
    times = {"to_worker": {}, "there_and_back": {}, "copy": {"numpy": []}}
    for case in ("to_worker", "there_and_back"):
        times[case] = {name: [] for name in POOLS}
    for _ in range(repeat):
        seconds, copy = timed(array.copy)
        del copy
        times["copy"]["numpy"].append(seconds)
        for name, make in POOLS.items():
            with make(1) as pool:
                pool.apply(last, (np.ones(1 << 18),))  # warm-up
                seconds, value = timed(lambda: pool.apply(last, (array,)))
                assert value == array[-1]
                times["to_worker"][name].append(seconds)
                seconds, back = timed(lambda: pool.apply(echo, (array,)))
                assert back.shape == array.shape and back[-1] == array[-1]
                del back
                times["there_and_back"][name].append(seconds)
    return times


def render(times, repeat, machine, nbytes):
    med = medians(times)
    gbs = lambda seconds: nbytes / seconds / 1e9  # noqa: E731
    copy = gbs(med["copy"]["numpy"])
    rows = [f"| `a.copy()` in the caller (the reference) | {copy:.2f} | | | |"]
    for case, label in (("to_worker", "to a worker"), ("there_and_back", "there and back")):
        tl, mp = gbs(med[case]["taskloom"]), gbs(med[case]["multiprocessing"])
        rows.append(f"| {label} | {tl:.2f} | {mp:.2f} | {tl / copy:.2f} | {tl / mp:.1f}x |")
    return page(
        "A 1 GiB NumPy array as a task argument",
        (
            "Reproduce with `bash bench/python/transfer.sh` (`REPEAT=N` to change the number of "
            "runs). A float64 array of 1 GiB goes to a pool of one worker process as the argument "
            "of `pool.apply`: \"to a worker\" returns its last element, \"there and back\" returns "
            "the array. taskloom sends its buffer through shared memory (pickle protocol 5, out of "
            "band: one copy); multiprocessing pickles it into the pipe. Figures are GB/s of the "
            f"array's bytes, medians of {repeat} runs; \"÷ copy\" is taskloom's rate over a plain "
            "`a.copy()` of the same bytes in the caller, the memory bandwidth one pass gets."
        ),
        machine,
        [("NumPy", np.__version__)],
        (
            "| 1 GiB float64 array | taskloom.Pool, GB/s | multiprocessing.Pool, GB/s | taskloom ÷ copy | "
            "taskloom ÷ multiprocessing |"
        ),
        rows,
        times,
    )


def main():
    repeat = int(os.environ.get("REPEAT", "3"))
    array = np.full(GIB // 8, 1.5)
    array[-1] = 7.0
    start = noise_start()
    times = measure(repeat, array)
    text = render(times, repeat, noise(start), array.nbytes)
    with open(os.path.join(HERE, "TRANSFER_RESULTS.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
