"""GDClassifier: scikit-learn conventions, label mapping, outputs against independent
computations, convergence warning, determinism, and the README example."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from gdperceptron import GDPerceptronError, gaussian
from gdperceptron.estimator import GDClassifier, expected_failed_checks

# The "scikit-learn classifier" example of README.md, verbatim: test_readme_example runs it.
README_EXAMPLE = """\
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler, add_dummy_feature

from gdperceptron.estimator import GDClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# f(x) = <v, (x, 1)>: standardise, then append a constant feature that acts as an intercept.
pipe = make_pipeline(
    StandardScaler(), FunctionTransformer(add_dummy_feature), GDClassifier(max_iter=10_000)
)
search = GridSearchCV(pipe, {"gdclassifier__step": [10.0, 100.0, 1000.0]}, cv=3)
search.fit(X_train, y_train)

clf = search.best_estimator_[-1]  # the fitted GDClassifier
print(search.best_params_, clf.solved_, clf.n_iter_)  # separated after n_iter_ GD steps
print(f"test accuracy: {search.score(X_test, y_test):.3f}")
"""


def _gd_numpy(X: np.ndarray, s: np.ndarray, step: float, max_iter: int) -> tuple[np.ndarray, int]:
    """Plain NumPy GD on the mean logistic loss of ``f = <v, x>`` from ``v = 0``, stopped at
    the first iterate with every margin ``s_i <x_i, v> > 0``: ``(v, steps)``."""
    v = np.zeros(X.shape[1])
    A = s[:, None] * X
    for t in range(max_iter + 1):
        m = A @ v
        if np.all(m > 0) or t == max_iter:
            return v, t
        v = v + step / len(s) * (1.0 / (1.0 + np.exp(m))) @ A
    raise AssertionError("unreachable")


def _separable(
    n: int = 40, d: int = 3, seed: int = 0, margin: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    data = gaussian(n, d, margin=margin, seed=seed)
    return np.array(data.X), np.array(data.y)


def test_check_estimator(monkeypatch: pytest.MonkeyPatch) -> None:
    # check_array_api_input skips itself unless SCIPY_ARRAY_API is set; set it so it runs.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    assert expected_failed_checks == {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = check_estimator(
            GDClassifier(max_iter=200), expected_failed_checks=expected_failed_checks
        )
    statuses = {r["check_name"]: r["status"] for r in results}
    assert len(statuses) > 40
    assert set(statuses.values()) == {"passed"}, statuses
    # Many checks fit random labels that no linear model separates: each such fit warns
    # (the documented behaviour, tested below). Nothing else may warn: no skipped check.
    other = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    assert other == [], [str(w.message) for w in other]
    assert all("did not separate" in str(w.message) for w in caught)


def test_string_labels_round_trip() -> None:
    X, s = _separable()
    y = np.where(s > 0, "spam", "ham")  # sorted classes: ham (-1), spam (+1)
    clf = GDClassifier().fit(X, y)
    assert clf.classes_.tolist() == ["ham", "spam"]
    assert clf.solved_
    np.testing.assert_array_equal(clf.predict(X), y)
    np.testing.assert_array_equal(clf.predict(X), np.where(X @ clf.coef_[0] > 0, "spam", "ham"))

    # classes_[0] -> -1: with the names swapped the internal labels are -s, so every GD
    # iterate from v_0 = 0 is negated exactly; predictions are still the original labels.
    y_swapped = np.where(s > 0, "a", "b")  # "a" = classes_[0] is now the +1 group of s
    swapped = GDClassifier().fit(X, y_swapped)
    np.testing.assert_array_equal(swapped.coef_, -clf.coef_)
    np.testing.assert_array_equal(swapped.predict(X), y_swapped)
    assert swapped.score(X, y_swapped) == 1.0


def test_fit_is_gradient_descent_and_stops_when_separated() -> None:
    X, s = _separable(seed=2, margin=0.1)  # GD from 0 needs more than one step here
    clf = GDClassifier(step=0.5).fit(X, s)
    v, steps = _gd_numpy(X, s, 0.5, 1000)
    assert clf.solved_ and 1 < steps < 1000
    assert clf.n_iter_ == steps == clf.trajectory_.solved_iteration
    np.testing.assert_allclose(clf.params_, v, rtol=1e-12, atol=1e-14)
    assert clf.coef_.shape == (1, 3)
    assert np.all(s * (X @ clf.coef_[0]) > 0)
    assert clf.score(X, s) == 1.0


def test_decision_function_linear_equals_x_dot_coef() -> None:
    X, s = _separable()
    clf = GDClassifier(step=0.5).fit(X, s)
    X_new = np.random.default_rng(5).standard_normal((7, 3))
    f = clf.decision_function(X_new)
    assert f.shape == (7,)
    np.testing.assert_allclose(f, X_new @ clf.params_, rtol=1e-13, atol=1e-15)


def test_decision_function_two_layer_equals_numpy_network() -> None:
    X, s = _separable(n=30, d=4, seed=2)
    clf = GDClassifier(model="two-layer", width=5, step=0.5, max_iter=40, random_state=0)
    clf.fit(X, s)
    assert not hasattr(clf, "coef_")
    W, u = clf.params_[:20].reshape(5, 4), clf.params_[20:]
    X_new = np.random.default_rng(6).standard_normal((9, 4))
    expected = np.maximum(X_new @ W.T, 0.0) @ u  # sum_j u_j relu(<w_j, x>)
    np.testing.assert_allclose(clf.decision_function(X_new), expected, rtol=1e-12, atol=1e-14)


def test_decision_function_tied_equals_formula() -> None:
    X, s = _separable(n=20, d=4, seed=3)
    clf = GDClassifier(model="tied", step=0.1, max_iter=50, random_state=0).fit(X, s)
    u1, u2, w = clf.params_[0], clf.params_[1], clf.params_[2:]
    X_new = np.random.default_rng(7).standard_normal((6, 4))
    X_swapped = X_new[:, [1, 0, 2, 3]]  # P swaps coordinates 1 and 2
    expected = u1 * (X_new @ w) + u2 * (X_swapped @ w)
    np.testing.assert_allclose(clf.decision_function(X_new), expected, rtol=1e-12, atol=1e-14)


def test_predict_proba_is_sigmoid_of_decision_and_stable() -> None:
    X, s = _separable()
    clf = GDClassifier(step=0.5).fit(X, s)
    X_new = np.random.default_rng(8).standard_normal((11, 3))
    f = clf.decision_function(X_new)
    proba = clf.predict_proba(X_new)
    assert proba.shape == (11, 2)
    np.testing.assert_allclose(proba[:, 1], 1.0 / (1.0 + np.exp(-f)), rtol=1e-14)
    np.testing.assert_allclose(proba[:, 0], 1.0 / (1.0 + np.exp(f)), rtol=1e-14)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=4e-16)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X_new))

    # |f| ~ 1e8: no overflow warning (warnings are errors), probabilities exactly 0 and 1.
    big = 1e8 * X_new
    assert np.all(np.abs(clf.decision_function(big)) > 1e3)
    proba_big = clf.predict_proba(big)
    pos = clf.decision_function(big) > 0
    np.testing.assert_array_equal(proba_big[:, 1], pos.astype(float))
    np.testing.assert_array_equal(proba_big[:, 0], (~pos).astype(float))


def test_non_separable_warns_once_and_still_predicts() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    X[1] = -X[0]  # x and -x with the same label: f(-x) = -f(x), no linear f separates
    y = np.where(rng.random(20) < 0.5, 0, 1)
    y[1] = y[0]
    with pytest.warns(ConvergenceWarning, match="did not separate") as record:
        clf = GDClassifier(max_iter=150).fit(X, y)
    assert len(record) == 1
    assert not clf.solved_ and clf.n_iter_ == 150
    assert clf.trajectory_.stop_reason == "max_iter"
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, np.where(X @ clf.coef_[0] > 0, 1, 0))
    assert 0.5 <= clf.score(X, y) < 1.0


def test_random_state_determinism() -> None:
    X, s = _separable(n=30, d=4, seed=2)
    kw = {"model": "two-layer", "width": 5, "step": 0.5, "max_iter": 40}
    a = GDClassifier(random_state=0, **kw).fit(X, s)
    b = GDClassifier(random_state=0, **kw).fit(X, s)
    c = GDClassifier(random_state=1, **kw).fit(X, s)
    # The documented seed: check_random_state(0).randint(2**31 - 1).
    assert a.seed_ == b.seed_ == np.random.RandomState(0).randint(2**31 - 1)
    np.testing.assert_array_equal(a.params_, b.params_)
    assert not np.allclose(a.params_, c.params_)
    # A RandomState instance is consumed: two fits draw two seeds.
    rs = np.random.RandomState(0)
    first = GDClassifier(random_state=rs, **kw).fit(X, s).seed_
    second = GDClassifier(random_state=rs, **kw).fit(X, s).seed_
    expected = np.random.RandomState(0).randint(2**31 - 1, size=2)
    assert [first, second] == expected.tolist()


def test_engines_agree_when_n_below_d() -> None:
    X, s = _separable(n=8, d=30, seed=5)
    full = GDClassifier(engine="full", step=3.0).fit(X, s)
    assert full.trajectory_.config["engine"] == "full"
    v, steps = _gd_numpy(X, s, 3.0, 1000)
    np.testing.assert_allclose(full.params_, v, rtol=1e-12, atol=1e-14)
    for engine in ("auto", "reduced"):
        other = GDClassifier(engine=engine, step=3.0).fit(X, s)
        assert other.trajectory_.config["engine"] == "reduced"  # n = 8 < d = 30
        assert other.n_iter_ == full.n_iter_ == steps and other.solved_
        assert other.params_.shape == (30,)
        np.testing.assert_allclose(other.params_, v, rtol=1e-10, atol=1e-12)
    # n >= d: auto runs the full simulation.
    X2, s2 = _separable()
    assert GDClassifier().fit(X2, s2).trajectory_.config["engine"] == "full"


@pytest.mark.parametrize(
    ("X", "y", "error", "match"),
    [
        (np.eye(6), np.arange(6) % 3, ValueError, "Only binary classification"),
        (np.eye(4), np.ones(4), ValueError, "two classes"),
        (np.where(np.eye(4) > 0, np.nan, 0.0), [0, 1, 0, 1], ValueError, "NaN"),
        (np.where(np.eye(4) > 0, np.inf, 0.0), [0, 1, 0, 1], ValueError, "infinity"),
        (scipy.sparse.csr_matrix(np.eye(4)), [0, 1, 0, 1], TypeError, "[Ss]parse"),
        (np.eye(4)[:, :1], [0, 1, 0, 1], ValueError, "1 feature"),
    ],
)
def test_bad_input_is_rejected(X: object, y: object, error: type, match: str) -> None:
    model = "tied" if match == "1 feature" else "linear"
    with pytest.raises(error, match=match):
        GDClassifier(model=model).fit(X, y)


def test_diverging_run_raises() -> None:
    X, s = _separable(n=20, d=4, seed=3)
    with pytest.raises(GDPerceptronError, match="non-finite"):
        GDClassifier(model="tied", step=1e6, init_scale=10.0, random_state=0).fit(X, s)


def test_readme_example(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}
    exec(compile(README_EXAMPLE, "README example", "exec"), namespace)
    out = capsys.readouterr().out
    search, clf = namespace["search"], namespace["clf"]
    X_train, X_test = namespace["X_train"], namespace["X_test"]
    y_train, y_test = namespace["y_train"], namespace["y_test"]
    assert isinstance(clf, GDClassifier)
    assert clf.solved_ and clf.n_iter_ < 10_000
    assert search.best_params_["gdclassifier__step"] in (10.0, 100.0, 1000.0)
    accuracy = search.score(X_test, y_test)
    assert f"test accuracy: {accuracy:.3f}" in out
    baseline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
    assert accuracy >= baseline.score(X_test, y_test) - 0.05
    assert accuracy > 0.9
