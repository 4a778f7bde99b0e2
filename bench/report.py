#!/usr/bin/env python3
"""Runs taskloom and Dask side by side and writes bench/RESULTS.md.

For each of R repetitions, every figure runs its taskloom measurement(s) and its
Dask measurement(s) back to back (who goes first alternates between repetitions),
so that noise on the machine hits both sides alike. Each figure is the median of
the R runs. Every run is also written to bench/out/results.jsonl.
Run with bench/.venv/bin/python (Dask must be importable); run.sh does.
"""
import argparse
import datetime
import importlib.metadata as md
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import dask_bench  # noqa: E402
import taskloom_bench  # noqa: E402

# Figures whose taskloom and Dask runs alternate: (taskloom names, Dask names).
GROUPS = [
    (["tree"], ["tree_threads", "tree_sync", "tree_processes"]),
    (["chain"], ["chain_threads", "chain_sync"]),
    (["load"], ["load"]),
    (["busy_w1", "busy_w2"], ["busy_w1", "busy_w2"]),
    (["proc_tree"], []),
    (["proc_chain"], ["chain_processes"]),
    (["proc_busy_w1", "proc_busy_w2"], []),
]
TL = {m[0]: m[1:] for m in taskloom_bench.MEASUREMENTS}
DK = {m[0]: m[1:] for m in dask_bench.MEASUREMENTS + dask_bench.OPTIONAL}


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except OSError:
        return ""


def cpu_seconds():
    """(CPU seconds used by the whole machine, CPU seconds used by this process and its children)."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # everything but idle and iowait
    own = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime"))
    return busy / os.sysconf("SC_CLK_TCK"), own


def noise_start():
    """Where the machine stands before a benchmark: pass it to `noise` after the runs."""
    return open("/proc/loadavg").read().split()[0], cpu_seconds(), time.time()


def noise(start):
    """What else the machine did while the runs went on: the load average before them,
    their wall time and the CPU seconds other processes used meanwhile."""
    load_before, (all0, own0), t0 = start
    (all1, own1), wall = cpu_seconds(), time.time() - t0
    return {"load_before": load_before, "wall": wall, "other_cpu": max(0.0, (all1 - all0) - (own1 - own0))}


def every_run(runs):
    """The table of every run's seconds, by side and measurement, in run order."""
    rows = ["| side | measurement | tasks | runs (s) |\n|---|---|---|---|"]
    for (side, name), rs in runs.items():
        vals = ", ".join("failed (see above)" if "error" in r else f"{r['run_s']:.3f}" for r in rs)
        rows.append(f"| {side} | {name} | {next((r['tasks'] for r in rs if 'tasks' in r), '')} | {vals} |")
    return "\n".join(rows)


def collect(repeat, binary, warmup):
    runs = {}  # (side, name) -> list of result dicts ({"error": ...} when a run failed)
    log = open(os.path.join(HERE, "out", "results.jsonl"), "w")
    for rep in range(repeat):
        for tl_names, dk_names in GROUPS:
            jobs = [("taskloom", n) for n in tl_names]
            jobs += [("dask", n) for n in dk_names]
            if rep % 2:
                jobs.reverse()
            for side, name in jobs:
                try:
                    # Untimed runs of the same command first (as hyperfine --warmup): on
                    # this VM a process that follows a large one (of either side) pays
                    # for re-touching the memory that one freed.
                    for _ in range(warmup + 1):  # the last run is the timed one
                        if side == "taskloom":
                            file, extra, dry = TL[name]
                            r = taskloom_bench.measure(file, extra, dry, binary)
                        else:
                            r = dask_bench.measure(*DK[name])
                except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
                    msg = getattr(e, "stderr", None) or str(e)
                    r = {"error": str(msg).strip().splitlines()[-1][:300]}
                r.update(figure=name, rep=rep)
                runs.setdefault((side, name), []).append(r)
                log.write(json.dumps({"side": side, **r}) + "\n")
                log.flush()
                print(f"rep {rep} {side:8} {name:15} " +
                      (r["error"] if "error" in r else f"{r['run_s']:.3f} s, {r['us_per_task']:.3f} µs/task"),
                      flush=True)
    return runs


