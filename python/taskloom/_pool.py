"""`taskloom.Pool`: a drop-in for `multiprocessing.Pool` on the engine's process pool.

- The caller cuts a map into chunks as `multiprocessing` does (the same `chunksize`
  default and meaning) and pickles each chunk once: one payload. The engine runs the
  payloads in worker processes (`_core.Pool`) and reports each outcome by its index.
- Outcomes arrive on the engine's result threads, which set the results and call the
  callbacks (as `multiprocessing`'s result handler thread does).
- A worker that dies fails only what it ran: the engine reruns the payloads of a lost
  message one by one, and a chunk of several items whose worker died runs again item
  by item here, so that the error (`WorkerDiedError`) is the crashing item's alone.
  The pool goes on with a new worker.
- Waiting is interruptible: Ctrl-C (KeyboardInterrupt) while the caller waits ends the
  workers, and the KeyboardInterrupt goes on.
- Every pool still running when the interpreter exits is terminated: no worker outlives
  its caller.
"""

from __future__ import annotations

import atexit
import collections
import itertools
import os
import sys
import threading
import time
import warnings
import weakref

from . import _core, _pickling, _shared, _worker
from ._errors import PoolTerminatedError, WorkerDiedError

# `typing` and `tempfile` cost more to import than the rest of the package: neither is
# imported by `import taskloom` (the names below are for type checkers only).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Any,
        Callable,
        Deque,
        Dict,
        Iterable,
        Iterator,
        List,
        Mapping,
        Optional,
        Sequence,
        Tuple,
    )

# `multiprocessing.pool`'s state names: code and tests written for it read `_state`.
RUN, CLOSE, TERMINATE = "RUN", "CLOSE", "TERMINATE"

# Chunks per worker of a map without a chunksize: `multiprocessing`'s default.
CHUNKS_PER_WORKER = 4

# The smallest chunk of a range that travels as a range: pickling a range costs about
# 3 µs (its class is looked up by name), a list of small ints 0.3 µs plus 0.03 µs an
# item, so a short chunk of a range goes as the list of its numbers.
RANGE_CHUNK_MIN = 64

# The folder that holds this package: the workers import it from there, whatever
# their sys.path says before the pool's setup reaches them.
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A worker: this interpreter running the worker loop; the pool's setup file follows.
_WORKER_CODE = (
    f"import sys; sys.path.insert(0, {_PACKAGE_PARENT!r}); "
    "from taskloom._worker import main; main(sys.argv[1])"
)

# Every pool that may still have workers, to terminate at exit.
_live: "weakref.WeakSet[Pool]" = weakref.WeakSet()


def _timeout_error() -> Exception:
    from multiprocessing import TimeoutError

    return TimeoutError()


def _wait(event: threading.Event, timeout: Optional[float], pool: "Pool") -> bool:
    """Waits for `event`; Ctrl-C ends the pool's workers before it goes on."""
    try:
        return event.wait(timeout)
    except KeyboardInterrupt:
        pool.terminate()
        raise


def _outcome(kind: str, data: Any) -> Tuple[bool, Any]:
    """(success, value or exception) of one payload's outcome from the engine."""
    if kind == "ok":
        try:
            return _pickling.loads(data)
        except Exception as error:
            return False, error
    if kind == "died":
        # `data` says how: "its worker died (killed by SIGSEGV)".
        return False, WorkerDiedError(f"the task failed: {data}")
    if kind == "closed":
        return False, PoolTerminatedError("the pool was terminated before this task finished")
    return False, RuntimeError(f"the worker could not run this task: {data}")


