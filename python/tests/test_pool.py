"""taskloom.Pool: results, chunks, callbacks, errors, crashes and bad input."""

import collections
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from multiprocessing import TimeoutError as PoolTimeout

import pytest

import taskloom
from conftest import wait_for_no_workers, workers_of
import helpers


@pytest.fixture(scope="module")
def pool():
    with taskloom.Pool(2) as p:
        yield p


def test_map_gives_the_values_in_order_for_every_chunksize(pool):
    items = list(range(103))
    expected = [x * x for x in items]
    assert pool.map(helpers.square, items) == expected
    for chunksize in (1, 2, 7, 50, 1000):
        assert pool.map(helpers.square, items, chunksize) == expected
    assert pool.map(helpers.square, iter(items)) == expected
    assert pool.map(helpers.square, []) == []


def test_starmap_apply_and_keywords(pool):
    assert pool.starmap(helpers.add, [(1, 2), (3, 4)]) == [3, 7]
    assert pool.starmap_async(helpers.add, [(5, 6)], chunksize=1).get() == [11]
    assert pool.apply(helpers.keyword, (1,), {"b": 2, "c": 3}) == (1, 2, 3)
    assert pool.apply_async(helpers.add, (2, 3)).get(timeout=30) == 5


def test_imap_is_ordered_and_imap_unordered_has_every_result(pool):
    items = list(range(50))
    assert list(pool.imap(helpers.square, items)) == [x * x for x in items]
    assert list(pool.imap(helpers.square, items, chunksize=7)) == [x * x for x in items]
    assert sorted(pool.imap_unordered(helpers.square, items, 3)) == [x * x for x in items]
    assert list(pool.imap(helpers.square, [])) == []


def test_lambdas_and_closures_travel_by_value(pool):
    offset = 10
    assert pool.map(lambda x: x + offset, [1, 2, 3]) == [11, 12, 13]

    def local(x):
        return x * offset

    assert pool.apply(local, (4,)) == 40


def test_async_results_callbacks_and_states(pool):
    got, errors = [], []
    ok = pool.map_async(helpers.square, [1, 2], callback=got.append, error_callback=errors.append)
    assert ok.get(timeout=30) == [1, 4]
    assert ok.ready() and ok.successful()
    assert got == [[1, 4]] and errors == []
    failed = pool.apply_async(helpers.fail_on, (3,), callback=got.append, error_callback=errors.append)
    failed.wait(30)
    assert failed.ready() and not failed.successful()
    assert len(errors) == 1 and isinstance(errors[0], KeyError)
    slow = pool.apply_async(helpers.sleep_then, (1, 1.0))
    with pytest.raises(ValueError):
        slow.successful()
    with pytest.raises(PoolTimeout):
        slow.get(timeout=0.05)
    assert slow.get(timeout=30) == 1


def test_a_task_exception_keeps_its_type_message_and_remote_traceback(pool):
    with pytest.raises(KeyError) as caught:
        pool.map(helpers.fail_on, range(10), chunksize=2)
    assert "bad item 3" in str(caught.value)
    cause = caught.value.__cause__
    assert cause is not None
    assert 'raise KeyError(f"bad item {x}")' in cause.tb
    # The pool goes on.
    assert pool.apply(helpers.square, (3,)) == 9


