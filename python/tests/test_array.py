"""taskloom.array against NumPy (and zarr-python for the store): every operation, the
four dtypes, ragged chunks, and errors as Python exceptions naming the operation."""

import subprocess
import sys

import numpy as np
import pytest

import taskloom
import taskloom.array as ta
from taskloom import _core

DTYPES = ["float64", "float32", "int64", "int32"]


def values(shape, dtype, seed=0):
    """Small nonzero numbers of `dtype`, different in every element."""
    rng = np.random.default_rng(seed)
    return (rng.integers(1, 50, size=shape) * (1 if dtype.startswith("int") else 0.5)).astype(dtype)


def close(got, want, widened=False):
    """Equal values (to float32's precision) of NumPy's dtype; with `widened`, of its
    kind: the library reduces float32 in float64 and int32 into int64 where NumPy
    keeps the input's type (its minimum and maximum, its matrix product)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    if widened:
        assert (got.dtype.kind, got.dtype.itemsize) >= (want.dtype.kind, want.dtype.itemsize), (got.dtype, want.dtype)
        assert got.dtype.kind == want.dtype.kind, (got.dtype, want.dtype)
    else:
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_values_come_back_equal_in_ragged_chunks(dtype):
    a = values((7, 5), dtype)
    x = ta.from_numpy(a, chunks=(3, 2))
    assert (x.shape, x.chunks, x.dtype, x.ndim, x.size, x.nbytes) == ((7, 5), (3, 2), a.dtype, 2, 35, a.nbytes)
    got = x.compute()
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, a)
    np.testing.assert_array_equal(np.asarray(x), a)


def test_results_are_handed_to_numpy_without_a_copy():
    got = (ta.arange(1000, chunks=300) * 2).compute()
    # The array views the buffer the engine computed into, which it keeps alive.
    assert isinstance(got.base, _core.Values)
    assert got.flags.c_contiguous and got.flags.writeable
    got[0] = 7
    assert got[0] == 7 and got[999] == 1998


@pytest.mark.parametrize("dtype", DTYPES)
def test_arithmetic_matches_numpy(dtype):
    a, b = values((6, 4), dtype, 1), values((6, 4), dtype, 2)
    x, y = ta.from_numpy(a, chunks=(4, 3)), ta.from_numpy(b, chunks=(2, 4))
    for got, want in [
        (x + y, a + b),
        (x - y, a - b),
        (x * y, a * b),
        (x / y, a / b),
        (x + 2, a + 2),
        (2 - x, 2 - a),
        (3 * x, 3 * a),
        (x / 2.0, a / 2.0),
        (1.5 / x, 1.5 / a),
        (-x, -a),
        (abs(x - 20), abs(a - 20)),
        (x**2, a**2),
        (x + b[0], a + b[0]),
        (b + x, b + a),
    ]:
        close(got.compute(), want)


def test_elementwise_functions_and_astype():
    a = values((5, 3), "float64")
    x = ta.from_numpy(a, chunks=2)
    close(ta.sqrt(x).compute(), np.sqrt(a))
    close(ta.exp(x / 50).compute(), np.exp(a / 50))
    close(ta.log(x).compute(), np.log(a))
    close(ta.square(x).compute(), np.square(a))
    close(x.astype(np.float32).compute(), a.astype(np.float32))
    close(x.astype("int32").compute(), a.astype(np.int32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_match_numpy(dtype):
    a = values((5, 7), dtype, 3)
    x = ta.from_numpy(a, chunks=(2, 3))
    for name in ["sum", "mean", "min", "max", "std", "var"]:
        for axis in [None, 0, 1, -1]:
            got = getattr(x, name)(axis=axis).compute()
            want = getattr(a, name)(axis=axis)
            close(got, want, widened=True)
    assert np.isscalar(x.sum().compute())
    small = a[:3, :3] % 3 + 1
    close(ta.from_numpy(small, chunks=2).prod().compute(), small.prod(), widened=True)


def test_layout_matches_numpy():
    a = values((6, 5, 4), "float64")
    x = ta.from_numpy(a, chunks=(4, 2, 3))
    close(x.T.compute(), a.T)
    close(x.transpose(1, 0, 2).compute(), a.transpose(1, 0, 2))
    close(x.transpose((2, -3, 1)).compute(), a.transpose((2, 0, 1)))
    close(x.rechunk((5, 5, 1)).compute(), a)
    assert x.rechunk(-1).chunks == (6, 5, 4)
    for key in [
        1,
        -1,
        (slice(1, 5), 2),
        (slice(None, None, -1), slice(1, None, 2)),
        (Ellipsis, 3),
        (2, Ellipsis, slice(None, 2)),
        (slice(10, 20),),
        (),
    ]:
        close(x[key].compute(), a[key])


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_matches_numpy(dtype):
    a, b = values((7, 5), dtype, 4), values((5, 3), dtype, 5)
    x, y = ta.from_numpy(a, chunks=(3, 2)), ta.from_numpy(b, chunks=(4, 2))
    close((x @ y).compute(), a @ b, widened=True)
    close(x.matmul(y).compute(), a @ b, widened=True)
    close((a @ y).compute(), a @ b, widened=True)
    close((x.T @ x).compute(), a.T @ a, widened=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sort_and_topk_match_numpy(dtype):
    a = values((101,), dtype, 6)
    x = ta.from_numpy(a, chunks=17)
    close(x.sort().compute(), np.sort(a))
    close(x.sort(descending=True).compute(), np.sort(a)[::-1])
    close(x.topk(5).compute(), np.sort(a)[::-1][:5])
    close(x.topk(5, largest=False).compute(), np.sort(a)[:5])


def test_constructors_match_numpy():
    close(ta.zeros((4, 3), chunks=2).compute(), np.zeros((4, 3)))
    close(ta.ones(5, dtype="int32").compute(), np.ones(5, dtype=np.int32))
    close(ta.full((2, 3), 7).compute(), np.full((2, 3), 7))
    close(ta.full((2, 3), 2.5, dtype="float32").compute(), np.full((2, 3), 2.5, dtype=np.float32))
    close(ta.arange(10, chunks=3).compute(), np.arange(10))
    r = ta.random((50, 4), chunks=(16, 4), seed=3).compute()
    assert r.dtype == np.float64 and (0 <= r).all() and (r < 1).all()
    np.testing.assert_array_equal(r, ta.random((50, 4), chunks=(16, 4), seed=3).compute())


def test_compute_options():
    x = ta.from_numpy(np.arange(1000.0), chunks=100)
    want = np.arange(1000.0).sum()
    assert x.sum().compute(scheduler="sync") == want
    assert x.sum().compute(num_workers=2, memory_limit=1 << 20) == want
    with pytest.raises(ValueError, match="scheduler must be one of threads, sync"):
        x.compute(scheduler="processes")
    with pytest.raises(ValueError, match="num_workers must be at least 1"):
        x.compute(num_workers=0)
    with pytest.raises(ValueError, match="copy=False"):
        x.__array__(copy=False)


def test_bad_input_raises_python_errors_naming_the_operation():
    x = ta.from_numpy(np.zeros((3, 4)), chunks=2)
    y = ta.from_numpy(np.zeros((5,)), chunks=2)
    with pytest.raises(ValueError, match=r"^add: shapes \(3, 4\) and \(5,\) cannot be broadcast"):
        x + y
    with pytest.raises(ValueError, match=r"^matmul"):
        x @ x
    with pytest.raises(ValueError, match=r"^sum: axis 2 is out of range"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match=r"^sort needs a 1-D array"):
        x.sort()
    with pytest.raises(ValueError, match=r"^index"):
        x[5]
    with pytest.raises(IndexError, match="too many indices"):
        x[1, 2, 3]
    with pytest.raises(TypeError, match="basic indexing"):
        x[[0, 1]]
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        ta.from_numpy(np.zeros(3, dtype=complex))
    with pytest.raises(TypeError, match="unsupported dtype uint8"):
        x.astype(np.uint8)
    with pytest.raises(ValueError, match="chunks"):
        ta.from_numpy(np.zeros(3), chunks=(1, 1))
    with pytest.raises(ValueError, match=r"^min: zero-size array"):
        ta.from_numpy(np.zeros(0)).min()
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(ValueError, match=r"^open: .*not a Zarr array"):
        ta.open("/nonexistent/a.zarr")


def test_non_contiguous_and_big_endian_numpy_arrays_are_taken_as_numpy_sees_them():
    a = np.arange(24, dtype=">i4").reshape(4, 6)[:, ::2]
    np.testing.assert_array_equal(ta.from_numpy(a, chunks=3).compute(), a)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_stores_round_trip_with_zarr_python(tmp_path, zarr_format):
    zarr = pytest.importorskip("zarr")
    a = values((9, 7), "float32", 7)
    stored = zarr.create_array(tmp_path / "in.zarr", shape=a.shape, chunks=(4, 3), dtype=a.dtype, zarr_format=zarr_format)
    stored[...] = a
    x = ta.open(tmp_path / "in.zarr")
    assert (x.shape, x.chunks, x.dtype) == (a.shape, (4, 3), a.dtype)
    ((x + 1) * 2).to_zarr(tmp_path / "out.zarr", zarr_format=zarr_format)
    back = zarr.open_array(tmp_path / "out.zarr", mode="r")
    np.testing.assert_array_equal(back[...], (a + 1) * 2)
    with pytest.raises(ValueError, match="already exists"):
        x.to_zarr(tmp_path / "out.zarr")
    x.T.to_zarr(tmp_path / "out.zarr", overwrite=True, compression="none")
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "out.zarr", mode="r")[...], a.T)


def test_import_taskloom_leaves_numpy_unimported_until_arrays_are_used():
    code = (
        "import sys, taskloom; a = 'numpy' in sys.modules; "
        "taskloom.array; print(a, 'numpy' in sys.modules, taskloom.array.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "taskloom.array"]
    assert taskloom.array is ta


def test_bool_arrays_round_trip_and_reduce_as_numpy():
    b = np.array([[True, False, True], [False, False, True]])
    x = ta.from_numpy(b, chunks=2)
    out = x.compute()
    assert out.dtype == np.bool_ and (out == b).all()
    assert np.asarray(x.T).tolist() == b.T.tolist()
    assert x.sum().compute() == b.sum() and x.sum(axis=0).compute().dtype == b.sum(axis=0).dtype


# --- Ctrl-C --------------------------------------------------------------------------------

ARRAY_CALLER = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
import taskloom.array as ta
x = ta.random((6000, 6000), chunks=(1000, 1000))
print("started", flush=True)
{action}
"""


@pytest.mark.parametrize("action", ["(x @ x).compute()", "(x @ x).to_zarr({path!r})"])
def test_ctrl_c_stops_an_array_run_and_leaves_no_output(tmp_path, action):
    import os
    import signal
    import time

    path = str(tmp_path / "out.zarr")
    code = ARRAY_CALLER.format(action=action.format(path=path))
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        assert child.stdout.readline().strip() == b"started"
        time.sleep(1.0)  # well inside the product's 10 s and more
        os.killpg(child.pid, signal.SIGINT)
        signalled = time.monotonic()
        _, err = child.communicate(timeout=30)
        assert time.monotonic() - signalled < 10, "the run went on after Ctrl-C"
        assert b"KeyboardInterrupt" in err, err
        assert child.returncode != 0
        assert not os.path.exists(path)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
