#!/usr/bin/env python3
"""Writes the DAG suite that `taskloom simulate` compares scheduling policies on.

Each graph is a text-form graph file whose tasks are `busy(ms, [inputs])`, so that the
simulator reads every task's duration from the file. Shapes (all seeded, so every run
writes the same files):

  tree       4,096 leaves of 1 ms, fan-in-8 sum tree of 1 ms sums (memory: depth first)
  mapreduce  400 maps of 1-4 ms, 20 reducers that each read every map (a shuffle), 1 total
  forkjoin   50 stages: a fork of 40 tasks of 1-5 ms, then a join the next stage waits for
  stencil    1-d, 200 cells x 50 steps, each cell reading its 3 neighbours of the step before
  matmul     12x12 blocks: 288 block loads, 1,728 block products of 4 ms, 144 sums, 1 norm
  layered    10,000 tasks in 100 layers; inputs from the 5 layers before; 1-20 ms (log-uniform)

Usage: python3 bench/simulate/gen_suite.py [OUT_DIR]   (default: bench/out/simulate)
"""
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def task(name, ms, inputs=()):
    ms = f"{ms:g}"
    return f"{name} = busy({ms}, [{', '.join(inputs)}])\n" if inputs else f"{name} = busy({ms})\n"


def tree(leaves=4096, fan_in=8):
    lines = [task(f"l{i}", 1) for i in range(leaves)]
    level, names = 0, [f"l{i}" for i in range(leaves)]
    while len(names) > 1:
        level += 1
        groups = [names[i:i + fan_in] for i in range(0, len(names), fan_in)]
        names = [f"s{level}_{j}" for j in range(len(groups))]
        lines += [task(n, 1, g) for n, g in zip(names, groups)]
    return lines


def mapreduce(maps=400, reducers=20, rng=None):
    lines = [task(f"m{i}", rng.randint(1, 4)) for i in range(maps)]
    ms = [f"m{i}" for i in range(maps)]
    lines += [task(f"r{j}", 2, ms) for j in range(reducers)]
    lines.append(task("total", 1, [f"r{j}" for j in range(reducers)]))
    return lines


def forkjoin(stages=50, width=40, rng=None):
    lines, join = [task("start", 1)], "start"
    for s in range(stages):
        fork = [f"f{s}_{i}" for i in range(width)]
        lines += [task(f, rng.randint(1, 5), [join]) for f in fork]
        join = f"j{s}"
        lines.append(task(join, 1, fork))
    return lines


def stencil(cells=200, steps=50):
    lines = [task(f"c0_{i}", 1) for i in range(cells)]
    for t in range(1, steps):
        for i in range(cells):
            near = [f"c{t - 1}_{j}" for j in (i - 1, i, i + 1) if 0 <= j < cells]
            lines.append(task(f"c{t}_{i}", 1, near))
    return lines


def matmul(n=12):
    lines = [task(f"a{i}_{k}", 1) for i in range(n) for k in range(n)]
    lines += [task(f"b{k}_{j}", 1) for k in range(n) for j in range(n)]
    for i in range(n):
        for j in range(n):
            prods = [f"p{i}_{j}_{k}" for k in range(n)]
            lines += [task(p, 4, [f"a{i}_{k}", f"b{k}_{j}"]) for k, p in enumerate(prods)]
            lines.append(task(f"c{i}_{j}", 1, prods))
    lines.append(task("norm", 1, [f"c{i}_{j}" for i in range(n) for j in range(n)]))
    return lines


def layered(tasks=10_000, layers=100, rng=None):
    width = tasks // layers
    lines = []
    for layer in range(layers):
        for i in range(width):
            ms = round(math.exp(rng.uniform(0, math.log(20))), 1)
            inputs = set()
            if layer:
                for _ in range(rng.randint(1, 3)):
                    back = min(layer, 1 + int(rng.expovariate(1.0)))  # mostly the layer before
                    inputs.add(f"t{layer - back}_{rng.randrange(width)}")
            lines.append(task(f"t{layer}_{i}", ms, sorted(inputs)))
    return lines


SUITE = {
    "tree": lambda rng: tree(),
    "mapreduce": lambda rng: mapreduce(rng=rng),
    "forkjoin": lambda rng: forkjoin(rng=rng),
    "stencil": lambda rng: stencil(),
    "matmul": lambda rng: matmul(),
    "layered": lambda rng: layered(rng=rng),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(HERE), "out", "simulate")
    os.makedirs(out, exist_ok=True)
    for name, make in SUITE.items():
        lines = make(random.Random(name))
        with open(os.path.join(out, f"{name}.tl"), "w") as f:
            f.writelines(lines)
        print(f"{name}: {len(lines)} tasks")


if __name__ == "__main__":
    main()
