"""One timing of multiprocessing.Pool for bench/pool_bench.sh: Pool(2).map over
1,000,000 ints with default chunks, and over 10,000 ints with chunksize=1. Prints
`name microseconds_per_item` lines; the pool is started and warmed up first."""
import multiprocessing
import time


def inc(x):
    return x + 1


def main():
    with multiprocessing.Pool(2) as pool:
        # Warm-up: the same map once, untimed (as the Rust program does).
        pool.map(inc, range(1_000_000))
        for name, n, chunksize in (("auto_1M", 1_000_000, None), ("chunk1_10k", 10_000, 1)):
            started = time.perf_counter()
            out = pool.map(inc, range(n), chunksize)
            seconds = time.perf_counter() - started
            assert len(out) == n
            print(f"{name} {seconds * 1e6 / n:.4f}")


if __name__ == "__main__":
    main()
