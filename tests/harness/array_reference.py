"""The NumPy reference for the end-to-end tests of `taskloom array` (tests/cli/array*.rs).

Reads one JSON job on stdin and prints one JSON object on stdout:

    {"root": DIR,
     "write":  [{"path", "values": EXPR, "chunks", "zarr_format", "compressor", "fill_value"}],
     "checks": [CHECK, ...]}

Arrays in "write" are written with zarr-python first (inputs the tests cannot make with
`taskloom array create`, and proof that we read what zarr-python writes). Then every
check compares what taskloom produced with NumPy:

    {"name", "expect": EXPR, "json": STDOUT}      printed JSON against NumPy's result
    {"name", "expect": EXPR, "zarr": PATH}        an array taskloom wrote, read by zarr-python
    {"name", "info": PATH, "json": STDOUT}        `taskloom array info` against zarr-python
    {"name", "unit_random": PATH}                 uniform [0, 1) floats, no two chunks alike

A check may give "rtol" (float results; default 1e-12, 2e-6 for float32), "atol"
(default 0: for float32 sums that cancel, whose error scales with the inputs), "dtype" (the
dtype a written array must have; default NumPy's) and "chunks" (of a written array).
Printed ints must be JSON integers, printed floats JSON floats and printed bools JSON
booleans, as NumPy's dtype says.

EXPR is NumPy's side of the computation:
    {"read": PATH}  {"arange": SHAPE, "dtype"}  {"full": V, "shape", "dtype"}
    {"ints": [LOW, HIGH], "shape", "dtype", "seed"}   (NumPy's generator: any data)
    {"floats": [LOW, HIGH], "shape", "dtype", "seed"}
    {"reduce": OP, "axis": K or null, "x"}  {"map": OP, "x"}  {"binary": OP, "a", "b"}
    {"compare": OP, "a", "b"}  {"where": [COND, A, B]}  {"cumsum": AXIS, "x"}
    {"scale": [BY, ADD], "x"}  {"astype": DTYPE, "x"}  {"transpose": X}  {"matmul": [A, B]}  {"index": TEXT, "x"}
    {"topk": K, "smallest": BOOL, "x"}  {"sort": "ascending"|"descending", "x"}

Prints {"checked": N, "failures": ["name: why", ...]}.
"""

import json
import os
import sys

import numpy as np
import zarr

MAPS = {
    "neg": np.negative,
    "abs": np.abs,
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "square": np.square,
}
BINARIES = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}
REDUCTIONS = {
    "sum": np.sum,
    "prod": np.prod,
    "mean": np.mean,
    "min": np.min,
    "max": np.max,
    "std": np.std,
    "var": np.var,
    "any": np.any,
    "all": np.all,
    "argmin": np.argmin,
    "argmax": np.argmax,
}
COMPARES = {
    "gt": np.greater,
    "lt": np.less,
    "ge": np.greater_equal,
    "le": np.less_equal,
    "eq": np.equal,
    "ne": np.not_equal,
}


def parse_index(text):
    """NumPy's basic indexing from the command line's syntax (`1:4,-1,::2`)."""

    def part(p):
        p = p.strip()
        if ":" not in p:
            return int(p)
        fields = [int(f) if f.strip() else None for f in p.split(":")]
        return slice(*fields)

    return tuple(part(p) for p in text.split(","))


