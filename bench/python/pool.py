"""taskloom.Pool against multiprocessing.Pool, side by side in one run; writes
bench/python/RESULTS.md (run.sh builds and installs the package first).

Each case runs REPEAT times, the two pools alternating so that machine noise hits both;
each pool is started and warmed up (the same map once, untimed) before the clock.
Figures are medians; the load average and the CPU time other processes used are
recorded next to them.
"""

import multiprocessing
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

import taskloom  # noqa: E402
from page import medians, page  # noqa: E402
from report import noise, noise_start  # noqa: E402
from tasks import inc, spin  # noqa: E402

POOLS = {"taskloom": taskloom.Pool, "multiprocessing": multiprocessing.Pool}
WORKERS = 2

# (case, function, items, chunksize)
CASES = [
    ("map_1M_default_chunks", inc, 1_000_000, None),
    ("map_20k_chunksize_1", inc, 20_000, 1),
    ("spin_2000_default_chunks", spin, 2_000, None),
    ("spin_2000_chunksize_1", spin, 2_000, 1),
]


def timed_map(pool, func, n, chunksize):
    items = range(n)
    pool.map(func, items, chunksize)  # warm-up
    started = time.perf_counter()
    out = pool.map(func, items, chunksize)
    seconds = time.perf_counter() - started
    assert len(out) == n
    return seconds


def serial_spin(n):
    started = time.perf_counter()
    for i in range(n):
        spin(i)
    return time.perf_counter() - started


def serial_inc(n):
    """The calls of the 1M-item map alone, in the caller: no pool of 2 workers can
    take less than half this time."""
    started = time.perf_counter()
    list(map(inc, range(n)))
    return time.perf_counter() - started


def import_seconds():
    """`import taskloom` in a fresh interpreter, timed inside it."""
    code = "import time; t = time.perf_counter(); import taskloom; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def measure(repeat):
    """Every timing, in seconds, by case and side, in run order."""
    times = {case: {name: [] for name in POOLS} for case, *_ in CASES}
    times["serial_spin_2000"] = {"caller": []}
    times["serial_inc_1M"] = {"caller": []}
    times["import_taskloom"] = {"taskloom": []}
    for _ in range(repeat):
        times["serial_spin_2000"]["caller"].append(serial_spin(2_000))
        times["serial_inc_1M"]["caller"].append(serial_inc(1_000_000))
        times["import_taskloom"]["taskloom"].append(import_seconds())
        for name, make in POOLS.items():
            with make(WORKERS) as pool:
                for case, func, n, chunksize in CASES:
                    times[case][name].append(timed_map(pool, func, n, chunksize))
    return times


def fmt(x):
    return f"{x:.3g}"


def render(times, repeat, machine):
    med = medians(times)
    per_item = lambda case, side, n: med[case][side] * 1e6 / n  # noqa: E731
    serial = med["serial_spin_2000"]["caller"]
    rows = []
    for case, goal, n in (
        ("map_1M_default_chunks", 2, 1_000_000),
        ("map_20k_chunksize_1", 5, 20_000),
    ):
        tl, mp = per_item(case, "taskloom", n), per_item(case, "multiprocessing", n)
        rows.append(
            f"| `Pool(2).map(inc, range({n:,}){', chunksize=1' if 'chunksize_1' in case else ''})`, µs per item "
            f"| {fmt(tl)} | {fmt(mp)} | {mp / tl:.2f}x | ≥ {goal}x faster | {'**yes**' if mp / tl >= goal else '**no**'} |"
        )
    # The bound of the 1M map: its calls alone, shared by 2 cores.
    bound = per_item("serial_inc_1M", "caller", 1_000_000) / WORKERS
    mp = per_item("map_1M_default_chunks", "multiprocessing", 1_000_000)
    rows.append(
        f"| the bound of the 1M map: its calls alone ÷ {WORKERS} cores, µs per item "
        f"| {fmt(bound)} | | {mp / bound:.2f}x (the most any pool can gain) | | |"
    )
    for case, label in (
        ("spin_2000_default_chunks", "default chunks"),
        ("spin_2000_chunksize_1", "chunksize=1"),
    ):
        s_tl, s_mp = serial / med[case]["taskloom"], serial / med[case]["multiprocessing"]
        rows.append(
            f"| S(2) on 2,000 tasks of about 1 ms, {label} "
            f"| {s_tl:.2f} | {s_mp:.2f} | | ≥ 1.9 | {'**yes**' if s_tl >= 1.9 else '**no**'} |"
        )
    imp = med["import_taskloom"]["taskloom"] * 1e3
    rows.append(f"| `import taskloom`, ms | {imp:.1f} | | | < 50 ms | {'**yes**' if imp < 50 else '**no**'} |")
    return page(
        "taskloom.Pool against multiprocessing.Pool",
        (
            "Reproduce with `bash bench/python/run.sh` (`REPEAT=N` to change the number of runs). "
            "Both pools have 2 worker processes, are started and warmed up (the same map once, "
            "untimed) before the clock, and alternate run by run; each figure is the median of "
            f"{repeat} runs. S(2) is the time of the same tasks run one after another in the "
            "caller ÷ the pool's time; a task is a fixed amount of pure-Python work, about 1 ms "
            "of CPU time (`bench/python/tasks.py`)."
        ),
        machine,
        [],
        (
            "| | taskloom.Pool | multiprocessing.Pool | ratio | goal | met |"
        ),
        rows,
        times,
    )


def main():
    repeat = int(os.environ.get("REPEAT", "3"))
    start = noise_start()
    times = measure(repeat)
    text = render(times, repeat, noise(start))
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