class Pool:
    """A pool of worker processes, used as `multiprocessing.Pool` is.

    Unlike `multiprocessing`, a worker that dies (a segfault, `os._exit`, the OOM
    killer) fails only the item it ran, with `WorkerDiedError`; the pool goes on.
    Workers write `print` output to stderr: their stdout is the engine's pipe.
    With `maxtasksperchild`, a worker that has run that many tasks (a task is a chunk,
    as in `multiprocessing`) exits and a fresh one takes its place.
    """

    def __init__(
        self,
        processes: Optional[int] = None,
        initializer: Optional[Callable[..., Any]] = None,
        initargs: Iterable[Any] = (),
        maxtasksperchild: Optional[int] = None,
    ) -> None:
        self._state = TERMINATE
        if processes is None:
            processes = os.cpu_count() or 1
        if isinstance(processes, bool) or not isinstance(processes, int):
            raise TypeError(f"processes must be an int or None, not {type(processes).__name__}")
        if processes < 1:
            raise ValueError("Number of processes must be at least 1")
        if maxtasksperchild is not None and (
            isinstance(maxtasksperchild, bool)
            or not isinstance(maxtasksperchild, int)
            or maxtasksperchild <= 0
        ):
            raise ValueError("maxtasksperchild must be a positive int or None")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        try:
            setup = _worker.dump_setup(initializer, tuple(initargs))
        except Exception as error:
            raise _pickling.pickling_error("the initializer and its arguments", error) from error
        self._processes = processes
        self._maxtasksperchild = maxtasksperchild
        # `multiprocessing`'s code and tests count the workers as `len(pool._pool)`.
        self._pool: List[int] = list(range(processes))
        self._cache: Dict[int, "_Job"] = {}
        self._jobs = itertools.count()
        self._lock = threading.Lock()
        # The setup reaches every worker, replacements too, as a file named on its
        # command line: payloads need not carry it.
        import tempfile

        _shared.sweep()
        fd, self._setup_file = tempfile.mkstemp(prefix=f"taskloom-pool-{os.getpid()}-", suffix=".pickle")
        with os.fdopen(fd, "wb") as f:
            f.write(setup)
        try:
            self._core = _core.Pool(
                processes, sys.executable, ["-c", _WORKER_CODE, self._setup_file], maxtasksperchild
            )
        except Exception:
            os.unlink(self._setup_file)
            raise
        self._state = RUN
        _live.add(self)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__} state={self._state} pool_size={self._processes}>"

    def __enter__(self) -> "Pool":
        self._check_running()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.terminate()

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        if getattr(self, "_state", TERMINATE) == RUN:
            _warn(f"unclosed running multiprocessing pool {self!r}", ResourceWarning, source=self)
        if hasattr(self, "_core"):
            self._end_workers()

    def __reduce__(self) -> Any:
        raise NotImplementedError("pool objects cannot be passed between processes or pickled")

    def _check_running(self) -> None:
        if self._state != RUN:
            raise ValueError("Pool not running")

    # --- single calls -------------------------------------------------------------

    def apply(self, func: Callable[..., Any], args: Sequence[Any] = (), kwds: Mapping[str, Any] = {}) -> Any:
        """Calls `func(*args, **kwds)` in a worker and returns its result."""
        return self.apply_async(func, args, kwds).get()

    def apply_async(
        self,
        func: Callable[..., Any],
        args: Sequence[Any] = (),
        kwds: Mapping[str, Any] = {},
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> "AsyncResult":
        """Calls `func(*args, **kwds)` in a worker; returns at once."""
        self._check_running()
        _check_callable(func)
        function = _pickling.dumps_named(func, f"the function {_pickling.describe(func)}")
        payload = _pickling.payload(function, _pickling.APPLY, (tuple(args), dict(kwds)))
        result = AsyncResult(self, callback, error_callback)
        self._submit(result, [payload], grouped=False)
        return result

    # --- maps -----------------------------------------------------------------------

    def map(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: Optional[int] = None) -> List[Any]:
        """`[func(x) for x in iterable]`, computed in chunks by the workers."""
        return self._map_async(func, iterable, _pickling.MAP, chunksize).get()

    def starmap(self, func: Callable[..., Any], iterable: Iterable[Iterable[Any]], chunksize: Optional[int] = None) -> List[Any]:
        """`[func(*args) for args in iterable]`, computed in chunks by the workers."""
        return self._map_async(func, iterable, _pickling.STAR, chunksize).get()

    def map_async(
        self,
        func: Callable[[Any], Any],
        iterable: Iterable[Any],
        chunksize: Optional[int] = None,
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> "MapResult":
        """`map`, returning at once."""
        return self._map_async(func, iterable, _pickling.MAP, chunksize, callback, error_callback)

    def starmap_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Iterable[Any]],
        chunksize: Optional[int] = None,
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> "MapResult":
        """`starmap`, returning at once."""
        return self._map_async(func, iterable, _pickling.STAR, chunksize, callback, error_callback)

    def imap(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: int = 1) -> "IMapIterator":
        """The results of `func` on each item, in order, as they come."""
        return self._imap(func, iterable, chunksize, ordered=True, mode=_pickling.MAP)

    def imap_unordered(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: int = 1) -> "IMapIterator":
        """The results of `func` on each item, in the order they finish."""
        return self._imap(func, iterable, chunksize, ordered=False, mode=_pickling.MAP)

    def _map_async(
        self,
        func: Callable[..., Any],
        iterable: Iterable[Any],
        mode: str,
        chunksize: Optional[int],
        callback: Optional[Callable[[Any], Any]] = None,
        error_callback: Optional[Callable[[BaseException], Any]] = None,
    ) -> "MapResult":
        self._check_running()
        _check_callable(func)
        # Lists, tuples and ranges are cut as they are (a large range's chunks pickle as
        # a few bytes, not as their numbers); anything else is read into a list first.
        items = iterable if type(iterable) in (list, tuple, range) else list(iterable)
        if chunksize is None:
            chunksize, extra = divmod(len(items), self._processes * CHUNKS_PER_WORKER)
            if extra:
                chunksize += 1
            chunksize = max(chunksize, 1)
        _check_chunksize(chunksize)
        if type(items) is range and chunksize < RANGE_CHUNK_MIN:
            items = list(items)
        chunks = [items[i : i + chunksize] for i in range(0, len(items), chunksize)]
        result = MapResult(self, func, mode, chunks, chunksize, len(items), callback, error_callback)
        result._start()
        return result

    def _imap(self, func: Callable[..., Any], iterable: Iterable[Any], chunksize: int, ordered: bool, mode: str) -> "IMapIterator":
        self._check_running()
        _check_callable(func)
        _check_chunksize(chunksize)
        chunks: List[Sequence[Any]] = []
        failure: Optional[BaseException] = None
        source = iter(iterable)
        while True:
            chunk: List[Any] = []
            try:
                for item in itertools.islice(source, chunksize):
                    chunk.append(item)
            except Exception as error:
                # As in `multiprocessing`: the iterable's exception takes the place of
                # the chunk it broke, and ends the results.
                failure = error
                break
            if not chunk:
                break
            chunks.append(chunk)
        result = IMapIterator(self, func, mode, chunks, chunksize, ordered, failure)
        result._start()
        return result

    # --- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        """Accepts no more work; the workers end once what was submitted is done."""
        if self._state == RUN:
            self._state = CLOSE

    def terminate(self) -> None:
        """Ends the workers now: unfinished work fails with `PoolTerminatedError`."""
        self._state = TERMINATE
        self._end_workers()

    def join(self) -> None:
        """Waits until every submitted task is done, then ends the workers."""
        if self._state == RUN:
            raise ValueError("Pool is still running")
        while True:
            with self._lock:
                pending = next(iter(self._cache.values()), None)
            if pending is None:
                break
            pending.wait()
        self._end_workers()

    def _end_workers(self) -> None:
        self._core.terminate()
        _live.discard(self)
        try:
            os.unlink(self._setup_file)
        except FileNotFoundError:
            pass

    # --- engine side ----------------------------------------------------------------

    def _submit(self, job: "_Job", payloads: List[bytes], grouped: bool) -> None:
        """Runs `payloads` for `job`, whose `_arrived(index, kind, data)` gets each outcome."""
        if not payloads:
            return
        with self._lock:
            self._cache[job._id] = job
        try:
            self._core.submit(payloads, grouped, job._arrived)
        except Exception:
            with self._lock:
                self._cache.pop(job._id, None)
            raise

    def _done(self, job: "_Job") -> None:
        with self._lock:
            self._cache.pop(job._id, None)

    def _retry_alone(self, func_bytes: bytes, mode: str, items: Sequence[Any], on_result: Callable[[int, str, Any], None]) -> bool:
        """Runs each item of a chunk whose worker died as a payload of its own."""
        if self._state == TERMINATE:
            return False
        try:
            payloads = [_pickling.payload(func_bytes, mode, [item], i) for i, item in enumerate(items)]
            self._core.submit(payloads, False, on_result)
        except Exception:
            # Terminated meanwhile, or an item that pickles only as part of its chunk:
            # the chunk's own outcome stands.
            return False
        return True



def _check_callable(func: Any) -> None:
    if not callable(func):
        raise TypeError(f"{type(func).__name__!r} object is not callable")


def _check_chunksize(chunksize: Any) -> None:
    if isinstance(chunksize, bool) or not isinstance(chunksize, int):
        raise TypeError(f"chunksize must be an int, not {type(chunksize).__name__}")
    if chunksize < 1:
        raise ValueError(f"Chunksize must be 1+, not {chunksize:n}")


class _Job:
    """Payloads submitted together, whose outcomes arrive by index on result threads."""

    def __init__(self, pool: Pool) -> None:
        self._pool: Optional[Pool] = pool
        self._id = next(pool._jobs)
        self._event = threading.Event()

    def _arrived(self, index: int, kind: str, data: Any) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        pool, self._pool = self._pool, None
        self._event.set()
        if pool is not None:
            pool._done(self)

    def ready(self) -> bool:
        """Whether the call has finished."""
        return self._event.is_set()

    def wait(self, timeout: Optional[float] = None) -> None:
        """Waits until the call has finished, or for `timeout` seconds."""
        pool = self._pool
        if pool is None:
            self._event.wait(timeout)
        else:
            _wait(self._event, timeout, pool)


class AsyncResult(_Job):
    """The result of `apply_async`, as `multiprocessing.pool.AsyncResult`."""

    def __init__(
        self,
        pool: Pool,
        callback: Optional[Callable[[Any], Any]],
        error_callback: Optional[Callable[[BaseException], Any]],
    ) -> None:
        super().__init__(pool)
        self._callback = callback
        self._error_callback = error_callback
        self._success = False
        self._value: Any = None

    def successful(self) -> bool:
        """Whether the call returned without raising; ValueError while it runs."""
        if not self.ready():
            raise ValueError(f"{self!r} not ready")
        return self._success

    def get(self, timeout: Optional[float] = None) -> Any:
        """The result, or the call's exception raised with its remote traceback;
        `multiprocessing.TimeoutError` after `timeout` seconds."""
        self.wait(timeout)
        if not self.ready():
            raise _timeout_error()
        if self._success:
            return self._value
        raise self._value

    def _set(self, success: bool, value: Any) -> None:
        self._success, self._value = success, value
        try:
            if success and self._callback is not None:
                self._callback(value)
            elif not success and self._error_callback is not None:
                self._error_callback(value)
        finally:
            self._finish()

    def _arrived(self, index: int, kind: str, data: Any) -> None:
        self._set(*_outcome(kind, data))


class _Chunked:
    """The chunks of a map and their outcomes; a chunk whose worker died runs again
    item by item, and its outcome is then the first failure among them, or the values."""

    def __init__(self, func: Callable[..., Any], mode: str, chunks: List[Sequence[Any]], chunksize: int) -> None:
        self.func = _pickling.dumps_named(func, f"the function {_pickling.describe(func)}")
        self.mode = mode
        # The items of each chunk, to run alone if their worker dies; a chunk of one
        # item fails alone anyway.
        self.chunks: Dict[int, Sequence[Any]] = dict(enumerate(chunks)) if chunksize > 1 else {}
        self.payloads = [
            _pickling.payload(self.func, mode, chunk, i * chunksize) for i, chunk in enumerate(chunks)
        ]

    def outcome(self, pool: Optional[Pool], index: int, kind: str, data: Any, done: Callable[[int, bool, Any], None]) -> None:
        """Calls `done(index, success, value)` once the chunk's outcome is known."""
        items = self.chunks.pop(index, None)
        if kind == "died" and items is not None and len(items) > 1 and pool is not None:
            alone = _Alone(len(items), lambda success, value: done(index, success, value))
            if pool._retry_alone(self.func, self.mode, items, alone.arrived):
                return
        done(index, *_outcome(kind, data))


class _Alone:
    """The items of one chunk run one by one: their values in order, or the first failure."""

    def __init__(self, count: int, done: Callable[[bool, Any], None]) -> None:
        self.values: List[Any] = [None] * count
        self.left = count
        self.failure: Optional[Tuple[int, Any]] = None
        self.done = done
        self.lock = threading.Lock()

    def arrived(self, index: int, kind: str, data: Any) -> None:
        success, value = _outcome(kind, data)
        with self.lock:
            if success:
                self.values[index] = value[0]
            elif self.failure is None or index < self.failure[0]:
                self.failure = (index, value)
            self.left -= 1
            if self.left:
                return
        if self.failure is None:
            self.done(True, self.values)
        else:
            self.done(False, self.failure[1])


class _ChunkedJob(_Job):
    """A job of chunks (a map or an imap): submitted together, each chunk's outcome
    passed to `_chunk_done` once known (after its items ran alone if its worker died)."""

    _chunked: "_Chunked"
    _left: int

    def _start(self) -> None:
        pool = self._pool
        if self._left == 0:
            self._no_chunks()
        elif pool is not None:
            pool._submit(self, self._chunked.payloads, grouped=True)
            self._chunked.payloads = []

    def _arrived(self, index: int, kind: str, data: Any) -> None:
        self._chunked.outcome(self._pool, index, kind, data, self._chunk_done)

    def _no_chunks(self) -> None:
        raise NotImplementedError

    def _chunk_done(self, index: int, success: bool, value: Any) -> None:
        raise NotImplementedError


class MapResult(_ChunkedJob, AsyncResult):
    """The result of `map_async` and `starmap_async`: every chunk's values, in order, or
    the first exception to arrive (after every chunk has run, as `multiprocessing`)."""

    def __init__(
        self,
        pool: Pool,
        func: Callable[..., Any],
        mode: str,
        chunks: List[Sequence[Any]],
        chunksize: int,
        length: int,
        callback: Optional[Callable[[Any], Any]],
        error_callback: Optional[Callable[[BaseException], Any]],
    ) -> None:
        super().__init__(pool, callback, error_callback)
        self._chunked = _Chunked(func, mode, chunks, chunksize)
        self._chunksize = chunksize
        self._value = [None] * length
        self._success = True
        self._left = len(chunks)
        self._lock = threading.Lock()

    def _no_chunks(self) -> None:
        self._set(True, self._value)

    def _chunk_done(self, index: int, success: bool, value: Any) -> None:
        with self._lock:
            self._left -= 1
            left = self._left
            first_failure = not success and self._success
            if success and self._success:
                start = index * self._chunksize
                self._value[start : start + len(value)] = value
            elif first_failure:
                self._success = False
                self._value = value
        if first_failure and self._error_callback is not None:
            self._error_callback(value)
        if left == 0:
            try:
                if self._success and self._callback is not None:
                    self._callback(self._value)
            finally:
                self._finish()


class IMapIterator(_ChunkedJob):
    """The results of `imap` and `imap_unordered`, as they come."""

    def __init__(
        self,
        pool: Pool,
        func: Callable[..., Any],
        mode: str,
        chunks: List[Sequence[Any]],
        chunksize: int,
        ordered: bool,
        failure: Optional[BaseException],
    ) -> None:
        super().__init__(pool)
        self._chunked = _Chunked(func, mode, chunks, chunksize)
        self._ordered = ordered
        self._failure = failure
        self._count = len(chunks)
        self._left = len(chunks)
        self._cond = threading.Condition(threading.Lock())
        # Chunk outcomes by index (ordered) or in arrival order (unordered).
        self._arrivals: Dict[int, Tuple[bool, Any]] = {}
        self._queue: Deque[Tuple[bool, Any]] = collections.deque()
        self._next_chunk = 0
        self._current: Iterator[Any] = iter(())

    def _no_chunks(self) -> None:
        self._finish()

    def _chunk_done(self, index: int, success: bool, value: Any) -> None:
        with self._cond:
            if self._ordered:
                self._arrivals[index] = (success, value)
            else:
                self._queue.append((success, value))
            self._left -= 1
            self._cond.notify_all()
        if self._left == 0:
            self._finish()

    def __iter__(self) -> "IMapIterator":
        return self

    def next(self, timeout: Optional[float] = None) -> Any:
        """The next result; `multiprocessing.TimeoutError` after `timeout` seconds."""
        while True:
            for value in self._current:
                return value
            outcome = self._take(timeout)
            if outcome is None:
                if self._failure is not None:
                    failure, self._failure = self._failure, None
                    raise failure
                raise StopIteration
            success, value = outcome
            if not success:
                raise value
            self._current = iter(value)

    __next__ = next

    def _take(self, timeout: Optional[float]) -> Optional[Tuple[bool, Any]]:
        """The next chunk's outcome; None after the last. Ctrl-C ends the workers."""
        try:
            return self._take_waiting(timeout)
        except KeyboardInterrupt:
            pool = self._pool
            if pool is not None:
                pool.terminate()
            raise

    def _take_waiting(self, timeout: Optional[float]) -> Optional[Tuple[bool, Any]]:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if self._next_chunk >= self._count:
                return None
            while True:
                if self._ordered and self._next_chunk in self._arrivals:
                    outcome = self._arrivals.pop(self._next_chunk)
                    break
                if not self._ordered and self._queue:
                    outcome = self._queue.popleft()
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise _timeout_error()
                self._cond.wait(left)
            self._next_chunk += 1
            return outcome


@atexit.register
def _terminate_all() -> None:
    for pool in list(_live):
        pool.terminate()
