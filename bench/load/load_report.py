#!/usr/bin/env python3
"""Measures loading a large graph and running it; writes bench/LOAD_RESULTS.md.

For the fan-in-32 tree of 1,000,000 and 10,000,000 leaves (bench/load/gen.py), in the
text, the JSON and the binary form (`taskloom convert` of the JSON file):
- loading: `taskloom run FILE --get total --dry-run` (read, parse, validate, cull,
  order, in a whole process), wall time and peak RSS per task; the same with the
  binary before this work (`--before BIN`), side by side, runs alternating;
- the whole run: `taskloom run FILE --get total`, wall time and peak RSS per task;
- instructions of a loading run (`perf stat -e instructions`), which the machine's
  load does not change, when perf can count them;
- the steps apart (`load_phases`, an example of crates/graph): read (the file's bytes
  from the page cache), parse, validate, cull, order;
- the bound: reading the bytes, and tokenizing them with simd-json (bench/load/bound,
  built when cargo can fetch simd-json; else left out, said so); for the binary form,
  reading the bytes is the bound;
- `taskloom scale` of the 1M tree at 1 and 2 workers: the JSON form and the binary
  form (and the binary before this work, with `--before`);
- Dask's graph construction and cull + `dask.order` on the 100,000-leaf tree.
The 10M files are deleted at the end. Standard library only (Dask from bench/.venv).
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, HERE)
import gen  # noqa: E402
import report  # noqa: E402  (sh, noise_start, noise)

BIN = os.path.join(ROOT, "target", "release", "taskloom")
PHASES = os.path.join(ROOT, "target", "release", "examples", "load_phases")
BOUND = os.path.join(BENCH, "out", "load", "bound", "release", "load_bound")
OUTPUT = os.path.join(BENCH, "LOAD_RESULTS.md")
VENV_PY = os.path.join(BENCH, ".venv", "bin", "python")
GOAL_LOAD, GOAL_RUN, GOAL_RSS = 0.2, 0.6, 120
# Instructions are counted under callgrind, about 50 times slower: up to the 1M graphs.
INSTR_MAX = 1_000_000


# The forms measured, as their files end, and as the tables name them.
FORMS = ("tl", "json", "tlg")
FORM_NAMES = {"tl": "text", "json": "JSON", "tlg": "binary"}


def path(n, form):
    return os.path.join(gen.OUT, f"tree_{n}.{form}")


def make_binary(n):
    """The binary form of the tree of n leaves, converted from its JSON file."""
    subprocess.run([BIN, "convert", path(n, "json"), path(n, "tlg")], check=True)


def cli(binary, args):
    """(wall s, peak RSS bytes, CPU s, stdout) of one `taskloom run ARGS`: CPU time
    (user + system) is what the machine's other work changes least. Fails loudly."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen([binary, "run", *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise RuntimeError(f"{binary} run {' '.join(args)}: {err.read().decode().strip()}")
        out.seek(0)
        return wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime, out.read().decode()