def test_an_unpicklable_argument_or_function_fails_before_anything_runs(pool, tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(pickle.PicklingError, match="refuses to be pickled") as caught:
        pool.starmap(helpers.touch, [(str(marker),), (helpers.Unpicklable(),)])
    assert "item 1 (" in str(caught.value) and "Unpicklable" in str(caught.value)
    # Also of the original type, as `multiprocessing` lets it through.
    assert isinstance(caught.value, RuntimeError)
    with pytest.raises(pickle.PicklingError, match="the arguments"):
        pool.apply_async(helpers.touch, (helpers.Unpicklable(),))
    time.sleep(0.2)
    assert not marker.exists()
    import threading

    with pytest.raises(pickle.PicklingError, match="the function"):
        pool.apply(threading.Lock().acquire)


@pytest.mark.parametrize("how", ["segfault", "exit", "kill"])
def test_a_worker_that_dies_fails_only_its_item(how):
    with taskloom.Pool(2) as pool:
        crashed = pool.apply_async(helpers.crash, (how,))
        others = [pool.apply_async(helpers.square, (i,)) for i in range(20)]
        with pytest.raises(taskloom.WorkerDiedError, match="died"):
            crashed.get(timeout=60)
        assert [r.get(timeout=60) for r in others] == [i * i for i in range(20)]
        assert pool.map(helpers.square, range(5)) == [0, 1, 4, 9, 16]


def test_a_crash_in_a_chunk_is_blamed_on_its_item_and_the_rest_run():
    with taskloom.Pool(2) as pool:
        results = pool.imap(helpers.crash_at, range(8), chunksize=8)
        with pytest.raises(taskloom.WorkerDiedError, match=r"exited with code 7"):
            next(results)
        got = []
        pool.map_async(helpers.crash_at, [1, 2, 4], chunksize=3, callback=got.append).get(30)
        assert got == [[10, 20, 40]]
        unordered = list(pool.imap_unordered(helpers.crash_at, [1, 2, 4, 5], 1))
        assert sorted(unordered) == [10, 20, 40, 50]


def test_the_initializer_runs_in_every_worker():
    with taskloom.Pool(2, initializer=helpers.remember, initargs=("ready",)) as pool:
        assert set(pool.map(helpers.remembered, range(8), 1)) == {"ready"}


def test_print_in_a_worker_does_not_disturb_the_pool(pool):
    assert pool.map(helpers.shout, range(5)) == list(range(5))


def test_maxtasksperchild_renews_each_worker_after_its_tasks():
    # CPython's test_pool_worker_lifetime, stricter: no worker runs more than its share.
    others = set(workers_of(os.getpid()))  # the module's own pool's
    with taskloom.Pool(3, maxtasksperchild=10) as pool:
        results = [pool.apply_async(helpers.pid) for _ in range(100)]
        runs = collections.Counter(r.get(timeout=60) for r in results)
        assert max(runs.values()) <= 10 and len(runs) >= 10, runs
        # Renewed workers exit: the pool keeps its three.
        deadline = time.monotonic() + 10
        while len(set(workers_of(os.getpid())) - others) != 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(set(workers_of(os.getpid())) - others) == 3
    # A map's task is a chunk, as in multiprocessing: two chunks of 5 per worker.
    with taskloom.Pool(2, maxtasksperchild=2) as pool:
        runs = collections.Counter(pool.map(helpers.pid, range(60), chunksize=5))
        assert max(runs.values()) <= 10 and len(runs) >= 6, runs


def test_maxtasksperchild_pool_closed_early_still_joins():
    # CPython's test_pool_worker_lifetime_early_close (its issue #10332: join hung).
    others = set(workers_of(os.getpid()))  # the module's own pool's
    pool = taskloom.Pool(3, maxtasksperchild=1)
    results = [pool.apply_async(helpers.sleep_then, (i, 0.3)) for i in range(6)]
    pool.close()
    pool.join()
    assert [r.get() for r in results] == list(range(6))
    assert set(workers_of(os.getpid())) == others


def test_an_initializer_argument_a_worker_cannot_unpickle_fails_each_task_saying_why():
    with taskloom.Pool(1, initializer=helpers.remember, initargs=(helpers.Unloadable(),)) as pool:
        with pytest.raises(ValueError, match="cannot be unpickled here"):
            pool.apply(helpers.square, (3,))


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="at least 1"):
        taskloom.Pool(0)
    with pytest.raises(TypeError, match="processes"):
        taskloom.Pool("2")
    for bad in (0, -1, 0.5, "12", True):
        with pytest.raises(ValueError, match="maxtasksperchild"):
            taskloom.Pool(1, maxtasksperchild=bad)
    with pytest.raises(TypeError, match="initializer"):
        taskloom.Pool(1, initializer=3)
    with taskloom.Pool(1) as pool:
        with pytest.raises(ValueError, match="Chunksize"):
            pool.map(helpers.square, [1], chunksize=0)
        with pytest.raises(ValueError, match="Chunksize"):
            pool.imap(helpers.square, [1], chunksize=-1)
        with pytest.raises(TypeError, match="not callable"):
            pool.map(3, [1])


