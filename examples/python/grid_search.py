"""A 5x5x5 grid search of a scikit-learn model on taskloom.Executor: 125 settings,
each scored by 3-fold cross-validation in a worker process, the best one kept.

Run: python examples/python/grid_search.py
"""

import functools
import itertools

from sklearn.datasets import load_iris
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeClassifier

import taskloom

GRID = {
    "max_depth": [1, 2, 3, 4, 5],
    "min_samples_split": [2, 4, 8, 16, 32],
    "min_samples_leaf": [1, 2, 4, 8, 16],
}


def score(X, y, folds, params):
    """The mean accuracy over `folds` of the model with `params`."""
    scores = [
        DecisionTreeClassifier(random_state=0, **params).fit(X[train], y[train]).score(X[test], y[test])
        for train, test in folds
    ]
    return sum(scores) / len(scores)


def main():
    X, y = load_iris(return_X_y=True)
    folds = list(KFold(n_splits=3, shuffle=True, random_state=0).split(X))
    settings = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    with taskloom.Executor(max_workers=2) as executor:
        # The data and folds travel once, with the function; each task carries a setting.
        scores = list(executor.map(functools.partial(score, X, y, folds), settings))
    best = max(range(len(settings)), key=lambda i: (scores[i], -i))
    return settings[best], scores[best], len(settings)


if __name__ == "__main__":
    params, best, tried = main()
    print(f"{tried} settings; best: {params} with mean accuracy {best:.4f}")
