#!/usr/bin/env python3
"""Runs the array benchmark (taskloom's array engine vs dask.array, NumPy and the disk)
and writes bench/ARRAY_RESULTS.md: every figure of the array engine's goals, side by
side with its reference in one session. Called by bench/array/run.sh, which sets up the venv,
builds taskloom and removes the data afterwards.

Every measurement is a separate process under `/usr/bin/time -f %M` (its peak RSS). The
runs of one figure alternate between the sides, the first side swapping each repetition,
so that load from other processes on the machine hits every side alike; each figure is
the median of its runs. Every run is also logged to bench/out/array/runs.jsonl.
"""
import argparse
import datetime
import importlib.metadata as md
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "bench", "out", "array")
PY = sys.executable
TL = os.path.join(ROOT, "target", "release", "taskloom")
EX = os.path.join(ROOT, "target", "release", "examples", "array_bench")
GIB = 2**30

# Sizes: (full, quick). Squares of float64: 23168^2 * 8 B = 4.0 GiB in 8 x 8 blocks of 64 MiB.
SIZES = {
    "square": ((23168, 2896), (4000, 1000)),
    "line": ((2**27, 2**23), (10_000_000, 1_000_000)),  # 1 GiB in 16 blocks of 64 MiB
    "matmul": ((8000, 2000), (2000, 500)),
    "warm": ((16384, 32768, 2048, 2048), (4096, 8192, 1024, 1024)),  # 4 GiB, 128 chunks of 32 MiB
    "cold": ((131072, 32768, 2048, 2048), (16384, 8192, 1024, 1024)),  # 32 GiB, 1024 chunks of 32 MiB
}
WARM_LIMIT = "256MiB"
COLD_LIMIT = "512MiB"
# The misaligned rechunk: (rows, cols, chunk rows, chunk cols) in, output chunks; the
# output's chunks cross the input's on both axes (each reads parts of up to 8).
RECHUNK = (((16384, 32768, 1024, 4096), (3000, 700)), ((4096, 8192, 512, 1024), (750, 175)))
RECHUNK_LIMIT = "256MiB"
# The sort through files: a limit too small to sort the 1 GiB line in memory (3x it).
SORT_FILES_LIMIT_MIB = (1024, 64)
# dd's file, to measure the scratch disk: 2 GiB (quick: 256 MiB).
DD_BYTES = (2**31, 2**28)


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=ROOT).stdout.strip()


def load():
    return float(open("/proc/loadavg").read().split()[0])


def drop_caches():
    subprocess.run("sync; echo 3 > /proc/sys/vm/drop_caches", shell=True, check=True)


def measure(argv, parse_json=True):
    """Runs argv under /usr/bin/time; returns seconds (in-process if the program prints
    them, else wall), peak RSS in MiB, the program's check value and the load before."""
    rss_file = os.path.join(OUT, "rss.txt")
    before = load()
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, capture_output=True, text=True,
                       cwd=ROOT)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1][:300], "load": before}
    rss = int(open(rss_file).read().split()[-1]) / 1024
    r = {"seconds": wall, "wall": wall, "rss_mib": rss, "load": before}
    lines = p.stdout.strip().splitlines()
    if parse_json:
        out = json.loads(lines[-1])
        r.update(seconds=out["seconds"], check=out["check"])
    elif lines:
        r["check"] = lines[-1][:200]  # the CLI prints the bare result; wall time stands
    return r