def evaluate(expr, root):
    def ev(e):
        return evaluate(e, root)

    if "read" in expr:
        return zarr.open_array(os.path.join(root, expr["read"]), mode="r")[...]
    if "arange" in expr:
        shape = expr["arange"]
        return np.arange(int(np.prod(shape))).reshape(shape).astype(expr["dtype"])
    if "full" in expr:
        return np.full(expr["shape"], expr["full"], dtype=expr["dtype"])
    if "ints" in expr:
        low, high = expr["ints"]
        rng = np.random.default_rng(expr["seed"])
        return rng.integers(low, high, size=expr["shape"]).astype(expr["dtype"])
    if "floats" in expr:
        low, high = expr["floats"]
        rng = np.random.default_rng(expr["seed"])
        return rng.uniform(low, high, size=expr["shape"]).astype(expr["dtype"])
    if "reduce" in expr:
        x = ev(expr["x"])
        op = expr["reduce"]
        return np.asarray(REDUCTIONS[op](x, axis=expr["axis"]))
    if "map" in expr:
        with np.errstate(all="ignore"):
            return MAPS[expr["map"]](ev(expr["x"]))
    if "binary" in expr:
        with np.errstate(all="ignore"):
            return BINARIES[expr["binary"]](ev(expr["a"]), ev(expr["b"]))
    if "compare" in expr:
        return COMPARES[expr["compare"]](ev(expr["a"]), ev(expr["b"]))
    if "where" in expr:
        c, a, b = expr["where"]
        return np.where(ev(c), ev(a), ev(b))
    if "cumsum" in expr:
        return np.cumsum(ev(expr["x"]), axis=expr["cumsum"])
    if "scale" in expr:
        by, add = expr["scale"]
        return ev(expr["x"]) * by + add
    if "transpose" in expr:
        return ev(expr["transpose"]).T
    if "matmul" in expr:
        a, b = expr["matmul"]
        return ev(a) @ ev(b)
    if "index" in expr:
        return np.asarray(ev(expr["x"])[parse_index(expr["index"])])
    if "astype" in expr:
        return ev(expr["x"]).astype(expr["astype"])
    if "topk" in expr:
        flat = np.sort(ev(expr["x"]).ravel())
        k = expr["topk"]
        return flat[:k] if expr["smallest"] else flat[::-1][:k]
    if "sort" in expr:
        s = np.sort(ev(expr["x"]))
        if expr["sort"] == "ascending":
            return s
        # NumPy has no descending sort; the spec's puts NaN last, as the ascending one.
        nan = np.isnan(s) if s.dtype.kind == "f" else np.zeros(s.shape, dtype=bool)
        return np.concatenate([s[~nan][::-1], s[nan]])
    raise ValueError(f"unknown expression {expr}")


def leaves(value):
    if isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def compare_values(got, expected, rtol, atol=0.0):
    """Why `got` (an ndarray) differs from `expected`, or None."""
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    if np.issubdtype(expected.dtype, np.integer) or expected.dtype == np.bool_:
        if not np.array_equal(got, expected):
            bad = np.argwhere(got != expected)[0]
            bad = tuple(int(i) for i in bad)
            return f"at {bad}: {got[bad]}, expected {expected[bad]}"
        return None
    got64 = got.astype(np.float64)
    exp64 = expected.astype(np.float64)
    close = np.isclose(got64, exp64, rtol=rtol, atol=atol, equal_nan=True)
    if not close.all():
        bad = tuple(int(i) for i in np.argwhere(~close)[0])
        return f"at {bad}: {got64[bad]!r}, expected {exp64[bad]!r} (rtol {rtol}, atol {atol})"
    return None


def default_rtol(dtype):
    return 2e-6 if dtype == np.float32 else 1e-12


def check_json(check, expected):
    got = json.loads(check["json"])
    kinds = {type(v) for v in leaves(got)}
    if expected.dtype == np.bool_:
        if not kinds <= {bool}:
            return f"printed {sorted(k.__name__ for k in kinds)} for a bool result"
    elif np.issubdtype(expected.dtype, np.integer):
        if not kinds <= {int}:
            return f"printed {sorted(k.__name__ for k in kinds)} for an integer result"
    elif not kinds <= {float}:
        return f"printed {sorted(k.__name__ for k in kinds)} for a float result"
    if expected.ndim == 0 and isinstance(got, list):
        return "a scalar result printed as a list"
    got_array = np.array(got, dtype=expected.dtype)
    rtol = check.get("rtol", default_rtol(expected.dtype))
    return compare_values(got_array, expected, rtol, check.get("atol", 0.0))


