#!/usr/bin/env python3
"""Runs taskloom under mpirun and Dask distributed side by side and writes bench/MPI_RESULTS.md.

For each of R repetitions, every figure runs its taskloom run (`mpirun ... taskloom run
FILE --executor mpi`, whole process) and its Dask distributed run (a LocalCluster of
worker processes, `client.get()` only) back to back, who goes first alternating, so that
noise on the machine hits both; each figure is the median of the R runs. When the
taskloom binary has no `--executor mpi` (built without the `mpi` feature), the taskloom
side says so in the results and the Dask side is still measured.
Run with bench/.venv/bin/python (Dask must be importable); bench/mpi.sh does.
"""
import argparse
import datetime
import importlib.metadata as md
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dask_distributed  # noqa: E402
import report  # noqa: E402  (Med, fmt, ratio, met, table, errors_of, sh, noise, every_run)
import taskloom_bench  # noqa: E402

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]
# Open MPI over loopback TCP instead of shared memory: the transport between machines.
TCP = ["--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "lo"]
OUTPUT = os.path.join(HERE, "MPI_RESULTS.md")


def taskloom_runs(tree, chain):
    """(name, ranks, file, extra): the taskloom side. Rank 0 schedules; the others work,
    so 3 ranks are 2 worker ranks; for S(2) each worker rank runs one thread. Ranks None:
    the same graph on the threaded executor, without mpirun: where the bound of one
    machine lies (no Dask counterpart)."""
    mpi = ["--executor", "mpi"]
    threads = ["--executor", "threads", "--workers", "2"]
    return [
        ("tree", 3, f"tree_{tree}.tl", mpi),
        ("chain", 3, f"chain_{chain}.tl", mpi),
        ("busy_w1", 2, "busy.tl", [*mpi, "--workers", "1"]),
        ("busy_w2", 3, "busy.tl", [*mpi, "--workers", "1"]),
        ("tree_threads", None, f"tree_{tree}.tl", threads),
        ("chain_threads", None, f"chain_{chain}.tl", threads),
    ]


def launch_seconds(launcher):
    """Seconds of `mpirun -n 3 true`: what starting the ranks costs, before taskloom runs."""
    import time
    start = time.perf_counter()
    subprocess.run([*launcher, "-q", "-n", "3", "true"], check=True, capture_output=True)
    return {"run_s": time.perf_counter() - start}


def mpi_missing(binary):
    """Why `binary` cannot run `--executor mpi`, or None when it can."""
    try:
        help_text = subprocess.run([binary, "run", "--help"], capture_output=True, text=True).stdout
    except OSError as e:
        return f"cannot run {binary}: {e}"
    if not re.search(r"\bmpi\b", help_text):
        return (f"{os.path.relpath(binary)} has no `--executor mpi`: build it with "
                "`cargo build --release --features mpi`")
    return None


def bytes_moved(launcher, tree):
    """The result bytes the tree's run moves between ranks, as examples/mpi_bench counts
    them (the targets' bytes to rank 0 not included), or the reason it is not known."""
    example = os.path.join(HERE, "..", "target", "release", "examples", "mpi_bench")
    if not os.path.exists(example):
        return {"error": "examples/mpi_bench is not built (cargo build --release --features mpi --example mpi_bench)"}
    out = subprocess.run([*launcher, "-q", "-n", "3", example, os.path.join(HERE, "out", f"tree_{tree}.tl"),
                          "total", "1"], capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def collect(repeat, binary, launcher, tree, chain, dask_tree, dask_chain):
    tl = {name: (ranks, file, extra) for name, ranks, file, extra in taskloom_runs(tree, chain)}
    dk = {name: (shape, n, w) for name, shape, n, w in dask_distributed.measurements(dask_tree, dask_chain)}
    missing = mpi_missing(binary)
    if missing:
        print(f"mpi_report: {missing}; measuring the Dask side only", file=sys.stderr)
    runs = {}
    for rep in range(repeat):
        for name in tl:
            jobs = [("taskloom", name)] + ([("dask", name)] if name in dk else [])
            if rep % 2:
                jobs.reverse()
            for side, _ in jobs:
                try:
                    if side == "dask":
                        r = dask_distributed.measure(*dk[name])
                    elif missing:
                        r = {"error": missing}
                    else:
                        ranks, file, extra = tl[name]
                        r = taskloom_bench.measure(file, extra, False, binary,
                                                   [*launcher, "-n", str(ranks)] if ranks else [])
                except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
                    msg = getattr(e, "stderr", None) or str(e)
                    r = {"error": str(msg).strip().splitlines()[-1][:300]}
                r.update(figure=name, rep=rep)
                runs.setdefault((side, name), []).append(r)
                print(f"rep {rep} {side:8} {name:8} " +
                      (r["error"] if "error" in r else f"{r['run_s']:.3f} s, {r['us_per_task']:.2f} µs/task"),
                      flush=True)
        try:
            r = launch_seconds(launcher)
        except (OSError, subprocess.CalledProcessError) as e:
            r = {"error": str(e)[:300]}
        r.update(figure="launch", rep=rep)
        runs.setdefault(("mpirun", "launch"), []).append(r)
    return runs


def render(runs, args, noise, launcher, moved):
    T = lambda n: report.Med(runs.get(("taskloom", n)))  # noqa: E731
    D = lambda n: report.Med(runs.get(("dask", n)))  # noqa: E731
    fmt, ratio, met, us = report.fmt, report.ratio, report.met, "us_per_task"
    tree, chain, b1, b2 = T("tree"), T("chain"), T("busy_w1"), T("busy_w2")
    dtree, dchain, d1, d2 = D("tree"), D("chain"), D("busy_w1"), D("busy_w2")
    exp = json.load(open(os.path.join(HERE, "out", "expected.json")))
    tree_tasks = exp[f"tree_{args.tree}.tl"]["tasks"]
    launch = " ".join(launcher)
    md_ = ["# Many machines: taskloom under MPI vs Dask distributed\n"]
    md_.append(f"Reproduce with `{args.command}`. Every number below was produced by `bench/mpi_report.py` "
               "in one session. taskloom figures time the **whole process** under mpirun (start of every rank, "
               "parse, schedule, run, print); Dask distributed figures time **only** `client.get(graph, key)` on a "
               "LocalCluster of worker processes (one thread each) already started, with the graph dict already "
               f"built, which favours Dask. Each figure is the median of {args.repeat} runs; the two sides "
               "alternate, who goes first swapping each repetition. *ratio* is Dask ÷ taskloom, except for S(2). "
               f"Dask runs a {args.dask_tree:,}-leaf tree and a {args.dask_chain:,}-task chain (the full sizes take "
               "it more than 15 minutes a run here): its figures are per task and per hop of those.\n")
    load_before, other, wall = noise["load_before"], noise["other_cpu"], noise["wall"]
    env = [
        ("command", f"`{args.command}`"),
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("nproc", report.sh("nproc")),
        ("CPU", report.sh("lscpu | sed -n 's/^Model name: *//p' | head -1")),
        ("load average before the runs", load_before),
        ("CPU time used by other processes during the runs",
         f"{other:.1f} s over {wall:.0f} s of wall time ({other / wall * 100:.0f}% of one core)"),
        ("taskloom", f"{report.sh(args.bin + ' --version') or 'n/a'}, commit {report.sh('git rev-parse --short HEAD')}"),
        ("launcher", f"`{launch} -n RANKS`"),
        ("MPI", report.sh("mpirun --version | head -1") or "n/a"),
        ("Dask", f"dask {md.version('dask')}, distributed {md.version('distributed')}"),
    ]
    md_.append("| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in env) + "\n")
    if other / wall >= 0.05:
        md_.append(f"**Note:** other processes used {other:.0f} s of CPU on this {report.sh('nproc')}-core machine "
                   "while the benchmark ran: these times are inflated and noisy, S(2) most of all.\n")
    s_tl, s_dk = ratio(b1("run_s"), b2("run_s")), ratio(d1("run_s"), d2("run_s"))
    r_tree = ratio(dtree(us), tree(us))
    md_.append(f"## Tree, chain and S(2) on 3 ranks (rank 0 schedules, 2 worker ranks)\n")
    md_.append(f"Tree: `taskloom run bench/out/tree_{args.tree}.tl --get total --executor mpi` "
               f"({tree_tasks:,} tasks) vs the same shape with {args.dask_tree:,} leaves on 2 Dask workers. Chain: "
               f"`chain_{args.chain}.tl` ({args.chain:,} tasks). S(2): `busy.tl` (2,000 × `busy(1)`) with "
               "`--workers 1` on 2 ranks (1 worker rank) vs 3 ranks (2), and Dask on 1 vs 2 worker processes.\n")
    md_.append(report.table([
        ["tree, µs/task", fmt(tree(us)), fmt(dtree(us)), fmt(r_tree, "x"), "≤ 10 µs/task and ≥ 100x",
         met(None if r_tree is None else tree(us) <= 10 and r_tree >= 100)],
        ["chain, µs/hop", fmt(chain(us)), fmt(dchain(us)), fmt(ratio(dchain(us), chain(us)), "x"), "≤ 20 µs/hop",
         met(None if chain(us) is None else chain(us) <= 20)],
        ["busy, T(1 worker rank), s", fmt(b1("run_s")), fmt(d1("run_s")), "", "", ""],
        ["busy, T(2 worker ranks), s", fmt(b2("run_s")), fmt(d2("run_s")), "", "", ""],
        ["S(2)", fmt(s_tl), fmt(s_dk), fmt(ratio(s_tl, s_dk), "x"), "≥ 1.9", met(None if s_tl is None else s_tl >= 1.9)],
        ["Dask cluster start (not charged), s", "", fmt(dtree("start_s")), "", "", ""],
    ]) + report.errors_of(tree, chain, b1, b2, dtree, dchain, d1, d2) + "\n")
    tt, ct, launch_ = T("tree_threads"), T("chain_threads"), report.Med(runs.get(("mpirun", "launch")))
    md_.append("### Where the bound lies on one machine\n")
    md_.append("The same graphs on the threaded executor (`--executor threads --workers 2`, no mpirun, whole "
               f"process) and the launcher's own start (`{launch} -q -n 3 true`), in the same session:\n")
    md_.append(report.table([
        ["tree on threads, µs/task", fmt(tt(us)), "", "", "", ""],
        ["chain on threads, µs/hop", fmt(ct(us)), "", "", "", ""],
        ["`mpirun -n 3 true`, s", fmt(launch_("run_s")), "", "", "", ""],
        ["tree on MPI minus the launcher's start, µs/task",
         fmt(None if tree("run_s") is None or launch_("run_s") is None
             else (tree("run_s") - launch_("run_s")) / tree_tasks * 1e6), "", "", "", ""],
    ]) + report.errors_of(tt, ct) + "\n")
    md_.append("## Bytes moved between ranks\n")
    if "error" in moved:
        md_.append(f"Not measured: {moved['error']}\n")
    else:
        md_.append(f"The tree on 3 ranks (`examples/mpi_bench`, one task thread per rank) moved "
                   f"{moved['bytes_moved']:,} bytes of results between ranks for {moved['tasks']:,} tasks "
                   f"({moved['bytes_moved'] / moved['tasks']:.1f} bytes per task): only partial sums travel, "
                   "peer to peer.\n")
    md_.append("## Every run\n")
    md_.append(report.every_run(runs))
    return "\n".join(md_) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tree", type=int, default=100_000, help="leaves of the tree (bench/out/tree_N.tl)")
    ap.add_argument("--chain", type=int, default=10_000, help="tasks of the chain (bench/out/chain_N.tl)")
    ap.add_argument("--dask-tree", type=int, default=5_000, help="leaves of the tree Dask runs")
    ap.add_argument("--dask-chain", type=int, default=1_000, help="tasks of the chain Dask runs")
    ap.add_argument("--tcp", action="store_true", help="MPI over loopback TCP instead of shared memory")
    ap.add_argument("--bin", default=taskloom_bench.BIN)
    ap.add_argument("--command", default=" ".join(sys.argv), help="the command to record in the results")
    ap.add_argument("--output", default=OUTPUT)
    args = ap.parse_args()
    launcher = MPIRUN + (TCP if args.tcp else [])
    start = report.noise_start()
    runs = collect(args.repeat, args.bin, launcher, args.tree, args.chain, args.dask_tree, args.dask_chain)
    noise = report.noise(start)
    moved = bytes_moved(launcher, args.tree)
    with open(args.output, "w") as f:
        f.write(render(runs, args, noise, launcher, moved))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