class Runner:
    def __init__(self, repeat, warmup):
        self.repeat = repeat
        self.warmup = warmup
        self.runs = {}  # name -> list of results
        self.log = open(os.path.join(OUT, "runs.jsonl"), "w")

    def group(self, jobs, repeat=None, before_each=None, warmup=None):
        """jobs: [(name, argv, parse_json)], run `repeat` times, alternating order; each
        timed run follows `warmup` untimed runs of the same command (as hyperfine's)."""
        for rep in range(repeat or self.repeat):
            order = jobs if rep % 2 == 0 else list(reversed(jobs))
            for name, argv, parse in order:
                for _ in range(self.warmup if warmup is None else warmup):
                    measure(argv, parse)
                if before_each:
                    before_each()
                r = measure(argv, parse)
                r.update(name=name, rep=rep, date=time.strftime("%Y-%m-%d %H:%M"))
                self.runs.setdefault(name, []).append(r)
                self.log.write(json.dumps(r) + "\n")
                self.log.flush()
                print(f"rep {rep} {name:18} " + (r["error"] if "error" in r else
                      f"{r['seconds']:.3f} s, {r['rss_mib']:.0f} MiB, load {r['load']:.2f}"), flush=True)

    def merge(self, paths):
        """Adds the runs of earlier logs for measurements this run did not make; returns
        {name: dates} of what it added."""
        added = {}
        for path in paths:
            for line in open(path):
                r = json.loads(line)
                if r["name"] in self.runs and r["name"] not in added:
                    continue
                self.runs.setdefault(r["name"], []).append(r)
                added.setdefault(r["name"], set()).add(r.get("date", "?"))
        return added

    def med(self, name, field="seconds"):
        rs = self.runs.get(name, [])
        ok = [r[field] for r in rs if "error" not in r]
        return statistics.median(ok) if ok else None

    def error(self, name):
        rs = self.runs.get(name)
        if not rs:
            return "not run"
        errs = [r["error"] for r in rs if "error" in r]
        return errs[0] if errs else None


def files_of(path):
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(path, "c")) for f in fs)


def write_list(path, files):
    with open(path, "w") as f:
        f.write("\n".join(files) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold-repeat", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=0,
                    help="untimed runs before each timed one of the in-memory and page-cache cases: on this VM "
                         "a process that follows one which freed GiBs pays seconds of kernel page clearing")
    ap.add_argument("--command", default="bash bench/array/run.sh")
    ap.add_argument("--only", default="memory,disk,rechunk,warm,cold",
                    help="which groups to run: memory (generated arrays), disk (the sort through files against "
                         "dd; needs root), rechunk (4 GiB Zarr under a memory limit), warm (4 GiB Zarr), "
                         "cold (32 GiB Zarr)")
    ap.add_argument("--merge", action="append", default=[],
                    help="a runs.jsonl of an earlier run whose measurements this run does not make "
                         "(the results then say so)")
    ap.add_argument("--output", help="default bench/ARRAY_RESULTS.md, or bench/out/array/QUICK_RESULTS.md "
                                     "with --quick (a smoke run does not replace the full results)")
    args = ap.parse_args()
    args.output = args.output or (os.path.join(OUT, "QUICK_RESULTS.md") if args.quick
                                  else os.path.join(ROOT, "bench", "ARRAY_RESULTS.md"))
    q = 1 if args.quick else 0
    size = {k: v[q] for k, v in SIZES.items()}
    os.makedirs(OUT, exist_ok=True)
    run = Runner(args.repeat, args.warmup)
    started, load_before = time.time(), sh("cat /proc/loadavg")
    cpu_before = other_cpu()

    only = set(args.only.split(","))
    if "memory" in only:
        memory_cases(run, args, size)
    if "disk" in only:
        disk_case(run, size, q)
    if "rechunk" in only:
        rechunk_case(run, args, q)
    rows, cols, cr, cc = size["warm"]
    warm_bytes = rows * cols * 8
    if "warm" in only:
        warm_case(run, size)
    rows, cols, cr, cc = size["cold"]
    cold_bytes = rows * cols * 8
    cold_skip = cold_case(run, args, size, cold_bytes) if "cold" in only else None
    merged = run.merge(args.merge)
    if "cold" not in only:
        cold_skip = "not run in this session (`--only` left it out)"

    noise = {"load_before": load_before, "wall": time.time() - started, "other_cpu": other_cpu() - cpu_before}
    text = render(run, args, size, warm_bytes, cold_bytes, cold_skip, noise, merged, q)
    with open(args.output, "w") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(args.output, ROOT)}")


