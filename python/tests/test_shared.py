"""Large NumPy arguments and results travel through shared memory (taskloom/_shared.py):
values intact, one copy, and no file left in /dev/shm afterwards, whatever happens."""

import glob
import os

import numpy as np
import pytest

import taskloom
from taskloom import _pickling, _shared

import helpers

BIG = (4 << 20) // 8  # 4 MiB of float64: out of band
SMALL = 1000  # 8 KB: in band


def files_of(pids):
    """The shared-memory files processes `pids` made (their names start with the pid)."""
    return sorted(f for pid in pids for f in glob.glob(f"{_shared.SHM}/taskloom-{pid}-*"))


@pytest.fixture(scope="module")
def pool():
    with taskloom.Pool(2) as p:
        yield p


def test_large_arguments_and_results_go_through_shared_memory_and_leave_no_file(pool):
    a = np.arange(BIG, dtype=np.float64)
    total, mapped, pid = pool.apply(helpers.array_facts, (a,))
    assert total == a[1:].sum() and mapped
    assert a[0] == 0.0, "the worker's write reached the caller's array"
    back = pool.starmap(helpers.make_array, [(BIG, BIG), (BIG, BIG)], chunksize=1)
    assert all(b.shape == (BIG,) and (b == BIG).all() and helpers.mapped(b) for b in back)
    back[0][:] = 1.0  # results are writable arrays of the caller's own
    results = pool.starmap(helpers.add, [(a, a), (a, 1.0)])
    np.testing.assert_array_equal(results[0], 2 * a)
    np.testing.assert_array_equal(results[1], a + 1)
    assert files_of({os.getpid(), pid}) == []


def test_small_arrays_stay_in_the_pickle(pool):
    payload = _pickling.dumps(np.ones(SMALL), shared=True)
    assert not _shared.is_packed(payload)
    total, mapped, _ = pool.apply(helpers.array_facts, (np.ones(SMALL),))
    assert total == SMALL - 1 and not mapped


def test_executor_results_and_arguments_are_shared_too():
    a = np.ones((512, 1024))
    with taskloom.Executor(max_workers=1) as ex:
        assert ex.submit(np.sum, a).result() == a.size
        np.testing.assert_array_equal(ex.submit(np.negative, a).result(), -a)
    assert files_of({os.getpid()}) == []


def test_a_worker_that_dies_holding_a_shared_argument_leaves_no_file(pool):
    a = np.ones(BIG)
    with pytest.raises(taskloom.WorkerDiedError):
        pool.apply(helpers.crash_holding, (a,))
    assert files_of({os.getpid()}) == []
    assert pool.apply(helpers.array_facts, (a,))[0] == BIG - 1


def test_workers_name_their_files_after_the_caller(pool):
    assert pool.apply(helpers.shared_owner) == os.getpid()


def test_a_starting_pool_removes_the_files_of_callers_that_are_gone(tmp_path):
    import subprocess
    import sys
    import tempfile

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = int(gone.stdout)
    left = [
        os.path.join(_shared.SHM, f"taskloom-{dead}-{os.urandom(8).hex()}"),
        os.path.join(tempfile.gettempdir(), f"taskloom-pool-{dead}-abc_123.pickle"),
    ]
    ours = os.path.join(_shared.SHM, f"taskloom-{os.getpid()}-{os.urandom(8).hex()}")
    other = os.path.join(_shared.SHM, f"taskloom-{dead}-not-ours")
    try:
        for path in left + [ours, other]:
            open(path, "wb").close()
        with taskloom.Pool(1) as p:
            assert p.apply(abs, (-1,)) == 1
        assert [os.path.exists(path) for path in left] == [False, False]
        assert os.path.exists(ours) and os.path.exists(other)
    finally:
        for path in left + [ours, other]:
            if os.path.exists(path):
                os.unlink(path)
