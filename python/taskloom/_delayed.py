"""`taskloom.delayed` and `taskloom.compute`: lazy Python calls that form a task graph,
as `dask.delayed` and joblib's `delayed` do, computed on the engine (`_graph.py`).

- `delayed(f)(*args, **kwargs)` is a `Delayed`: a key and the node that computes it (a
  call whose arguments may hold other `Delayed` values, in lists, tuples, sets and dicts
  too). The graph is the nodes reachable from the values computed, gathered once at
  `compute`; a value used by many runs once.
- Keys as Dask makes them: `name-<uuid>` for impure calls (the default), `name-<hash>`
  of the function and arguments with `pure=True` (equal calls are then one task), or
  `dask_key_name=`.
- Attribute access, item access, calls and arithmetic on a `Delayed` are delayed too;
  `nout=n` makes a call's value unpackable into `n` values.
- Nodes speak Dask's `GraphNode` protocol (`dependencies`, `node(values)`), so the
  engine runs these graphs and Dask's alike. A call whose arguments are constants or
  `Delayed` values themselves is a flat `Call` (`_calls.py`), as most of Dask's tasks
  are: it runs without recursion and travels to worker processes as plain tuples.
"""

from __future__ import annotations

import operator
import uuid

from . import _graph, _pickling
from ._calls import Call, name_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Hashable, Iterator, List, Optional, Tuple

# `delayed` called without the object: `@delayed(pure=True)`.
_NOTHING = object()


class _Ref:
    """Where a node's argument is the value of another key."""

    __slots__ = ("key",)

    def __init__(self, key: Hashable) -> None:
        self.key = key

    def __reduce__(self) -> Any:
        return (_Ref, (self.key,))


def _nested(obj: Any, leaf: Callable[[Any], Any]) -> Any:
    """`obj` with `leaf(x)` in place of each `x` that is not a list, tuple, dict or set
    (a dict's values, not its keys), however deep."""
    kind = type(obj)
    if kind is list:
        return [_nested(x, leaf) for x in obj]
    if kind is tuple:
        return tuple(_nested(x, leaf) for x in obj)
    if kind is dict:
        return {k: _nested(v, leaf) for k, v in obj.items()}
    if kind is set:
        return {_nested(x, leaf) for x in obj}
    return leaf(obj)


def _fill(template: Any, values: Dict[Hashable, Any]) -> Any:
    """`template` with each `_Ref` replaced by its key's value."""
    return _nested(template, lambda x: values[x.key] if type(x) is _Ref else x)


class _NestedCall:
    """The node of `func(*args, **kwargs)` whose templates hold `_Ref`s to its inputs
    inside containers, or whose function is itself delayed: filled by recursion. A call
    on plain arguments and delayed values is a flat `Call` instead (see `_node`)."""

    __slots__ = ("func", "args", "kwargs", "dependencies", "label")

    def __init__(self, func: Any, args: tuple, kwargs: dict, dependencies: frozenset, label: str) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.dependencies = dependencies
        self.label = label

    def __call__(self, values: Dict[Hashable, Any]) -> Any:
        if not self.dependencies:
            return self.func(*self.args, **self.kwargs)
        return _fill(self.func, values)(*_fill(self.args, values), **_fill(self.kwargs, values))

    def __reduce__(self) -> Any:
        return (_NestedCall, (self.func, self.args, self.kwargs, self.dependencies, self.label))


class _Build:
    """The node of a list, tuple, set or dict holding delayed values."""

    __slots__ = ("template", "dependencies", "label")

    def __init__(self, template: Any, dependencies: frozenset) -> None:
        self.template = template
        self.dependencies = dependencies
        self.label = type(template).__name__

    def __call__(self, values: Dict[Hashable, Any]) -> Any:
        return _fill(self.template, values)

    def __reduce__(self) -> Any:
        return (_Build, (self.template, self.dependencies))


class _Data:
    """The node of a value given as it is."""

    __slots__ = ("value",)
    dependencies: frozenset = frozenset()
    label = "data"

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, values: Dict[Hashable, Any]) -> Any:
        return self.value

    def __reduce__(self) -> Any:
        return (_Data, (self.value,))


def _collect(obj: Any, found: Dict[Hashable, "Delayed"]) -> Any:
    """`obj` as a template: each `Delayed` inside (lists, tuples, sets, dicts) becomes a
    `_Ref` to its key, and goes into `found`."""

    def reference(x: Any) -> Any:
        if isinstance(x, Delayed):
            found[x._key] = x
            return _Ref(x._key)
        return x

    return _nested(obj, reference)


def _token(*parts: Any) -> str:
    """A hash of `parts` (pure calls): equal calls, equal keys; else a fresh one."""
    import hashlib

    try:
        return hashlib.sha1(_pickling.dumps(parts)).hexdigest()
    except Exception:
        return uuid.uuid4().hex


