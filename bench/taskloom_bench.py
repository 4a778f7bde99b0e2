#!/usr/bin/env python3
"""Measures the taskloom CLI as a user runs it: one whole process per measurement.

Wall time is time.perf_counter() around the child (start, parse, validate, order,
execute, print, exit); peak RSS is the child's own ru_maxrss, read with os.wait4
(RUSAGE_CHILDREN would give the maximum over every child so far, not this one).
Every run's printed value is checked against bench/out/expected.json.

Run alone: `python3 bench/taskloom_bench.py [--repeat R]` prints one JSON line per
measurement; `--check` only checks that tree_100000.tl gives the right total.
report.py imports `measure` to interleave with the Dask runs.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
BIN = os.path.join(HERE, "..", "target", "release", "taskloom")


def run_cli(args, binary=BIN, launcher=()):
    """Runs `taskloom ARGS` (under `launcher`, e.g. mpirun and its options); returns
    (wall seconds, peak RSS bytes, exit code, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen([*launcher, binary, *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss * 1024, p.returncode, out.read().decode(), err.read().decode()


def measure(file, extra=(), dry_run=False, binary=BIN, launcher=()):
    """One run on bench/out/FILE; raises RuntimeError when it fails or prints a wrong value."""
    exp = json.load(open(os.path.join(OUT, "expected.json")))[file]
    args = ["run", os.path.join(OUT, file), "--get", exp["key"], *extra]
    if dry_run:
        args.append("--dry-run")
    wall, rss, code, out, err = run_cli(args, binary, launcher)
    cmd = " ".join([*launcher, "taskloom", args[0], f"bench/out/{file}", *args[2:]])
    if code != 0:
        raise RuntimeError(f"`{cmd}` exited {code}: {err.strip()[-300:]}")
    if dry_run:
        if out.strip():
            raise RuntimeError(f"`{cmd}` printed {out.strip()[:80]!r}, expected nothing")
    else:
        try:
            got = json.loads(out)
        except ValueError:
            got = out.strip()[:80]
        if got != exp["value"]:
            raise RuntimeError(f"`{cmd}` printed {got!r}, expected {exp['value']}")
    return {"side": "taskloom", "cmd": cmd, "tasks": exp["tasks"], "run_s": wall, "peak_rss": rss,
            "us_per_task": wall / exp["tasks"] * 1e6, "rss_per_task": rss / exp["tasks"]}


# (name, file, extra args, dry run): the taskloom side of each figure in RESULTS.md.
MEASUREMENTS = [
    ("tree", "tree_1000000.tl", ["--executor", "threads"], False),
    ("chain", "chain_1000000.tl", ["--executor", "threads"], False),
    ("load", "tree_1000000.tl", [], True),
    ("busy_w1", "busy.tl", ["--executor", "threads", "--workers", "1"], False),
    ("busy_w2", "busy.tl", ["--executor", "threads", "--workers", "2"], False),
    ("proc_tree", "tree_100000.tl", ["--executor", "processes", "--workers", "2"], False),
    ("proc_chain", "chain_10000.tl", ["--executor", "processes", "--workers", "2"], False),
    ("proc_busy_w1", "busy.tl", ["--executor", "processes", "--workers", "1"], False),
    ("proc_busy_w2", "busy.tl", ["--executor", "processes", "--workers", "2"], False),
]


def main():
    ap = argparse.ArgumentParser(description="taskloom CLI measurements (JSON lines)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bin", default=BIN)
    ap.add_argument("--check", action="store_true", help="only check tree_100000.tl's total")
    args = ap.parse_args()
    if args.check:
        r = measure("tree_100000.tl", binary=args.bin)
        print(f"ok: {r['cmd']} printed the expected total in {r['run_s']:.3f} s")
        return
    for rep in range(args.repeat):
        for name, file, extra, dry in MEASUREMENTS:
            try:
                r = measure(file, extra, dry, args.bin)
            except RuntimeError as e:
                r = {"error": str(e)}
            print(json.dumps({"figure": name, "rep": rep, **r}), flush=True)


if __name__ == "__main__":
    main()
