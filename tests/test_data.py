"""Data sets (docs/theory/setting.md, docs/theory/minimal-example.md, docs/theory/predecessor.md):
validation in make_dataset, the contents of the
named data
sets, Gaussian separable data, and the reduced coordinates of the minimal example."""

from __future__ import annotations

import numpy as np
import pytest

from gdperceptron import (
    GDPerceptronError,
    gaussian,
    loss_unreliable,
    make_dataset,
    minimal_example,
    standardize,
    tied,
    worst_case,
)
from gdperceptron._jax import jnp
from gdperceptron.analysis.spectral import swap_involution
from gdperceptron.data.synthetic import minimal_example_basis, minimal_example_reduced
from gdperceptron.models.builtin import swap

EPS = np.finfo(np.float64).eps

# ------------------------------------------------------------------- make_dataset


@pytest.mark.parametrize(
    ("X", "y"),
    [
        (np.zeros(3), [1, -1, 1]),  # X not 2-D
        (np.zeros((2, 2, 2)), [1, -1]),
        (np.zeros((3, 2)), [[1], [-1], [1]]),  # y not 1-D
        (np.zeros((3, 2)), [1, -1]),  # n mismatch
        (np.zeros((0, 2)), []),  # empty
        (np.zeros((2, 0)), [1, -1]),
        ([[1.0, np.nan], [0.0, 1.0]], [1, -1]),  # NaN / inf in X
        ([[1.0, np.inf], [0.0, 1.0]], [1, -1]),
        ([[1.0, -np.inf], [0.0, 1.0]], [1, -1]),
        ([[1.0 + 1j, 0.0], [0.0, 1.0]], [1, -1]),  # complex
        ([["a", "b"], ["c", "d"]], [1, -1]),  # not numbers
        (np.ones((3, 2)), [1, 1, 1]),  # one class
        (np.ones((3, 2)), [0, 1, 2]),  # three classes
        (np.ones((3, 2)), [1.0, np.nan, -1.0]),  # NaN label
        (np.ones((3, 2)), [1.0, np.inf, -1.0]),
    ],
)
def test_make_dataset_rejects_bad_input(X, y) -> None:
    with pytest.raises(GDPerceptronError):
        make_dataset(X, y)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([-1, 1, 1, -1], [-1, 1, 1, -1]),
        ([1.0, -1.0, -1.0, 1.0], [1, -1, -1, 1]),
        ([0, 1, 1, 0], [-1, 1, 1, -1]),  # smaller value -> -1
        ([7, 3, 3, 7], [1, -1, -1, 1]),
        ([-5.5, 2.0, -5.5, -5.5], [-1, 1, -1, -1]),
        (["dog", "cat", "cat", "dog"], [1, -1, -1, 1]),  # sorted order: "cat" < "dog"
        ([True, False, False, True], [1, -1, -1, 1]),
    ],
)
def test_make_dataset_maps_two_labels_to_signs(labels, expected) -> None:
    X = np.arange(8.0).reshape(4, 2)
    data = make_dataset(X, labels)
    assert data.y.dtype == np.float64 and data.X.dtype == np.float64
    np.testing.assert_array_equal(data.y, expected)
    np.testing.assert_array_equal(data.X, X)
    assert (data.n, data.d) == (4, 2)
    np.testing.assert_array_equal(data.A, np.array(expected)[:, None] * X)  # a_i = y_i x_i


def test_make_dataset_copies_and_freezes() -> None:
    X = np.arange(6.0).reshape(3, 2)
    y = np.array([1.0, -1.0, 1.0])
    data = make_dataset(X.astype(np.int64), y)
    X[0, 0], y[0] = 99.0, -1.0  # the sources change, the data set does not
    np.testing.assert_array_equal(data.X[0], [0.0, 1.0])
    assert data.y[0] == 1.0
    with pytest.raises(ValueError):
        data.X[0, 0] = 5.0
    with pytest.raises(ValueError):
        data.y[0] = 5.0


