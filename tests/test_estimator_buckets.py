"""GDClassifier pads the training data to a few sizes (bucket_samples, on by default) so that
the fits of a search share one compiled run loop; with the padding-invariant order of sums
the padded fit is bit for bit the unpadded run. Custom models are run as given."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gdperceptron import breast_cancer, make_dataset, run
from gdperceptron.engines.trajectory import compiled_count
from gdperceptron.estimator import GDClassifier, _build_model, bucket_size


def test_bucket_sizes() -> None:
    for n in (1, 2, 5, 100, 1000, 1025, 3000, 12_000, 60_000):
        for d in (1, 30, 784, 10**6):
            b = bucket_size(n, d)
            assert b >= n
            small = 1 << ((2**15 // d).bit_length() - 1) if d <= 2**15 else 1
            assert b == small or b <= 1.25 * n  # at most 25 % more rows past the small size
    assert {bucket_size(n, 30) for n in (379, 380, 569)} == {1024}  # cv=3 folds and refit
    assert bucket_size(10, 10**6) == 10  # no padding of a few long rows


@pytest.fixture(scope="module")
def cancer():
    data = breast_cancer()
    return data.X, data.y


def test_fits_of_nearby_sizes_share_one_compilation(cancer) -> None:
    X, y = cancer
    spec = GDClassifier()._model_spec()
    model = _build_model(spec, X.shape[1])
    before = compiled_count(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not separated in 30 steps
        for n in (379, 380, 569):
            clf = GDClassifier(max_iter=30, random_state=0).fit(X[:n], y[:n])
            assert clf.trajectory_.config["n"] == n and clf.trajectory_.config["n_padded"] == 1024
            assert clf.trajectory_.final_margins.shape == (n,)
    assert compiled_count(model) - before <= 1
    assert compiled_count(_build_model(spec, X.shape[1])) == compiled_count(model)


def _plain_runs(clf, X, y, **kw):
    """The run of the fit on the unpadded rows, with and without the padding-invariant
    order of sums (theta_0 as the fit draws it)."""
    signed = np.where(y == clf.classes_[1], 1.0, -1.0)
    model = _build_model(clf._spec, X.shape[1])
    theta0 = model.initial_params(clf.seed_, clf.init_scale)
    data = make_dataset(X, signed, "plain")
    args = (model, data, clf.algorithm, clf.step)
    invariant = run(*args, theta0=theta0, padding_invariant=True, **kw)
    return invariant, run(*args, theta0=theta0, **kw)


@pytest.mark.parametrize(
    ("options", "n"),
    [
        ({"step": 1.0}, 379),
        ({"step": 100.0}, 380),  # a large step: rounding differences would grow
        ({"step": 3.0, "algorithm": "normalized-gd"}, 569),
        ({"step": 1.0, "model": "two-layer", "width": 8}, 379),
        ({"step": 1.0, "model": "tied", "algorithm": "perceptron"}, 100),
    ],
)
def test_padded_fit_is_bit_for_bit_the_unpadded_run(cancer, options, n) -> None:
    X, y = cancer[0][:n], cancer[1][:n]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = GDClassifier(max_iter=60, random_state=0, **options).fit(X, y)
        unpadded = GDClassifier(max_iter=60, random_state=0, bucket_samples=False, **options)
        unpadded.fit(X, y)
    assert clf.trajectory_.config["n_padded"] == 1024 and clf.trajectory_.config["n"] == n
    assert "n_padded" not in unpadded.trajectory_.config
    invariant, default = _plain_runs(clf, X, y, max_iter=60)
    for other in (unpadded.trajectory_, invariant):
        assert np.array_equal(clf.params_, np.ravel(other.final_params))
        assert np.array_equal(clf.trajectory_.final_margins, other.final_margins)
        assert clf.trajectory_.stop_reason == other.stop_reason
        assert np.array_equal(clf.trajectory_.iterations, other.iterations)
        for name in other.metrics:
            assert np.array_equal(clf.trajectory_.metrics[name], other.metrics[name]), name
    # the default order of sums is another rounding of the same numbers: close while the
    # step is small (a large step amplifies rounding differences, as it does any change)
    if options["step"] <= 3.0 and options.get("model") != "tied":
        np.testing.assert_allclose(
            clf.params_, np.ravel(default.final_params), rtol=1e-9, atol=1e-12
        )
    assert clf.n_iter_ == unpadded.n_iter_


def test_custom_models_of_the_same_name_and_size_are_not_confused(cancer) -> None:
    from gdperceptron import from_apply
    from gdperceptron._jax import jnp

    X, y = cancer[0][:100], cancer[1][:100]
    p0 = np.linspace(-0.2, 0.3, X.shape[1])
    plain = from_apply(lambda p, X: X @ p, p0, name="mine")
    squashed = from_apply(lambda p, X: 3.0 * jnp.tanh(X @ p), p0, name="mine")
    losses = []
    forms = ((plain, lambda p: X @ p), (squashed, lambda p: 3.0 * np.tanh(X @ p)))
    for model, form in forms:
        f = form(p0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = GDClassifier(model=model, max_iter=1).fit(X, y)
        signed = np.where(y == clf.classes_[1], 1.0, -1.0)
        expected = np.mean(np.logaddexp(0.0, -signed * f))  # independent: NumPy, t = 0
        np.testing.assert_allclose(clf.trajectory_.metrics["loss"][0], expected, rtol=1e-13)
        losses.append(clf.trajectory_.metrics["loss"][0])
        np.testing.assert_allclose(clf.decision_function(X), form(clf.params_), rtol=1e-12)
    assert losses[0] != losses[1]
