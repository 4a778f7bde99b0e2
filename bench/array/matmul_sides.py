#!/usr/bin/env python3
"""matmul side by side: `array_bench matmul 8000 2000 --workers 2` with OpenBLAS (the
default where libopenblas.so.0 is installed), with ndarray's own
product (matrixmultiply, `TASKLOOM_BLAS=none`), and
NumPy/OpenBLAS `a @ b` on 2 threads (bench/array/dask_cases.py np_matmul), each run its
own process under /usr/bin/time, the sides alternating, the first swapping each
repetition. Prints one JSON line per run, then each side's median GFLOP/s.

    python bench/array/matmul_sides.py [REPEAT] [SIDE,SIDE,...]

Run from the repository root after `cargo build --release --example array_bench`, with
the benchmark's Python (bench/array/run.sh makes bench/.venv): PYTHON overrides it.
"""
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = os.environ.get("PYTHON", os.path.join(ROOT, "bench", ".venv", "bin", "python"))
EX = os.path.join(ROOT, "target", "release", "examples", "array_bench")
N, CHUNK = 8000, 2000
SIDES = [
    ("tl_matmul_blas", [EX, "matmul", str(N), str(CHUNK), "--workers", "2"], {}),
    ("tl_matmul_ndarray", [EX, "matmul", str(N), str(CHUNK), "--workers", "2"], {"TASKLOOM_BLAS": "none"}),
    ("np_matmul", [PY, "bench/array/dask_cases.py", "np_matmul", str(N), "0"], {}),
]


def main():
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    sides = [s for s in SIDES if len(sys.argv) < 3 or s[0] in sys.argv[2].split(",")]
    runs = {}
    for rep in range(repeat):
        for name, argv, env in sides if rep % 2 == 0 else list(reversed(sides)):
            load = open("/proc/loadavg").read().split()[0]
            rss_file = os.path.join("/tmp", f"matmul_sides_rss_{os.getpid()}")
            p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, capture_output=True,
                               text=True, cwd=ROOT, env=dict(os.environ, **env), check=True)
            out = json.loads(p.stdout.strip().splitlines()[-1])
            rss = int(open(rss_file).read().split()[-1]) // 1024
            runs.setdefault(name, []).append(out["seconds"])
            print(json.dumps({"name": name, "rep": rep, "seconds": round(out["seconds"], 3),
                              "gflops": round(2 * N**3 / out["seconds"] / 1e9, 1), "rss_mib": rss, "load": load,
                              "check": out["check"]}), flush=True)
    for name, seconds in runs.items():
        m = statistics.median(seconds)
        print(f"{name}: median {m:.3f} s, {2 * N**3 / m / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
