"""`taskloom.delayed` and `taskloom.compute`: graphs, keys, schedulers, failures."""

import operator
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import helpers
import taskloom
from conftest import workers_of
from taskloom import compute, delayed

SCHEDULERS = ["sync", "threads", "processes"]

# A few workers: the tests check behaviour, not speed, on a shared machine.
WORKERS = 2


def counted(path, x):
    """Appends a line to `path` per call (each run counts, in any process)."""
    with open(path, "a") as f:
        f.write("x\n")
    return x


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_a_graph_of_calls_computes_as_python_would(scheduler):
    inc = delayed(helpers.add)
    a = inc(1, 2)
    b = delayed(helpers.square)(a)
    total = delayed(sum)([a, b, 10])
    assert compute(total, a, scheduler=scheduler, num_workers=WORKERS) == (3 + 9 + 10, 3)
    assert total.compute(scheduler=scheduler, num_workers=WORKERS) == 22


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_nested_collections_of_delayed_values_come_back_in_their_shape(scheduler):
    x = delayed(helpers.square)(3)
    y = delayed(helpers.add)(x, 1)
    out = compute([x, (y, 5)], {"k": y, "n": [x]}, 7, scheduler=scheduler, num_workers=WORKERS)
    assert out == ([9, (10, 5)], {"k": 10, "n": [9]}, 7)


def test_keyword_arguments_and_values_inside_containers_are_arguments():
    x = delayed(helpers.square)(2)
    assert delayed(helpers.keyword)(x, b=[x, x], c={"z": x}).compute() == (4, [4, 4], {"z": 4})


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_calls_on_delayed_values_themselves_are_flat_and_the_rest_nested(scheduler):
    from taskloom._calls import Call

    x = delayed(helpers.square)(3)
    flat = delayed(helpers.keyword)(x, b=x, c=(1, 2))
    nested = delayed(helpers.keyword)(1, b=[x], c=None)
    called = delayed([helpers.square], traverse=False)[0](x)
    assert type(flat._node) is Call and flat._node.dependencies == (x.key,)
    assert type(x._node) is Call and x._node.dependencies == ()
    assert type(nested._node) is not Call
    # A function that is itself a delayed value is filled in like a nested argument.
    assert type(called._node) is not Call
    assert compute(flat, nested, called, scheduler=scheduler, num_workers=WORKERS) == (
        (9, 9, (1, 2)),
        (1, [9], None),
        81,
    )


def test_a_shared_sub_expression_runs_once(tmp_path):
    path = str(tmp_path / "calls")
    shared = delayed(counted)(path, 5)
    parts = [delayed(helpers.add)(shared, i) for i in range(6)]
    assert compute(parts, scheduler="processes", num_workers=WORKERS) == ([5, 6, 7, 8, 9, 10],)
    with open(path) as f:
        assert f.read().count("x") == 1


def test_pure_calls_with_equal_arguments_are_one_task():
    a = delayed(helpers.add, pure=True)(1, 2)
    b = delayed(helpers.add, pure=True)(1, 2)
    c = delayed(helpers.add, pure=True)(1, 3)
    assert a.key == b.key != c.key
    impure = delayed(helpers.add)
    assert impure(1, 2).key != impure(1, 2).key
    assert delayed(helpers.add)(1, 2, pure=True).key == a.key


def test_keys_name_the_function_and_can_be_given():
    assert delayed(helpers.square)(2).key.startswith("square-")
    assert delayed(helpers.square)(2, dask_key_name="mine").key == "mine"
    assert delayed(5, name="five").key == "five"


def test_nout_unpacks_a_call_into_values():
    q, r = delayed(divmod, nout=2)(17, 5)
    assert compute(q, r) == (3, 2)
    with pytest.raises(TypeError, match="nout"):
        iter(delayed(divmod)(17, 5))