def check_zarr(check, expected, root):
    stored = zarr.open_array(os.path.join(root, check["zarr"]), mode="r")
    dtype = np.dtype(check.get("dtype", expected.dtype))
    if stored.dtype != dtype:
        return f"dtype {stored.dtype}, expected {dtype}"
    if "chunks" in check and list(stored.chunks) != check["chunks"]:
        return f"chunks {list(stored.chunks)}, expected {check['chunks']}"
    rtol = check.get("rtol", default_rtol(stored.dtype))
    return compare_values(stored[...], expected, rtol, check.get("atol", 0.0))


def check_info(check, root):
    got = json.loads(check["json"])
    stored = zarr.open_array(os.path.join(root, check["info"]), mode="r")
    expected = {
        "shape": list(stored.shape),
        "chunks": list(stored.chunks),
        "dtype": str(stored.dtype),
        "zarr_format": stored.metadata.zarr_format,
        "nbytes": int(stored.nbytes),
    }
    return None if got == expected else f"info {got}, zarr-python says {expected}"


def check_unit_random(check, root):
    stored = zarr.open_array(os.path.join(root, check["unit_random"]), mode="r")
    values = stored[...]
    if not np.issubdtype(values.dtype, np.floating):
        return f"dtype {values.dtype} is not a float"
    if values.size and not ((values >= 0).all() and (values < 1).all()):
        return f"values outside [0, 1): min {values.min()}, max {values.max()}"
    if values.size >= 200 and abs(float(values.mean()) - 0.5) > 0.1:
        return f"mean {values.mean()} is far from 0.5"
    blocks = {}
    for index in np.ndindex(*stored.cdata_shape):
        sl = tuple(
            slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(index, stored.chunks, stored.shape)
        )
        key = values[sl].tobytes()
        if key in blocks:
            return f"chunks {blocks[key]} and {index} hold the same numbers"
        blocks[key] = index
    return None


def write(spec, root):
    values = evaluate(spec["values"], root)
    compressor = spec.get("compressor", "zstd")
    fmt = spec.get("zarr_format", 3)
    if compressor == "none":
        compressors = None
    elif fmt == 3:
        from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

        compressors = {
            "zstd": ZstdCodec(level=3),
            "blosc": BloscCodec(cname="lz4", shuffle="shuffle"),
            "gzip": GzipCodec(level=5),
        }[compressor]
    else:
        import numcodecs

        compressors = {
            "zstd": numcodecs.Zstd(level=3),
            "blosc": numcodecs.Blosc(cname="lz4"),
            "gzip": numcodecs.GZip(level=5),
        }[compressor]
    array = zarr.create_array(
        store=os.path.join(root, spec["path"]),
        shape=values.shape,
        chunks=tuple(spec["chunks"]),
        dtype=values.dtype,
        zarr_format=fmt,
        compressors=compressors,
        fill_value=spec.get("fill_value", 0),
    )
    array[...] = values


def run_check(check, root):
    if "info" in check:
        return check_info(check, root)
    if "unit_random" in check:
        return check_unit_random(check, root)
    expected = np.asarray(evaluate(check["expect"], root))
    if "json" in check:
        return check_json(check, expected)
    return check_zarr(check, expected, root)


def main():
    job = json.load(sys.stdin)
    root = job["root"]
    for spec in job.get("write", []):
        write(spec, root)
    failures = []
    for check in job.get("checks", []):
        try:
            why = run_check(check, root)
        except Exception as e:  # a bad read or parse is a failed check, with its cause
            why = f"{type(e).__name__}: {e}"
        if why is not None:
            failures.append(f"{check['name']}: {why}")
    print(json.dumps({"checked": len(job.get("checks", [])), "failures": failures}))


if __name__ == "__main__":
    main()
