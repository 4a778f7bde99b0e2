"""The course's first parallel program, on taskloom: `Pool(5).map(f, [1, 2, 3])`.

Run: python examples/python/pool_map.py  ->  [1, 4, 9]
"""

from taskloom import Pool


def f(x):
    return x * x


if __name__ == "__main__":
    with Pool(5) as p:
        print(p.map(f, [1, 2, 3]))
