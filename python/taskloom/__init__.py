"""taskloom from Python: the engine's worker processes behind the APIs Python programs
already use.

- `Pool`: a drop-in for `multiprocessing.Pool`.
- `Executor`: a drop-in for `concurrent.futures.ProcessPoolExecutor`.
- `taskloom.array`: chunked arrays larger than memory, spelled as NumPy.
- `delayed`, `compute`: lazy calls that form a task graph, as `dask.delayed` does, run
  on the engine's threads or worker processes.
- `get`: a Dask scheduler, `dask.compute(x, scheduler=taskloom.get)`.

Functions and arguments are pickled (by reference when importable; lambdas, closures
and functions of `__main__` by value, with cloudpickle). Unlike `multiprocessing`, a
worker that dies fails only the task it ran (`WorkerDiedError`) and the pool goes on.
"""

from ._errors import PoolTerminatedError, WorkerDiedError
from ._pool import AsyncResult, IMapIterator, MapResult, Pool

__all__ = [
    "AsyncResult",
    "Delayed",
    "Executor",
    "IMapIterator",
    "MapResult",
    "Pool",
    "PoolTerminatedError",
    "WorkerDiedError",
    "compute",
    "delayed",
    "get",
    "visualize",
]

__version__ = "0.1.0"

# `typing` is not imported: `import taskloom` stays fast.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import array
    from ._dask import get
    from ._delayed import Delayed, compute, delayed, visualize
    from ._executor import Executor

# Where the names imported on first use live.
_LAZY = {
    "Executor": "_executor",
    "Delayed": "_delayed",
    "compute": "_delayed",
    "delayed": "_delayed",
    "visualize": "_delayed",
    "get": "_dask",
}


def __getattr__(name: str) -> object:
    # `concurrent.futures`, the graph modules and NumPy (with `taskloom.array`) are
    # imported on first use: `import taskloom` stays fast for programs that use only
    # the pool.
    import importlib

    if name == "array":
        # Importing the submodule makes it this module's attribute too.
        return importlib.import_module(".array", __name__)
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'taskloom' has no attribute {name!r}")
