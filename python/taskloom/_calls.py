"""Flat calls: the graph node most of Dask's tasks are, read and run without Dask's
classes.

- A `Call` is `func(*args, **kwargs)` whose arguments are constants or other tasks'
  values, none nested: Dask's `Task` on `TaskRef`s, a legacy tuple `(func, "x", 1)`.
  Inputs are put in place by position: no recursion through the arguments.
- It pickles as its function (by reference) and plain tuples, at the C pickler's
  speed. Dask's `Task` pickles and unpickles through Python code (its `__getstate__`
  and `__setstate__`), about 25 µs a task, and Dask's `convert_legacy_graph` costs 11 µs
  a node: together more than the engine spends on a task.
- Everything else (nested tasks, containers that hold keys, aliases, Dask's other
  nodes) is left to Dask: `convert_legacy_task` makes it a `GraphNode`, which runs as
  it is. The rules of what is a key and what a task are Dask's (`convert_legacy_task`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Container, Dict, Hashable, Mapping, Optional, Tuple

# The types a Dask key can be.
_KEY_TYPES = (int, float, str, tuple)


def name_of(func: Any) -> str:
    """What a call of `func` is called in keys and pictures."""
    return getattr(func, "__name__", None) or type(func).__name__


def constant(value: Any) -> Any:
    """The task of a graph entry that is data, not a call."""
    return value


class Call:
    """`func(*args, **kwargs)`, the arguments at `refs` (positions: an int for `args`, a
    name for `kwargs`) being the values of those keys."""

    __slots__ = ("func", "args", "kwargs", "refs", "dependencies")

    def __init__(
        self,
        func: Callable[..., Any],
        args: tuple,
        kwargs: Optional[Dict[str, Any]],
        refs: Tuple[Tuple[Any, Hashable], ...],
    ) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.refs = refs
        # Distinct, in order: `_graph.py` sends them as they are.
        self.dependencies = tuple(dict.fromkeys(key for _, key in refs))

    def __call__(self, values: Mapping[Hashable, Any]) -> Any:
        return invoke(self.func, self.args, self.kwargs, self.refs, values)

    def __reduce__(self) -> Any:
        return (Call, self.parts())

    @property
    def label(self) -> str:
        """The task's name in pictures (`visualize`)."""
        return name_of(self.func)

    def parts(self) -> tuple:
        """What makes the call, plain tuples: `invoke(*parts, values)` runs it."""
        return (self.func, self.args, self.kwargs, self.refs)

    def __repr__(self) -> str:
        return f"<Call {self.label!r} on {list(self.dependencies)!r}>"


def invoke(
    func: Callable[..., Any],
    args: tuple,
    kwargs: Optional[Dict[str, Any]],
    refs: Tuple[Tuple[Any, Hashable], ...],
    values: Mapping[Hashable, Any],
) -> Any:
    """`func(*args, **kwargs)`, the arguments at `refs` being the values of those keys."""
    if refs:
        args = list(args)  # type: ignore[assignment]
        if kwargs:
            kwargs = dict(kwargs)
        for at, key in refs:
            if type(at) is int:
                args[at] = values[key]  # type: ignore[index]
            else:
                kwargs[at] = values[key]  # type: ignore[index]
    return func(*args, **kwargs) if kwargs else func(*args)


def read_graph(dsk: Mapping[Hashable, Any]) -> Dict[Hashable, Any]:
    """Dask's graph (`Task`s or legacy tuples) as nodes `_graph.run` takes: `Call`s
    where it can, Dask's own `GraphNode`s elsewhere."""
    from dask._task_spec import Alias, DataNode, GraphNode, convert_legacy_task

    keys = set(dsk)
    reader = _Reader(keys)
    nodes: Dict[Hashable, Any] = {}
    for key, entry in dsk.items():
        node = reader.call(entry)
        if node is None:
            node = convert_legacy_task(key, entry, keys)
            if isinstance(node, Alias) and node.target == key:
                continue
            if not isinstance(node, GraphNode):
                node = DataNode(key, node)
        nodes[key] = node
    return nodes


class _Reader:
    """Tells flat calls from the rest, in a graph of `keys`."""

    def __init__(self, keys: Container[Hashable]) -> None:
        from dask._task_spec import GraphNode, Task, TaskRef

        self.keys = keys
        self.GraphNode, self.Task, self.TaskRef = GraphNode, Task, TaskRef

    def call(self, entry: Any) -> Optional[Call]:
        """`entry` as a `Call`, or None when it is not a flat one."""
        kind = type(entry)
        if kind is self.Task:
            return self.task(entry)
        if kind is tuple and entry and callable(entry[0]):
            refs = []
            args = entry[1:]
            for at, arg in enumerate(args):
                if self.is_key(arg):
                    refs.append((at, arg))
                elif not self.plain(arg):
                    return None
            return Call(entry[0], args, None, tuple(refs))
        if self.is_key(entry) or not self.plain(entry):
            return None
        return Call(constant, (entry,), None, ())

    def task(self, task: Any) -> Optional[Call]:
        """A Dask `Task` on `TaskRef`s and constants as a `Call`."""
        TaskRef, GraphNode = self.TaskRef, self.GraphNode
        refs = []
        for at, arg in enumerate(task.args):
            if type(arg) is TaskRef:
                refs.append((at, arg.key))
            elif isinstance(arg, GraphNode):
                return None
        for name, arg in task.kwargs.items():
            if type(arg) is TaskRef:
                refs.append((name, arg.key))
            elif isinstance(arg, GraphNode):
                return None
        args = task.args
        if refs:
            # The references' places are filled at the call: no TaskRef to pickle.
            args = tuple(None if type(arg) is TaskRef else arg for arg in args)
        return Call(task.func, args, task.kwargs or None, tuple(refs))

    def is_key(self, value: Any) -> bool:
        try:
            return isinstance(value, _KEY_TYPES) and value in self.keys
        except TypeError:  # a tuple holding something unhashable
            return False

    def plain(self, value: Any) -> bool:
        """Whether `value` is a constant: no task, key or graph node anywhere in it."""
        if isinstance(value, self.GraphNode):
            return False
        if isinstance(value, (list, tuple, set, frozenset)):
            if type(value) is tuple and value and callable(value[0]):
                return False
            return all(not self.is_key(item) and self.plain(item) for item in value)
        if isinstance(value, dict):
            return all(not self.is_key(item) and self.plain(item) for pair in value.items() for item in pair)
        return True