def instructions(binary, args):
    """Instructions the process ran in user space, counted by callgrind (this VM
    gives perf no hardware counters): the one figure the machine's load cannot
    change. None without valgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg",
                            binary, "run", *args], capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", r.stderr)
        return int(m.group(1)) if m else None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def measure(sizes, repeat, before):
    rows = []
    for n in sizes:
        for form in FORMS:
            f = path(n, form)
            tasks = tree_tasks(n)
            load = {"after": [], "before": []}
            run = []
            # A binary from before this work reads no binary form.
            earlier = before if form != "tlg" else None
            sides = [("after", BIN)] + ([("before", earlier)] if earlier else [])
            for rep in range(repeat):
                for side, binary in (sides if rep % 2 == 0 else sides[::-1]):
                    cli(binary, [f, "--get", "total", "--dry-run"])  # warm-up: page cache, allocator
                    load[side].append(cli(binary, [f, "--get", "total", "--dry-run"])[:3])
                wall, rss, cpu, out = cli(BIN, [f, "--get", "total"])
                if int(out) != n * (n + 1) // 2:
                    raise RuntimeError(f"{f}: total {out.strip()}")
                run.append((wall, rss, cpu))
            # The steps with the source read in a piece per core, then with one parser (as
            # taskloom reads it): the same run.
            phases = json.loads(subprocess.run([PHASES, f, "total", str(repeat), str(os.cpu_count())],
                                               check=True, capture_output=True, text=True).stdout)
            phases_one = json.loads(subprocess.run([PHASES, f, "total", str(repeat), "1"], check=True,
                                                   capture_output=True, text=True).stdout)
            bound = {"tokenize": 0.0} if form == "tlg" else None
            if form == "json" and os.path.exists(BOUND):
                bound = json.loads(subprocess.run([BOUND, f, str(repeat)], check=True,
                                                  capture_output=True, text=True).stdout)
            row = {
                "n": n, "form": form, "tasks": tasks, "bytes": os.path.getsize(f),
                "load_s": med(x[0] for x in load["after"]),
                "load_rss": med(x[1] for x in load["after"]),
                "load_cpu": med(x[2] for x in load["after"]),
                "before_s": med(x[0] for x in load["before"]),
                "before_rss": med(x[1] for x in load["before"]),
                "before_cpu": med(x[2] for x in load["before"]),
                "run_s": med(x[0] for x in run), "run_rss": med(x[1] for x in run),
                "run_cpu": med(x[2] for x in run),
                "instr": instructions(BIN, [f, "--get", "total", "--dry-run"]) if n <= INSTR_MAX else None,
                "before_instr": (instructions(earlier, [f, "--get", "total", "--dry-run"])
                                 if earlier and n <= INSTR_MAX else None),
                "phases": phases, "phases_one": phases_one, "bound": bound,
                "runs": {"load": load, "run": run},
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def tree_tasks(n):
    """Tasks of the tree over n leaves: the leaves and every level of sums."""
    tasks, level = n, n
    while level > 1:
        level = -(-level // gen.gen_graphs.FAN_IN)
        tasks += level
    return tasks


def scale(binary, f, repeat):
    """`taskloom scale` at 1 and 2 workers (the run alone), and the same for the whole
    process (`taskloom run --workers P`, loading included): T(1), T(2), S(2) and the
    Karp-Flatt serial fraction e = (1/S - 1/2) / (1 - 1/2) of each."""
    r = subprocess.run([binary, "scale", f, "--get", "total", "-w", "1,2", "--repeat", str(repeat), "--json"],
                       capture_output=True, text=True, check=True)
    points = {p["workers"]: p["seconds"] for p in json.loads(r.stdout)["points"]}
    whole = {p: med(cli(binary, [f, "--get", "total", "--workers", str(p)])[0] for _ in range(repeat))
             for p in (1, 2)}
    return {"run": serial(points[1], points[2]), "whole": serial(whole[1], whole[2])}


def serial(t1, t2):
    s2 = t1 / t2
    return {"T1": t1, "T2": t2, "S2": s2, "B": (1 / s2 - 1 / 2) / (1 - 1 / 2)}


def dask_reference():
    """Dask's graph construction and cull + order on the 100,000-leaf tree, median of 3."""
    if not os.path.exists(VENV_PY):
        return None
    code = ("import sys, json; sys.path.insert(0, %r); import dask_bench; "
            "print(json.dumps([dask_bench.measure('load', 'tree', 100000) for _ in range(3)]))" % BENCH)
    r = subprocess.run([VENV_PY, "-c", code], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    runs = json.loads(r.stdout.strip().splitlines()[-1])
    return {"build_us": med(x["build_us_per_task"] for x in runs), "order_us": med(x["us_per_task"] for x in runs),
            "tasks": runs[0]["tasks"]}


def us(s, tasks):
    return None if s is None else s / tasks * 1e6


def fmt(x, digits=3):
    if x is None:
        return "–"
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"


def render(rows, scales, dask, noise, args):
    ymd = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    md = ["# Loading a large graph: read, parse, validate, cull, order\n",
          f"Written by `{args.command}` on {ymd}; every number comes from that run. "
          f"Medians of {args.repeat} runs; each loading run follows an untimed one of the same command "
          "(file in the page cache), and the binaries before and after alternate.\n",
          "| | |\n|---|---|",
          f"| machine | {report.sh('nproc')} cores, {report.sh('uname -r')} |",
          f"| load average before the runs | {noise['load_before']} |",
          f"| CPU time used by other processes during the runs | {noise['other_cpu']:.1f} s over "
          f"{noise['wall']:.0f} s of wall time |",
          f"| taskloom | commit {noise.get('commit') or report.sh('git rev-parse --short HEAD')}, "
          "`cargo build --release` |",
          f"| before | {args.before_label or '–'} |\n",
          busy_note(noise),
          "## Per task, whole process\n",
          "Loading: `taskloom run FILE --get total --dry-run`. Whole run: `taskloom run FILE --get total` "
          "(2 workers). RSS: the process's peak (`ru_maxrss`).\n",
          "| graph | form | tasks | MB | loading µs/task (before) | loading µs/task | goal ≤ 0.2 | "
          "loading, CPU µs/task (before → after) | instructions/task (before → after) | whole run µs/task "
          "(CPU) | goal ≤ 0.6 | peak bytes/task, loading (before → after) | peak bytes/task, whole run | "
          "goal ≤ 120 |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["tasks"]
        load, run = us(r["load_s"], t), us(r["run_s"], t)
        rss = r["run_rss"] / t
        instr = (f"{fmt(r['before_instr'] / t if r['before_instr'] else None)} → "
                 f"{fmt(r['instr'] / t if r['instr'] else None)}")
        md.append(f"| tree {r['n']:,} | {FORM_NAMES[r['form']]} | {t:,} | "
                  f"{r['bytes'] / 1e6:.0f} | {fmt(us(r['before_s'], t))} | {fmt(load)} | "
                  f"{'yes' if load <= GOAL_LOAD else '**no**'} | "
                  f"{fmt(us(r['before_cpu'], t))} → {fmt(us(r['load_cpu'], t))} | {instr} | "
                  f"{fmt(run)} ({fmt(us(r['run_cpu'], t))}) | "
                  f"{'yes' if run <= GOAL_RUN else '**no**'} | "
                  f"{fmt(r['before_rss'] / t if r['before_rss'] else None)} → {fmt(r['load_rss'] / t)} | "
                  f"{fmt(rss)} | {'yes' if rss <= GOAL_RSS else '**no**'} |")
    md += ["\n## The steps, and the bound\n",
           "`target/release/examples/load_phases FILE total R` (in one process, no start-up): µs per task "
           "of each step. *read* copies the file from the page cache; *tokenize* is simd-json's tape "
           "(`fill_tape` with buffers reused: its fastest) of the same bytes, already in memory (`bench/load/bound`): "
           "read + tokenize is the least any loader of the JSON form pays, before it builds anything; "
           "the binary form needs no tokenizing: its bound is the read. "
           "*parse, one parser* is `load_phases FILE total R 1`, as taskloom reads; *in pieces* is "
           "`load_phases FILE total R NPROC`, a piece per core (`parse_bytes_in_parts`); CPU is every thread's.\n",
           "| graph | form | read | parse, one parser (CPU) | parse (with edges), in pieces (CPU) | validate | cull "
           "| order | sum | bound: read + tokenize |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t, p, one = r["tasks"], r["phases"], r.get("phases_one")
        steps = [p[k] for k in ("read", "parse", "validate", "cull", "order")]
        b = r["bound"]
        bound = fmt(us(p["read"] + b["tokenize"], t)) if b and "tokenize" in b else "–"
        cpu = lambda ph: f" ({fmt(us(ph['parse_cpu'], t))})" if ph and "parse_cpu" in ph else ""
        one_parse = fmt(us(one["parse"], t)) + cpu(one) if one else "–"
        cells = [fmt(us(steps[0], t)), one_parse, fmt(us(steps[1], t)) + cpu(p)] + [fmt(us(x, t)) for x in steps[2:]]
        md.append(f"| tree {r['n']:,} | {FORM_NAMES[r['form']]} | "
                  + " | ".join(cells) + f" | {fmt(us(sum(steps), t))} | {bound} |")
    if scales:
        md += ["\n## The serial fraction of the 1M tree, 1 and 2 workers\n",
               "*run alone*: `taskloom scale FILE --get total -w 1,2`, which times the run after loading; "
               "*whole process*: `taskloom run FILE --get total --workers P`, loading included. "
               "B is the Karp-Flatt serial fraction (1/S(2) - 1/2) / (1 - 1/2).\n",
               "| binary, form | what | T(1) s | T(2) s | S(2) | serial fraction B |", "|---|---|---|---|---|---|"]
        for label, s in scales:
            for what, name in (("run", "run alone (`scale`)"), ("whole", "whole process")):
                x = s[what]
                md.append(f"| {label} | {name} | {fmt(x['T1'])} | {fmt(x['T2'])} | {fmt(x['S2'])} | "
                          f"{fmt(x['B'])} |")
    if dask:
        md += ["\n## Dask, for reference (100,000-leaf tree, "
               f"{dask['tasks']:,} tasks)\n",
               "| | µs/task |", "|---|---|",
               f"| building the graph dict | {fmt(dask['build_us'])} |",
               f"| `dask.optimization.cull` + `dask.order.order` | {fmt(dask['order_us'])} |"]
    md += ["\n## Every run\n", "| graph | form | what | runs (s) |", "|---|---|---|---|"]
    for r in rows:
        name = f"tree {r['n']:,} | {FORM_NAMES[r['form']]}"
        for side in ("before", "after"):
            if r["runs"]["load"][side]:
                md.append(f"| {name} | loading, {side} | "
                          + ", ".join(f"{x[0]:.3f}" for x in r["runs"]["load"][side]) + " |")
        md.append(f"| {name} | whole run | " + ", ".join(f"{x[0]:.3f}" for x in r["runs"]["run"]) + " |")
    return "\n".join(md) + "\n"


def busy_note(noise):
    """How far other work skews the figures, said where it matters."""
    cores = noise["other_cpu"] / noise["wall"]
    if cores < 0.25:
        return ""
    return (f"Other processes used {cores:.1f} of the {os.cpu_count()} cores on average during the runs: wall "
            "times wait for the processor, and 2 workers cannot show a speed-up. CPU seconds and instructions "
            "per task are the figures to compare.\n")


def main():
    global BIN, INSTR_MAX
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    ap.add_argument("--after", default=BIN, help="the taskloom binary measured (default: this build's)")
    ap.add_argument("--before", help="a taskloom binary to compare against")
    ap.add_argument("--before-label", default="")
    ap.add_argument("--command", default="bash bench/load/run.sh")
    ap.add_argument("--no-instructions", action="store_true",
                    help="leave out the instruction counts (callgrind runs about 50 times slower)")
    ap.add_argument("--render-only", action="store_true",
                    help="write LOAD_RESULTS.md again from the last run's figures (bench/out/load/last.json)")
    args = ap.parse_args()
    if args.no_instructions:
        INSTR_MAX = 0
    if args.render_only:
        last = json.load(open(os.path.join(gen.OUT, "last.json")))
        with open(OUTPUT, "w") as out:
            out.write(render(last["rows"], last["scales"], last["dask"], last["noise"], args))
        return
    BIN = args.after
    for n in args.sizes:
        if not all(os.path.exists(path(n, f)) for f in ("tl", "json")):
            subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), str(n)], check=True)
        make_binary(n)
    # The commit measured is the one built when the run starts.
    commit = report.sh("git rev-parse --short HEAD")
    start = report.noise_start()
    try:
        rows = measure(args.sizes, args.repeat, args.before)
        scales = []
        if 1_000_000 in args.sizes:
            f = path(1_000_000, "json")
            if args.before:
                scales.append(("before, JSON", scale(args.before, f, args.repeat)))
            scales.append(("after, JSON", scale(BIN, f, args.repeat)))
            scales.append(("after, binary", scale(BIN, path(1_000_000, "tlg"), args.repeat)))
        dask = dask_reference()
    finally:
        for n in args.sizes:
            if n >= 10_000_000:
                for form in FORMS:
                    if os.path.exists(path(n, form)):
                        os.remove(path(n, form))
    noise = dict(report.noise(start), commit=commit)
    with open(os.path.join(gen.OUT, "last.json"), "w") as out:
        json.dump({"rows": rows, "scales": scales, "dask": dask, "noise": noise}, out)
    with open(OUTPUT, "w") as out:
        out.write(render(rows, scales, dask, noise, args))
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
