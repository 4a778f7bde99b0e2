"""A Dask array computed on taskloom: Dask builds the graph (a 4,000 x 4,000 array
in 16 chunks, its transpose added, a mean per column), taskloom's scheduler runs it.

    python examples/python/dask_array.py
"""

import dask
import dask.array as da

import taskloom

if __name__ == "__main__":
    x = da.random.default_rng(42).random((4000, 4000), chunks=(1000, 1000))
    y = (x + x.T).mean(axis=0)

    # One computation on the engine's threads (NumPy releases the GIL)...
    on_threads = dask.compute(y, scheduler=taskloom.get)[0]
    # ...or every computation in a block, here on worker processes.
    with dask.config.set(scheduler=lambda dsk, keys, **kw: taskloom.get(dsk, keys, scheduler="processes", **kw)):
        in_processes = y.compute()

    assert (on_threads == y.compute(scheduler="threads")).all()
    assert abs(in_processes - on_threads).max() < 1e-12
    print(f"{len(y.__dask_graph__())} tasks, column means from {on_threads.min():.4f} to {on_threads.max():.4f}")
