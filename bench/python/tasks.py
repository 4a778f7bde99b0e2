"""The work the Python benchmarks time, importable by both pools' workers."""

# Iterations of `spin`'s loop: about 1 ms of CPU time on this project's machine (the
# issue's "about 1 ms"), measured with time.process_time. A fixed amount of work, not a
# wall-clock wait: on a busy machine a task takes longer, but the same longer in the
# caller and in the pools, so that S(2) stays a ratio of like to like.
SPIN_ITERATIONS = 30_000


def inc(x):
    return x + 1


def spin(_):
    """About 1 ms of pure-Python CPU work (it holds the GIL, as real work does)."""
    total = 0
    for i in range(SPIN_ITERATIONS):
        total += i
    return total


def last(array):
    """The last element of a NumPy array: the worker has the array, and has touched it."""
    return array[-1]


def echo(value):
    return value
