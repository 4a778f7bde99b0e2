#!/usr/bin/env python3
"""A stand-in for a training run, for `taskloom map --grid`.

Fits y = sin(3x) on [0, 1] with gradient descent on a polynomial of the given degree
(--depth), learning rate (--lr) and mini-batch size (--batch); prints one JSON line with
the parameters and the validation loss as the score (lower is better; null when training diverged). Deterministic:
the same arguments always give the same score. Takes a fraction of a second.
"""

import argparse
import json
import math
import random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--depth", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()

    rng = random.Random(0)
    train = [(x, math.sin(3 * x)) for x in (rng.random() for _ in range(256))]
    valid = [(i / 63, math.sin(3 * i / 63)) for i in range(64)]
    weights = [0.0] * (args.depth + 1)

    def predict(x: float) -> float:
        return sum(w * x**k for k, w in enumerate(weights))

    try:
        for step in range(args.steps):
            start = (step * args.batch) % len(train)
            batch = [train[(start + i) % len(train)] for i in range(args.batch)]
            grads = [0.0] * len(weights)
            for x, y in batch:
                error = predict(x) - y
                for k in range(len(weights)):
                    grads[k] += 2 * error * x**k / len(batch)
            weights = [w - args.lr * g for w, g in zip(weights, grads)]
        loss = sum((predict(x) - y) ** 2 for x, y in valid) / len(valid)
    except OverflowError:
        loss = math.inf  # the learning rate was too large: training diverged
    score = loss if math.isfinite(loss) else None
    print(json.dumps({"lr": args.lr, "depth": args.depth, "batch": args.batch, "score": score}))


if __name__ == "__main__":
    main()
