"""taskloom's graph schedulers against Dask's, side by side in one run; writes
bench/python/GRAPH_RESULTS.md (run.sh builds and installs the package first).

- A 100,000-task Dask graph, a tree reduction of `inc` (`tree_graph`), on
  `taskloom.get` with threads against `dask.threaded.get`, and with processes against
  `dask.multiprocessing.get`: microseconds per task, each side's `get` call timed
  alone on the same graph dict.
- S(2) of `taskloom.compute(scheduler="processes")` on 2,000 CPU-bound tasks of about
  1 ms (`tasks.spin`): the tasks one after another in the caller ÷ the compute on 2
  workers (worker start-up included, as a user sees it).

Each case runs REPEAT times, the sides alternating so that machine noise hits both;
figures are medians; the load average and the CPU time other processes used are
recorded next to them.
"""

import os
import sys
import time
from operator import add

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import dask  # noqa: E402
import dask.multiprocessing  # noqa: E402
import dask.threaded  # noqa: E402

import taskloom  # noqa: E402
from page import medians, page  # noqa: E402
from report import noise, noise_start  # noqa: E402
from tasks import inc, spin  # noqa: E402

WORKERS = 2
# Leaves of the tree reduction: 100,000 `inc` tasks and 99,999 `add` tasks above them.
LEAVES = 50_000
# CPU-bound tasks of the S(2) case.
SPINS = 2_000


def tree_graph(leaves):
    """`inc` on each leaf, then pairwise `add`s up to one root: (graph, root key)."""
    dsk = {}
    level = []
    for i in range(leaves):
        dsk[("x", i)] = i
        dsk[("inc", i)] = (inc, ("x", i))
        level.append(("inc", i))
    depth = 0
    while len(level) > 1:
        depth += 1
        above = []
        for j in range(0, len(level) - 1, 2):
            key = ("add", depth, j // 2)
            dsk[key] = (add, level[j], level[j + 1])
            above.append(key)
        if len(level) % 2:
            above.append(level[-1])
        level = above
    return dsk, level[0]


def tasks_of(dsk):
    """Tasks (not data) in the graph."""
    return sum(1 for v in dsk.values() if isinstance(v, tuple))


def timed_get(get, dsk, root, expected, **kwargs):
    started = time.perf_counter()
    out = get(dsk, root, num_workers=WORKERS, **kwargs)
    seconds = time.perf_counter() - started
    assert out == expected, out
    return seconds


def serial_spin(n):
    started = time.perf_counter()
    for i in range(n):
        spin(i)
    return time.perf_counter() - started


def timed_compute(n, workers):
    parts = [taskloom.delayed(spin)(i) for i in range(n)]
    started = time.perf_counter()
    taskloom.compute(parts, scheduler="processes", num_workers=workers)
    return time.perf_counter() - started


SIDES = {
    "tree_threads": {
        "taskloom": lambda d, r, e: timed_get(taskloom.get, d, r, e, scheduler="threads"),
        "dask": lambda d, r, e: timed_get(dask.threaded.get, d, r, e),
    },
    "tree_processes": {
        "taskloom": lambda d, r, e: timed_get(taskloom.get, d, r, e, scheduler="processes"),
        "dask": lambda d, r, e: timed_get(dask.multiprocessing.get, d, r, e),
    },
}


def measure(repeat):
    """Every timing, in seconds, by case and side, in run order."""
    dsk, root = tree_graph(LEAVES)
    expected = sum(range(LEAVES)) + LEAVES
    times = {case: {side: [] for side in sides} for case, sides in SIDES.items()}
    times["spin_serial"] = {"caller": []}
    times["spin_compute_processes"] = {"taskloom_w2": []}
    for r in range(repeat):
        for case, sides in SIDES.items():
            order = list(sides.items())
            if r % 2:
                order.reverse()
            for side, run in order:
                times[case][side].append(run(dsk, root, expected))
        times["spin_serial"]["caller"].append(serial_spin(SPINS))
        times["spin_compute_processes"]["taskloom_w2"].append(timed_compute(SPINS, WORKERS))
    return times, tasks_of(dsk)


def render(times, tasks, repeat, machine):
    med = medians(times)
    rows = []
    for case, against in (("tree_threads", "dask.threaded.get"), ("tree_processes", "dask.multiprocessing.get")):
        tl = med[case]["taskloom"] * 1e6 / tasks
        dk = med[case]["dask"] * 1e6 / tasks
        how = "threads" if case == "tree_threads" else "processes"
        rows.append(
            f"| tree reduction of `inc`, {tasks:,} tasks: `taskloom.get` ({how}) vs `{against}`, µs per task "
            f"| {tl:.2f} | {dk:.2f} | {dk / tl:.1f}x | ≥ 10x faster | {'**yes**' if dk / tl >= 10 else '**no**'} |"
        )
    s2 = med["spin_serial"]["caller"] / med["spin_compute_processes"]["taskloom_w2"]
    rows.append(
        f"| S(2) of `compute(scheduler=\"processes\")` on {SPINS:,} tasks of about 1 ms "
        f"| {s2:.2f} | | | ≥ 1.9 | {'**yes**' if s2 >= 1.9 else '**no**'} |"
    )
    return page(
        "taskloom's graph schedulers against Dask's",
        (
            "Reproduce with `bash bench/python/run.sh` (`REPEAT=N` to change the number of runs). "
            f"Every scheduler has {WORKERS} workers; the two sides of each case alternate run by run "
            f"and each figure is the median of {repeat} runs. The Dask graph is a dict of legacy "
            "tuples built once; each side's `get(dsk, root)` call is timed alone (conversion to "
            "Dask's `Task` objects, scheduling, running, worker start-up for processes). S(2) is "
            "the time of the same tasks run one after another in the caller ÷ the time of "
            "`taskloom.compute` on 2 worker processes, start-up included; a task is a fixed amount "
            "of pure-Python work, about 1 ms of CPU time (`bench/python/tasks.py`)."
        ),
        machine,
        [("dask", dask.__version__)],
        (
            "| | taskloom | Dask | ratio | goal | met |"
        ),
        rows,
        times,
    )


def main():
    repeat = int(os.environ.get("REPEAT", "3"))
    start = noise_start()
    times, tasks = measure(repeat)
    text = render(times, tasks, repeat, noise(start))
    with open(os.path.join(HERE, "GRAPH_RESULTS.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
