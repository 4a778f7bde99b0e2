#!/usr/bin/env python3
"""Measures Dask, the baseline, on the same graph shapes taskloom runs.

The shapes come from gen_graphs.py and are built as raw dask graphs (dicts of
tuples: {"i0": (inc, 0), ..., "s_1_0": (sum, ["i0", ...])}). Each measurement
runs in a fresh Python process so that its peak RSS is its own; the child
reports separately the time to build the dict and the time of Dask's
`get(graph, key)` alone, which is what the µs-per-task figures use (the build
is not charged to Dask). Peak RSS is reported whole and above the baseline of
the interpreter with dask imported (the latter is what the per-task figure uses).

Sizes: Dask needs minutes for a 1,000,000-task tree, so its per-task cost is
measured on the 100,000-leaf tree (103,228 tasks) and a 10,000-task chain.

Run alone: `bench/.venv/bin/python bench/dask_bench.py [--repeat R]` prints one
JSON line per measurement. report.py imports `measure` to interleave with taskloom.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_graphs  # noqa: E402


def inc(x):
    return x + 1


def busy(ms, value):
    """Burns `ms` milliseconds of this thread's CPU time in a pure-Python spin loop.

    CPU time, not wall time: a thread waiting for the GIL must not count as busy,
    or a task could "finish" without having done its work."""
    end = time.thread_time() + ms / 1000
    while time.thread_time() < end:
        pass
    return value


OPS = {"inc": inc, "sum": sum, "busy": busy}


def build(shape, n):
    """The shape as a raw dask graph: str args are keys, lists are lists of keys."""
    return {key: (OPS[op], *args) for key, op, args in gen_graphs.SHAPES[shape](n)}


def _run_one(mode, shape, n, workers):
    """In the child: build the graph, run one Dask pass, print one JSON line."""
    import dask
    import dask.multiprocessing
    import dask.optimization
    import dask.order
    import dask.threaded
    import psutil

    rss_base = psutil.Process().memory_info().rss
    key, want = gen_graphs.expected(shape, n)
    t0 = time.perf_counter()
    graph = build(shape, n)
    t1 = time.perf_counter()
    if mode == "threads":
        got = dask.threaded.get(graph, key, num_workers=workers)
    elif mode == "sync":
        got = dask.get(graph, key)
    elif mode == "processes":
        got = dask.multiprocessing.get(graph, key, num_workers=workers)
    elif mode == "load":  # nearest counterpart of `taskloom run --dry-run`: cull + order
        culled, _deps = dask.optimization.cull(graph, [key])
        dask.order.order(culled)
        got = want
    else:
        raise ValueError(mode)
    t2 = time.perf_counter()
    if got != want:
        raise SystemExit(f"dask {mode} {shape}_{n}: got {got!r}, expected {want!r}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"build_s": t1 - t0, "run_s": t2 - t1, "tasks": len(graph),
                      "peak_rss": peak, "rss_base": rss_base}))


def measure(mode, shape, n, workers=None):
    """One measurement in a fresh process; returns a dict (a JSON line of the output)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--one", mode, shape, str(n), str(workers or 0)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    r.update(side="dask", mode=mode, shape=shape, n=n, workers=workers,
             dask_version=__import__("dask").__version__,
             us_per_task=r["run_s"] / r["tasks"] * 1e6,
             build_us_per_task=r["build_s"] / r["tasks"] * 1e6,
             rss_per_task=(r["peak_rss"] - r["rss_base"]) / r["tasks"])
    return r


# (name, mode, shape, n, workers): the Dask side of each figure in RESULTS.md.
MEASUREMENTS = [
    ("tree_threads", "threads", "tree", 100_000, None),
    ("tree_sync", "sync", "tree", 100_000, None),
    ("chain_threads", "threads", "chain", 10_000, None),
    ("chain_sync", "sync", "chain", 10_000, None),
    ("load", "load", "tree", 100_000, None),
    ("busy_w1", "threads", "busy", 2000, 1),
    ("busy_w2", "threads", "busy", 2000, 2),
]
# Optional: Dask's multiprocessing scheduler, far slower per task, so a smaller tree.
OPTIONAL = [
    ("tree_processes", "processes", "tree", 10_000, 2),
    ("chain_processes", "processes", "chain", 10_000, 2),
]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        mode, shape, n, workers = sys.argv[2:6]
        return _run_one(mode, shape, int(n), int(workers) or None)
    ap = argparse.ArgumentParser(description="Dask baseline measurements (JSON lines)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--processes", action="store_true", help="also run the multiprocessing scheduler")
    args = ap.parse_args()
    todo = MEASUREMENTS + (OPTIONAL if args.processes else [])
    for rep in range(args.repeat):
        for name, mode, shape, n, workers in todo:
            print(json.dumps({"figure": name, "rep": rep, **measure(mode, shape, n, workers)}), flush=True)


if __name__ == "__main__":
    main()