def test_attributes_items_methods_and_operators_are_delayed():
    text = delayed("a,b,c")
    parts = text.split(",")
    assert parts.compute() == ["a", "b", "c"]
    assert parts[1].compute() == "b"
    assert delayed(3 + 4j).real.compute() == 3.0
    x = delayed(helpers.square)(3)
    assert compute(x + 1, 1 + x, x * x, -x, x // 2, x > 5) == (10, 10, 81, -9, 4, True)
    with pytest.raises(TypeError, match="truth"):
        bool(x)


def test_decorator_forms():
    @delayed
    def double(v):
        return 2 * v

    @delayed(pure=True)
    def triple(v):
        return 3 * v

    assert compute(double(2), triple(2), scheduler="processes", num_workers=1) == (4, 6)
    assert triple(5).key == triple(5).key


def test_values_without_delayed_pass_through():
    assert compute(1, [2], scheduler="processes") == (1, [2])


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_a_task_exception_reaches_the_caller_with_its_type(scheduler):
    bad = delayed(helpers.fail_on)(3)
    with pytest.raises(KeyError, match="bad item 3") as caught:
        delayed(helpers.add)(bad, 1).compute(scheduler=scheduler, num_workers=WORKERS)
    if scheduler == "processes":
        assert "fail_on" in str(caught.value.__cause__)
    else:
        assert any(entry.name == "fail_on" for entry in caught.traceback)


def test_a_worker_that_dies_fails_its_task_naming_the_key():
    dying = delayed(helpers.crash)("exit", dask_key_name="the-crash")
    with pytest.raises(taskloom.WorkerDiedError, match="the-crash"):
        delayed(helpers.add)(dying, "!").compute(scheduler="processes", num_workers=WORKERS)


def test_an_unpicklable_argument_is_named_before_anything_runs(tmp_path):
    path = str(tmp_path / "ran")
    first = delayed(helpers.touch)(path)
    bad = delayed(helpers.add)(first, helpers.Unpicklable(), dask_key_name="the-bad-one")
    with pytest.raises(pickle.PicklingError, match="the-bad-one"):
        bad.compute(scheduler="processes", num_workers=WORKERS)
    assert not os.path.exists(path)


def test_a_task_a_worker_cannot_unpickle_fails_saying_why():
    bad = delayed(len)([helpers.Unloadable()])
    with pytest.raises(ValueError, match="cannot be unpickled here"):
        bad.compute(scheduler="processes", num_workers=1)


def test_bad_arguments_are_clear_errors():
    x = delayed(helpers.square)(2)
    with pytest.raises(ValueError, match="scheduler"):
        x.compute(scheduler="gpu")
    with pytest.raises(ValueError, match="num_workers"):
        x.compute(num_workers=0)
    with pytest.raises(TypeError, match="num_workers"):
        x.compute(num_workers="2")
    with pytest.raises(ValueError, match="nout"):
        delayed(divmod, nout=-1)
    with pytest.raises(TypeError, match="immutable"):
        x.foo = 1


def test_results_are_freed_once_their_consumers_have_run():
    import weakref

    class Box:
        pass

    seen = []

    def make():
        box = Box()
        seen.append(weakref.ref(box))
        return box

    def use(box, check):
        return 1

    def freed(_):
        return seen[0]() is None

    made = delayed(make)()
    used = delayed(use)(made, 0)
    assert compute(delayed(freed)(used), scheduler="sync") == (True,)


def test_visualize_draws_the_graph_with_the_engine(tmp_path):
    x = delayed(helpers.square)(2, dask_key_name="sq")
    y = delayed(helpers.add)(x, 1, dask_key_name="plus")
    path = tmp_path / "g.svg"
    svg = y.visualize(str(path))
    assert path.read_text() == svg
    assert svg.startswith("<svg") or svg.startswith("<?xml")
    assert "sq" in svg and "plus" in svg and "square" in svg


# --- property: every scheduler gives the same result ----------------------------------

OPS = [operator.add, operator.sub, operator.mul, max, min]


@st.composite
def graphs(draw):
    """A random DAG of integer ops: (leaf values, [(op index, input indices)...])."""
    leaves = draw(st.lists(st.integers(-50, 50), min_size=1, max_size=4))
    nodes = []
    for i in range(draw(st.integers(0, 12))):
        available = len(leaves) + i
        a = draw(st.integers(0, available - 1))
        b = draw(st.integers(0, available - 1))
        nodes.append((draw(st.integers(0, len(OPS) - 1)), a, b))
    return leaves, nodes


def _build(leaves, nodes):
    values = [delayed(v) for v in leaves]
    for op, a, b in nodes:
        values.append(delayed(OPS[op], pure=True)(values[a], values[b]))
    return values


def _plain(leaves, nodes):
    values = list(leaves)
    for op, a, b in nodes:
        values.append(OPS[op](values[a], values[b]))
    return values


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(graphs(), min_size=1, max_size=8))
def test_random_graphs_give_the_same_result_on_every_scheduler(many):
    """Several graphs per example, computed together: one start of the workers each."""
    expected = [_plain(*graph) for graph in many]
    for scheduler in SCHEDULERS:
        built = [_build(*graph) for graph in many]
        assert list(map(list, compute(*built, scheduler=scheduler, num_workers=WORKERS))) == expected


# --- Ctrl-C --------------------------------------------------------------------------------

CALLER = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, {tests!r})
    import taskloom
    print("started", flush=True)
    parts = [taskloom.delayed(time.sleep)(60) for _ in range(4)]
    taskloom.compute(parts, scheduler={scheduler!r}, num_workers=2)
    """
)


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_ctrl_c_stops_the_run_and_raises_keyboard_interrupt(scheduler):
    tests = os.path.dirname(os.path.abspath(__file__))
    child = subprocess.Popen(
        [sys.executable, "-c", CALLER.format(tests=tests, scheduler=scheduler)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert child.stdout.readline().strip() == b"started"
        deadline = time.monotonic() + 10
        if scheduler == "processes":
            while len(workers_of(child.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            workers = workers_of(child.pid)
            assert len(workers) == 2
        else:
            time.sleep(0.5)
            workers = []
        os.killpg(child.pid, signal.SIGINT)
        _, err = child.communicate(timeout=30)
        assert b"KeyboardInterrupt" in err
        assert child.returncode != 0
        for worker in workers:
            assert not os.path.exists(f"/proc/{worker}")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
