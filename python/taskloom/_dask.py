"""`taskloom.get`: a Dask scheduler (`dask.compute(x, scheduler=taskloom.get)`,
`dask.config.set(scheduler=taskloom.get)`) on the engine's executors.

- Dask's graph, of its `Task` objects (dask 2024.12 and later) or legacy tuples, is
  read into nodes (`_calls.py`): flat calls of our own where a task is one, Dask's
  `GraphNode`s elsewhere; then run as it is (`_graph.py`): a node's `dependencies` and
  `node(values)` are the whole protocol.
- `keys` may be one key or nested lists of keys; the values come back in the same
  shape, lists as tuples, as Dask's own schedulers return them (`dask.local.nested_get`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Hashable, List, Mapping, Optional

from . import _graph


def get(dsk: Mapping[Hashable, Any], keys: Any, num_workers: Optional[int] = None, scheduler: str = "threads", **kwargs: Any) -> Any:
    """Computes `keys` of the Dask graph `dsk` on the engine: `scheduler` "threads"
    (the engine's threads), "processes" (worker processes) or "sync"; `num_workers`
    threads or processes (default: one per core). Other keyword arguments Dask passes
    to schedulers (`pool`, `chunksize`, ...) are accepted and have no effect."""
    from ._calls import read_graph

    if not hasattr(dsk, "items"):
        dsk = dsk.__dask_graph__()
    graph = read_graph(dsk)
    targets: List[Hashable] = []
    _flatten(keys, targets)
    values = dict(zip(targets, _graph.run(graph, targets, scheduler, num_workers)))
    return _nested(keys, values)


def _flatten(keys: Any, out: List[Hashable]) -> None:
    if isinstance(keys, list):
        for key in keys:
            _flatten(key, out)
    else:
        out.append(keys)


def _nested(keys: Any, values: dict) -> Any:
    if isinstance(keys, list):
        return tuple(_nested(key, values) for key in keys)
    return values[keys]
