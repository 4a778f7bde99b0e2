"""The Python examples the README shows (examples/python/) give what they say, and
what scikit-learn gives without taskloom. The scikit-learn ones run in this process
as `python FILE` would run them (`runpy`, as `__main__`): importing scikit-learn once
more in a fresh interpreter would cost more than they do."""

import os
import re
import runpy
import subprocess
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python")


def run_as_main(name, capsys):
    runpy.run_path(os.path.join(EXAMPLES, name), run_name="__main__")
    return capsys.readouterr().out


def test_pool_map_as_the_readme_runs_it():
    done = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, "pool_map.py")], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, "[1, 4, 9]\n"), done.stderr


def test_kfold_cross_validation_scores_every_fold_as_scikit_learn_does(capsys):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = run_as_main("kfold.py", capsys)
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    want = cross_val_score(model, X, y, cv=KFold(n_splits=5, shuffle=True, random_state=0))
    got = [float(s) for s in re.search(r"fold accuracies: (.*)", out).group(1).split()]
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert f"mean accuracy: {want.mean():.4f}" in out


def test_grid_search_finds_the_best_score_grid_search_cv_finds(capsys):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.tree import DecisionTreeClassifier

    out = run_as_main("grid_search.py", capsys)
    grid = {
        "max_depth": [1, 2, 3, 4, 5],
        "min_samples_split": [2, 4, 8, 16, 32],
        "min_samples_leaf": [1, 2, 4, 8, 16],
    }
    X, y = load_iris(return_X_y=True)
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=cv).fit(X, y)
    assert out.startswith("125 settings; best: ")
    assert out.endswith(f"with mean accuracy {search.best_score_:.4f}\n")
