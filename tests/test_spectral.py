"""Closed-form spectra of A(a) (docs/theory/spectra.md, docs/theory/minimal-example.md) checked
against numpy.linalg.eigh / norm(·, 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import explicit_A

from gdperceptron.analysis.spectral import (
    eigensystem,
    growth_factors,
    householder_involution,
    is_involution,
    minimal_example_matrices,
    minimal_example_spectrum,
    random_involution,
    structured_matrix,
    swap_involution,
)
from gdperceptron.errors import GDPerceptronError

KINDS = ("pairs", "signed_pairs", "householder")
DIMS = (2, 3, 4, 5, 7, 10, 17, 32, 64, 111, 200)


def _check_against_eigh(a: np.ndarray, P: np.ndarray, expected_case: int | None) -> None:
    d = a.size
    A = explicit_A(a, P)
    np.testing.assert_allclose(
        structured_matrix(a, P), A, rtol=1e-13, atol=1e-13 * (1 + np.abs(a).max())
    )
    es = eigensystem(a, P)
    if expected_case is not None:
        assert es.case == expected_case
    r = es.eigenvalues.size
    assert r == {1: 0, 2: 2, 3: 2, 4: 4}[es.case]
    assert es.eigenvectors.shape == (d + 2, r)

    na = np.linalg.norm(a)
    scale = max(na, 1e-300)
    w = np.linalg.eigh(A)[0]
    nonzero = np.abs(w) > 1e-9 * scale
    # number of zero eigenvalues of eigh equals d + 2 - r
    assert int(np.sum(~nonzero)) == d + 2 - r
    np.testing.assert_allclose(
        np.sort(es.eigenvalues), np.sort(w[nonzero]), rtol=1e-10, atol=1e-10 * scale
    )
    # A v = λ v, unit-norm columns
    for k in range(r):
        v, lam = es.eigenvectors[:, k], es.eigenvalues[k]
        assert abs(np.linalg.norm(v) - 1.0) < 1e-12
        assert np.linalg.norm(A @ v - lam * v) <= 1e-10 * scale
    # ‖a‖ ≤ ‖A‖₂ ≤ √2‖a‖, and the closed-form spectral norm
    n2 = np.linalg.norm(A, 2)
    assert es.norm_lower == pytest.approx(na, rel=1e-13, abs=0)
    assert es.norm_upper == pytest.approx(np.sqrt(2) * na, rel=1e-13, abs=0)
    assert na * (1 - 1e-12) <= n2 <= np.sqrt(2) * na * (1 + 1e-12)
    assert es.spectral_norm == pytest.approx(n2, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", DIMS)
def test_generic_case_matches_eigh(kind: str, d: int) -> None:
    rng = np.random.default_rng(1000 * d + KINDS.index(kind))
    for _ in range(6):
        P = random_involution(d, rng, kind)
        a = rng.standard_normal(d) * 10.0 ** rng.uniform(-3, 3)
        # every random involution moves at least one coordinate, so generic a is case 4
        _check_against_eigh(a, P, 4)
        es = eigensystem(a, P)
        Pa = P @ a
        ap2, am2 = a @ a + a @ Pa, a @ a - a @ Pa  # the Proposition's literal formula
        np.testing.assert_allclose(
            es.eigenvalues, [np.sqrt(ap2), -np.sqrt(ap2), np.sqrt(am2), -np.sqrt(am2)], rtol=1e-8
        )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", DIMS)
def test_boundary_cases_match_eigh(kind: str, d: int) -> None:
    rng = np.random.default_rng(7 + 1000 * d + KINDS.index(kind))
    for _ in range(4):
        P = random_involution(d, rng, kind)
        b = rng.standard_normal(d)
        for sign, case in ((1.0, 2), (-1.0, 3)):
            a = (b + sign * (P @ b)) / 2
            if np.linalg.norm(a) < 1e-8 * np.linalg.norm(b):
                continue  # b had no component in this eigenspace of P
            _check_against_eigh(a, P, case)
            es = eigensystem(a, P)
            np.testing.assert_allclose(
                es.eigenvalues, np.sqrt(2) * np.linalg.norm(a) * np.array([1, -1]), rtol=1e-13
            )
            assert es.spectral_norm == pytest.approx(np.sqrt(2) * np.linalg.norm(a), rel=1e-12)
        _check_against_eigh(np.zeros(d), P, 1)


def test_zero_vector() -> None:
    es = eigensystem(np.zeros(5), swap_involution(5))
    assert es.case == 1
    assert es.eigenvalues.shape == (0,) and es.eigenvectors.shape == (7, 0)
    assert es.spectral_norm == es.norm_lower == es.norm_upper == 0.0


@settings(max_examples=150, deadline=None)
@given(
    d=st.integers(2, 40),
    seed=st.integers(0, 2**32 - 1),
    kind=st.sampled_from(KINDS),
    mode=st.sampled_from(["generic", "plus", "minus", "zero"]),
    log_scale=st.floats(-6, 6),
)
def test_hypothesis_random(d: int, seed: int, kind: str, mode: str, log_scale: float) -> None:
    rng = np.random.default_rng(seed)
    P = random_involution(d, rng, kind)
    b = rng.standard_normal(d) * 10.0**log_scale
    a = {"generic": b, "plus": (b + P @ b) / 2, "minus": (b - P @ b) / 2, "zero": 0 * b}[mode]
    if mode in ("plus", "minus") and np.linalg.norm(a) < 1e-8 * np.linalg.norm(b):
        a = np.zeros(d)
    _check_against_eigh(a, P, None)


def test_swap_and_householder_are_involutions() -> None:
    P = swap_involution(4, 1, 3)
    np.testing.assert_array_equal(P @ np.arange(4.0), [0.0, 3.0, 2.0, 1.0])
    np.testing.assert_array_equal(swap_involution(3) @ np.array([1.0, 2.0, 3.0]), [2, 1, 3])
    assert is_involution(P)
    v = np.array([1.0, -2.0, 0.5])
    H = householder_involution(v)
    np.testing.assert_allclose(H @ v, -v, atol=1e-14)
    np.testing.assert_allclose(H @ H, np.eye(3), atol=1e-14)
    rng = np.random.default_rng(0)
    for kind in KINDS:
        for d in (1, 2, 9, 50):
            Q = random_involution(d, rng, kind)
            np.testing.assert_allclose(Q, Q.T, atol=1e-14)
            np.testing.assert_allclose(Q @ Q, np.eye(d), atol=1e-13)
    assert not is_involution(np.array([[0.0, 1.0], [0.0, 0.0]]))
    assert not is_involution(np.array([[1.0, 1.0], [0.0, -1.0]]))  # involution, not symmetric
    assert not is_involution(2 * np.eye(3))
    assert not is_involution(np.ones(3))


@pytest.mark.parametrize("kind", KINDS)
def test_quadratic_form_and_gradient(kind: str) -> None:
    rng = np.random.default_rng(42)
    for d in (2, 5, 30):
        P = random_involution(d, rng, kind)
        a = rng.standard_normal(d)
        A = structured_matrix(a, P)
        for _ in range(5):
            theta = rng.standard_normal(d + 2)
            u1, u2, w = theta[0], theta[1], theta[2:]
            margin = u1 * np.dot(w, a) + u2 * np.dot(w, P @ a)

            def q(t: np.ndarray, A: np.ndarray = A) -> float:
                return 0.5 * t @ A @ t

            assert q(theta) == pytest.approx(margin, rel=1e-12, abs=1e-12)
            h = 1e-6
            fd = np.array([(q(theta + h * e) - q(theta - h * e)) / (2 * h) for e in np.eye(d + 2)])
            np.testing.assert_allclose(A @ theta, fd, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("d", [2, 3, 5, 10, 100])
@pytest.mark.parametrize("mu", [0.5, 1.0, 3.0])
def test_minimal_example(d: int, mu: float) -> None:
    A1, A2 = minimal_example_matrices(d, mu)
    x1, x2 = np.ones(d), np.ones(d)
    x2[0] += mu
    P = np.eye(d)[[1, 0] + list(range(2, d))]
    np.testing.assert_array_equal(A1, explicit_A(+1 * x1, P))
    np.testing.assert_array_equal(A2, explicit_A(-1 * x2, P))

    ms = minimal_example_spectrum(d, mu)
    assert ms.lambda1 == pytest.approx(np.sqrt(2 * d), rel=1e-14)
    assert ms.lambda2 == pytest.approx(np.sqrt((2 + mu) ** 2 + 2 * (d - 2)), rel=1e-14)
    assert ms.mu == mu

    w1 = np.linalg.eigh(A1)[0]
    w2 = np.linalg.eigh(A2)[0]
    nz1, nz2 = w1[np.abs(w1) > 1e-9], w2[np.abs(w2) > 1e-9]
    np.testing.assert_allclose(nz1, [-ms.lambda1, ms.lambda1], rtol=1e-10)
    np.testing.assert_allclose(nz2, sorted([-ms.lambda2, -mu, mu, ms.lambda2]), rtol=1e-10)

    for A, v, lam in (
        (A1, ms.v1_plus, ms.lambda1),
        (A1, ms.v1_minus, -ms.lambda1),
        (A2, ms.v2_plus, ms.lambda2),
        (A2, ms.v2_minus, -ms.lambda2),
        (A2, ms.vmu_plus, mu),
        (A2, ms.vmu_minus, -mu),
    ):
        assert v.shape == (d + 2,)
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-13)
        assert np.linalg.norm(A @ v - lam * v) <= 1e-10 * ms.lambda2

    # the μ-eigenvectors of A_2 lie in the kernel of A_1
    for v in (ms.vmu_plus, ms.vmu_minus):
        assert np.linalg.norm(A1 @ v) <= 1e-10
    # and are the Corollary's vectors up to sign/scale
    c_plus = np.zeros(d + 2)
    c_plus[:4] = [-mu, mu, mu, -mu]
    c_minus = np.zeros(d + 2)
    c_minus[:4] = [mu, -mu, mu, -mu]
    for v, c in ((ms.vmu_plus, c_plus), (ms.vmu_minus, c_minus)):
        cu = c / np.linalg.norm(c)
        assert abs(abs(v @ cu) - 1.0) <= 1e-12

    a1, a2 = x1, -x2
    assert eigensystem(a1, P).case == 2
    assert eigensystem(a2, P).case == 4


def test_growth_factors() -> None:
    lam = np.array([2.0, -0.5, 0.0])
    np.testing.assert_allclose(growth_factors(lam, 0.1), [1.2, 0.95, 1.0])
    # one step of θ ← (I + ηA)θ multiplies the eigen-components by 1 + ηλ
    rng = np.random.default_rng(3)
    P = random_involution(8, rng, "householder")
    a = rng.standard_normal(8)
    A, es, eta = structured_matrix(a, P), eigensystem(a, P), 0.3
    theta = es.eigenvectors @ np.array([1.0, 2.0, -1.0, 0.5])
    step = (np.eye(10) + eta * A) @ theta
    expected = es.eigenvectors @ (growth_factors(es.eigenvalues, eta) * [1.0, 2.0, -1.0, 0.5])
    np.testing.assert_allclose(step, expected, atol=1e-12)
    with pytest.raises(GDPerceptronError):
        growth_factors([1.0, np.nan], 0.1)
    with pytest.raises(GDPerceptronError):
        growth_factors([1.0], np.inf)


def test_bad_input_raises() -> None:
    a = np.ones(3)
    bad_P = [
        np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),  # 3-cycle: not symmetric
        2 * np.eye(3),  # symmetric, not involutive
        np.eye(3) + 1e-6,  # not involutive within tolerance
        np.eye(4),  # size mismatch
        np.ones((3, 4)),  # not square
        np.ones(3),  # not a matrix
        np.full((3, 3), np.nan),
        "not a matrix",
    ]
    for P in bad_P:
        with pytest.raises(GDPerceptronError):
            structured_matrix(a, P)
        with pytest.raises(GDPerceptronError):
            eigensystem(a, P)
    P = swap_involution(3)
    for bad_a in (
        np.array([1.0, np.nan, 0.0]),
        np.array([np.inf, 0, 0]),
        np.ones((3, 1)),
        [],
        np.ones(2),
        "abc",
    ):
        with pytest.raises(GDPerceptronError):
            structured_matrix(bad_a, P)
        with pytest.raises(GDPerceptronError):
            eigensystem(bad_a, P)
    with pytest.raises(GDPerceptronError):
        eigensystem(a, P, rtol=-1.0)
    with pytest.raises(GDPerceptronError):
        eigensystem(a, P, rtol=float("nan"))
    with pytest.raises(GDPerceptronError):
        swap_involution(1)
    with pytest.raises(GDPerceptronError):
        swap_involution(3, 1, 1)
    with pytest.raises(GDPerceptronError):
        swap_involution(3, 0, 3)
    with pytest.raises(GDPerceptronError):
        householder_involution(np.zeros(3))
    with pytest.raises(GDPerceptronError):
        householder_involution([1.0, np.nan])
    with pytest.raises(GDPerceptronError):
        random_involution(3, np.random.default_rng(0), "rotation")
    with pytest.raises(GDPerceptronError):
        random_involution(3, 0, "pairs")  # type: ignore[arg-type]
    with pytest.raises(GDPerceptronError):
        random_involution(0, np.random.default_rng(0))
    for d, mu in ((1, 1.0), (3, 0.0), (3, -1.0), (3, float("nan"))):
        with pytest.raises(GDPerceptronError):
            minimal_example_spectrum(d, mu)
        with pytest.raises(GDPerceptronError):
            minimal_example_matrices(d, mu)
