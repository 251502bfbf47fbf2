"""Tied-model trajectories in the eigenbasis of their driving matrices (docs/theory/reduction.md,
docs/theory/spectra.md, docs/theory/minimal-example.md).

Independent computations: ``spectral.structured_matrix`` (A(a) with a dense P), the
Proposition's closed-form eigenvalues (``spectral.eigensystem``), the Corollary's
``minimal_example_spectrum``, the model's own margins (JAX), and ``algorithms.error_term``
(the reduction's error term by a JAX vector-Jacobian product).
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import lambda2 as ref_lambda2

from gdperceptron import GDPerceptronError, gaussian, linear, minimal_example, tied
from gdperceptron.analysis.eigenpath import (
    COROLLARY_NAMES,
    corollary_vectors,
    driving_matrix,
    eigen_components,
    growth_report,
    margin_matrix,
)
from gdperceptron.analysis.spectral import (
    eigensystem,
    minimal_example_spectrum,
    random_involution,
    structured_matrix,
)
from gdperceptron.data.synthetic import minimal_example_basis
from gdperceptron.engines.algorithms import error_term, perceptron_step
from gdperceptron.engines.reduced import reduce_problem

EXACT = 1e-10


def _defects(rep) -> np.ndarray:
    """``|<theta_{t+1}, v> - (1 + lambda) <theta_t, v>|``, shape ``(T, p)``."""
    return np.abs(rep.next_projections - rep.predicted * rep.projections)


def _assert_exact(rep) -> None:
    """Hard perceptron: observed ratio == 1 + lambda wherever the projection is not tiny,
    and the product form everywhere, to EXACT relative to ||theta_{t+1}||."""
    norms = np.linalg.norm(rep.thetas, axis=1)
    assert np.all(_defects(rep) <= EXACT * norms[1:, None])
    big = np.abs(rep.projections) >= 1e-6 * norms[:-1, None]
    assert big.sum() >= rep.projections.shape[0]  # at least one per step on average
    np.testing.assert_allclose(rep.observed[big], rep.predicted[big], rtol=0, atol=EXACT)
    assert np.all(rep.xi_norms <= EXACT * norms[1:])


def test_margin_matrix_against_spectral_and_model() -> None:
    rng = np.random.default_rng(0)
    for d, P in ((5, None), (6, random_involution(6, rng, "householder"))):
        model = tied(d, P)
        Pd = model.info["P"].dense()
        for _ in range(3):
            a = rng.standard_normal(d)
            A = margin_matrix(model, a)
            np.testing.assert_allclose(A, structured_matrix(a, Pd), atol=1e-14)
            # m = 1/2 theta^T A(y x) theta is the model's margin
            theta = rng.standard_normal(d + 2)
            x, y = a, 1.0
            m = y * float(model.apply(theta, x[None, :])[0])
            np.testing.assert_allclose(0.5 * theta @ A @ theta, m, rtol=1e-12)
    with pytest.raises(GDPerceptronError):
        margin_matrix(linear(3), np.ones(3))
    with pytest.raises(GDPerceptronError):
        margin_matrix(tied(3), np.ones(4))


def test_driving_matrix_closed_form() -> None:
    """M = eta sum_i h_i A_i summed term by term; its nonzero eigenvalues are eta times the
    Proposition's closed form for a = sum_i h_i a_i."""
    d, n = 7, 5
    rng = np.random.default_rng(1)
    P = random_involution(d, rng, "signed_pairs")
    model = tied(d, P)
    data = gaussian(n, d, 0.1, seed=2)
    for algorithm in ("gd", "perceptron", "normalized-perceptron"):
        theta = rng.standard_normal(d + 2)
        M, eta = driving_matrix(model, data, algorithm, 0.7, theta)
        m = np.array([0.5 * theta @ structured_matrix(a, P) @ theta for a in data.A])
        h = (m < 0).astype(float)
        want_eta = 0.7 / max(h.sum(), 1) if algorithm == "normalized-perceptron" else 0.7 / n
        assert eta == pytest.approx(want_eta, rel=1e-15)
        want = eta * sum(hi * structured_matrix(a, P) for hi, a in zip(h, data.A, strict=True))
        np.testing.assert_allclose(M, want, atol=1e-13)
        es = eigensystem(h @ data.A, P)
        lam = np.linalg.eigvalsh(M)
        nonzero = lam[np.abs(lam) > 1e-9 * np.abs(lam).max()]
        np.testing.assert_allclose(np.sort(nonzero), np.sort(eta * es.eigenvalues), rtol=1e-10)


