#!/usr/bin/env python3
"""The Dask and NumPy side of bench/array/run.sh: one case per process, so that each
has its own peak RSS (measured by /usr/bin/time around this script).

    python dask_cases.py CASE SIZE CHUNK [PATH]

Cases mirror examples/array_bench.rs on the same shapes and chunks:
  sum, mean0, xxt, chain, chain0,
  cumsum0                   a SIZE x SIZE `da.random.random` array in CHUNK x CHUNK blocks
                            (cumsum0: `x.cumsum(axis=0).sum()`; chain: `(x * 2 + 1).sum()`;
                            chain0: `(x * 2 + 1).mean(axis=0)`)
  topk                      `da.topk(x, 10)` of a 1-D array of SIZE elements
  dd_sort                   `dask.dataframe` `sort_values` of that 1-D array (dask.array has no sort)
  np_sort                   NumPy `np.sort` in memory (the array generated before timing)
  matmul                    `x @ y` of two generated SIZE x SIZE arrays
  np_matmul                 NumPy/OpenBLAS `a @ b` in memory (arrays generated before timing)
  zarr_sum                  `da.from_zarr(PATH).sum()` (SIZE and CHUNK ignored)
  zarr_rechunk              `da.from_zarr(PATH)` rechunked to SIZE x CHUNK blocks and stored,
                            uncompressed, into the Zarr array PATH.rechunked (as
                            `taskloom array rechunk PATH --chunks SIZE,CHUNK --compression none`)
Dask runs on its threaded scheduler with 2 workers; only `compute()` is timed (the
graph is built before). Prints one JSON line: {"case", "seconds", "check"}.
"""
import json
import sys
import time

import dask
import dask.array as da
import numpy as np

SEED = 42


def main():
    case, size, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    path = sys.argv[4] if len(sys.argv) > 4 else None
    dask.config.set(scheduler="threads", num_workers=2)
    square = lambda seed: da.random.default_rng(seed).random((size, size), chunks=(chunk, chunk))  # noqa: E731
    line = lambda: da.random.default_rng(SEED).random(size, chunks=chunk)  # noqa: E731

    if case in ("np_sort", "np_matmul"):
        rng = np.random.default_rng(SEED)
        if case == "np_sort":
            x = rng.random(size)
            start = time.perf_counter()
            out = np.sort(x)
            seconds = time.perf_counter() - start
            check = {"ordered": bool(np.all(out[1:] >= out[:-1])), "len": len(out)}
        else:
            a, b = rng.random((size, size)), rng.random((size, size))
            start = time.perf_counter()
            out = a @ b
            seconds = time.perf_counter() - start
            check = float(out.mean())
        print(json.dumps({"case": case, "seconds": seconds, "check": check}))
        return

    if case == "sum":
        expr = square(SEED).sum()
    elif case == "mean0":
        expr = square(SEED).mean(axis=0)
    elif case == "xxt":
        x = square(SEED)
        expr = (x + x.T).sum()
    elif case == "chain":
        expr = (square(SEED) * 2 + 1).sum()
    elif case == "chain0":
        expr = (square(SEED) * 2 + 1).mean(axis=0)
    elif case == "cumsum0":
        expr = square(SEED).cumsum(axis=0).sum()
    elif case == "topk":
        expr = da.topk(line(), 10)
    elif case == "dd_sort":
        import dask.dataframe as dd
        expr = dd.from_dask_array(line(), columns="v").to_frame().sort_values("v")
    elif case == "matmul":
        expr = square(SEED) @ square(SEED + 1)
    elif case == "zarr_sum":
        expr = da.from_zarr(path).sum()
    elif case == "zarr_rechunk":
        import zarr
        x = da.from_zarr(path)
        out = zarr.create_array(store=path + ".rechunked", shape=x.shape, chunks=(size, chunk),
                                dtype=x.dtype, compressors=None, zarr_format=3, overwrite=True)
        expr = da.store(x.rechunk((size, chunk)), out, lock=False, compute=False)
    else:
        sys.exit(f"unknown case {case}")
    start = time.perf_counter()
    out = expr.compute()
    seconds = time.perf_counter() - start
    if case == "zarr_rechunk":
        import zarr
        check = float(zarr.open_array(path + ".rechunked")[:size, :chunk].mean())
    elif case == "topk":
        check = [float(v) for v in out[:3]]
    elif case == "dd_sort":
        v = out["v"].to_numpy()
        check = {"ordered": bool(np.all(v[1:] >= v[:-1])), "len": len(v)}
    else:
        check = float(np.mean(out))
    print(json.dumps({"case": case, "seconds": seconds, "check": check}))


if __name__ == "__main__":
    main()
