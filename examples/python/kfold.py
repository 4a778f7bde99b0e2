"""K-fold cross-validation of a scikit-learn model, one fold per task on taskloom.Pool.

Each fold fits the model on the other folds and scores it on its own; the data goes to
the workers with the task (NumPy arrays travel through shared memory, uncopied).

Run: python examples/python/kfold.py
"""

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from taskloom import Pool

FOLDS = 5


def model():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def fold_score(X, y, train, test):
    """The accuracy on fold `test` of the model fitted on `train`."""
    return model().fit(X[train], y[train]).score(X[test], y[test])


def main():
    X, y = load_breast_cancer(return_X_y=True)
    folds = KFold(n_splits=FOLDS, shuffle=True, random_state=0).split(X)
    with Pool(2) as pool:
        scores = pool.starmap(fold_score, [(X, y, train, test) for train, test in folds])
    return scores


if __name__ == "__main__":
    scores = main()
    print("fold accuracies:", " ".join(f"{s:.4f}" for s in scores))
    print(f"mean accuracy: {np.mean(scores):.4f}")
