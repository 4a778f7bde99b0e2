#!/usr/bin/env python3
"""Generates the benchmark graphs (stdlib only).

The graph *shapes* are defined once here, as streams of (key, op, args), so that
taskloom (which reads the text files written below) and Dask (dask_bench.py
imports these functions and builds raw dask graphs from them) run exactly the
same tasks. In args a str is a reference to another key, an int is a literal,
and a list is a list of those.

Writes into bench/out/:
  tree_N.tl   N leaves `iJ = inc(J)` and a fan-in-32 tree of `sum` up to `total`
  chain_N.tl  `c0 = inc(0)`, `cJ = inc(cJ-1)`, ... up to `c{N-1}`
  busy.tl     2,000 independent `busy(1, J)` and a fan-in-32 `sum` tree to `total`
  expected.json  for each file: the key to get, its expected value, its task count
"""
import argparse
import json
import os

FAN_IN = 32
HERE = os.path.dirname(os.path.abspath(__file__))


def _sum_tree(keys, prefix, root="total"):
    """Levels of `sum` over groups of <= FAN_IN keys until one key, named `root`, is left."""
    level = 0
    while True:
        level += 1
        groups = [keys[j:j + FAN_IN] for j in range(0, len(keys), FAN_IN)]
        last = len(groups) == 1
        names = []
        for j, group in enumerate(groups):
            name = root if last else f"{prefix}_{level}_{j}"
            names.append(name)
            yield name, "sum", (group,)
        if last:
            return
        keys = names


def tree(n):
    """N `inc` leaves summed by a fan-in-32 tree. total = sum(j + 1 for j < N)."""
    for j in range(n):
        yield f"i{j}", "inc", (j,)
    yield from _sum_tree([f"i{j}" for j in range(n)], "s")


def chain(n):
    """A chain of N `inc`; the last key c{N-1} is N."""
    yield "c0", "inc", (0,)
    for j in range(1, n):
        yield f"c{j}", "inc", (f"c{j - 1}",)


def busy(n=2000, ms=1):
    """N independent `busy(ms, J)` tasks summed by a fan-in-32 tree to `total`."""
    for j in range(n):
        yield f"b{j}", "busy", (ms, j)
    yield from _sum_tree([f"b{j}" for j in range(n)], "s")


def expected(shape, n):
    """(key, value) the harness checks the output against."""
    if shape == "tree":
        return "total", n * (n + 1) // 2
    if shape == "chain":
        return f"c{n - 1}", n
    if shape == "busy":
        return "total", n * (n - 1) // 2
    raise ValueError(shape)


SHAPES = {"tree": tree, "chain": chain, "busy": busy}


def _fmt(arg):
    if isinstance(arg, list):
        return "[" + ", ".join(_fmt(a) for a in arg) + "]"
    return str(arg)


def write(path, tasks):
    """Writes one `key = op(args)` line per task; returns the task count."""
    count = 0
    with open(path, "w", buffering=1 << 20) as f:
        for key, op, args in tasks:
            f.write(f"{key} = {op}({', '.join(_fmt(a) for a in args)})\n")
            count += 1
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--tree", type=int, nargs="*", default=[1_000_000, 100_000])
    ap.add_argument("--chain", type=int, nargs="*", default=[1_000_000, 10_000])
    ap.add_argument("--busy", type=int, default=2000)
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    jobs = [("tree", n, f"tree_{n}.tl") for n in args.tree]
    jobs += [("chain", n, f"chain_{n}.tl") for n in args.chain]
    jobs += [("busy", args.busy, "busy.tl")]
    exp = {}
    for shape, n, name in jobs:
        tasks = write(os.path.join(args.out, name), SHAPES[shape](n))
        key, value = expected(shape, n)
        exp[name] = {"shape": shape, "n": n, "tasks": tasks, "key": key, "value": value}
        print(f"gen_graphs: {name}: {tasks} tasks, {key} = {value}")
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1)


if __name__ == "__main__":
    main()
