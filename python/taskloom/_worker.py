"""A worker process: a Python interpreter serving the engine's worker loop.

- The engine's loop (`_core.serve_worker`) reads payloads on stdin and writes outcomes
  on stdout, so Python's own `sys.stdout` writes to stderr here and `sys.stdin` reads
  nothing: a task's `print` cannot corrupt the pipe.
- The pool's setup (the caller's `sys.path`, the initializer and its arguments) is a
  file named on the command line, applied when the worker starts, before it serves.
- A payload carries the function, unpickled once and kept, how to call it, and the
  items.
- The outcome is pickled `(True, result)` or `(False, exception)`, the exception carrying
  its remote traceback as `multiprocessing` does (`__cause__` is a `RemoteTraceback`).
  A chunk fails as a whole, as `multiprocessing`'s do.
- A graph task (`run_task`) is its pickled node and the keys of its inputs, then the
  inputs' pickled values; its result is pickled bytes the engine keeps in this worker.
  A failure is text (the engine's errors are text): `FAILURE` and the pickled exception
  in base64, which the caller turns back into the exception (`_graph.py`).
"""

from __future__ import annotations

import itertools
import os
import sys
from typing import Any, Callable, Dict

from . import _pickling, _shared

# Functions kept unpickled, by their pickled bytes. Bounded: a long-lived pool may be
# given many functions.
MAX_FUNCTIONS = 64

_functions: Dict[bytes, Callable[..., Any]] = {}

# Begins a graph task's failure text; the pickled exception follows, in base64.
FAILURE = "taskloom-exception:"


def run(payload: bytes) -> bytes:
    """Runs one payload; never raises (an exception is the outcome)."""
    try:
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


def run_task(task: bytes, *inputs: bytes) -> Any:
    """Runs one graph task: its pickled result, or its failure's text; never raises."""
    try:
        node, keys = _pickling.loads(task)
        result = node({key: _pickling.loads(value) for key, value in zip(keys, inputs)})
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
    """Applies the pool's setup, then serves until the pool closes this worker's input."""
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr
    _shared.owner = os.getppid()
    with open(setup_file, "rb") as f:
        path, initializer, initargs = _pickling.loads(f.read())
    sys.path[:0] = [p for p in path if p not in sys.path]
    if initializer is not None:
        initializer(*initargs)
    from . import _core

    sys.exit(_core.serve_worker(run, run_task))