def test_close_join_terminate_and_the_context_manager():
    pool = taskloom.Pool(2)
    workers = set(pool.map(helpers.pid, range(20), 1))
    result = pool.map_async(helpers.sleep_then, range(6), 1)
    with pytest.raises(ValueError, match="still running"):
        pool.join()
    pool.close()
    with pytest.raises(ValueError, match="not running"):
        pool.apply_async(helpers.square, (1,))
    pool.join()
    assert result.get(timeout=0) == list(range(6))
    assert not workers & set(wait_for_no_workers(os.getpid(), seconds=0))

    pool = taskloom.Pool(2)
    slow = pool.map_async(time.sleep, [30] * 4, 1)
    pool.terminate()
    pool.join()
    with pytest.raises(taskloom.PoolTerminatedError):
        slow.get(timeout=10)

    with taskloom.Pool(1) as pool:
        assert pool.apply(helpers.square, (2,)) == 4
    with pytest.raises(ValueError):
        pool.map(helpers.square, [1])


def test_workers_are_the_pools_own(pool):
    pids = set(pool.map(helpers.pid, range(20), 1))
    assert pids <= set(workers_of(os.getpid()))


# The caller takes Ctrl-C as at a terminal even when the tests run in the background,
# where the shell leaves SIGINT ignored and Python keeps it so.
CALLER = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, {tests!r})
    import taskloom, helpers
    pool = taskloom.Pool(2)
    print("started", flush=True)
    pool.map(time.sleep, [60] * 4, 1)
    """
)


@pytest.mark.parametrize("group", [False, True], ids=["caller-only", "whole-group"])
def test_ctrl_c_stops_the_workers_and_raises_keyboard_interrupt(group):
    """SIGINT to the caller alone, or to its whole process group as Ctrl-C at a terminal
    sends it: KeyboardInterrupt in the caller, and no worker left."""
    tests = os.path.dirname(os.path.abspath(__file__))
    script = CALLER.format(tests=tests)
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert child.stdout.readline().strip() == b"started"
        time.sleep(0.5)
        workers = workers_of(child.pid)
        assert len(workers) == 2
        if group:
            os.killpg(child.pid, signal.SIGINT)
        else:
            child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
        assert b"KeyboardInterrupt" in err
        assert child.returncode != 0
        for worker in workers:
            assert not os.path.exists(f"/proc/{worker}") or _is_zombie_of_other(worker)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _is_zombie_of_other(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b") ")[1].startswith(b"Z")
    except OSError:
        return True


MAIN_SCRIPT = textwrap.dedent(
    """
    import taskloom

    class Point:
        def __init__(self, x):
            self.x = x

    def norm(p):
        return Point(p.x * 2)

    def greet(name):
        print("hello", name)

    if __name__ == "__main__":
        with taskloom.Pool(2, initializer=greet, initargs=("worker",)) as pool:
            print([p.x for p in pool.map(norm, [Point(1), Point(2)])])
    """
)


def test_functions_and_classes_of_main_travel_by_value(tmp_path):
    script = tmp_path / "main_script.py"
    script.write_text(MAIN_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[2, 4]"
    # Workers print to stderr: their stdout is the engine's pipe.
    assert done.stderr.count("worker") == 2