def memory_cases(run, args, size):
    """The cases on generated arrays: taskloom's engine, dask.array and NumPy."""
    n, c = size["square"]
    for case in ("sum", "mean0", "xxt", "chain", "chain0", "cumsum0"):
        run.group([(f"tl_{case}", [EX, case, str(n), str(c), "--workers", "2"], True),
                   (f"dask_{case}", [PY, "bench/array/dask_cases.py", case, str(n), str(c)], True)])
    n1, c1 = size["line"]
    run.group([("tl_topk", [EX, "topk", str(n1), str(c1), "--workers", "2"], True),
               ("dask_topk", [PY, "bench/array/dask_cases.py", "topk", str(n1), str(c1)], True)])
    run.group([("tl_sort", [EX, "sort", str(n1), str(c1), "--workers", "2"], True),
               ("np_sort", [PY, "bench/array/dask_cases.py", "np_sort", str(n1), "0"], True)])
    # A shuffle of 1 GiB through pandas takes minutes: fewer runs.
    run.group([("dd_sort", [PY, "bench/array/dask_cases.py", "dd_sort", str(n1), str(c1)], True)],
              repeat=min(2, args.repeat), warmup=0)
    nm, cm = size["matmul"]
    run.group([("tl_matmul", [EX, "matmul", str(nm), str(cm), "--workers", "2"], True),
               ("np_matmul", [PY, "bench/array/dask_cases.py", "np_matmul", str(nm), "0"], True),
               ("dask_matmul", [PY, "bench/array/dask_cases.py", "matmul", str(nm), str(cm)], True),
               ("tl_matmul_nd", ["env", "TASKLOOM_BLAS=none", EX, "matmul", str(nm), str(cm), "--workers", "2"],
                True),
               ("tl_gen2", [EX, "gen2", str(nm), str(cm), "--workers", "2"], True)])


def disk_case(run, size, q):
    """The sort through files against `dd` on the scratch directory's disk: a sequential
    write (fdatasync) and a cold read of the same bytes."""
    n1, c1 = size["line"]
    dd_bytes = DD_BYTES[q]
    path = os.path.join(tempfile.gettempdir(), f"bench_dd_{os.getpid()}")
    write = f"dd if=/dev/zero of={path} bs=16M count={dd_bytes >> 24} conv=fdatasync status=none"
    read = f"dd if={path} of=/dev/null bs=16M status=none"
    sort = [EX, "sort", str(n1), str(c1), "--workers", "2", "--memory-limit", str(SORT_FILES_LIMIT_MIB[q])]
    try:
        run.group([("dd_write", ["sh", "-c", write], False),
                   ("tl_sort_files", sort, True)], before_each=drop_caches, warmup=0)
        run.group([("dd_read", ["sh", "-c", read], False)], before_each=drop_caches, warmup=0)
    finally:
        if os.path.exists(path):
            os.remove(path)


def rechunk_case(run, args, q):
    """A misaligned rechunk of a Zarr array under a memory limit, taskloom against Dask,
    both writing uncompressed with 2 workers."""
    (rows, cols, cr, cc), (orow, ocol) = RECHUNK[q]
    src, dst = os.path.join(OUT, "rechunk-in.zarr"), os.path.join(OUT, "rechunk-out.zarr")
    try:
        subprocess.run([TL, "array", "create", src, "--shape", f"{rows},{cols}", "--chunks", f"{cr},{cc}",
                        "--random", "--compression", "none", "--overwrite"], check=True)
        clear = lambda: shutil.rmtree(dst, ignore_errors=True)  # noqa: E731
        run.group([("tl_rechunk", [TL, "array", "rechunk", src, "--chunks", f"{orow},{ocol}", "--out", dst,
                                   "--memory-limit", RECHUNK_LIMIT, "--workers", "2", "--compression", "none"],
                    False),
                   ("dask_rechunk", [PY, "bench/array/dask_cases.py", "zarr_rechunk", str(orow), str(ocol), src],
                    True)],
                  repeat=min(2, args.repeat), before_each=clear, warmup=0)
    finally:
        for path in (src, src + ".rechunked", dst):
            shutil.rmtree(path, ignore_errors=True)



