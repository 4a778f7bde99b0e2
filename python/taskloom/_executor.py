"""`taskloom.Executor`: a drop-in for `concurrent.futures.ProcessPoolExecutor` on the
engine's process pool (`taskloom.Pool`).

- `submit` returns a real `concurrent.futures.Future`, so `as_completed` and `wait`
  work; the pool's result threads complete it.
- `map` cuts its items into chunks of `chunksize` (as the pool's `imap` does) and
  yields in order.
- A worker that dies fails only its future, with `WorkerDiedError`; the executor goes on
  (where `ProcessPoolExecutor` would break for good).
- A future cancelled before its result arrives stays cancelled: the task may still run.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Optional

from . import _pickling
from ._pool import Pool


class Executor(concurrent.futures.Executor):
    """Runs calls in worker processes, as `ProcessPoolExecutor` does."""

    def __init__(
        self,
        max_workers: Optional[int] = None,
        initializer: Optional[Callable[..., Any]] = None,
        initargs: Iterable[Any] = (),
    ) -> None:
        if max_workers is not None:
            if isinstance(max_workers, bool) or not isinstance(max_workers, int):
                raise TypeError(f"max_workers must be an int or None, not {type(max_workers).__name__}")
            if max_workers <= 0:
                raise ValueError("max_workers must be greater than 0")
        self._pool = Pool(max_workers, initializer, initargs)
        self._shutdown = False
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> "concurrent.futures.Future[Any]":
        """Schedules `fn(*args, **kwargs)`; its Future completes with the result."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future: "concurrent.futures.Future[Any]" = concurrent.futures.Future()
            self._pool.apply_async(
                fn,
                args,
                kwargs,
                callback=lambda value: _complete(future, True, value),
                error_callback=lambda error: _complete(future, False, error),
            )
            return future

    def map(
        self,
        fn: Callable[..., Any],
        *iterables: Iterable[Any],
        timeout: Optional[float] = None,
        chunksize: int = 1,
    ) -> Iterator[Any]:
        """`fn` over the items of `iterables` in parallel, yielding results in order;
        `concurrent.futures.TimeoutError` when a result is not there `timeout` seconds
        after the call."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            results = self._pool._imap(fn, zip(*iterables), chunksize, ordered=True, mode=_pickling.STAR)
        deadline = None if timeout is None else time.monotonic() + timeout
        return _in_time(results, deadline)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Accepts no more calls; with `wait`, returns once every call has finished.
        `cancel_futures` ends the workers at once: unfinished calls fail."""
        with self._lock:
            self._shutdown = True
        if cancel_futures:
            self._pool.terminate()
        else:
            self._pool.close()
        if wait:
            self._pool.join()
        else:
            threading.Thread(target=self._pool.join, name="taskloom-executor-shutdown", daemon=True).start()


def _complete(future: "concurrent.futures.Future[Any]", success: bool, value: Any) -> None:
    if not future.set_running_or_notify_cancel():
        return
    if success:
        future.set_result(value)
    else:
        future.set_exception(value)


def _in_time(results: Any, deadline: Optional[float]) -> Iterator[Any]:
    from multiprocessing import TimeoutError as PoolTimeout

    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            yield results.next(left)
        except StopIteration:
            return
        except PoolTimeout:
            raise concurrent.futures.TimeoutError() from None
