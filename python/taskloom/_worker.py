"""A worker process: a Python interpreter serving the engine's worker loop.

- The engine's loop (`_core.serve_worker`) reads payloads on stdin and writes outcomes
  on stdout, so Python's own `sys.stdout` writes to stderr here and `sys.stdin` reads
  nothing: a task's `print` cannot corrupt the pipe.
- The setup (the caller's `sys.path`; the pool's initializer and its arguments, or a
  graph's tasks) is a file named on the command line (`dump_setup`), applied when the
  worker starts, before it serves. The path comes first, so that what follows can be
  unpickled from the caller's modules.
- A payload carries the function, unpickled once and kept, how to call it, and the
  items.
- The outcome is pickled `(True, result)` or `(False, exception)`, the exception carrying
  its remote traceback as `multiprocessing` does (`__cause__` is a `RemoteTraceback`).
  A chunk fails as a whole, as `multiprocessing`'s do.
- A graph's tasks reach each worker once, in the setup: a task (`run_task`) is then its
  index and its inputs' pickled values, and its result pickled bytes the engine keeps
  in this worker. A flat call (`_calls.py`) travels as plain tuples and runs as
  `invoke`; any other node is called on the dict of its inputs' values.
  A failure is text (the engine's errors are text): `FAILURE` and the pickled exception
  in base64, which the caller turns back into the exception (`_graph.py`).
"""

from __future__ import annotations

import itertools
import os
import sys

from . import _calls, _pickling, _shared

# `typing` costs more to import than the rest of a worker's start (see `_pool.py`).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Sequence, Tuple

# Functions kept unpickled, by their pickled bytes. Bounded: a long-lived pool may be
# given many functions.
MAX_FUNCTIONS = 64

_functions: "Dict[bytes, Callable[..., Any]]" = {}

# Begins a graph task's failure text; the pickled exception follows, in base64.
FAILURE = "taskloom-exception:"

# A graph's tasks, by index, from the setup: (node or a call's parts, input keys).
_tasks: "Sequence[Tuple[Any, Tuple[Any, ...]]]" = ()

# Why the setup could not be read, if it could not: each payload and task then fails
# with it, rather than the worker dying before it serves with nothing to say why.
_setup_error: "Optional[Exception]" = None


def dump_setup(
    initializer: "Optional[Callable[..., Any]]" = None, initargs: tuple = (), tasks: "Sequence[Any]" = ()
) -> bytes:
    """A worker's setup file, read by `main`; raises what `_pickling.dumps` raises."""
    rest = _pickling.dumps((initializer, tuple(initargs), tasks))
    return _pickling.dumps((list(sys.path), rest))


def run(payload: bytes) -> bytes:
    """Runs one payload; never raises (an exception is the outcome)."""
    try:
        if _setup_error is not None:
            raise _setup_error
        function, mode, items = _pickling.loads(payload)
        func = _function(function)
        if mode == _pickling.MAP:
            result: Any = list(map(func, items))
        elif mode == _pickling.STAR:
            result = list(itertools.starmap(func, items))
        else:
            args, kwds = items
            result = func(*args, **kwds)
    except Exception as error:
        return _failure(error)
    try:
        return _pickling.dumps((True, result), shared=True)
    except Exception as error:
        from multiprocessing.pool import MaybeEncodingError

        return _failure(MaybeEncodingError(error, result))


def run_task(index: int, *inputs: bytes) -> Any:
    """Runs graph task `index`: its pickled result, or its failure's text; never raises."""
    try:
        if _setup_error is not None:
            raise _setup_error
        node, keys = _tasks[index]
        values = {key: _pickling.loads(value) for key, value in zip(keys, inputs)}
        result = _calls.invoke(*node, values) if type(node) is tuple else node(values)
        return _pickling.dumps(result)
    except Exception as error:
        import base64

        return FAILURE + base64.b64encode(_failure(error)).decode("ascii")


def _function(pickled: bytes) -> Callable[..., Any]:
    func = _functions.get(pickled)
    if func is None:
        if len(_functions) >= MAX_FUNCTIONS:
            _functions.clear()
        func = _functions[pickled] = _pickling.loads(pickled)
    return func


def _failure(error: BaseException) -> bytes:
    from multiprocessing.pool import ExceptionWithTraceback, MaybeEncodingError

    try:
        return _pickling.dumps((False, ExceptionWithTraceback(error, error.__traceback__)))
    except Exception as unpicklable:
        wrapped = MaybeEncodingError(unpicklable, error)
        return _pickling.dumps((False, ExceptionWithTraceback(wrapped, error.__traceback__)))


def main(setup_file: str) -> None:
    """Applies the setup (`dump_setup`), then serves until the pool closes this worker's
    input."""
    global _tasks, _setup_error
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr
    _shared.owner = os.getppid()
    with open(setup_file, "rb") as f:
        path, rest = _pickling.loads(f.read())
    sys.path[:0] = [p for p in path if p not in sys.path]
    try:
        initializer, initargs, _tasks = _pickling.loads(rest)
    except Exception as error:
        _setup_error = error
        initializer = None
    if initializer is not None:
        initializer(*initargs)
    from . import _core

    sys.exit(_core.serve_worker(run, run_task))
