#!/usr/bin/env python3
"""Runs `taskloom simulate --policy all` on every graph of the suite and writes
bench/simulate/RESULTS.md: per worker count, each policy's makespan / lower bound and
peak memory on each DAG, and whether the default policy meets its targets (mean ratio
at most 1.05 and peak memory on the tree at most 2x the best policy's).

Usage: python3 bench/simulate/report.py [--bin PATH] [--workers 2,4,16] [--command CMD]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from gen_suite import SUITE  # noqa: E402

POLICIES = ["default", "fifo", "random", "critical-path", "depth-first"]
TARGET_WORKERS = 4


def simulate(binary, path, workers):
    out = subprocess.run([binary, "simulate", path, "--workers", str(workers), "--policy", "all", "--json"],
                         capture_output=True, text=True, check=True).stdout
    report = json.loads(out)
    for p in report["policies"]:
        if p["completed"] != report["tasks"]:
            sys.exit(f"{path}: policy {p['policy']} completed {p['completed']} of {report['tasks']} tasks")
    return report


def section(workers, reports):
    lines = [f"## {workers} workers\n",
             "Each cell: makespan / lower bound, then peak memory (results held at once).\n",
             "| DAG | tasks | lower bound (ms) | " + " | ".join(POLICIES) + " |",
             "|---|---:|---:|" + "---:|" * len(POLICIES)]
    ratios = {p: [] for p in POLICIES}
    for name, r in reports.items():
        by = by_policy(r)
        best_peak = min(p["peak_memory"] for p in r["policies"])
        best_ratio = min(p["ratio"] for p in r["policies"])
        cells = []
        for pol in POLICIES:
            p = by[pol]
            ratios[pol].append(p["ratio"])
            ratio = f"{p['ratio']:.3f}"
            peak = f"{p['peak_memory']:,}"
            cells.append(f"{'**' + ratio + '**' if p['ratio'] == best_ratio else ratio}, "
                         f"{'**' + peak + '**' if p['peak_memory'] == best_peak else peak}")
        lines.append(f"| {name} | {r['tasks']:,} | {r['lower_bound_ms']:,.1f} | " + " | ".join(cells) + " |")
    means = {pol: statistics.mean(v) for pol, v in ratios.items()}
    lines.append("| **mean ratio** | | | " + " | ".join(f"{means[p]:.3f}" for p in POLICIES) + " |")
    best = min(means, key=means.get)
    worst_memory = max(
        (by_policy(r)["default"]["peak_memory"] / min(p["peak_memory"] for p in r["policies"]), name)
        for name, r in reports.items())
    lines.append(f"\nThe default's mean ratio is {means['default']:.3f} (best: {best}, {means[best]:.3f}); "
                 f"its peak memory is at most {worst_memory[0]:.2f}x the best policy's ({worst_memory[1]}).")
    return "\n".join(lines) + "\n", means


def by_policy(report):
    return {p["policy"]: p for p in report["policies"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "taskloom"))
    ap.add_argument("--dir", default=os.path.join(ROOT, "bench", "out", "simulate"))
    ap.add_argument("--workers", default="2,4,16,64")
    ap.add_argument("--command", default="bash bench/simulate/run.sh")
    ap.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    if TARGET_WORKERS not in counts:
        counts.insert(0, TARGET_WORKERS)
    md = ["# Scheduling policies, simulated\n",
          f"Reproduce with `{args.command}`. `bench/simulate/gen_suite.py` writes the DAGs "
          "(every task is `busy(ms, [inputs])`, so the simulator reads its duration from the file); "
          "`bench/simulate/report.py` runs `taskloom simulate FILE --workers N --policy all --json` "
          "on each and writes this file. The simulator drives the scheduler core that the process "
          "executor drives, on a simulated clock: one task at a time per worker, no transfer cost. "
          "*default* is the threaded executor's order (`crates/graph/src/order.rs`); *critical-path* "
          "ranks by the longest remaining path **in time**, which it reads from the durations in the "
          "file — the executors never know durations in advance. Bold: the best on that DAG.\n"]
    verdict = []
    for workers in counts:
        reports = {name: simulate(args.bin, os.path.join(args.dir, f"{name}.tl"), workers) for name in SUITE}
        text, means = section(workers, reports)
        md.append(text)
        if workers == TARGET_WORKERS:
            tree = {p["policy"]: p["peak_memory"] for p in reports["tree"]["policies"]}
            best = min(tree.values())
            verdict = [
                f"## Targets ({TARGET_WORKERS} workers)\n",
                "| target | default policy | met |", "|---|---|---|",
                f"| mean makespan ratio ≤ 1.05 | {means['default']:.3f} | {'yes' if means['default'] <= 1.05 else 'no'} |",
                f"| tree peak memory ≤ 2x the best ({best:,}) | {tree['default']:,} "
                f"| {'yes' if tree['default'] <= 2 * best else 'no'} |\n",
            ]
    md[2:2] = verdict
    with open(args.output, "w") as f:
        f.write("\n".join(md))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