@pytest.mark.parametrize("d", [3, 10, 30])
def test_hard_perceptron_minimal_example_is_exact(d: int) -> None:
    """theta_{t+1} = (I + M_t) theta_t for the hard perceptron: per-step ratio == 1 + lambda."""
    model = tied(d)
    for mu, seed in ((1.0, 0), (0.5, 1)):
        data = minimal_example(d, mu)
        step = 1.0 / ref_lambda2(d, mu)
        rep = growth_report(model, data, "perceptron", step, model.initial_params(seed), 40)
        assert rep.thetas.shape == (41, d + 2) and rep.eigenvalues.shape == (40, d + 2)
        _assert_exact(rep)
        # the iterates are perceptron_step's
        f = perceptron_step(model, data.X, data.y, "perceptron", step)
        np.testing.assert_allclose(np.asarray(f(rep.thetas[3])), rep.thetas[4], atol=1e-15)


def test_hard_perceptron_random_quadratic_data() -> None:
    rng = np.random.default_rng(4)
    d, n = 6, 4
    for kind, algorithm in (("householder", "perceptron"), ("pairs", "normalized-perceptron")):
        model = tied(d, random_involution(d, rng, kind))
        data = gaussian(n, d, 0.1, seed=5)
        theta0 = model.initial_params(6, 1.0)
        if np.sum(data.y * np.asarray(model.apply(theta0, data.X)) > 0) > n // 2:
            theta0[:2] *= -1  # m is linear in u: flip most margins negative
        rep = growth_report(model, data, algorithm, 0.3, theta0, 30)
        _assert_exact(rep)
        assert rep.misclassified.sum() >= n // 2  # the steps actually move


def test_gd_large_step_defect_bounded_by_error_term() -> None:
    """LR+GD: |<theta_{t+1}, v> - (1 + lambda) <theta_t, v>| <= ||xi_t|| with xi_t the
    reduction's error term recomputed by algorithms.error_term, and the defect is real."""
    d = 10
    model, data = tied(d), minimal_example(d, 1.0)
    for c in (5.0, 20.0):
        gamma = c / ref_lambda2(d, 1.0)
        theta0 = model.initial_params(0)
        rep = growth_report(model, data, "gd", gamma, theta0, 200, stop_when_solved=True)
        xi = np.array(
            [
                np.linalg.norm(np.asarray(error_term(model, data.X, data.y, gamma, th)))
                for th in rep.thetas[:-1]
            ]
        )
        norms = np.linalg.norm(rep.thetas, axis=1)
        np.testing.assert_allclose(rep.xi_norms, xi, rtol=1e-10, atol=1e-13 * norms[1:].max())
        assert np.all(_defects(rep).max(axis=1) <= xi + 1e-12 * norms[1:])
        assert np.max(_defects(rep) / norms[1:, None]) > 1e-3  # approximate, not exact
        assert np.all(rep.margins[-1] > 0)  # compared up to separation