# ----------------------------------------------------------------- named data sets


@pytest.mark.parametrize(("d", "mu"), [(2, 1.0), (3, 0.5), (10, 1.0), (257, 2.0)])
def test_minimal_example_contents(d: int, mu: float) -> None:
    data = minimal_example(d, mu)
    # docs/theory/minimal-example.md: x_1 = 1_d with y_1 = +1; x_2 = 1_d + mu e_1 with y_2 = -1
    x2 = np.ones(d)
    x2[0] = 1.0 + mu
    np.testing.assert_array_equal(data.X, np.stack([np.ones(d), x2]))
    np.testing.assert_array_equal(data.y, [1.0, -1.0])
    # linearly separable without a bias: v = alpha 1_d + beta e_1 has <v, x_1> = alpha d + beta
    # and <v, x_2> = alpha d + beta + mu (alpha + beta); alpha d + beta = mu/2 with
    # alpha + beta = -1, i.e. alpha = (1 + mu/2)/(d - 1), makes both margins mu/2
    alpha = (1.0 + mu / 2) / (d - 1)
    v = alpha * np.ones(d)
    v[0] += -1.0 - alpha
    np.testing.assert_allclose(data.A @ v, [mu / 2, mu / 2], rtol=1e-12, atol=1e-14 * d)


def test_minimal_example_rejects_bad_parameters() -> None:
    for d, mu in ((1, 1.0), (2.5, 1.0), (5, 0.0), (5, -1.0), (5, float("nan")), (5, np.inf)):
        with pytest.raises(GDPerceptronError):
            minimal_example(d, mu)


def test_loss_unreliable_contents() -> None:
    data = loss_unreliable()
    # docs/theory/predecessor.md / predecessor Theorem 4.1: (1, -1) with label +1 and (-1, -4) with
    # label -1
    np.testing.assert_array_equal(data.X, [[1.0, -1.0], [-1.0, -4.0]])
    np.testing.assert_array_equal(data.y, [1.0, -1.0])


@pytest.mark.parametrize("n", [2, 3, 10, 1000])
def test_worst_case_contents(n: int) -> None:
    data = worst_case(n)
    # docs/theory/predecessor.md / predecessor Theorem 5.1: one (0.5, -1) with +1, n - 1 times
    # (-0.5, -1) with -1
    assert data.X.shape == (n, 2)
    np.testing.assert_array_equal(data.X[0], [0.5, -1.0])
    np.testing.assert_array_equal(data.X[1:], np.tile([-0.5, -1.0], (n - 1, 1)))
    np.testing.assert_array_equal(data.y, [1.0] + [-1.0] * (n - 1))
    for bad in (1, 0, 2.5):
        with pytest.raises(GDPerceptronError):
            worst_case(bad)


# ------------------------------------------------------------------- gaussian data


@pytest.mark.parametrize(
    ("n", "d", "margin", "seed"),
    [(2, 1, 0.1, 0), (50, 3, 0.1, 1), (200, 10, 1.0, 2), (31, 5, 1e-3, 3), (100, 50, 0.5, 4)],
)
def test_gaussian_is_separable_with_the_margin(n: int, d: int, margin: float, seed: int) -> None:
    data = gaussian(n, d, margin, seed=seed)
    assert data.X.shape == (n, d) and set(np.unique(data.y)) == {-1.0, 1.0}
    u = np.array(data.info["direction"])
    assert u.shape == (d,)
    assert abs(np.linalg.norm(u) - 1.0) <= 4 * d * EPS
    # y_i <u, x_i> >= margin up to rounding: the shift is exact in exact arithmetic, and
    # evaluating the dot product of a shifted row in float64 errs by at most about
    # (d + 2) eps sum_j |x_ij u_j| (standard dot-product bound plus the shift's rounding).
    tol = 2 * (d + 2) * EPS * (np.abs(data.X) @ np.abs(u))
    assert np.all(data.y * (data.X @ u) >= margin - tol)
    # with these parameters some point was pushed onto the margin: the bound is attained
    assert np.min(data.y * (data.X @ u) - margin) <= np.max(tol) + 1e-12