class Med:
    """Medians of one measurement's runs, or the error that stopped it."""

    def __init__(self, runs):
        self.runs = runs or []
        errors = [r["error"] for r in self.runs if "error" in r]
        self.error = errors[0] if errors else (None if self.runs else "not run")
        self.ok = self.error is None

    def __call__(self, field):
        return statistics.median(r[field] for r in self.runs) if self.ok else None


def fmt(x, unit=""):
    if x is None:
        return "n/a"
    s = f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.3f}" if abs(x) < 1 else f"{x:.2f}"
    return s + unit


def ratio(a, b):
    return a / b if a is not None and b else None


def met(cond):
    return "n/a" if cond is None else ("**yes**" if cond else "**no**")


def table(rows):
    out = ["| | taskloom | Dask | ratio | goal | met |", "|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def errors_of(*meds):
    errors = dict.fromkeys(m.error for m in meds if not m.ok)  # unique, in order
    return "".join(f"\n\n> not measured: {e}" for e in errors) + "\n"


def render(runs, repeat, command, noise, binary):
    T = lambda n: Med(runs.get(("taskloom", n)))  # noqa: E731
    D = lambda n: Med(runs.get(("dask", n)))  # noqa: E731
    tree, chain, load, b1, b2 = T("tree"), T("chain"), T("load"), T("busy_w1"), T("busy_w2")
    dthr, dsync, dproc = D("tree_threads"), D("tree_sync"), D("tree_processes")
    cthr, csync, dload, d1, d2 = D("chain_threads"), D("chain_sync"), D("load"), D("busy_w1"), D("busy_w2")
    us = "us_per_task"
    exp = json.load(open(os.path.join(HERE, "out", "expected.json")))

    md_ = []
    md_.append("# taskloom vs Dask: benchmark results\n")
    md_.append("Reproduce with `bash bench/run.sh` (add `--repeat N` to change the number of runs). "
               "Every number below was produced by `bench/report.py` in one session; nothing is typed in by hand. "
               "Scripts: `bench/gen_graphs.py` (graphs), `bench/taskloom_bench.py`, `bench/dask_bench.py`, `bench/report.py`.\n")
    md_.append("How to read it: taskloom figures time the **whole process** (`taskloom run ...`: start, parse, "
               "validate, order, execute, print) with a wall clock around it; Dask figures time **only** "
               "`get(graph, key)` on a graph dict already built in a fresh Python process, which favours Dask. "
               "Dask needs minutes for 1,000,000 tasks, so its per-task cost is measured on the 100,000-leaf tree "
               f"({exp['tree_100000.tl']['tasks']:,} tasks) and on a 10,000-task chain. Each figure is the median of "
               f"{repeat} runs; taskloom and Dask runs alternate so that machine noise hits both, "
               f"and each timed run follows {noise['warmup']} untimed run(s) of the same command. "
               "*ratio* is Dask ÷ taskloom (how many times less taskloom costs), except for S(2).\n")

    md_.append("## Environment\n")
    head = sh("git rev-parse --short HEAD")
    dirty = " (working tree had uncommitted changes)" if sh("git status --porcelain -- . ':!bench'") else ""
    env = [
        ("command", f"`{command}`"),
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("nproc", sh("nproc")),
        ("CPU", sh("lscpu | sed -n 's/^Model name: *//p' | head -1")),
        ("kernel", platform.release()),
        ("load average before the runs", noise["load_before"]),
        ("CPU time used by other processes during the runs",
         f"{noise['other_cpu']:.1f} s over {noise['wall']:.0f} s of wall time "
         f"({noise['other_cpu'] / noise['wall'] * 100:.0f}% of one core)"),
        ("taskloom", f"{sh(binary + ' --version') or 'n/a'}, commit {head}{dirty}, `cargo build --release`"),
        ("rustc", sh("rustc --version")),
        ("Python", platform.python_version()),
        ("Dask", f"dask {md.version('dask')}, distributed {md.version('distributed')}, "
                 f"numpy {md.version('numpy')}, psutil {md.version('psutil')}"),
    ]
    md_.append("| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in env) + "\n")
    if noise["other_cpu"] / noise["wall"] >= 0.05:
        md_.append(f"**Note:** other processes used {noise['other_cpu']:.0f} s of CPU on this {sh('nproc')}-core "
                   "machine while the benchmark ran: they competed with it, so these times are inflated and noisy "
                   "(multi-threaded runs and S(2) most of all). Compare the runs listed at the end.\n")

    # 1. tree
    r_thr = ratio(dthr(us), tree(us))
    md_.append(f"## 1. Tree: 1,000,000 `inc` + fan-in-32 `sum` tree ({exp['tree_1000000.tl']['tasks']:,} tasks)\n")
    md_.append("taskloom: `taskloom run bench/out/tree_1000000.tl --get total --executor threads`, whole process, "
               "result checked. Dask: the same shape with 100,000 leaves, `get()` only.\n")
    goal = None if tree(us) is None or r_thr is None else (tree(us) <= 1 and r_thr >= 100)
    md_.append(table([
        ["µs/task, vs Dask threaded (`dask.threaded.get`)", fmt(tree(us)), fmt(dthr(us)), fmt(r_thr, "x"),
         "≤ 1 µs/task and ≥ 100x", met(goal)],
        ["µs/task, vs Dask sync (`dask.get`)", fmt(tree(us)), fmt(dsync(us)), fmt(ratio(dsync(us), tree(us)), "x"),
         "(reference)", ""],
        ["µs/task, vs Dask multiprocessing (10,000 leaves, 2 processes)", fmt(tree(us)), fmt(dproc(us)),
         fmt(ratio(dproc(us), tree(us)), "x"), "(reference)", ""],
        ["wall time, s", fmt(tree("run_s")), fmt(dthr("run_s")) + " (threaded, 100k)", "", "", ""],
        ["Dask graph construction (building the dict), µs/task", "", fmt(dthr("build_us_per_task")), "",
         "(not charged to Dask above)", ""],
    ]) + errors_of(tree, dthr, dsync, dproc) + "\n")

    # 2. chain
    c_goal = None if chain(us) is None else chain(us) <= 1
    md_.append("## 2. Chain: 1,000,000 `inc`, each depending on the previous\n")
    md_.append("taskloom: `taskloom run bench/out/chain_1000000.tl --get c999999 --executor threads`, whole process. "
               "Dask: a 10,000-task chain, `get()` only.\n")
    md_.append(table([
        ["µs/task, vs Dask threaded", fmt(chain(us)), fmt(cthr(us)), fmt(ratio(cthr(us), chain(us)), "x"),
         "≤ 1 µs/task", met(c_goal)],
        ["µs/task, vs Dask sync", fmt(chain(us)), fmt(csync(us)), fmt(ratio(csync(us), chain(us)), "x"),
         "(reference)", ""],
    ]) + errors_of(chain, cthr, csync) + "\n")

    # 3. loading
    l_goal = None if load(us) is None else load(us) <= 0.5
    md_.append("## 3. Loading only: parse, validate, cull, order (no execution)\n")
    md_.append("taskloom: `taskloom run bench/out/tree_1000000.tl --get total --dry-run`, whole process, must print "
               "nothing and exit 0. Dask counterpart: `dask.optimization.cull` + `dask.order.order` on the "
               "100,000-leaf tree dict (building the dict, Dask's \"parse\", not included).\n")
    md_.append(table([
        ["µs/task", fmt(load(us)), fmt(dload(us)), fmt(ratio(dload(us), load(us)), "x"), "≤ 0.5 µs/task",
         met(l_goal)],
    ]) + errors_of(load, dload) + "\n")

    # 4. memory
    rss = tree("rss_per_task")
    m_goal = None if rss is None else rss <= 300
    md_.append("## 4. Peak RSS per task (the tree of figure 1)\n")
    md_.append("taskloom: the whole process's peak RSS (`ru_maxrss` of the child, via `os.wait4`) ÷ tasks. "
               "Dask: the child's peak RSS minus its RSS after importing dask (interpreter baseline), ÷ tasks, "
               "threaded scheduler on the 100,000-leaf tree.\n")
    mib = lambda b: None if b is None else b / 2**20  # noqa: E731
    md_.append(table([
        ["bytes/task", fmt(rss), fmt(dthr("rss_per_task")), fmt(ratio(dthr("rss_per_task"), rss), "x"),
         "≤ 300 bytes/task", met(m_goal)],
        ["peak RSS, MiB", fmt(mib(tree("peak_rss"))), f"{fmt(mib(dthr('peak_rss')))} "
         f"(baseline {fmt(mib(dthr('rss_base')))})", "", "", ""],
    ]) + errors_of(tree, dthr) + "\n")

    # 5. S(2)
    s_tl = ratio(b1("run_s"), b2("run_s"))
    s_dk = ratio(d1("run_s"), d2("run_s"))
    md_.append("## 5. CPU-bound speed-up S(2) = T(1) / T(2): 2,000 tasks of `busy(1 ms)`\n")
    md_.append("taskloom: `taskloom run bench/out/busy.tl --get total --executor threads --workers 1` vs "
               "`--workers 2`, whole process. Dask: threaded scheduler, `num_workers=1` vs `2`, `get()` only; "
               "its `busy` spins in pure Python until 1 ms of the thread's CPU time has passed, so it holds the GIL "
               "(CPU time, so that a thread waiting for the GIL does not count as working; taskloom's `busy` also "
               "counts the thread's CPU time). "
               "S(2) is the ratio of the median times; *ratio* here is taskloom's S(2) ÷ Dask's.\n")
    md_.append(table([
        ["T(1), s", fmt(b1("run_s")), fmt(d1("run_s")), "", "", ""],
        ["T(2), s", fmt(b2("run_s")), fmt(d2("run_s")), "", "", ""],
        ["S(2)", fmt(s_tl), fmt(s_dk), fmt(ratio(s_tl, s_dk), "x"), "≥ 1.95",
         met(None if s_tl is None else s_tl >= 1.95)],
    ]) + errors_of(b1, b2, d1, d2) + "\n")

    # 6. processes
    ptree, pchain, pb1, pb2 = T("proc_tree"), T("proc_chain"), T("proc_busy_w1"), T("proc_busy_w2")
    cproc = D("chain_processes")
    ps = ratio(pb1("run_s"), pb2("run_s"))
    md_.append("## 6. Process executor: `--executor processes --workers 2`\n")
    md_.append("taskloom: worker processes driven by the scheduler core; results stay in the worker that made "
               "them and only missing inputs move. `taskloom run bench/out/tree_100000.tl --get total "
               "--executor processes --workers 2` (whole process, including starting the workers), the "
               "10,000-task chain, and `busy.tl` at 1 and 2 workers. Dask: `dask.multiprocessing.get` with 2 "
               "processes, `get()` only (tree with 10,000 leaves).\n")
    md_.append(table([
        ["tree, µs/task", fmt(ptree(us)), fmt(dproc(us)), fmt(ratio(dproc(us), ptree(us)), "x"),
         "≤ 10 µs/task and ≥ 10x", met(None if ptree(us) is None or dproc(us) is None
                                        else ptree(us) <= 10 and dproc(us) / ptree(us) >= 10)],
        ["chain, µs/task", fmt(pchain(us)), fmt(cproc(us)), fmt(ratio(cproc(us), pchain(us)), "x"),
         "≤ 50 µs/task", met(None if pchain(us) is None else pchain(us) <= 50)],
        ["S(2) on busy.tl", fmt(ps), "", "", "≥ 1.9", met(None if ps is None else ps >= 1.9)],
    ]) + errors_of(ptree, pchain, pb1, pb2, dproc, cproc) + "\n")

    md_.append(included_sections())
    md_.append("## Every run\n")
    md_.append("Seconds per run, in run order (taskloom: whole process; Dask: `get()` only).\n")
    md_.append(every_run(runs))
    return "\n".join(md_) + "\n"


def included(path, head, how):
    """A section that another script wrote to `path`, kept across runs of this one (it
    measures nothing here, so it is included as it was written); `how` runs that script."""
    if not os.path.exists(os.path.join(HERE, path)):
        return f"{head}\nNot run yet: `{how}` writes bench/{path}.\n"
    body = open(os.path.join(HERE, path)).read().split("\n", 1)[1]  # its own title gives way
    return f"{head}\nFrom [{path}]({path}), as that script wrote it.\n" + body.replace("\n## ", "\n### ") + "\n"


def included_sections():
    """Sections 7 to 14, from the scripts that measure them apart from this one."""
    return "\n".join([
        included("simulate/RESULTS.md",
                 "## 7. Scheduling policies, simulated (`bash bench/simulate/run.sh`)\n",
                 "bash bench/simulate/run.sh"),
        included("ARRAY_RESULTS.md",
                 "## 8. Arrays against dask.array, NumPy and the disk (`bash bench/array/run.sh`)\n",
                 "bash bench/array/run.sh"),
        included("SCHED_RESULTS.md",
                 "## 9. The scheduler core alone, and a prediction for 64 nodes (`bash bench/sched/run.sh`)\n",
                 "bash bench/sched/run.sh"),
        included("MPI_RESULTS.md",
                 "## 10. Many machines: MPI against Dask distributed (`bash bench/mpi.sh`)\n",
                 "bash bench/mpi.sh"),
        included("MAP_MPI_RESULTS.md",
                 "## 11. `taskloom map` on MPI ranks against one machine and GNU parallel "
                 "(`bash bench/map_mpi_bench.sh`)\n",
                 "bash bench/map_mpi_bench.sh"),
        included("python/RESULTS.md",
                 "## 12. Python: taskloom.Pool against multiprocessing.Pool (`bash bench/python/run.sh`)\n",
                 "bash bench/python/run.sh"),
        included("LOAD_RESULTS.md",
                 "## 13. Loading a large graph: 1M and 10M tasks, text and JSON (`bash bench/load/run.sh`)\n",
                 "bash bench/load/run.sh"),
        included("python/TRANSFER_RESULTS.md",
                 "## 14. Python: a 1 GiB NumPy array to a worker (`bash bench/python/transfer.sh`)\n",
                 "bash bench/python/transfer.sh"),
        included("python/GRAPH_RESULTS.md",
                 "## 15. Python: taskloom.get and compute against Dask's schedulers (`bash bench/python/run.sh`)\n",
                 "bash bench/python/run.sh"),
    ])


def refresh_included(output):
    """Replaces sections 7 onwards of an existing RESULTS.md (up to "## Every run") with
    the included files as they are now, leaving every measured section as it was."""
    text = open(output).read()
    start, end = text.index("\n## 7. ") + 1, text.index("\n## Every run")
    with open(output, "w") as f:
        f.write(text[:start] + included_sections() + text[end:])
    print(f"refreshed sections 7-15 of {output}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs before each timed run")
    ap.add_argument("--bin", default=taskloom_bench.BIN)
    ap.add_argument("--command", default=" ".join(sys.argv), help="the command to record in RESULTS.md")
    ap.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--refresh-included", action="store_true",
                    help="only bring sections 7-15 (written by other scripts) up to date; run nothing")
    args = ap.parse_args()
    if args.refresh_included:
        return refresh_included(args.output)
    start = noise_start()
    runs = collect(args.repeat, args.bin, args.warmup)
    measured = dict(noise(start), warmup=args.warmup)
    with open(args.output, "w") as f:
        f.write(render(runs, args.repeat, args.command, measured, args.bin))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