def test_corollary_components_and_factors() -> None:
    """Components along the Corollary's vectors and their predicted factors: while only
    sample 2 is misclassified M_t = eta A_2 (eta = gamma/2) and v2+-, vmu+- grow by
    1 +- eta lambda_2, 1 +- eta mu; while only sample 1 is, vmu+- (kernel of A_1) stay."""
    d, mu = 12, 1.0
    model, data = tied(d), minimal_example(d, mu)
    gamma = 1.0 / ref_lambda2(d, mu)
    rep = growth_report(model, data, "perceptron", gamma, model.initial_params(0), 60)
    s = minimal_example_spectrum(d, mu)
    vecs = dict(
        zip(
            COROLLARY_NAMES,
            (s.v1_plus, s.v1_minus, s.v2_plus, s.v2_minus, s.vmu_plus, s.vmu_minus),
            strict=True,
        )
    )
    for name, v in vecs.items():
        np.testing.assert_allclose(rep.named[name], rep.thetas @ v, atol=1e-15)
    eta = gamma / 2
    only2 = rep.misclassified[:, 1] & ~rep.misclassified[:, 0]
    only1 = rep.misclassified[:, 0] & ~rep.misclassified[:, 1]
    assert only1.any() and only2.any()
    for name, rho in (("v2+", s.lambda2), ("v2-", -s.lambda2), ("vmu+", mu), ("vmu-", -mu)):
        np.testing.assert_allclose(rep.named_factors[name][only2], 1 + eta * rho, atol=EXACT)
    for name in ("vmu+", "vmu-"):
        np.testing.assert_allclose(rep.named_factors[name][only1], 1.0, atol=EXACT)
    for name, rho in (("v1+", s.lambda1), ("v1-", -s.lambda1)):
        np.testing.assert_allclose(rep.named_factors[name][only1], 1 + eta * rho, atol=EXACT)
    # observed growth of the named components equals the factor where it is defined
    for name in vecs:
        f = rep.named_factors[name]
        ok = np.isfinite(f)
        comp = rep.named[name]
        np.testing.assert_allclose(
            comp[1:][ok], f[ok] * comp[:-1][ok], atol=EXACT * np.abs(comp).max()
        )


def test_reduced_coordinates_match_full() -> None:
    """corollary_vectors in the basis of span{e_1, e_2, 1_d} are (v_u, Q^T v_w), and the
    report computed in reduced coordinates follows the same components."""
    d, mu = 20, 0.5
    Q = minimal_example_basis(d)
    full_vecs = corollary_vectors(d, mu)
    red_vecs = corollary_vectors(d, mu, basis=Q)
    for name in COROLLARY_NAMES:
        v = full_vecs[name]
        np.testing.assert_allclose(red_vecs[name], np.r_[v[:2], Q.T @ v[2:]], atol=1e-14)
    model, data = tied(d), minimal_example(d, mu)
    theta0 = model.initial_params(3)
    gamma = 1.0 / ref_lambda2(d, mu)
    full = growth_report(model, data, "perceptron", gamma, theta0, 30, stop_when_solved=True)
    red = reduce_problem(model, data, theta0, basis=Q)
    rrep = growth_report(
        red.model,
        red.data,
        "perceptron",
        gamma,
        red.theta0,
        30,
        vectors=red_vecs,
        stop_when_solved=True,
    )
    assert rrep.thetas.shape[0] == full.thetas.shape[0] < 31  # solved before 30 steps
    assert np.all(rrep.margins[-1] > 0) and not np.all(rrep.margins[-2] > 0)
    np.testing.assert_allclose(rrep.margins, full.margins, atol=1e-12)
    for name in COROLLARY_NAMES:
        np.testing.assert_allclose(rrep.named[name], full.named[name], atol=1e-12)
    _assert_exact(rrep)


def test_eigen_components_and_bad_input() -> None:
    th = np.arange(12.0).reshape(4, 3)
    V = np.eye(3)[:, :2]
    np.testing.assert_array_equal(eigen_components(th, V), th[:, :2])
    np.testing.assert_array_equal(eigen_components(th, np.ones(3)), th.sum(axis=1))
    with pytest.raises(GDPerceptronError):
        eigen_components(th, np.ones(4))
    d = 4
    model, data = tied(d), minimal_example(d)
    theta0 = model.initial_params(0)
    with pytest.raises(GDPerceptronError, match="tied"):
        growth_report(linear(d), data, "gd", 0.1, np.zeros(d), 3)
    with pytest.raises(GDPerceptronError, match="T must"):
        growth_report(model, data, "gd", 0.1, theta0, -1)
    with pytest.raises(GDPerceptronError, match="shape"):
        growth_report(model, data, "gd", 0.1, theta0[:-1], 3)
    with pytest.raises(GDPerceptronError, match="vector"):
        growth_report(model, data, "gd", 0.1, theta0, 3, vectors={"v": np.ones(3)})
    with pytest.raises(GDPerceptronError, match="basis"):
        corollary_vectors(d, 1.0, basis=np.eye(d)[:, :2])
    rep = growth_report(model, data, "gd", 0.1, theta0, 0)
    assert rep.thetas.shape == (1, d + 2) and rep.eigenvalues.shape == (0, d + 2)