def test_gaussian_is_deterministic_per_seed() -> None:
    a, b = gaussian(40, 6, 0.2, seed=9), gaussian(40, 6, 0.2, seed=9)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.info == b.info
    c = gaussian(40, 6, 0.2, seed=10)
    assert not np.array_equal(a.X, c.X)


def test_gaussian_rejects_bad_parameters() -> None:
    for kw in (
        {"n": 1, "d": 3},
        {"n": 10, "d": 0},
        {"n": 2.5, "d": 3},
        {"n": 10, "d": 3, "margin": -0.1},
        {"n": 10, "d": 3, "margin": float("nan")},
    ):
        with pytest.raises(GDPerceptronError):
            gaussian(**kw, seed=0)


def test_standardize() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)) * [1.0, 10.0, 0.0] + [5.0, -2.0, 7.0]
    Z = standardize(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(Z[:, :2].std(axis=0), 1.0, rtol=1e-13)
    np.testing.assert_array_equal(Z[:, 2], 0.0)  # constant column left at 0


# ------------------------------------------- reduced coordinates of the minimal example


@pytest.mark.parametrize("d", [2, 3, 4, 10, 1001])
@pytest.mark.parametrize("mu", [1.0, 0.3])
def test_reduced_minimal_example(d: int, mu: float) -> None:
    full, red = minimal_example(d, mu), minimal_example_reduced(d, mu)
    Q = minimal_example_basis(d)
    k = min(d, 3)
    assert Q.shape == (d, k) and red.X.shape == (2, k)
    np.testing.assert_allclose(full.X @ Q, red.X, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(Q.T @ Q, np.eye(k), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(red.y, full.y)
    # the data lie in span(Q): projecting onto it changes nothing
    np.testing.assert_allclose(full.X @ Q @ Q.T, full.X, rtol=0, atol=1e-13)
    # P (swap of coordinates 1 and 2) maps span(Q) to itself, acting as the reduced swap
    P = swap_involution(d)
    PQ = P @ Q
    np.testing.assert_allclose(Q @ (Q.T @ PQ), PQ, rtol=0, atol=1e-14)
    # an inner product of two unit d-vectors is exact to d * eps (the standard bound of a
    # floating-point dot product), 2.2e-13 at d = 1001: the kernel's summation order decides
    dot_tol = max(1e-14, d * np.finfo(np.float64).eps)
    np.testing.assert_allclose(Q.T @ PQ, swap_involution(k), rtol=0, atol=dot_tol)


@pytest.mark.parametrize("d", [2, 7])
def test_reduced_tied_margins_equal_full_ones(d: int) -> None:
    # for w = Q c the tied model has the same margins on the full and the reduced data
    full, red = minimal_example(d), minimal_example_reduced(d)
    Q = minimal_example_basis(d)
    k = Q.shape[1]
    rng = np.random.default_rng(d)
    u, c = rng.standard_normal(2), rng.standard_normal(k)
    theta_full = np.concatenate([u, Q @ c])
    theta_red = np.concatenate([u, c])
    m_full = full.y * np.asarray(tied(d).apply(jnp.asarray(theta_full), jnp.asarray(full.X)))
    m_red = red.y * np.asarray(tied(k, swap(k).dense()).apply(theta_red, jnp.asarray(red.X)))
    np.testing.assert_allclose(m_full, m_red, rtol=1e-13, atol=1e-13)


def test_reduced_rejects_bad_parameters() -> None:
    for call in (
        lambda: minimal_example_reduced(1),
        lambda: minimal_example_reduced(5, 0.0),
        lambda: minimal_example_basis(1),
        lambda: minimal_example_basis(3.5),
    ):
        with pytest.raises(GDPerceptronError):
            call()
