"""How Python objects cross to the worker processes and back: one pickler for both sides.

- Protocol 5, plain `pickle` first: importable functions and classes travel by reference,
  data at the C pickler's speed.
- cloudpickle when plain pickle cannot (lambdas, closures, local classes) and for
  functions and classes defined in `__main__` or a notebook, which a worker could not
  import: they travel by value.
- Arguments and results (`shared`) send NumPy arrays' data and other large buffers
  out of band, through shared memory (`_shared`): one copy, whatever the size.
- An object neither can pickle raises `PicklingError` naming it, in the caller and before
  anything runs; the error is also of the original exception's type, so that code written
  for `multiprocessing` (which lets that exception through) still catches it.
"""

from __future__ import annotations

import io
import pickle
import types

from . import _shared

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Type

PROTOCOL = 5

# The error classes made for each original exception type (see `pickling_error`).
_error_classes: "Dict[Type[BaseException], Type[pickle.PicklingError]]" = {}


class _ByReference(pickle.Pickler):
    """Plain pickle that refuses what only the caller can import (`__main__`'s
    functions and classes), so that `dumps` sends those by value."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, (type, types.FunctionType)) and getattr(obj, "__module__", None) == "__main__":
            raise pickle.PicklingError("defined in __main__")
        return NotImplemented


def dumps(obj: Any, shared: bool = False) -> bytes:
    """Pickles `obj`: plain pickle, else cloudpickle. Raises what cloudpickle raises.
    With `shared`, large buffers go to shared memory (`_shared`): for a message read
    once, whose file the engine removes when done (an argument, a result)."""
    large: "List[pickle.PickleBuffer]" = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        # True keeps the buffer in the pickle.
        if buffer.raw().nbytes < _shared.OUT_OF_BAND_BYTES:
            return True
        large.append(buffer)
        return False

    callback = out_of_band if shared else None
    # The C pickler alone first: `_ByReference` calls back into Python for every object
    # it pickles. Whatever it sent by reference to `__main__` names `__main__` in the
    # bytes; only then (or when it fails) is the object pickled again, the slow way.
    try:
        data = pickle.dumps(obj, PROTOCOL, buffer_callback=callback)
        if b"__main__" not in data:
            return _shared.pack(data, large) if large else data
    except Exception:
        pass
    large.clear()
    out = io.BytesIO()
    try:
        _ByReference(out, PROTOCOL, buffer_callback=callback).dump(obj)
        data = out.getvalue()
    except Exception:
        import cloudpickle

        large.clear()
        data = cloudpickle.dumps(obj, PROTOCOL, buffer_callback=callback)
    return _shared.pack(data, large) if large else data


def dumps_named(obj: Any, what: str) -> bytes:
    """`dumps`, raising `PicklingError` that says `what` could not be pickled."""
    try:
        return dumps(obj)
    except Exception as error:
        raise pickling_error(what, error) from error


def pickling_error(what: str, error: Exception) -> pickle.PicklingError:
    message = f"cannot pickle {what} for the worker processes: {type(error).__name__}: {error}"
    kind = type(error)
    if issubclass(kind, pickle.PicklingError):
        return pickle.PicklingError(message)
    cls = _error_classes.get(kind)
    if cls is None:
        try:
            cls = type("PicklingError", (pickle.PicklingError, kind), {"__module__": "pickle"})
        except TypeError:
            # Exception types whose layouts conflict cannot be combined.
            cls = pickle.PicklingError
        _error_classes[kind] = cls
    try:
        return cls(message)
    except Exception:
        return pickle.PicklingError(message)


def describe(obj: Any) -> str:
    """A short name of `obj` for error messages."""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is not None:
        return f"{getattr(obj, '__module__', '?')}.{name}"
    text = repr(obj)
    return text if len(text) <= 60 else text[:57] + "..."


def loads(data: bytes) -> Any:
    """Unpickles what `dumps` made (cloudpickle's output is plain pickle data)."""
    # A pickle of protocol 2 or later starts with PROTO (0x80); a packed message with
    # `_shared.MAGIC` (a zero byte): most messages are told apart by their first byte.
    if data[:1] != b"\x80" and _shared.is_packed(data):
        data, buffers = _shared.unpack(data)
        return pickle.loads(data, buffers=buffers)
    return pickle.loads(data)


# How a payload's function is called on its items: `f(item)` for each (map), `f(*item)`
# for each (starmap), or `f(*args, **kwds)` once, its items being `(args, kwds)` (apply).
MAP, STAR, APPLY = "map", "star", "apply"


def payload(function: bytes, mode: str, items: Any, first: Optional[int] = None) -> bytes:
    """What a worker runs: the pickled function, how to call it, the items (of a map,
    the first being item `first`; else a call's `(args, kwds)`)."""
    try:
        return dumps((function, mode, items), shared=True)
    except Exception as error:
        what = "the arguments" if first is None else _culprit(items, first)
        raise pickling_error(what, error) from error


def _culprit(items: Any, first: int) -> str:
    """Names the first item of a map's chunk that cannot be pickled."""
    for offset, item in enumerate(items):
        try:
            dumps(item)
        except Exception:
            return f"item {first + offset} ({describe(item)})"
    return f"items {first} to {first + len(items) - 1}"
