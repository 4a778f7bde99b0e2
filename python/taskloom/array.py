"""Chunked n-d arrays larger than memory, spelled as NumPy: taskloom's array library
(Zarr stores, fused elementwise work, reduction trees, blocked products, out-of-core
sorts) computed on the engine's threads.

- An `Array` is lazy: operators, methods and indexing build an expression, checking
  shapes at once (a mismatch is a `ValueError` naming the operation) and computing
  nothing; `compute()` runs the whole expression as one task graph, with the GIL
  released, and returns a NumPy array that views the result's own buffer (no copy).
- `np.asarray(x)` computes `x`; NumPy operations on an `Array` and an `ndarray` defer
  to the `Array`, whose operand the `ndarray` becomes.
- Element types: float64, float32, int64, int32 and bool; results promote as NumPy's
  do (arithmetic on bool is refused).
- `chunks` is the block shape, as Zarr spells it (an int for every axis, -1 or None
  for a whole axis); the last block along an axis may be shorter.

    >>> import numpy as np, taskloom.array as ta
    >>> x = ta.from_numpy(np.arange(12.0).reshape(3, 4), chunks=2)
    >>> (x.T @ x + 1).sum(axis=0).compute()
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core

__all__ = [
    "Array",
    "arange",
    "exp",
    "from_numpy",
    "full",
    "log",
    "ones",
    "open",
    "random",
    "sqrt",
    "square",
    "zeros",
]

Chunks = Union[None, int, Sequence[Optional[int]]]

# What a block holds at most when `chunks` is not given: large enough that a task's
# cost (microseconds) is nothing beside its work, small enough that a core's blocks
# fit many times in memory and every core has blocks to work on.
DEFAULT_CHUNK_BYTES = 16 << 20

# Schedulers an array computes on: the engine's threads, or one thread.
SCHEDULERS = ("threads", "sync")


class Array:
    """A lazy chunked array; see the module's documentation."""

    __slots__ = ("_expr",)

    # NumPy's ufuncs and operators on an ndarray and an Array defer to the Array.
    __array_ufunc__ = None

    def __init__(self, expr: "_core.ArrayExpr") -> None:
        self._expr = expr

    # -- what it is --------------------------------------------------------------

    @property
    def shape(self) -> Tuple[int, ...]:
        return self._expr.shape

    @property
    def chunks(self) -> Tuple[int, ...]:
        """The block shape (the last block along an axis may be shorter)."""
        return self._expr.chunks

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self._expr.dtype)

    @property
    def ndim(self) -> int:
        return len(self._expr.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self._expr.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self._expr.nbytes

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"taskloom.array.Array<shape={self.shape}, dtype={self.dtype}, chunks={self.chunks}>"

    # -- computing ---------------------------------------------------------------

    def compute(
        self,
        scheduler: str = "threads",
        num_workers: Optional[int] = None,
        memory_limit: Optional[int] = None,
    ) -> Any:
        """The values as a NumPy array viewing the result's buffer (no copy); a 0-d
        result is a NumPy scalar, as NumPy's reductions give.

        `scheduler` is "threads" (the engine's threads, `num_workers` of them, one per
        core by default) or "sync" (one thread). `memory_limit` bounds, in bytes, the
        chunks tasks hold at once (default: a quarter of RAM): large chunks run fewer
        tasks at a time.
        """
        values = np.asarray(self._compute("compute", scheduler, num_workers, memory_limit))
        return values[()] if values.ndim == 0 else values

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        if copy is False:
            raise ValueError("a taskloom array is computed to make a NumPy array: copy=False is impossible")
        values = np.asarray(self._compute("__array__", "threads", None, None))
        return values if dtype is None else values.astype(dtype, copy=False)

    def _compute(self, what: str, scheduler: str, num_workers: Optional[int], memory_limit: Optional[int]) -> Any:
        workers = _workers(what, scheduler, num_workers)
        return self._expr.compute(workers, _bytes(what, memory_limit))

    def to_zarr(
        self,
        path: Union[str, "os.PathLike[str]"],
        overwrite: bool = False,
        zarr_format: int = 3,
        compression: str = "zstd",
        scheduler: str = "threads",
        num_workers: Optional[int] = None,
        memory_limit: Optional[int] = None,
    ) -> None:
        """Writes the array to a Zarr array at `path`, chunked as it is. The array
        appears only once every chunk is written; `compression` is "zstd" (as
        zarr-python writes by default) or "none"."""
        workers = _workers("to_zarr", scheduler, num_workers)
        self._expr.write(
            os.fspath(path),
            bool(overwrite),
            zarr_format,
            compression,
            workers,
            _bytes("to_zarr", memory_limit),
        )

    # -- elementwise -------------------------------------------------------------

    def _binary(self, op: str, other: Any, reflected: bool = False) -> "Array":
        operand = _operand(op, other, self.chunks)
        if operand is NotImplemented:
            return NotImplemented
        return Array(self._expr.binary(op, operand, reflected))

    def __add__(self, other: Any) -> "Array":
        return self._binary("add", other)

    def __radd__(self, other: Any) -> "Array":
        return self._binary("add", other, reflected=True)

    def __sub__(self, other: Any) -> "Array":
        return self._binary("sub", other)

    def __rsub__(self, other: Any) -> "Array":
        return self._binary("sub", other, reflected=True)

    def __mul__(self, other: Any) -> "Array":
        return self._binary("mul", other)

    def __rmul__(self, other: Any) -> "Array":
        return self._binary("mul", other, reflected=True)

    def __truediv__(self, other: Any) -> "Array":
        return self._binary("div", other)

    def __rtruediv__(self, other: Any) -> "Array":
        return self._binary("div", other, reflected=True)

    def __pow__(self, exponent: Any) -> "Array":
        if isinstance(exponent, (int, float, np.number)) and exponent == 2:
            return Array(self._expr.map("square"))
        if isinstance(exponent, (int, float, np.number)) and exponent == 0.5:
            return Array(self._expr.map("sqrt"))
        return NotImplemented

    def __neg__(self) -> "Array":
        return Array(self._expr.map("neg"))

    def __pos__(self) -> "Array":
        return self

    def __abs__(self) -> "Array":
        return Array(self._expr.map("abs"))

    def astype(self, dtype: Any) -> "Array":
        """The same values as `dtype` (float64, float32, int64 or int32)."""
        return Array(self._expr.astype(_dtype_name("astype", dtype)))

    # -- reductions --------------------------------------------------------------

    def _reduce(self, op: str, axis: Optional[int]) -> "Array":
        if axis is not None and not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{op}: axis must be None or an int, not {type(axis).__name__}")
        return Array(self._expr.reduce(op, None if axis is None else int(axis)))

    def sum(self, axis: Optional[int] = None) -> "Array":
        """The sum over all elements (`axis=None`) or along one axis."""
        return self._reduce("sum", axis)

    def prod(self, axis: Optional[int] = None) -> "Array":
        return self._reduce("prod", axis)

    def mean(self, axis: Optional[int] = None) -> "Array":
        return self._reduce("mean", axis)

    def min(self, axis: Optional[int] = None) -> "Array":
        return self._reduce("min", axis)

    def max(self, axis: Optional[int] = None) -> "Array":
        return self._reduce("max", axis)

    def std(self, axis: Optional[int] = None) -> "Array":
        """The standard deviation (NumPy's default, `ddof=0`)."""
        return self._reduce("std", axis)

    def var(self, axis: Optional[int] = None) -> "Array":
        """The variance (NumPy's default, `ddof=0`)."""
        return self._reduce("var", axis)

    # -- layout ------------------------------------------------------------------

    @property
    def T(self) -> "Array":
        return Array(self._expr.transpose(None))

    def transpose(self, *axes: Any) -> "Array":
        """Axes permuted as `numpy.ndarray.transpose` takes them; reversed without."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            return self.T
        return Array(self._expr.transpose([_int("transpose", a) for a in axes]))

    def __matmul__(self, other: Any) -> "Array":
        operand = _operand("matmul", other, self.chunks)
        if operand is NotImplemented or not isinstance(operand, _core.ArrayExpr):
            return NotImplemented
        return Array(self._expr.matmul(operand))

    def __rmatmul__(self, other: Any) -> "Array":
        operand = _operand("matmul", other, self.chunks)
        if operand is NotImplemented or not isinstance(operand, _core.ArrayExpr):
            return NotImplemented
        return Array(operand.matmul(self._expr))

    def matmul(self, other: Any) -> "Array":
        """The matrix product of two 2-D arrays (`self @ other`)."""
        return self @ other

    def __getitem__(self, key: Any) -> "Array":
        text = _index_text(key, self.ndim)
        return Array(self._expr.index(text)) if text else self

    def rechunk(self, chunks: Chunks) -> "Array":
        """The same values in blocks of `chunks`."""
        return Array(self._expr.rechunk(_chunks(chunks, self.shape, self._expr.dtype)))

    def sort(self, descending: bool = False) -> "Array":
        """A 1-D array sorted (ascending, as `numpy.sort`, unless `descending`); sorted
        out of core when it does not fit in memory."""
        return Array(self._expr.sort(bool(descending)))

    def topk(self, k: int, largest: bool = True) -> "Array":
        """The `k` largest elements in descending order (the smallest, ascending, when
        not `largest`), over all elements, as a 1-D array."""
        return Array(self._expr.topk(_int("topk", k), bool(largest)))


# -- making arrays -------------------------------------------------------------


def open(path: Union[str, "os.PathLike[str]"]) -> Array:
    """The Zarr array (format 2 or 3) at `path`, read a chunk at a time when computed."""
    return Array(_core.ArrayExpr.open(os.fspath(path)))


def from_numpy(values: Any, chunks: Chunks = None) -> Array:
    """An array of `values` (anything `numpy.asarray` takes), copied once, cut into
    blocks of `chunks` (default: blocks of at most 16 MiB)."""
    values = np.asarray(values)
    _dtype_name("from_numpy", values.dtype)
    if values.dtype.byteorder == ">":
        values = values.astype(values.dtype.newbyteorder("<"))
    values = np.require(values, requirements=["C", "A"])
    chunks = _chunks(chunks, values.shape, values.dtype.name)
    return Array(_core.ArrayExpr.from_numpy(values, chunks))


def full(shape: Any, fill_value: Union[int, float], chunks: Chunks = None, dtype: Any = None) -> Array:
    """Every element `fill_value`; the dtype is NumPy's for the value unless given."""
    shape = _shape("full", shape)
    name = _dtype_name("full", dtype if dtype is not None else np.asarray(fill_value).dtype)
    return Array(_core.ArrayExpr.full(shape, _chunks(chunks, shape, name), name, fill_value))


def zeros(shape: Any, chunks: Chunks = None, dtype: Any = "float64") -> Array:
    return full(shape, 0, chunks, dtype)


def ones(shape: Any, chunks: Chunks = None, dtype: Any = "float64") -> Array:
    return full(shape, 1, chunks, dtype)


def arange(stop: int, chunks: Chunks = None, dtype: Any = "int64") -> Array:
    """0, 1, ..., stop - 1, as `numpy.arange(stop)`."""
    shape = (_int("arange", stop),)
    name = _dtype_name("arange", dtype)
    return Array(_core.ArrayExpr.arange(shape, _chunks(chunks, shape, name), name))


def random(shape: Any, chunks: Chunks = None, seed: int = 0, dtype: Any = "float64") -> Array:
    """Uniform values in [0, 1): the same for the same seed, shape and chunks."""
    shape = _shape("random", shape)
    name = _dtype_name("random", dtype)
    return Array(_core.ArrayExpr.random(shape, _chunks(chunks, shape, name), _int("random", seed), name))


def sqrt(x: Array) -> Array:
    return Array(_array("sqrt", x).map("sqrt"))


def exp(x: Array) -> Array:
    return Array(_array("exp", x).map("exp"))


def log(x: Array) -> Array:
    return Array(_array("log", x).map("log"))


def square(x: Array) -> Array:
    return Array(_array("square", x).map("square"))


# -- arguments -----------------------------------------------------------------


def _array(what: str, x: Any) -> "_core.ArrayExpr":
    if not isinstance(x, Array):
        raise TypeError(f"{what}: expected a taskloom array, got {type(x).__name__}")
    return x._expr


def _operand(op: str, other: Any, chunks: Tuple[int, ...]) -> Any:
    """`other` as the Rust side takes it: an expression, an int or a float; an
    ndarray becomes an array chunked like its partner where it can be."""
    if isinstance(other, Array):
        return other._expr
    if isinstance(other, (bool, int, float)):
        return other
    if isinstance(other, np.generic) and other.dtype.kind in "biuf":
        return other.item()
    if isinstance(other, np.ndarray):
        like = chunks[-other.ndim :] if 0 < other.ndim <= len(chunks) else None
        return from_numpy(other, like)._expr
    return NotImplemented


def _int(what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what}: expected an int, got {type(value).__name__}")
    return int(value)


def _shape(what: str, shape: Any) -> Tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(_int(what, n) for n in shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"{what}: negative dimensions are not allowed: {shape}")
    return shape


def _dtype_name(what: str, dtype: Any) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError as error:
        raise TypeError(f"{what}: {error}") from None
    if name not in ("float64", "float32", "int64", "int32", "bool"):
        raise TypeError(f"{what}: unsupported dtype {name} (expected float64, float32, int64, int32 or bool)")
    return name


def _chunks(chunks: Chunks, shape: Tuple[int, ...], dtype: str) -> Tuple[int, ...]:
    """The block shape `chunks` asks for along `shape`: an int for every axis, a
    sequence with -1 or None for whole axes, or None for blocks of at most
    `DEFAULT_CHUNK_BYTES`. Blocks longer than an axis are cut to it."""
    if chunks is None or chunks == "auto":
        return _default_chunks(shape, np.dtype(dtype).itemsize)
    if isinstance(chunks, (int, np.integer)):
        chunks = (chunks,) * len(shape)
    chunks = tuple(chunks)
    if len(chunks) != len(shape):
        raise ValueError(f"chunks {chunks} has {len(chunks)} dimensions but the array shape {shape} has {len(shape)}")
    out = []
    for c, n in zip(chunks, shape):
        if c is None or c == -1:
            c = n
        c = _int("chunks", c)
        if c <= 0:
            raise ValueError(f"chunks {chunks}: every block extent must be positive (or -1 for a whole axis)")
        out.append(max(1, min(c, n)))
    return tuple(out)


def _default_chunks(shape: Tuple[int, ...], itemsize: int) -> Tuple[int, ...]:
    chunks = [max(1, n) for n in shape]
    while int(np.prod(chunks, dtype=np.int64)) * itemsize > DEFAULT_CHUNK_BYTES:
        k = chunks.index(max(chunks))
        chunks[k] = (chunks[k] + 1) // 2
    return tuple(chunks)


def _index_text(key: Any, ndim: int) -> str:
    """A basic index (ints, slices, one Ellipsis) as the library parses it."""
    if not isinstance(key, tuple):
        key = (key,)
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        fill = ndim - (len(key) - 1)
        key = key[:at] + (slice(None),) * max(fill, 0) + key[at + 1 :]
    parts = []
    for k in key:
        if isinstance(k, slice):
            parts.append(":".join("" if v is None else str(_int("index", v)) for v in (k.start, k.stop, k.step)))
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            parts.append(str(int(k)))
        else:
            raise TypeError(
                f"index: taskloom arrays take basic indexing (ints, slices, '...'), not {type(k).__name__}"
            )
    if len(parts) > ndim:
        raise IndexError(f"too many indices for an array of {ndim} dimensions: {len(parts)} were indexed")
    return ",".join(parts)


def _workers(what: str, scheduler: str, num_workers: Optional[int]) -> Optional[int]:
    if scheduler not in SCHEDULERS:
        raise ValueError(f"{what}: scheduler must be one of {', '.join(SCHEDULERS)}, not {scheduler!r}")
    if scheduler == "sync":
        return 1
    if num_workers is None:
        return None
    workers = _int("num_workers", num_workers)
    if workers < 1:
        raise ValueError(f"{what}: num_workers must be at least 1, not {workers}")
    return workers


def _bytes(what: str, memory_limit: Optional[int]) -> Optional[int]:
    if memory_limit is None:
        return None
    limit = _int("memory_limit", memory_limit)
    if limit < 1:
        raise ValueError(f"{what}: memory_limit must be a positive number of bytes, not {limit}")
    return limit
