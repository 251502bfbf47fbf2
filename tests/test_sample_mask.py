"""run(..., sample_mask=...): the run on the kept samples, with arrays of the full shape.

A left-out sample has margin +inf inside the loop (weight 0, loss 0, never misclassified)
and the loss and the plain step divide by the number kept. Checked against the run on the
kept rows alone (an independent computation: other arrays, other shapes), and padded runs
of two sizes against each other, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdperceptron as gp
from gdperceptron import GDPerceptronError, gaussian, linear, make_dataset, run, tied, two_layer

ALGORITHMS = ("gd", "perceptron", "normalized-gd", "normalized-perceptron")
KW = {"max_iter": 60, "record_every": 1, "record_error": True, "stop_when_solved": False}


def _padded(data, size: int):
    X = np.zeros((size, data.d))
    X[: data.n] = data.X
    y = np.ones(size)
    y[: data.n] = data.y
    return make_dataset(X, y, "padded"), np.arange(size) < data.n


def _models(d: int):
    return [linear(d), two_layer(d, 4), tied(d)]


def _assert_identical(a, b) -> None:
    assert a.stop_reason == b.stop_reason and a.n_steps == b.n_steps
    assert a.solved_iteration == b.solved_iteration
    assert np.array_equal(a.iterations, b.iterations)
    for name in a.metrics:
        assert np.array_equal(a.metrics[name], b.metrics[name]), name
    assert np.array_equal(a.final_params, b.final_params)
    assert np.array_equal(a.final_margins, b.final_margins)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_padded_runs_do_not_depend_on_the_padded_size(algorithm: str) -> None:
    data = gaussian(50, 7, 0.05, seed=1)
    for model in _models(7):
        theta0 = model.initial_params(0, 0.5)
        small, big = (
            run(model, d, algorithm, 1.0, theta0=theta0, sample_mask=m, **KW)
            for d, m in (_padded(data, 512), _padded(data, 1024))
        )
        _assert_identical(small, big)
        assert small.final_margins.shape == (50,) and small.config["n"] == 50


@pytest.mark.parametrize("algorithm", ["gd", "perceptron"])
def test_padded_run_is_the_run_on_the_kept_samples(algorithm: str) -> None:
    # The padded sums add the same terms in another order: each differs by at most about
    # n * eps = 1e-14 relative, and these runs (steps <= 1, 60 steps) do not amplify it
    # past 1e-10. The normalized rules are left out: their step 1 / sum(weights) amplifies
    # rounding (normalized GD at step 1 is chaotic, see the chaos experiment) up to O(1),
    # as it would for any reordering of the sums; their exactness is the test above.
    data = gaussian(50, 7, 0.05, seed=1)
    padded, mask = _padded(data, 512)
    for model in _models(7):
        theta0 = model.initial_params(0, 0.5)
        plain = run(model, data, algorithm, 1.0, theta0=theta0, **KW)
        masked = run(model, padded, algorithm, 1.0, theta0=theta0, sample_mask=mask, **KW)
        assert masked.n_steps == plain.n_steps and masked.stop_reason == plain.stop_reason
        assert np.array_equal(masked.iterations, plain.iterations)
        assert np.array_equal(masked.metrics["n_misclassified"], plain.metrics["n_misclassified"])
        for name in ("loss", "min_margin", "grad_norm", "param_norm", "error_norm"):
            np.testing.assert_allclose(masked.metrics[name], plain.metrics[name], rtol=1e-10)
        np.testing.assert_allclose(masked.final_params, plain.final_params, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(masked.final_margins, plain.final_margins, rtol=1e-10)


def test_left_out_rows_anywhere_with_any_finite_content() -> None:
    rng = np.random.default_rng(3)
    data = gaussian(40, 5, 0.1, seed=2)
    mask = rng.random(40) < 0.6
    garbage = data.X.copy()
    garbage[~mask] = 1e6 * rng.standard_normal((int((~mask).sum()), 5))
    labels = data.y.copy()
    labels[~mask] = -labels[~mask]
    left_out = make_dataset(garbage, labels, "garbage")
    kept = make_dataset(data.X[mask], data.y[mask], "kept")
    model = linear(5)
    theta0 = np.zeros(5)
    a = run(model, left_out, "gd", 1.0, theta0=theta0, sample_mask=mask, **KW)
    b = run(model, kept, "gd", 1.0, theta0=theta0, **KW)
    assert a.config["n"] == b.config["n"] == int(mask.sum())
    np.testing.assert_allclose(a.metrics["loss"], b.metrics["loss"], rtol=1e-10)
    np.testing.assert_allclose(a.final_params, b.final_params, rtol=1e-10, atol=1e-14)
    assert np.array_equal(a.metrics["n_misclassified"], b.metrics["n_misclassified"])


def test_solved_counts_only_kept_samples() -> None:
    # the padded rows have margin 0 (x = 0): counted, no run would ever be solved
    data = gaussian(30, 4, 0.2, seed=0)
    padded, mask = _padded(data, 64)
    plain = run(linear(4), data, "perceptron", 1.0, theta0=np.zeros(4))
    masked = run(linear(4), padded, "perceptron", 1.0, theta0=np.zeros(4), sample_mask=mask)
    assert plain.solved and masked.solved_iteration == plain.solved_iteration
    assert masked.metrics["n_misclassified"][-1] == 0


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.ones(5), "booleans of shape"),
        (np.ones(4, bool), "booleans of shape"),
        (np.zeros(5, bool), "at least one sample"),
    ],
)
def test_bad_masks_are_rejected(mask, message: str) -> None:
    data = gaussian(5, 2, seed=0)
    with pytest.raises(GDPerceptronError, match=message):
        run(linear(2), data, "gd", 1.0, theta0=np.zeros(2), sample_mask=mask)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_padding_invariant_must_be_a_bool(value) -> None:
    data = gaussian(5, 2, seed=0)
    with pytest.raises(GDPerceptronError, match="padding_invariant must be True or False"):
        run(linear(2), data, "gd", 1.0, theta0=np.zeros(2), padding_invariant=value)


@pytest.mark.parametrize(
    ("make", "algorithm"),
    [
        (lambda d: gp.linear(d), "gd"),
        (lambda d: gp.linear(d), "normalized-gd"),
        (lambda d: gp.two_layer(d, 6), "perceptron"),
        (lambda d: gp.tied(d), "normalized-perceptron"),
    ],
    ids=["linear-gd", "linear-normalized-gd", "two-layer-perceptron", "tied-normalized"],
)
def test_padding_invariant_runs_ignore_trailing_zero_rows(make, algorithm) -> None:
    # the same run on 70 rows, on 70 + 58 and on 70 + 954 zero rows left out: the same bits
    # (the default order of sums differs from it by rounding only)
    data = gp.breast_cancer(n=70, seed=2)
    model = make(data.d)
    kw = dict(
        theta0=model.initial_params(3, 1.0),
        max_iter=40,
        stop_when_solved=False,
        record_error=True,
        padding_invariant=True,
    )
    plain = gp.run(model, data, algorithm, 3.0, **kw)
    for rows in (128, 1024):
        X, y = np.zeros((rows, data.d)), np.ones(rows)
        X[:70], y[:70] = data.X, data.y
        padded = gp.run(
            model, gp.make_dataset(X, y), algorithm, 3.0, sample_mask=np.arange(rows) < 70, **kw
        )
        assert np.array_equal(padded.final_params, plain.final_params)
        assert np.array_equal(padded.final_margins, plain.final_margins)
        assert padded.stop_reason == plain.stop_reason
        for name in plain.metrics:
            assert np.array_equal(padded.metrics[name], plain.metrics[name]), name
    default = gp.run(
        model, data, algorithm, 3.0, **{**kw, "padding_invariant": False, "max_iter": 5}
    )
    short = gp.run(model, data, algorithm, 3.0, **{**kw, "max_iter": 5})
    np.testing.assert_allclose(short.final_params, default.final_params, rtol=1e-12, atol=1e-14)
