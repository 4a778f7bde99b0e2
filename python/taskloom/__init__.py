"""taskloom from Python: the engine's worker processes behind the APIs Python programs
already use.

- `Pool`: a drop-in for `multiprocessing.Pool`.
- `Executor`: a drop-in for `concurrent.futures.ProcessPoolExecutor`.
- `taskloom.array`: chunked arrays larger than memory, spelled as NumPy.

Functions and arguments are pickled (by reference when importable; lambdas, closures
and functions of `__main__` by value, with cloudpickle). Unlike `multiprocessing`, a
worker that dies fails only the task it ran (`WorkerDiedError`) and the pool goes on.
"""

from ._errors import PoolTerminatedError, WorkerDiedError
from ._pool import AsyncResult, IMapIterator, MapResult, Pool

__all__ = [
    "AsyncResult",
    "Executor",
    "IMapIterator",
    "MapResult",
    "Pool",
    "PoolTerminatedError",
    "WorkerDiedError",
]

__version__ = "0.1.0"

# `typing` is not imported: `import taskloom` stays fast.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import array
    from ._executor import Executor


def __getattr__(name: str) -> object:
    # `concurrent.futures` is imported on first use of `Executor`: `import taskloom`
    # stays fast for programs that use only the pool.
    if name == "Executor":
        from ._executor import Executor

        return Executor
    # NumPy is imported with `taskloom.array`, on its first use.
    if name == "array":
        import importlib

        return importlib.import_module(".array", __name__)
    raise AttributeError(f"module 'taskloom' has no attribute {name!r}")
