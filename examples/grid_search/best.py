#!/usr/bin/env python3
"""Prints the best few runs of a grid search from a `taskloom map --results` log."""

import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "results.jsonl"
runs = []
with open(path) as log:
    for line in log:
        record = json.loads(line)
        if record["exit"] == 0:
            run = json.loads(record["stdout"])
            if run["score"] is not None:
                runs.append((run["score"], record["params"]))
for score, params in sorted(runs, key=lambda r: r[0])[:3]:
    print(f"{score:.5f}  {params}")
