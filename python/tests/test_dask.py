"""`taskloom.get` as a Dask scheduler: Dask's own tests of scheduler functions, and the
same results as Dask's threaded scheduler on its array, bag, dataframe and delayed
collections."""

import functools

import numpy as np
import pytest

dask = pytest.importorskip("dask")

import dask.array as da  # noqa: E402
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from dask.utils_test import GetFunctionTestMixin, add, inc  # noqa: E402

import helpers  # noqa: E402
import taskloom  # noqa: E402

# A few workers: the tests check behaviour, not speed, on a shared machine.
WORKERS = 2

in_processes = functools.partial(taskloom.get, scheduler="processes", num_workers=WORKERS)
in_processes.__name__ = "get"


class TestGetThreads(GetFunctionTestMixin):
    get = staticmethod(taskloom.get)


class TestGetSync(GetFunctionTestMixin):
    get = staticmethod(functools.partial(taskloom.get, scheduler="sync"))


class TestGetProcesses(GetFunctionTestMixin):
    get = staticmethod(in_processes)

    def test_get_stack_limit(self):
        # Dask's test (a chain of 10,000 tasks) in processes, shorter: the same shape.
        d = {f"x{i + 1}": (inc, f"x{i}") for i in range(1000)}
        d["x0"] = 0
        assert self.get(d, "x1000") == 1000


@pytest.fixture(params=["threads", "processes"])
def get(request):
    return functools.partial(taskloom.get, scheduler=request.param, num_workers=WORKERS)


def test_task_objects_and_legacy_tuples(get):
    from dask._task_spec import Alias, DataNode, Task, TaskRef

    dsk = {
        "a": DataNode("a", 1),
        "b": Task("b", inc, TaskRef("a")),
        "c": Alias("c", "b"),
        "d": (add, "c", (inc, "a")),
        "e": (sum, ["a", "b", 10]),
    }
    assert get(dsk, ["d", ["e", "c"]]) == (4, (13, 2))


def collections(folder):
    """Dask's array, bag, dataframe and delayed examples: a tuple of collections."""
    x = da.random.default_rng(0).random((60, 40), chunks=(15, 10))
    array = (x + x.T[:40, :60].T).sum(axis=0) - x.mean()
    b = db.from_sequence(range(100), npartitions=7)
    bag = b.map(helpers.square).filter(lambda v: v % 3).fold(helpers.add, initial=0)
    frequencies = b.map(lambda v: v % 5).frequencies()
    for i in range(3):
        frame = pd.DataFrame({"k": [i % 2] * 10, "v": np.arange(10) * (i + 1.5)})
        frame.to_csv(folder / f"2014-{i}.csv", index=False)
    df = dd.read_csv(str(folder / "2014-*.csv"))
    parts = [dask.delayed(helpers.square)(i) for i in range(10)]
    return array, bag, frequencies, df.describe(), df.groupby("k").v.sum(), dask.delayed(sum)(parts)


def check_same(got, expected):
    array, bag, frequencies, describe, sums, total = got
    np.testing.assert_allclose(array, expected[0])
    assert bag == expected[1]
    assert sorted(frequencies) == sorted(expected[2])
    pd.testing.assert_frame_equal(describe, expected[3])
    pd.testing.assert_series_equal(sums, expected[4])
    assert total == expected[5] == 285


@pytest.mark.filterwarnings("ignore:Computing mixed collections")
def test_collections_match_the_threaded_scheduler(get, tmp_path):
    """Every collection computed in one call: a worker process imports pandas once."""
    values = collections(tmp_path)
    check_same(dask.compute(*values, scheduler=get), dask.compute(*values, scheduler="threads"))


@pytest.mark.filterwarnings("ignore:Computing mixed collections")
def test_config_set_makes_it_the_default_scheduler(tmp_path):
    values = collections(tmp_path)
    expected = dask.compute(*values, scheduler="threads")
    with dask.config.set(scheduler=taskloom.get):
        check_same(dask.compute(*values), expected)


def test_a_task_exception_reaches_the_caller(get):
    with pytest.raises(KeyError, match="bad item 3"):
        get({"x": 3, "y": (helpers.fail_on, "x")}, "y")


def test_a_dead_worker_names_its_key():
    with pytest.raises(taskloom.WorkerDiedError, match="boom"):
        in_processes({"boom": (helpers.crash, "exit"), "z": (add, "boom", "!")}, "z")


def test_a_missing_input_is_a_key_error():
    from dask._task_spec import Task, TaskRef

    with pytest.raises(KeyError, match="nowhere"):
        taskloom.get({"y": Task("y", inc, TaskRef("nowhere"))}, "y")
