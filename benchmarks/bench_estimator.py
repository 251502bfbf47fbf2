"""Benchmark: a cold ``GridSearchCV`` of :class:`gdperceptron.estimator.GDClassifier`
against the same search with scikit-learn's ``LogisticRegression``, imports excluded.

Each repetition is a fresh interpreter (nothing compiled in memory) that imports
everything and loads breast cancer (569 x 30, standardized) first, then times
``GridSearchCV(LogisticRegression(), {"C": [0.1, 1, 10]}, cv=3).fit`` and
``GridSearchCV(GDClassifier(random_state=0), {"step": [0.1, 1, 10]}, cv=3).fit``
(3 steps x 3 folds + the refit, ``max_iter`` 1000 both), once with JAX's persistent
compilation cache off and once with it warm. The GD search runs with the estimator's
defaults: the folds (379 and 380 rows) and the refit (569) are padded to one shape, 1024
rows, and share one compiled run loop, bit for bit the unpadded fits. Then, in the same
process, the same search with ``bucket_samples=False`` (a loop compiled per size; the small
array operations were compiled by the first search), for comparison.
Goal: GD search <= 3x the LogisticRegression search. Run::

    .venv/bin/python benchmarks/bench_estimator.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile

from timing import fresh_python, goal_line, machine_line

GOAL = 3.0

SEARCH = """
import json, time, warnings
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from gdperceptron import breast_cancer
from gdperceptron.estimator import GDClassifier
data = breast_cancer()
X, y = data.X, data.y
warnings.simplefilter("ignore")
t = time.perf_counter()
lr = GridSearchCV(LogisticRegression(max_iter=1000), {"C": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
t_lr = time.perf_counter() - t
t = time.perf_counter()
gd = GridSearchCV(GDClassifier(random_state=0), {"step": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
t_gd = time.perf_counter() - t
t = time.perf_counter()
est = GDClassifier(random_state=0, bucket_samples=False)
exact = GridSearchCV(est, {"step": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
t_bucket = time.perf_counter() - t
assert exact.best_score_ == gd.best_score_  # the padded fits are the unpadded ones
scores = {"gd_score": gd.best_score_, "lr_score": lr.best_score_}
print(json.dumps({"lr": t_lr, "gd": t_gd, "bucket": t_bucket, **scores}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    off = {"GDPERCEPTRON_NO_COMPILATION_CACHE": "1"}
    rows: dict[str, list[dict]] = {"no persistent cache": [], "warm persistent cache": []}
    with tempfile.TemporaryDirectory() as cache:
        warm = {"XDG_CACHE_HOME": cache, "JAX_COMPILATION_CACHE_DIR": ""}
        fresh_python(SEARCH, warm)  # fill the cache
        for _ in range(args.repeats):  # interleaved: one process of each kind per round
            rows["no persistent cache"].append(fresh_python(SEARCH, off))
            rows["warm persistent cache"].append(fresh_python(SEARCH, warm))
    for kind, runs in rows.items():
        lr = statistics.median(r["lr"] for r in runs)
        gd = statistics.median(r["gd"] for r in runs)
        print(
            f"{kind}: GDClassifier search {gd:.3f} s, LogisticRegression search {lr:.3f} s "
            f"(best CV accuracy {runs[0]['gd_score']:.3f} vs {runs[0]['lr_score']:.3f})"
        )
        print("  " + goal_line(f"cold GridSearchCV, {kind}", gd / lr, GOAL, baseline="LR"))
        bucket = statistics.median(r["bucket"] for r in runs)
        print(
            f"  bucket_samples=False, timed second: GDClassifier search {bucket:.3f} s "
            f"({bucket / lr:.2f}x LR)"
        )


if __name__ == "__main__":
    main()
