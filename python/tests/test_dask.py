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


def test_arrays_match_the_threaded_scheduler(get):
    x = da.random.default_rng(0).random((60, 40), chunks=(15, 10))
    y = (x + x.T[:40, :60].T).sum(axis=0) - x.mean()
    expected = y.compute(scheduler="threads")
    np.testing.assert_allclose(dask.compute(y, scheduler=get)[0], expected)
    with dask.config.set(scheduler=get):
        np.testing.assert_allclose(y.compute(), expected)


def test_bags_match_the_threaded_scheduler(get):
    b = db.from_sequence(range(100), npartitions=7)
    result = b.map(helpers.square).filter(lambda v: v % 3).fold(helpers.add, initial=0)
    assert result.compute(scheduler=get) == result.compute(scheduler="threads")
    freq = b.map(lambda v: v % 5).frequencies()
    assert sorted(freq.compute(scheduler=get)) == sorted(freq.compute(scheduler="threads"))


def test_dataframes_match_the_threaded_scheduler(get, tmp_path):
    for i in range(3):
        pd.DataFrame({"k": [i % 2] * 10, "v": np.arange(10) * (i + 1.5)}).to_csv(tmp_path / f"2014-{i}.csv", index=False)
    df = dd.read_csv(str(tmp_path / "2014-*.csv"))
    for frame in (df.describe(), df.groupby("k").v.sum()):
        pd.testing.assert_frame_equal(
            pd.DataFrame(frame.compute(scheduler=get)), pd.DataFrame(frame.compute(scheduler="threads"))
        )


def test_dask_delayed_matches_the_threaded_scheduler(get):
    parts = [dask.delayed(helpers.square)(i) for i in range(10)]
    total = dask.delayed(sum)(parts)
    assert total.compute(scheduler=get) == total.compute(scheduler="threads") == 285


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
