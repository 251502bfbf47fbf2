"""Logistic loss and perceptron weights (docs/theory/setting.md, docs/theory/reduction.md) against
independent float64 formulas.

References used here never touch JAX: ``np.log(1 + np.exp(-m))`` where it is exact
enough (|m| <= 30), ``np.log1p(np.exp(-m))`` where ``exp(-m)`` does not overflow,
``scipy.special.expit`` for the sigmoid, and the asymptotics of ``softplus(-m)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from gdperceptron import hard_weights, logistic_loss, logistic_weights, per_sample_loss
from gdperceptron._jax import jax, jnp

EPS = np.finfo(np.float64).eps
RNG = np.random.default_rng(20251211)
# moderate margins: a grid through 0 plus random values, all in [-30, 30]
MODERATE = np.concatenate([np.linspace(-30.0, 30.0, 121), RNG.uniform(-30.0, 30.0, 200)])
HUGE = np.array([-1e300, -1e6, 1e6, 1e300])


def _np(x: jax.Array) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


# ------------------------------------------------------------------- moderate margins


def test_per_sample_loss_matches_direct_formula() -> None:
    # |m| <= 30: fl(1 + exp(-m)) = (1 + exp(-m))(1 + delta), |delta| <= eps, so the direct
    # formula carries an absolute error of about eps (log(1 + delta) ~ delta) on top of a
    # relative one; it is the reference that is inexact where the loss is tiny, and
    # log1p covers those margins to full relative accuracy (next test).
    direct = np.log(1.0 + np.exp(-MODERATE))
    got = _np(per_sample_loss(jnp.asarray(MODERATE)))
    np.testing.assert_allclose(got, direct, rtol=1e-14, atol=2 * EPS)


def test_per_sample_loss_matches_log1p_where_safe() -> None:
    # log1p(exp(-m)) is accurate for every m with exp(-m) finite (m > -709), including the
    # large positive margins where log(1 + exp(-m)) loses all digits.
    m = np.concatenate([MODERATE, np.linspace(-700.0, 700.0, 281)])
    ref = np.log1p(np.exp(-m))
    got = _np(per_sample_loss(jnp.asarray(m)))
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0)


def test_logistic_loss_is_the_mean() -> None:
    ref = np.mean(np.log1p(np.exp(-MODERATE)))
    got = float(logistic_loss(jnp.asarray(MODERATE)))
    assert got == pytest.approx(ref, rel=1e-13)


def test_logistic_weights_match_sigmoid() -> None:
    direct = 1.0 / (1.0 + np.exp(MODERATE))  # sigma(-m), safe for |m| <= 30
    got = _np(logistic_weights(jnp.asarray(MODERATE)))
    np.testing.assert_allclose(got, direct, rtol=1e-13, atol=0)
    np.testing.assert_allclose(got, expit(-MODERATE), rtol=1e-13, atol=0)
    assert np.all((got > 0) & (got < 1))


def test_hard_weights_match_definition() -> None:
    # the smallest normal float64 on both sides of 0 (subnormals are flushed to zero by
    # XLA on the CPU, so they are not meaningful margins)
    tiny = np.finfo(np.float64).tiny
    m = np.concatenate([MODERATE, [0.0, -0.0, tiny, -tiny]])
    expected = np.array([1.0 if v < 0 else (0.5 if v == 0 else 0.0) for v in m])
    np.testing.assert_array_equal(_np(hard_weights(jnp.asarray(m))), expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-700.0, 700.0), min_size=1, max_size=20))
def test_sigmoid_symmetry_and_loss_identity(ms: list[float]) -> None:
    # sigma(-m) + sigma(m) = 1 and softplus(-m) - softplus(m) = -m (exact identities)
    m = jnp.asarray(np.array(ms))
    w, w_neg = _np(logistic_weights(m)), _np(logistic_weights(-m))
    np.testing.assert_allclose(w + w_neg, 1.0, rtol=0, atol=4 * EPS)
    diff = _np(per_sample_loss(m)) - _np(per_sample_loss(-m))
    ms_arr = np.array(ms)
    assert np.all(np.abs(diff + ms_arr) <= 8 * EPS * (1 + np.abs(ms_arr)))


# -------------------------------------------------------------------- huge margins


def test_huge_margins_finite_and_asymptotic() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = _np(per_sample_loss(jnp.asarray(HUGE)))
        w = _np(logistic_weights(jnp.asarray(HUGE)))
        total = float(logistic_loss(jnp.asarray(HUGE)))
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(w)) and np.isfinite(total)
    # m -> -inf: softplus(-m) = -m + log1p(exp(m)); exp(m) underflows to 0 for m <= -1e6,
    # so the value is -m exactly.
    np.testing.assert_array_equal(loss[:2], -HUGE[:2])
    # m -> +inf: softplus(-m) = exp(-m)(1 + O(exp(-m))) underflows to exactly 0.
    np.testing.assert_array_equal(loss[2:], [0.0, 0.0])
    np.testing.assert_array_equal(w, [1.0, 1.0, 0.0, 0.0])
    # the mean of (1e300, 1e6, 0, 0) is computed without overflow
    assert total == pytest.approx((1e300 + 1e6) / 4, rel=1e-15)


@pytest.mark.parametrize("m", [40.0, 100.0, 300.0, 700.0])
def test_large_positive_margin_asymptotics(m: float) -> None:
    # softplus(-m) = log1p(e) with e = exp(-m): e - e^2/2 < log1p(e) < e, relative gap e/2
    e = np.exp(-m)
    got = float(per_sample_loss(jnp.asarray([m]))[0])
    assert abs(got - e) <= e * (e / 2 + 4 * EPS)
    # sigma(-m) = e / (1 + e), also ~ e
    w = float(logistic_weights(jnp.asarray([m]))[0])
    assert abs(w - e) <= e * (e + 4 * EPS)
    # and the mirrored margin: softplus(m) = m + log1p(exp(-m)) ~ m, sigma(m) = 1 - sigma(-m)
    got_neg = float(per_sample_loss(jnp.asarray([-m]))[0])
    assert abs(got_neg - m) <= 2 * e + 4 * EPS * m
    assert float(logistic_weights(jnp.asarray([-m]))[0]) == pytest.approx(1.0 - e, abs=4 * EPS)


# ------------------------------------------------------------------ derivatives


def test_grad_of_loss_is_minus_mean_weights() -> None:
    m = jnp.asarray(MODERATE)
    n = MODERATE.size
    g = _np(jax.grad(logistic_loss)(m))
    # d/dm_i (1/n) sum_j softplus(-m_j) = -sigma(-m_i) / n
    np.testing.assert_allclose(g, -expit(-MODERATE) / n, rtol=1e-13, atol=0)
    np.testing.assert_allclose(g, -_np(logistic_weights(m)) / n, rtol=1e-13, atol=0)


def test_grad_of_per_sample_loss_against_finite_differences() -> None:
    # d/dm softplus(-m) = -sigma(-m), checked with central differences on the NumPy
    # formula log1p(exp(-m)); error O(h^2) + O(eps/h) with h = 1e-5.
    m = np.linspace(-20.0, 20.0, 81)
    h = 1e-5
    fd = (np.log1p(np.exp(-(m + h))) - np.log1p(np.exp(-(m - h)))) / (2 * h)
    g = _np(jax.vmap(jax.grad(lambda v: per_sample_loss(v[None])[0]))(jnp.asarray(m)))
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(g, -_np(logistic_weights(jnp.asarray(m))), rtol=1e-13, atol=0)


def test_grad_at_huge_margins() -> None:
    g = _np(jax.grad(logistic_loss)(jnp.asarray(HUGE)))
    assert np.all(np.isfinite(g))
    # -sigma(-m)/n with sigma(1e300) = sigma(1e6) = 1 and sigma(-1e6) = sigma(-1e300) = 0
    np.testing.assert_array_equal(g, np.array([-1.0, -1.0, 0.0, 0.0]) / 4)


# ------------------------------------------------------------ hard weights as a limit


def test_hard_weights_are_the_limit_of_tempered_sigmoids() -> None:
    m = np.array([-3.0, -1e-6, -0.0, 0.0, 1e-6, 2.5, -1e6, 1e6])
    h = _np(hard_weights(jnp.asarray(m)))
    eps_grid = 10.0 ** -np.arange(0, 13)
    gaps = np.array([np.abs(expit(-m / eps) - h) for eps in eps_grid])
    # sigma(0) = 1/2 for every eps: the boundary point gets 1/2 from the start
    np.testing.assert_array_equal(gaps[:, [2, 3]], 0.0)
    # elsewhere |sigma(-m/eps) - h(m)| = sigma(-|m|/eps) shrinks as eps -> 0 ...
    assert np.all(np.diff(gaps, axis=0) <= 0)
    nz = m != 0
    # 1 - sigma(x) for m < 0 cancels to an absolute error of ~eps: hence the atol
    np.testing.assert_allclose(
        gaps[:, nz], expit(-np.abs(m[nz])[None, :] / eps_grid[:, None]), rtol=1e-12, atol=2 * EPS
    )
    # ... and reaches exactly 0 once |m|/eps > ~745 (expit underflows): eps = 1e-12 here
    np.testing.assert_array_equal(gaps[-1], 0.0)


def test_logistic_loss_at_the_most_negative_margins() -> None:
    # softplus(1e308) = 1e308 + log1p(exp(-1e308)) = 1e308 exactly; the mean of two
    # such terms is 1e308, although their sum overflows
    m = jnp.array([-1e308, -1e308])
    assert float(logistic_loss(m)) == 1e308
    assert float(logistic_loss(jnp.array([-1e308, 0.0]))) == 5e307 + np.log(2.0) / 2
    grad = jax.grad(logistic_loss)(m)
    assert np.all(np.isfinite(grad))


def test_logistic_loss_is_the_plain_mean_where_it_does_not_overflow() -> None:
    m = jnp.asarray(np.random.default_rng(0).normal(scale=30.0, size=101))
    assert float(logistic_loss(m)) == float(jnp.mean(jnp.logaddexp(0.0, -m)))
