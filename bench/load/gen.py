#!/usr/bin/env python3
"""Writes the loading benchmark's graphs: the fan-in-32 tree of bench/gen_graphs.py
(N `inc` leaves summed to `total`) in both forms of the graph format.

  bench/out/load/tree_N.tl    the text form (`iJ = inc(J)`, one binding per line)
  bench/out/load/tree_N.json  the JSON form (one binding per line, same keys and order)

Usage: gen.py N [N ...]   (prints one line per file: path, tasks, bytes)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import gen_graphs  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "out", "load")


def _json_arg(arg):
    if isinstance(arg, list):
        return "[" + ", ".join(_json_arg(a) for a in arg) + "]"
    if isinstance(arg, str):
        return '{"ref": ' + json.dumps(arg) + "}"
    return json.dumps(arg)


def write_json(path, tasks):
    count = 0
    with open(path, "w", buffering=1 << 20) as f:
        f.write("{\n")
        for key, op, args in tasks:
            if count:
                f.write(",\n")
            args = ", ".join(_json_arg(a) for a in args)
            f.write(f'{json.dumps(key)}: {{"op": "{op}", "args": [{args}]}}')
            count += 1
        f.write("\n}\n")
    return count


def main():
    os.makedirs(OUT, exist_ok=True)
    for n in map(int, sys.argv[1:]):
        for ext, write in (("tl", gen_graphs.write), ("json", write_json)):
            path = os.path.join(OUT, f"tree_{n}.{ext}")
            tasks = write(path, gen_graphs.tree(n))
            print(f"{path} {tasks} {os.path.getsize(path)}")


if __name__ == "__main__":
    main()
