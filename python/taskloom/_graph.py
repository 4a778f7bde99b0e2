"""Running a task graph of Python callables on the engine: what `delayed`'s `compute`
and the Dask scheduler `get` share.

- A graph is a dict of key -> node, a node being what Dask's `GraphNode` is: a
  `dependencies` collection of keys and a call `node(values)` on a dict of their
  values. The engine reads it in one pass (`_core.run_in_process`, `_core.run_in_workers`).
- "threads": the engine's threads run the nodes, each holding the GIL only while its
  node runs; "sync": the caller's thread, in the engine's order (for debuggers);
  "processes": the pool's worker processes, results kept in the worker that made them.
- A task's exception reaches the caller with its type and message (from a worker, with
  its remote traceback as `__cause__`, as `multiprocessing` gives); a worker that dies
  fails its task with `WorkerDiedError` naming the key; Ctrl-C ends the run's workers
  and raises KeyboardInterrupt.
"""

from __future__ import annotations

import os
import sys

from . import _core, _pickling, _worker
from ._calls import Call
from ._errors import WorkerDiedError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Hashable, List, Mapping, Optional

# The schedulers a graph runs on.
SCHEDULERS = ("threads", "processes", "sync")


def run(graph: Mapping[Hashable, Any], targets: List[Hashable], scheduler: str, num_workers: Optional[int]) -> List[Any]:
    """The values of `targets` in `graph`, computed on `scheduler`."""
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {', '.join(map(repr, SCHEDULERS))}, not {scheduler!r}")
    workers = _workers(num_workers)
    if not isinstance(graph, dict):
        graph = dict(graph)
    try:
        if scheduler == "processes":
            return _in_workers(graph, targets, workers)
        return _core.run_in_process(graph, targets, None if scheduler == "sync" else workers)
    except _core.RunFailed as failed:
        why = failed.args
    # Raised outside the handler: a worker's exception keeps its remote traceback as
    # its `__cause__`, with no engine error chained to it.
    raise _error(*why)


def _workers(num_workers: Any) -> int:
    if num_workers is None:
        return os.cpu_count() or 1
    if isinstance(num_workers, bool) or not isinstance(num_workers, int):
        raise TypeError(f"num_workers must be an int or None, not {type(num_workers).__name__}")
    if num_workers < 1:
        raise ValueError(f"num_workers must be at least 1, not {num_workers}")
    return num_workers


def _in_workers(graph: dict, targets: List[Hashable], workers: int) -> List[Any]:
    import tempfile

    from ._pool import _WORKER_CODE

    # The tasks reach every worker once, in its setup, pickled together (a function
    # used by many tasks is pickled once): a task is then its index. Flat calls travel
    # as their plain parts.
    tasks = [
        (node.parts(), node.dependencies)  # a call's dependencies: distinct, in order
        if type(node) is Call
        else (node, tuple(dict.fromkeys(node.dependencies)))
        for node in graph.values()
    ]
    try:
        setup = _worker.dump_setup(tasks=tasks)
    except Exception as error:
        raise _unpicklable(graph, tasks, error) from error
    fd, setup_file = tempfile.mkstemp(prefix="taskloom-graph-", suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(setup)
        del setup, tasks
        values = _core.run_in_workers(
            graph, targets, workers, sys.executable, ["-c", _WORKER_CODE, setup_file]
        )
    finally:
        os.unlink(setup_file)
    return [_pickling.loads(value) for value in values]


def _unpicklable(graph: dict, tasks: List[Any], error: Exception) -> Exception:
    """The error naming the first task that cannot be pickled."""
    for key, task in zip(graph, tasks):
        try:
            _pickling.dumps(task)
        except Exception as culprit:
            return _pickling.pickling_error(f"task {key!r}", culprit)
    return _pickling.pickling_error("the graph's tasks", error)


def _error(kind: str, key: str, cause: str) -> BaseException:
    """The exception of a failed run (see `_core.RunFailed`)."""
    from ._worker import FAILURE

    if kind == "task" and cause.startswith(FAILURE):
        import base64

        try:
            _, error = _pickling.loads(base64.b64decode(cause[len(FAILURE) :]))
            return error
        except Exception as unreadable:
            return RuntimeError(f"task {key} failed, and its exception cannot be read here: {unreadable}")
    if kind == "task":
        return RuntimeError(f"task {key} failed: {cause}")
    if kind == "died":
        return WorkerDiedError(f"task {key} failed: {cause}")
    if kind == "stopped":
        return KeyboardInterrupt()
    return RuntimeError(cause)