class Delayed:
    """A value computed lazily by a task graph: `compute()` runs the graph on the
    engine. Made by `delayed`; operations on it are delayed too."""

    __slots__ = ("_key", "_node", "_inputs", "_length")

    def __init__(self, key: Hashable, node: Any, inputs: Tuple["Delayed", ...] = (), length: Optional[int] = None) -> None:
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_inputs", inputs)
        object.__setattr__(self, "_length", length)

    @property
    def key(self) -> Hashable:
        """The key of this value in its graph."""
        return self._key

    @property
    def dask(self) -> Dict[Hashable, Any]:
        """The graph that computes this value: key -> node."""
        return _graph_of([self])

    def compute(self, scheduler: str = "threads", num_workers: Optional[int] = None) -> Any:
        """Computes this value (see `taskloom.compute`)."""
        return compute(self, scheduler=scheduler, num_workers=num_workers)[0]

    def visualize(self, filename: Optional[str] = None) -> str:
        """The graph as an SVG picture drawn by the engine; written to `filename` if given."""
        return visualize(self, filename=filename)

    def __repr__(self) -> str:
        return f"Delayed({self._key!r})"

    def __hash__(self) -> int:
        return hash(self._key)

    def __bool__(self) -> bool:
        raise TypeError("the truth of a Delayed value is not known until it is computed")

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("a Delayed value of unknown length has no len(): give nout= to delayed")
        return self._length

    def __iter__(self) -> Iterator["Delayed"]:
        if self._length is None:
            raise TypeError("a Delayed value of unknown length cannot be iterated: give nout= to delayed")
        return (self[i] for i in range(self._length))

    def __getattr__(self, attr: str) -> "Delayed":
        if attr.startswith("_"):
            raise AttributeError(f"'Delayed' object has no attribute {attr!r}")
        return _call(getattr, (self, attr), {}, pure=True)

    def __getitem__(self, index: Any) -> "Delayed":
        return _call(operator.getitem, (self, index), {}, pure=True)

    def __call__(self, *args: Any, **kwargs: Any) -> "Delayed":
        pure = kwargs.pop("pure", False)
        key = kwargs.pop("dask_key_name", None)
        return _call(self, args, kwargs, pure=pure, key=key)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise TypeError("Delayed values are immutable")


def _bind_operators() -> None:
    """Arithmetic, comparison (but `==` and `!=`, which keep their meaning for sets and
    dicts) and bitwise operators on `Delayed` values give delayed values."""
    binary = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift", "rshift", "lt", "le", "gt", "ge"]
    for name in binary:
        op = getattr(operator, name if name not in ("and", "or") else name + "_")

        def forward(self: Delayed, other: Any, op: Callable[..., Any] = op) -> Delayed:
            return _call(op, (self, other), {}, pure=True)

        def backward(self: Delayed, other: Any, op: Callable[..., Any] = op) -> Delayed:
            return _call(op, (other, self), {}, pure=True)

        setattr(Delayed, f"__{name}__", forward)
        if name not in ("lt", "le", "gt", "ge"):
            setattr(Delayed, f"__r{name}__", backward)
    for name in ("neg", "pos", "abs", "invert"):
        op = getattr(operator, name)

        def unary(self: Delayed, op: Callable[..., Any] = op) -> Delayed:
            return _call(op, (self,), {}, pure=True)

        setattr(Delayed, f"__{name}__", unary)


_bind_operators()


class DelayedFunction(Delayed):
    """A function made lazy by `delayed`: calling it makes a `Delayed` call."""

    __slots__ = ("_func", "_pure", "_nout", "_prefix")

    def __init__(self, func: Callable[..., Any], name: Optional[str], pure: bool, nout: Optional[int]) -> None:
        key = name or f"{name_of(func)}-{_token(func) if pure else uuid.uuid4().hex}"
        super().__init__(key, _Data(func))
        object.__setattr__(self, "_func", func)
        object.__setattr__(self, "_pure", pure)
        object.__setattr__(self, "_nout", nout)
        object.__setattr__(self, "_prefix", name_of(func))

    def __call__(self, *args: Any, **kwargs: Any) -> Delayed:
        pure = kwargs.pop("pure", self._pure)
        key = kwargs.pop("dask_key_name", None)
        return _call(self._func, args, kwargs, pure=pure, key=key, nout=self._nout, prefix=self._prefix)


def _call(
    func: Any,
    args: tuple,
    kwargs: dict,
    pure: bool,
    key: Optional[Hashable] = None,
    nout: Optional[int] = None,
    prefix: Optional[str] = None,
) -> Delayed:
    """The delayed value of `func(*args, **kwargs)`."""
    found: Dict[Hashable, Delayed] = {}
    func_template = _collect(func, found)
    args_template = _collect(args, found)
    kwargs_template = _collect(kwargs, found)
    label = prefix or ("call" if isinstance(func, Delayed) else name_of(func))
    if key is None:
        token = _token(func_template, args_template, kwargs_template) if pure else uuid.uuid4().hex
        key = f"{label}-{token}"
    node = _flat(func_template, args_template, kwargs_template) or _NestedCall(
        func_template, args_template, kwargs_template, frozenset(found), label
    )
    return Delayed(key, node, tuple(found.values()), nout)


