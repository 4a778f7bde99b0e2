"""taskloom.Executor: real Futures, as_completed and wait, map, crashes, shutdown."""

import concurrent.futures as cf

import pytest

import taskloom
import helpers


def test_submit_returns_real_futures_that_as_completed_and_wait_accept():
    with taskloom.Executor(2) as executor:
        futures = [executor.submit(helpers.square, i) for i in range(20)]
        assert all(isinstance(f, cf.Future) for f in futures)
        assert sorted(f.result() for f in cf.as_completed(futures, timeout=60)) == sorted(
            i * i for i in range(20)
        )
        done, not_done = cf.wait(futures, timeout=60)
        assert len(done) == 20 and not not_done
        assert executor.submit(helpers.keyword, 1, b=2, c=3).result(timeout=30) == (1, 2, 3)


def test_map_is_ordered_with_every_chunksize_and_times_out():
    with taskloom.Executor(2) as executor:
        assert list(executor.map(helpers.add, range(10), range(10))) == [2 * i for i in range(10)]
        assert list(executor.map(helpers.square, range(30), chunksize=4)) == [
            i * i for i in range(30)
        ]
        slow = executor.map(helpers.sleep_then, [1, 2], [5, 5], timeout=0.1)
        with pytest.raises(cf.TimeoutError):
            list(slow)


def test_exceptions_and_dead_workers_fail_only_their_future():
    with taskloom.Executor(2) as executor:
        failed = executor.submit(helpers.fail_on, 3)
        crashed = executor.submit(helpers.crash, "segfault")
        fine = executor.submit(helpers.square, 5)
        with pytest.raises(KeyError, match="bad item 3"):
            failed.result(timeout=60)
        assert "bad item" in failed.exception().__cause__.tb
        assert isinstance(crashed.exception(timeout=60), taskloom.WorkerDiedError)
        assert fine.result(timeout=60) == 25
        assert executor.submit(helpers.square, 6).result(timeout=60) == 36


def test_shutdown_and_bad_arguments():
    with pytest.raises(ValueError, match="greater than 0"):
        taskloom.Executor(0)
    executor = taskloom.Executor(1)
    future = executor.submit(helpers.sleep_then, 4, 0.2)
    executor.shutdown(wait=True)
    assert future.done() and future.result() == 4
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(helpers.square, 1)

    executor = taskloom.Executor(1)
    slow = executor.submit(helpers.sleep_then, 1, 30)
    executor.shutdown(wait=True, cancel_futures=True)
    assert isinstance(slow.exception(timeout=10), taskloom.PoolTerminatedError)