def warm_case(run, size):
    """Sums a 4 GiB Zarr array in the page cache, against `cat` of its files."""
    warm = os.path.join(OUT, "warm.zarr")
    shutil.rmtree(warm, ignore_errors=True)
    subprocess.run([PY, os.path.join(HERE, "make_zarr.py"), warm, *map(str, size["warm"])], check=True)
    flist = os.path.join(OUT, "warm.files")
    write_list(flist, files_of(warm))
    sh(f"xargs cat < {flist} > /dev/null")  # into the page cache
    run.group([("cat_warm", ["sh", "-c", f"xargs cat < {flist} > /dev/null"], False),
               ("tl_zarr_warm", [TL, "array", "reduce", warm, "--op", "sum", "--workers", "2",
                                 "--memory-limit", WARM_LIMIT], False),
               ("dask_zarr_warm", [PY, "bench/array/dask_cases.py", "zarr_sum", "0", "0", warm], True)])
    shutil.rmtree(warm, ignore_errors=True)


def cold_case(run, args, size, cold_bytes):
    """Sums a 32 GiB Zarr array read cold, against `dd` of its files; the reason if skipped."""
    cold = os.path.join(OUT, "cold.zarr")
    free = shutil.disk_usage(OUT).free
    cold_skip = None
    if free < cold_bytes + 6 * GIB:
        cold_skip = (f"skipped: {free / GIB:.1f} GiB free on the disk, the {cold_bytes / GIB:.0f} GiB array "
                     "needs that plus 6 GiB of margin")
        print(cold_skip, flush=True)
    else:
        t0 = time.perf_counter()
        subprocess.run([PY, os.path.join(HERE, "make_zarr.py"), cold, *map(str, size["cold"])], check=True)
        print(f"created in {time.perf_counter() - t0:.0f} s", flush=True)
        flist = os.path.join(OUT, "cold.files")
        write_list(flist, files_of(cold))
        dd = f"xargs -I F dd if=F of=/dev/null bs=16M status=none < {flist}"
        run.group([("dd_cold", ["sh", "-c", dd], False),
                   ("dd2_cold", ["sh", "-c", dd.replace("xargs", "xargs -P 2")], False),
                   ("tl_zarr_cold", [TL, "array", "reduce", cold, "--op", "sum", "--workers", "2",
                                     "--memory-limit", COLD_LIMIT], False),
                   ("dask_zarr_cold", [PY, "bench/array/dask_cases.py", "zarr_sum", "0", "0", cold], True)],
                  repeat=args.cold_repeat, before_each=drop_caches, warmup=0)
        shutil.rmtree(cold, ignore_errors=True)
    return cold_skip


def other_cpu():
    """CPU seconds the whole machine spent busy, minus those of this process tree, so far."""
    import resource
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    own = sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for f in ("ru_utime", "ru_stime"))
    return busy - own


def fmt(x, digits=2):
    return "n/a" if x is None else f"{x:.{digits}f}"


def met(cond):
    return "n/a" if cond is None else ("**yes**" if cond else "**no**")