def _flat(func: Any, args: tuple, kwargs: dict) -> Optional[Call]:
    """The call as a flat `Call` (inputs put in place by position, and pickled as plain
    tuples to worker processes), when each argument is either a delayed value itself or
    a constant holding none; None otherwise."""
    if type(func) is _Ref:
        return None
    refs: List[Tuple[Any, Hashable]] = []
    for at, value in (*enumerate(args), *kwargs.items()):
        if type(value) is _Ref:
            refs.append((at, value.key))
        elif _holds_ref(value):
            return None
    if refs:
        args = tuple(None if type(a) is _Ref else a for a in args)
        kwargs = {k: None if type(v) is _Ref else v for k, v in kwargs.items()}
    return Call(func, args, kwargs or None, tuple(refs))


def _holds_ref(template: Any) -> bool:
    """Whether a `_Ref` is inside `template`'s lists, tuples, dicts or sets."""
    kind = type(template)
    if kind is _Ref:
        return True
    if kind is dict:
        return any(_holds_ref(v) for v in template.values())
    if kind in (list, tuple, set):
        return any(_holds_ref(x) for x in template)
    return False


def delayed(obj: Any = _NOTHING, name: Optional[str] = None, pure: Optional[bool] = None, nout: Optional[int] = None, traverse: bool = True) -> Any:
    """Makes `obj` lazy, as `dask.delayed` does: a function's calls become tasks of a
    graph, computed by `compute`; a value becomes a `Delayed` (with `traverse`, a list,
    tuple, set or dict holding `Delayed` values is built by a task of its own).

    `pure=True` gives equal calls one key (one task); `nout=n` makes each call's value
    unpackable into `n` values; `name` is the key of the value (or the function)."""
    if obj is _NOTHING:
        return lambda obj: delayed(obj, name=name, pure=pure, nout=nout, traverse=traverse)
    if nout is not None and (isinstance(nout, bool) or not isinstance(nout, int) or nout < 0):
        raise ValueError(f"nout must be None or a non-negative int, not {nout!r}")
    if isinstance(obj, Delayed):
        return obj
    if callable(obj):
        return DelayedFunction(obj, name, bool(pure), nout)
    if traverse and type(obj) in (list, tuple, set, dict):
        found: Dict[Hashable, Delayed] = {}
        template = _collect(obj, found)
        if found:
            key = name or f"{type(obj).__name__}-{_token(template) if pure else uuid.uuid4().hex}"
            return Delayed(key, _Build(template, frozenset(found)), tuple(found.values()), nout)
    key = name or f"{type(obj).__name__}-{_token(obj) if pure else uuid.uuid4().hex}"
    return Delayed(key, _Data(obj), (), nout)


def _graph_of(values: List[Delayed]) -> Dict[Hashable, Any]:
    """Every node that `values` need, by key: each once, however often it is used."""
    graph: Dict[Hashable, Any] = {}
    stack = list(values)
    while stack:
        value = stack.pop()
        if value._key in graph:
            continue
        graph[value._key] = value._node
        stack.extend(value._inputs)
    return graph


def compute(*values: Any, scheduler: str = "threads", num_workers: Optional[int] = None) -> tuple:
    """Computes the `Delayed` values among `values` (also inside lists, tuples, sets
    and dicts, as `dask.compute` does) in one graph; returns a tuple of the results,
    other values passed through.

    `scheduler`: "threads" (the engine's threads; for work that releases the GIL),
    "processes" (worker processes: CPU-bound Python) or "sync" (the caller's thread,
    for debugging). `num_workers`: threads or processes (default: one per core)."""
    found: Dict[Hashable, Delayed] = {}
    template = _collect(values, found)
    if not found:
        return tuple(values)
    targets = list(found)
    results = _graph.run(_graph_of(list(found.values())), targets, scheduler, num_workers)
    return _fill(template, dict(zip(targets, results)))


def visualize(*values: Any, filename: Optional[str] = None) -> str:
    """The graph of the `Delayed` values among `values` as an SVG picture drawn by the
    engine (a summary by depth beyond a few thousand tasks); written to `filename` if
    given."""
    from . import _core

    found: Dict[Hashable, Delayed] = {}
    _collect(values, found)
    graph = _graph_of(list(found.values()))
    labels = [getattr(node, "label", "data") for node in graph.values()]
    svg = _core.draw(graph, list(found), labels)
    if filename is not None:
        with open(filename, "w", encoding="utf-8") as f:
            f.write(svg)
    return svg
