"""Dask graphs read into flat calls (`taskloom/_calls.py`): which entries become calls,
and random graphs of every form Dask accepts give Dask's own results on every
scheduler."""

import operator

import numpy as np
import pytest

dask = pytest.importorskip("dask")

from dask._task_spec import Alias, DataNode, GraphNode, Task, TaskRef  # noqa: E402
from dask.local import get_sync  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import taskloom  # noqa: E402
from taskloom._calls import Call, read_graph  # noqa: E402


def pair(a, b):
    return (a, b)


def keyword(a, b=0, *, c=0):
    return a + 2 * b + 3 * c


def test_flat_tasks_become_calls_and_the_rest_stays_dask_nodes():
    dsk = {
        "a": 1,
        "b": (operator.add, "a", 2),
        "c": Task("c", keyword, TaskRef("a"), c=TaskRef("b")),
        "d": (operator.add, "a", (operator.add, "b", 1)),  # nested task
        "e": (sum, ["a", "b"]),  # a list holding keys
        "f": "b",  # an alias
        "g": (pair, ("x", 1), slice(0, 2)),  # constants, a tuple among them
        "h": (pair, ("b", 1), {"k": "a"}),  # containers holding keys
        "i": [1, 2],
        "j": np.arange(3),
    }
    nodes = read_graph(dsk)
    calls = {key for key, node in nodes.items() if isinstance(node, Call)}
    assert calls == {"a", "b", "c", "g", "i", "j"}
    assert all(isinstance(node, GraphNode) for key, node in nodes.items() if key not in calls)
    assert nodes["c"].dependencies == ("a", "b")
    got = taskloom.get(dsk, list(dsk), scheduler="sync")
    want = get_sync(dsk, list(dsk))
    for g, w in zip(got, want):
        assert np.array_equal(g, w) if isinstance(w, np.ndarray) else g == w


def test_a_self_alias_is_dropped_as_dask_drops_it():
    assert "x" not in read_graph({"x": "x", "y": 1})


@st.composite
def graphs(draw):
    """A random DAG of legacy tuples and Task objects over earlier keys: flat calls,
    nested calls, lists of keys, aliases, kwargs, constants that look like keys."""
    size = draw(st.integers(1, 25))
    dsk = {}
    for i in range(size):
        key = f"k{i}" if draw(st.booleans()) else ("k", i)
        earlier = list(dsk)
        ref = (lambda: draw(st.sampled_from(earlier))) if earlier else None
        constant = st.one_of(st.integers(-5, 5), st.just(("not-a-key", 3)))
        form = draw(st.integers(0, 6)) if earlier else 0
        if form == 0:
            entry = draw(constant)
        elif form == 1:
            entry = (pair, ref(), draw(constant))
        elif form == 2:
            entry = Task(key, pair, TaskRef(ref()), draw(constant))
        elif form == 3:
            entry = (pair, (pair, ref(), ref()), ref())
        elif form == 4:
            entry = (len, [ref(), draw(constant), ref()])
        elif form == 5:
            entry = ref()
        else:
            entry = Task(key, pair, TaskRef(ref()), b=TaskRef(ref()))
        dsk[key] = entry
    return dsk


# Each "processes" example starts two workers: fewer examples, the same forms.
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.sampled_from(["sync", "threads", "processes"]))
def test_random_graphs_give_dasks_own_results(dsk, scheduler):
    keys = list(dsk)
    assert taskloom.get(dsk, keys, scheduler=scheduler, num_workers=2) == get_sync(dsk, keys)
