#!/usr/bin/env python3
"""Measures Dask distributed, the many-machine baseline, on the graph shapes taskloom runs.

A LocalCluster of worker *processes* (one thread each, so that busy tasks do not share
a GIL) and a Client in a fresh Python process per measurement; the shapes come from
gen_graphs.py as raw dask graphs, as in dask_bench.py. The child times `client.get(graph,
key)` alone: starting the cluster and building the dict are reported apart and not
charged to Dask, which favours it.

Sizes: Dask distributed costs about a millisecond per task, so the tree has 100,000
leaves (103,228 tasks, minutes per run) and the chain 10,000 tasks; `--tree` and
`--chain` make them smaller for a quick look.

Run alone: `bench/.venv/bin/python bench/dask_distributed.py [--repeat R]` prints one
JSON line per measurement. mpi_report.py imports `measure` to alternate with taskloom.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dask_bench  # noqa: E402  (the ops and the graph dicts)
import gen_graphs  # noqa: E402


def _run_one(shape, n, workers):
    """In the child: start the cluster, run one `client.get`, print one JSON line."""
    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    t1 = time.perf_counter()
    key, want = gen_graphs.expected(shape, n)
    graph = dask_bench.build(shape, n)
    t2 = time.perf_counter()
    got = client.get(graph, key)
    t3 = time.perf_counter()
    client.close()
    cluster.close()
    if got != want:
        raise SystemExit(f"dask distributed {shape}_{n}: got {got!r}, expected {want!r}")
    print(json.dumps({"start_s": t1 - t0, "build_s": t2 - t1, "run_s": t3 - t2, "tasks": len(graph)}))


def measure(shape, n, workers=2):
    """One measurement in a fresh process; returns a dict (a JSON line of the output)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--one", shape, str(n), str(workers)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    r.update(side="dask", mode="distributed", shape=shape, n=n, workers=workers,
             us_per_task=r["run_s"] / r["tasks"] * 1e6)
    return r


def measurements(tree=100_000, chain=10_000, busy=2000):
    """(name, shape, n, workers): the Dask side of each figure of MPI_RESULTS.md."""
    return [
        ("tree", "tree", tree, 2),
        ("chain", "chain", chain, 2),
        ("busy_w1", "busy", busy, 1),
        ("busy_w2", "busy", busy, 2),
    ]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        shape, n, workers = sys.argv[2:5]
        return _run_one(shape, int(n), int(workers))
    ap = argparse.ArgumentParser(description="Dask distributed measurements (JSON lines)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tree", type=int, default=100_000, help="leaves of the tree")
    ap.add_argument("--chain", type=int, default=10_000, help="tasks of the chain")
    args = ap.parse_args()
    for rep in range(args.repeat):
        for name, shape, n, workers in measurements(args.tree, args.chain):
            print(json.dumps({"figure": name, "rep": rep, **measure(shape, n, workers)}), flush=True)


if __name__ == "__main__":
    main()
