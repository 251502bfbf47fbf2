"""GDClassifier(bucket_samples=True) pads the training data to a few sizes so that the fits
of a search share one compiled run loop; the padding changes no result beyond the order of
sums. The default fit is the plain run; custom models are run as given."""

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
            clf = GDClassifier(max_iter=30, random_state=0, bucket_samples=True).fit(X[:n], y[:n])
            assert clf.trajectory_.config["n"] == n and clf.trajectory_.config["n_padded"] == 1024
            assert clf.trajectory_.final_margins.shape == (n,)
    assert compiled_count(model) - before <= 1
    assert compiled_count(_build_model(spec, X.shape[1])) == compiled_count(model)


def test_fit_is_the_padded_run_and_agrees_with_the_plain_run(cancer) -> None:
    X, y = cancer[0][:379], cancer[1][:379]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = GDClassifier(max_iter=50, step=1.0, random_state=0, bucket_samples=True).fit(X, y)
    signed = np.where(y == clf.classes_[1], 1.0, -1.0)
    model = _build_model(clf._spec, X.shape[1])
    theta0 = model.initial_params(clf.seed_)
    Xp = np.zeros((1024, X.shape[1]))
    Xp[:379] = X
    yp = np.ones(1024)
    yp[:379] = signed
    mask = np.arange(1024) < 379
    padded = run(
        model, make_dataset(Xp, yp, "p"), "gd", 1.0, theta0=theta0, max_iter=50, sample_mask=mask
    )
    assert np.array_equal(clf.params_, padded.final_params)
    for name in padded.metrics:
        assert np.array_equal(clf.trajectory_.metrics[name], padded.metrics[name])
    plain = run(model, make_dataset(X, signed, "plain"), "gd", 1.0, theta0=theta0, max_iter=50)
    # same terms summed in another order: n * eps relative per sum, GD at step 1 contracts
    np.testing.assert_allclose(clf.params_, plain.final_params, rtol=1e-10, atol=1e-14)
    assert clf.n_iter_ == plain.n_steps
    assert np.array_equal(
        clf.trajectory_.metrics["n_misclassified"], plain.metrics["n_misclassified"]
    )


def test_default_fit_is_the_plain_run(cancer) -> None:
    X, y = cancer[0][:379], cancer[1][:379]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = GDClassifier(max_iter=20, random_state=0).fit(X, y)
    signed = np.where(y == clf.classes_[1], 1.0, -1.0)
    model = _build_model(clf._spec, X.shape[1])
    plain = run(
        model, make_dataset(X, signed, "plain"), "gd", 1.0, theta0=np.zeros(30), max_iter=20
    )
    assert "n_padded" not in clf.trajectory_.config
    assert np.array_equal(clf.params_, plain.final_params)


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
