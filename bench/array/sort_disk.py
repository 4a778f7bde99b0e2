#!/usr/bin/env python3
"""The sort through files against the disk, in one run: `dd` writes 2 GiB to the
scratch filesystem (conv=fdatasync) and reads it back after dropping the page cache
(needs root), alternating with `array_bench sort 134217728 8388608 --workers 2
--memory-limit 1024` (1 GiB of float64; 3x it does not fit 1 GiB, so it sorts through
scratch files in the system's temporary directory, the same filesystem as the dd file).
The sort's rate is its bytes read and written (`io_bytes`, /proc/self/io) over its time.
Prints one JSON line per run, then the medians.

    sudo python3 bench/array/sort_disk.py [REPEAT]

Run from the repository root after `cargo build --release --example array_bench`.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX = os.path.join(ROOT, "target", "release", "examples", "array_bench")
N, CHUNK = 2**27, 2**23
DD_BYTES = 2**31


def dd(command):
    p = subprocess.run(command, shell=True, capture_output=True, text=True, check=True)
    return DD_BYTES / float(re.search(r"copied, ([0-9.]+) s", p.stderr).group(1))


def disk():
    """Sequential write and cold read rates of the temporary directory's disk, B/s."""
    path = os.path.join(tempfile.gettempdir(), f"sort_disk_dd_{os.getpid()}")
    try:
        write = dd(f"dd if=/dev/zero of={path} bs=16M count={DD_BYTES >> 24} conv=fdatasync")
        subprocess.run("sync; echo 3 > /proc/sys/vm/drop_caches", shell=True, check=True)
        read = dd(f"dd if={path} of=/dev/null bs=16M")
    finally:
        os.remove(path)
    return write, read


def sort():
    rss_file = os.path.join(tempfile.gettempdir(), f"sort_disk_rss_{os.getpid()}")
    argv = [EX, "sort", str(N), str(CHUNK), "--workers", "2", "--memory-limit", "1024"]
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, capture_output=True, text=True,
                       cwd=ROOT, check=True)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    check = out["check"]
    assert check["ordered"] and check["len"] == N, check
    return out["seconds"], check["io_bytes"], int(open(rss_file).read().split()[-1]) // 1024


def main():
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    runs = {}
    for rep in range(repeat):
        for what in ("disk", "sort") if rep % 2 == 0 else ("sort", "disk"):
            load = open("/proc/loadavg").read().split()[0]
            if what == "disk":
                write, read = disk()
                runs.setdefault("dd_write", []).append(write)
                runs.setdefault("dd_read", []).append(read)
                print(json.dumps({"name": "dd", "rep": rep, "write_MBps": round(write / 1e6, 1),
                                  "read_MBps": round(read / 1e6, 1), "load": load}), flush=True)
            else:
                seconds, io, rss = sort()
                runs.setdefault("sort_MBps", []).append(io / seconds / 1e6)
                print(json.dumps({"name": "tl_sort_files", "rep": rep, "seconds": round(seconds, 3), "io_bytes": io,
                                  "MBps": round(io / seconds / 1e6, 1), "rss_mib": rss, "load": load}), flush=True)
    write, read = statistics.median(runs["dd_write"]), statistics.median(runs["dd_read"])
    # The disk's time for the sort's traffic, half written and half read, at dd's rates.
    mix = 2 / (1 / write + 1 / read) / 1e6
    sort_rate = statistics.median(runs["sort_MBps"])
    print(f"dd write {write / 1e6:.1f} MB/s, read {read / 1e6:.1f} MB/s, half and half {mix:.1f} MB/s; "
          f"sort {sort_rate:.1f} MB/s = {100 * sort_rate / mix:.0f}% of the disk")


if __name__ == "__main__":
    main()