def render(run, args, size, warm_bytes, cold_bytes, cold_skip, noise, merged, q):
    m, rss = run.med, (lambda name: run.med(name, "rss_mib"))
    div = lambda a, b: a / b if a is not None and b else None  # noqa: E731
    n, c = size["square"]
    n1, c1 = size["line"]
    nm, cm = size["matmul"]
    sq = f"{n} x {n} float64 ({n * n * 8 / GIB:.2f} GiB) in {c} x {c} chunks"
    ln = f"{n1:,} float64 ({n1 * 8 / GIB:.2f} GiB) in chunks of {c1:,}"
    rows = []  # (figure, taskloom command, tl s, other s, other side, ratio, tl RSS, other RSS, goal, met)

    for case, what in (("sum", "`x.sum()`"), ("mean0", "`x.mean(axis=0)`"), ("xxt", "`(x + x.T).sum()`"),
                       ("chain", "`(x * 2 + 1).sum()`"), ("chain0", "`(x * 2 + 1).mean(axis=0)`"),
                       ("cumsum0", "`x.cumsum(axis=0).sum()`")):
        r = div(m(f"dask_{case}"), m(f"tl_{case}"))
        # A fused chain's bar is the memory's bandwidth (examples/fused_speed.rs), not Dask.
        reference = case in ("chain", "chain0")
        goal, ok = ("(reference)", "") if reference else ("≥ 2x faster", met(None if r is None else r >= 2))
        rows.append([f"{what}, random {sq}", f"`array_bench {case} {n} {c} --workers 2`", fmt(m(f"tl_{case}")),
                     fmt(m(f"dask_{case}")), "dask.array", fmt(r) + "x", fmt(rss(f"tl_{case}"), 0),
                     fmt(rss(f"dask_{case}"), 0), goal, ok])
    r = div(m("dask_topk"), m("tl_topk"))
    rows.append([f"top-10 of random {ln}", f"`array_bench topk {n1} {c1} --workers 2`", fmt(m("tl_topk")),
                 fmt(m("dask_topk")), "`da.topk`", fmt(r) + "x", fmt(rss("tl_topk"), 0), fmt(rss("dask_topk"), 0),
                 "≥ 2x faster", met(None if r is None else r >= 2)])
    r = div(m("dd_sort"), m("tl_sort"))
    rows.append([f"sort of random {ln}", f"`array_bench sort {n1} {c1} --workers 2`", fmt(m("tl_sort")),
                 fmt(m("dd_sort")), "dask.dataframe `sort_values` (dask.array has no sort)", fmt(r) + "x",
                 fmt(rss("tl_sort"), 0), fmt(rss("dd_sort"), 0), "≥ 2x faster", met(None if r is None else r >= 2)])
    r = div(m("np_sort"), m("tl_sort"))
    rows.append(["sort, same", "same", fmt(m("tl_sort")), fmt(m("np_sort")),
                 "NumPy `np.sort`, in memory, 1 thread", fmt(r) + "x", fmt(rss("tl_sort"), 0), fmt(rss("np_sort"), 0),
                 "within 1.5x of NumPy (≥ 0.67x)", met(None if r is None else r >= 1 / 1.5)])
    flop = 2 * nm**3 / 1e9
    gf = lambda s: flop / s if s else None  # noqa: E731
    tl_gf, np_gf, dk_gf = gf(m("tl_matmul")), gf(m("np_matmul")), gf(m("dask_matmul"))
    net = gf(m("tl_matmul") - m("tl_gen2")) if m("tl_matmul") and m("tl_gen2") else None
    r = div(tl_gf, np_gf)
    rows.append([f"matmul {nm} x {nm} @ {nm} x {nm}, {cm} x {cm} chunks, GFLOP/s",
                 f"`array_bench matmul {nm} {cm} --workers 2`", fmt(tl_gf, 1), fmt(np_gf, 1),
                 "NumPy/OpenBLAS `a @ b` in memory, 2 threads", f"{fmt(100 * r, 0) if r else 'n/a'}%",
                 fmt(rss("tl_matmul"), 0), fmt(rss("np_matmul"), 0), "≥ 90% of NumPy",
                 met(None if r is None else r >= 0.9)])
    rows.append(["matmul, same, vs dask.array", "same", fmt(tl_gf, 1), fmt(dk_gf, 1), "dask.array `x @ y`",
                 f"{fmt(100 * div(dk_gf, np_gf), 0) if div(dk_gf, np_gf) else 'n/a'}% of NumPy (dask)",
                 fmt(rss("tl_matmul"), 0), fmt(rss("dask_matmul"), 0), "(reference)", ""])
    nd_gf = gf(m("tl_matmul_nd"))
    rows.append(["matmul, same, without a BLAS", "`TASKLOOM_BLAS=none array_bench matmul ...` (ndarray's product)",
                 fmt(nd_gf, 1), fmt(np_gf, 1), "NumPy/OpenBLAS",
                 f"{fmt(100 * div(nd_gf, np_gf), 0) if div(nd_gf, np_gf) else 'n/a'}%",
                 fmt(rss("tl_matmul_nd"), 0), fmt(rss("np_matmul"), 0), "(reference)", ""])
    rows.append(["matmul, less generating the inputs", "`array_bench gen2` subtracted", fmt(net, 1), fmt(np_gf, 1),
                 "NumPy", f"{fmt(100 * div(net, np_gf), 0) if div(net, np_gf) else 'n/a'}%", "", "", "(reference)", ""])
    if run.runs.get("tl_sort_files"):
        ok_runs = [r for r in run.runs["tl_sort_files"] if "error" not in r]
        rate = statistics.median(r["check"]["io_bytes"] / r["seconds"] for r in ok_runs) / 1e6 if ok_runs else None
        dd_bytes = DD_BYTES[q]
        w, rd = m("dd_write"), m("dd_read")
        mix = 2 / (w / dd_bytes + rd / dd_bytes) / 1e6 if w and rd else None  # half written, half read
        r = div(rate, mix)
        limit = SORT_FILES_LIMIT_MIB[q]
        rows.append([f"sort of the same through files (`--memory-limit {limit}`), MB/s read + written",
                     f"`array_bench sort {n1} {c1} --workers 2 --memory-limit {limit}`", fmt(rate, 0), fmt(mix, 0),
                     f"`dd` on the scratch disk: write {fmt(dd_bytes / w / 1e6 if w else None, 0)} MB/s "
                     f"(fdatasync), cold read {fmt(dd_bytes / rd / 1e6 if rd else None, 0)} MB/s, half and half",
                     f"{fmt(100 * r, 0) if r else 'n/a'}% of the disk", fmt(rss("tl_sort_files"), 0), "",
                     "≥ 50% of the disk", met(None if r is None else r >= 0.5)])
    if run.runs.get("tl_rechunk"):
        (rrows, rcols, rcr, rcc), (orow, ocol) = RECHUNK[q]
        r = div(m("dask_rechunk"), m("tl_rechunk"))
        rows.append([f"misaligned rechunk of a {rrows * rcols * 8 / GIB:.2g} GiB Zarr ({rrows} x {rcols}, "
                     f"{rcr} x {rcc} chunks) to {orow} x {ocol} chunks, written uncompressed",
                     f"`taskloom array rechunk IN --chunks {orow},{ocol} --out OUT --memory-limit {RECHUNK_LIMIT} "
                     "--workers 2 --compression none`", fmt(m("tl_rechunk")), fmt(m("dask_rechunk")),
                     "`da.from_zarr(IN).rechunk(...)` stored with `da.store`", fmt(r) + "x",
                     fmt(rss("tl_rechunk"), 0), fmt(rss("dask_rechunk"), 0), "peak RSS ≤ 400 MiB",
                     met(None if rss("tl_rechunk") is None else rss("tl_rechunk") <= 400)])
    wr, wc, wcr, wcc = size["warm"]
    bw = lambda b, s: b / GIB / s if s else None  # noqa: E731
    r = div(m("tl_zarr_warm"), m("cat_warm"))
    ok = None if r is None else (r <= 1.2 and rss("tl_zarr_warm") <= 400)
    rows.append([f"sum of a {warm_bytes / GIB:.2g} GiB Zarr in the page cache ({wr} x {wc}, {wcr} x {wcc} chunks)",
                 f"`taskloom array reduce warm.zarr --op sum --workers 2 --memory-limit {WARM_LIMIT}`",
                 fmt(m("tl_zarr_warm")), fmt(m("cat_warm")), "`cat FILES > /dev/null` (bound)",
                 f"{fmt(r)}x the bound", fmt(rss("tl_zarr_warm"), 0), fmt(rss("cat_warm"), 0),
                 "≤ 1.2x the bound, RSS ≤ 400 MiB", met(ok)])
    r = div(m("dask_zarr_warm"), m("tl_zarr_warm"))
    rows.append(["same, vs Dask", "same", fmt(m("tl_zarr_warm")), fmt(m("dask_zarr_warm")),
                 "`da.from_zarr(p).sum()`", fmt(r) + "x", fmt(rss("tl_zarr_warm"), 0), fmt(rss("dask_zarr_warm"), 0),
                 "(reference)", ""])
    cr_, cc_, ccr, ccc = size["cold"]
    if run.runs.get("tl_zarr_cold"):
        tl_bw, dd_bw, dk_bw = bw(cold_bytes, m("tl_zarr_cold")), bw(cold_bytes, m("dd_cold")), \
            bw(cold_bytes, m("dask_zarr_cold"))
        r = div(tl_bw, dd_bw)
        ok = None if r is None else (r >= 0.85 and rss("tl_zarr_cold") <= 1024)
        rows.append([f"sum of a {cold_bytes / GIB:.2g} GiB Zarr, cold ({cr_} x {cc_}, {ccr} x {ccc} chunks), GiB/s",
                     f"`taskloom array reduce cold.zarr --op sum --workers 2 --memory-limit {COLD_LIMIT}`",
                     fmt(tl_bw), fmt(dd_bw), "`dd bs=16M` of each file, cold (bound)",
                     f"{fmt(100 * r, 0) if r else 'n/a'}% of the bound", fmt(rss("tl_zarr_cold"), 0),
                     fmt(rss("dd_cold"), 0), "≥ 85% of the bound, RSS ≤ 1024 MiB", met(ok)])
        d2 = bw(cold_bytes, m("dd2_cold"))
        rows.append(["same, vs two `dd` streams at once, GiB/s", "same", fmt(tl_bw), fmt(d2),
                     "`xargs -P 2 dd`, cold (two files read at a time, as two workers do)",
                     f"{fmt(100 * div(tl_bw, d2), 0) if div(tl_bw, d2) else 'n/a'}%", fmt(rss("tl_zarr_cold"), 0),
                     fmt(rss("dd2_cold"), 0), "(reference)", ""])
        rows.append(["same, vs Dask, GiB/s", "same", fmt(tl_bw), fmt(dk_bw), "`da.from_zarr(p).sum()`",
                     f"{fmt(100 * div(dk_bw, dd_bw), 0) if div(dk_bw, dd_bw) else 'n/a'}% of the bound (dask)",
                     fmt(rss("tl_zarr_cold"), 0), fmt(rss("dask_zarr_cold"), 0), "(reference)", ""])

    out = ["# taskloom arrays vs dask.array: benchmark results\n",
           f"Reproduce with `{args.command}`. Every number below was produced by `bench/array/bench.py` in one "
           "session, or in an earlier one where a note below says so (`--merge`); `bench/array/run.sh` sets up the "
           "venv, builds, runs it and deletes the data. Nothing is typed in by hand.\n",
           "How to read it: each measurement is its own process under `/usr/bin/time -f %M` (peak RSS, MiB). "
           "Times are medians of the runs listed at the end; the sides of a figure alternate, the first swapping "
           "each repetition. " + (
               f"Each timed run follows {args.warmup} untimed run(s) of the same command (except the 32 GiB cold "
               "case and the dask.dataframe sort). " if args.warmup else
               "There are no warm-up runs: a process that follows one which freed GiBs may pay for the kernel "
               "clearing those pages again (up to ~2 s per GiB on this VM), which makes the cases that allocate "
               "GiBs noisy; `bench.py --warmup 1` avoids that. ") +
           "In-memory cases time the computation only, in the process, from a lazy expression to "
           "the result in memory: taskloom with `examples/array_bench.rs` (the engine as `taskloom::array`, 2 "
           "workers), Dask with `bench/array/dask_cases.py` (`compute()` on the threaded scheduler, 2 workers, "
           "graph built before), both generating the same shapes and chunks of uniform random float64 inside the "
           "graph (each side with its own generator). NumPy is timed on the operation alone, inputs made before. "
           "The Zarr cases time the whole `taskloom array reduce` (or `rechunk`) process, but only `compute()` "
           "for Dask. The sort through files runs with a memory limit too small to sort in memory; its rate is "
           "the bytes it read and wrote (`/proc/self/io`) over its time, against `dd` writing (with fdatasync) "
           "and reading cold the same disk, taken half and half as the sort's traffic is. "
           f"Zarr data: format 3, written by zarr-python {md.version('zarr')} with `compressors=None` (codec "
           "chain: `bytes` only, uncompressed), the same files for every side; the 32 GiB array is created by the "
           "run and deleted after. Cold runs follow `sync; echo 3 > /proc/sys/vm/drop_caches`.\n",
           "## Results\n",
           "| figure | taskloom command | taskloom | other | other side | ratio | taskloom RSS MiB | other RSS MiB "
           "| goal | met |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out.append("")
    out.append("Times are seconds unless the figure says GFLOP/s or GiB/s. *ratio*: for times, other ÷ taskloom "
               "(how many times faster taskloom is); for the bound, taskloom ÷ bound; for rates, taskloom ÷ other.\n")
    if cold_skip:
        out.append(f"> 32 GiB cold case: {cold_skip}\n")
    if merged:
        dates = sorted(set().union(*merged.values()))
        out.append(f"> From an earlier run ({', '.join(dates)}; `--merge`), not this one: "
                   f"{', '.join(sorted(merged))}. The environment below is this run's.\n")
    errors = {name: run.error(name) for name in run.runs if run.error(name)}
    for name, e in errors.items():
        out.append(f"> {name} failed: {e}\n")

    out.append("## Environment\n")
    dirty = " (working tree had uncommitted changes)" if sh("git status --porcelain -- . ':!bench'") else ""
    env = [
        ("command", f"`{args.command}`"),
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("CPU", sh("nproc") + " x " + sh("lscpu | sed -n 's/^Model name: *//p' | head -1")),
        ("RAM", sh("free -g | awk '/Mem:/{print $2}'") + " GiB"),
        ("kernel", platform.release()),
        ("load average before the runs", noise["load_before"]),
        ("CPU time used by other processes during the runs",
         f"{noise['other_cpu']:.0f} s over {noise['wall']:.0f} s of wall time "
         f"({noise['other_cpu'] / noise['wall'] * 100:.0f}% of one core)"),
        ("taskloom", f"commit {sh('git rev-parse --short HEAD')}{dirty}, `cargo build --release`"),
        ("Python side", f"Python {platform.python_version()}, dask {md.version('dask')}, numpy {md.version('numpy')} "
                        f"(OpenBLAS), zarr {md.version('zarr')}, pandas {md.version('pandas')}, "
                        f"pyarrow {md.version('pyarrow')}"),
    ]
    out.append("| | |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in env) + "\n")
    out.append("## Every run\n")
    out.append("| measurement | runs: seconds (peak RSS MiB, load average before) |\n|---|---|")
    for name, rs in run.runs.items():
        cells = [r["error"][:60] if "error" in r else f"{r['seconds']:.3f} ({r['rss_mib']:.0f}, {r['load']:.1f})"
                 for r in rs]
        out.append(f"| {name} | {', '.join(cells)} |")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    main()
