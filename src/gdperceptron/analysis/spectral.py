"""Closed-form spectra of the tied model's margin matrices (docs/theory/models.md,
docs/theory/spectra.md, docs/theory/minimal-example.md).

For the tied two-layer model ``f(x; θ) = u_1 <w, x> + u_2 <w, P x>`` with a symmetric
orthogonal involution P, the margin of a signed sample ``a = y x`` is the quadratic form
``½ θᵀ A(a) θ`` with ``A(a) = [[0, 0, aᵀ], [0, 0, (Pa)ᵀ], [a, Pa, 0]]``. This module builds
``A(a)`` and its nonzero eigenpairs in closed form (docs/theory/spectra.md, the
Proposition) and the spectra of the minimal example (docs/theory/minimal-example.md, the
Corollary). NumPy float64 only.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from gdperceptron.errors import GDPerceptronError


def _as_vector(a: Any, name: str) -> np.ndarray:
    """``a`` as a finite, non-empty 1-D float64 array (copy), else GDPerceptronError."""
    try:
        arr = np.array(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GDPerceptronError(f"{name} must be a numeric vector: {exc}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise GDPerceptronError(f"{name} must be a non-empty 1-D vector, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise GDPerceptronError(f"{name} contains non-finite values (NaN or inf)")
    return arr


def _positive_int(d: Any, name: str = "d", minimum: int = 1) -> int:
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or int(d) < minimum:
        raise GDPerceptronError(f"{name} must be an integer >= {minimum}, got {d!r}")
    return int(d)


def _finite_float(x: Any, name: str) -> float:
    try:
        val = float(x)
    except (TypeError, ValueError) as exc:
        raise GDPerceptronError(f"{name} must be a real number, got {x!r}") from exc
    if not np.isfinite(val):
        raise GDPerceptronError(f"{name} must be finite, got {val}")
    return val


def swap_involution(d: int, i: int = 0, j: int = 1) -> np.ndarray:
    """The d×d permutation matrix swapping coordinates ``i != j`` (0-based), shape (d, d).

    ``P e_i = e_j``, ``P e_j = e_i``, ``P e_k = e_k`` otherwise; the default P of
    docs/theory/models.md (coordinates 1 and 2 in the 1-based numbering of the theory pages).
    """
    d = _positive_int(d, minimum=2)
    for name, k in (("i", i), ("j", j)):
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k < d:
            raise GDPerceptronError(f"{name} must be an integer in [0, {d}), got {k!r}")
    if i == j:
        raise GDPerceptronError(f"i and j must differ, got i = j = {i}")
    P = np.eye(d)
    P[[i, j]] = P[[j, i]]
    return P


def householder_involution(v: Any) -> np.ndarray:
    """Householder reflection ``H = I - 2 v vᵀ / ‖v‖²``, shape (d, d) for v of shape (d,).

    A symmetric orthogonal involution (docs/theory/models.md allows any such P); v must be nonzero.
    """
    v = _as_vector(v, "v")
    nv2 = float(v @ v)
    if nv2 == 0.0:
        raise GDPerceptronError("householder vector v must be nonzero")
    return np.eye(v.size) - (2.0 / nv2) * np.outer(v, v)


def random_involution(d: int, rng: np.random.Generator, kind: str = "pairs") -> np.ndarray:
    """Random symmetric orthogonal involution, shape (d, d) (for tests; docs/theory/models.md).

    ``kind="pairs"``: a permutation made of k disjoint transpositions of random coordinates,
    k uniform in [1, d // 2] (d - 2k fixed points; P = I when d = 1).
    ``kind="signed_pairs"``: the same with a random sign s = ±1 on each pair
    (``P e_i = s e_j``, ``P e_j = s e_i``) and on each fixed point.
    ``kind="householder"``: ``I - 2 v vᵀ/‖v‖²`` with v standard normal.
    """
    d = _positive_int(d)
    if not isinstance(rng, np.random.Generator):
        raise GDPerceptronError(f"rng must be a numpy.random.Generator, got {type(rng)!r}")
    if kind == "householder":
        v = rng.standard_normal(d)
        while not np.any(v):  # pragma: no cover - probability zero
            v = rng.standard_normal(d)
        return householder_involution(v)
    if kind not in ("pairs", "signed_pairs"):
        raise GDPerceptronError(
            f"unknown involution kind {kind!r}; use 'pairs', 'signed_pairs' or 'householder'"
        )
    signed = kind == "signed_pairs"
    perm = rng.permutation(d)
    k = int(rng.integers(1, d // 2 + 1)) if d >= 2 else 0
    P = np.zeros((d, d))
    for t in range(k):
        i, j = perm[2 * t], perm[2 * t + 1]
        s = float(rng.choice([-1.0, 1.0])) if signed else 1.0
        P[i, j] = P[j, i] = s
    for i in perm[2 * k :]:
        P[i, i] = float(rng.choice([-1.0, 1.0])) if signed else 1.0
    return P


def is_involution(P: Any, atol: float | None = None) -> bool:
    """True iff P is a finite square matrix with ``P = Pᵀ`` and ``P @ P = I``
    (docs/theory/models.md).

    Both checks are entrywise: ``max|P - Pᵀ| <= atol`` and ``max|P P - I| <= atol``, with
    ``atol = 1e-10 · d`` by default. Symmetric + involutive implies orthogonal.
    """
    try:
        M = np.asarray(P, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        return False
    if not np.all(np.isfinite(M)):
        return False
    d = M.shape[0]
    tol = 1e-10 * d if atol is None else float(atol)
    if np.max(np.abs(M - M.T)) > tol:
        return False
    return bool(np.max(np.abs(M @ M - np.eye(d))) <= tol)


def _check_involution(P: Any, d: int | None = None) -> np.ndarray:
    """P as a validated float64 involution, optionally of size d, else GDPerceptronError."""
    try:
        M = np.array(P, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GDPerceptronError(f"P must be a numeric matrix: {exc}") from exc
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise GDPerceptronError(f"P must be a square matrix, got shape {M.shape}")
    if d is not None and M.shape[0] != d:
        raise GDPerceptronError(f"P has shape {M.shape} but a has length {d}")
    if not np.all(np.isfinite(M)):
        raise GDPerceptronError("P contains non-finite values (NaN or inf)")
    if not is_involution(M):
        raise GDPerceptronError(
            "P must be a symmetric orthogonal involution (P = Pᵀ and P @ P = I "
            f"within 1e-10·d = {1e-10 * M.shape[0]:.1e})"
        )
    return M


def structured_matrix(a: Any, P: Any) -> np.ndarray:
    """The margin matrix ``A(a) = [[0, 0, aᵀ], [0, 0, (Pa)ᵀ], [a, Pa, 0_{d×d}]]``
    (docs/theory/models.md).

    a: shape (d,); P: shape (d, d) involution. Returns shape (d+2, d+2), symmetric, with
    ``½ θᵀ A(a) θ = u_1 <w, a> + u_2 <w, P a>`` for ``θ = (u_1, u_2, w)``.
    """
    a = _as_vector(a, "a")
    P = _check_involution(P, a.size)
    d = a.size
    Pa = P @ a
    A = np.zeros((d + 2, d + 2))
    A[0, 2:] = A[2:, 0] = a
    A[1, 2:] = A[2:, 1] = Pa
    return A


class Eigensystem(NamedTuple):
    """Nonzero eigen-structure of A(a) (docs/theory/spectra.md, the Proposition).

    case: 1 (a = 0), 2 (a = Pa), 3 (a = -Pa) or 4 (otherwise).
    eigenvalues: shape (r,), r ∈ {0, 2, 4}, in the order of the Proposition.
    eigenvectors: shape (d+2, r), unit-norm columns matching ``eigenvalues``.
    norm_lower, norm_upper: ``‖a‖`` and ``√2‖a‖`` (bounds on the spectral norm, item 5).
    spectral_norm: ``max |eigenvalue|`` (0 for case 1).
    """

    case: int
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    norm_lower: float
    norm_upper: float
    spectral_norm: float


def eigensystem(a: Any, P: Any, *, rtol: float = 1e-12) -> Eigensystem:
    """Closed-form nonzero eigenpairs of ``A(a)`` (docs/theory/spectra.md, the Proposition).

    Shapes: a: (d,), P: (d, d).

    1. a = 0: r = 0.
    2. a = Pa (``‖a - Pa‖ <= rtol‖a‖``): ``±√2‖a‖`` with ``[‖a‖, ‖a‖, √2 a]``,
       ``[-‖a‖, -‖a‖, √2 a]``.
    3. a = -Pa (``‖a + Pa‖ <= rtol‖a‖``): ``±√2‖a‖`` with ``[‖a‖, -‖a‖, √2 a]``,
       ``[-‖a‖, ‖a‖, √2 a]``.
    4. otherwise ``+ā₊, -ā₊, +ā₋, -ā₋`` with ``ā± = sqrt(‖a‖² ± aᵀPa)``, computed as
       ``‖a ± Pa‖/√2`` (the same number, without cancellation), and vectors
       ``[ā₊, ā₊, a+Pa]``, ``[-ā₊, -ā₊, a+Pa]``, ``[ā₋, -ā₋, a-Pa]``, ``[-ā₋, ā₋, a-Pa]``.
    Vectors are normalised to unit length; all other eigenvalues are 0.
    """
    a = _as_vector(a, "a")
    P = _check_involution(P, a.size)
    rtol = _finite_float(rtol, "rtol")
    if rtol < 0:
        raise GDPerceptronError(f"rtol must be >= 0, got {rtol}")
    d = a.size
    na = float(np.linalg.norm(a))
    if na == 0.0:
        return Eigensystem(1, np.zeros(0), np.zeros((d + 2, 0)), 0.0, 0.0, 0.0)
    Pa = P @ a
    s, t = a + Pa, a - Pa
    ns, nt = float(np.linalg.norm(s)), float(np.linalg.norm(t))
    r2 = np.sqrt(2.0)
    if nt <= rtol * na or ns <= rtol * na:
        case = 2 if nt <= rtol * na else 3
        sg = 1.0 if case == 2 else -1.0
        vals = np.array([r2 * na, -r2 * na])
        tops, zs = [(na, sg * na), (-na, -sg * na)], [r2 * a, r2 * a]
    else:
        case = 4
        ap, am = ns / r2, nt / r2
        vals = np.array([ap, -ap, am, -am])
        tops, zs = [(ap, ap), (-ap, -ap), (am, -am), (-am, am)], [s, s, t, t]
    vecs = np.stack([np.concatenate((top, z)) for top, z in zip(tops, zs, strict=True)], axis=1)
    vecs = vecs / np.linalg.norm(vecs, axis=0)
    return Eigensystem(case, vals, vecs, na, r2 * na, float(np.max(np.abs(vals))))


class MinimalSpectrum(NamedTuple):
    """Spectra of the minimal example's ``A_1 = A(a_1)``, ``A_2 = A(a_2)``
    (docs/theory/minimal-example.md).

    lambda1 = √(2d) (±, of A_1); lambda2 = sqrt((2+μ)² + 2(d-2)) (±, of A_2); mu (±, of
    A_2). Unit eigenvectors of shape (d+2,): v1_plus/v1_minus for ±lambda1, v2_plus/v2_minus
    for ±lambda2, vmu_plus/vmu_minus for ±mu (the latter lie in the kernel of A_1).
    """

    lambda1: float
    lambda2: float
    mu: float
    v1_plus: np.ndarray
    v1_minus: np.ndarray
    v2_plus: np.ndarray
    v2_minus: np.ndarray
    vmu_plus: np.ndarray
    vmu_minus: np.ndarray


def lambda2(d: int, mu: float = 1.0) -> float:
    """``lambda_2 = sqrt((2 + mu)^2 + 2 (d - 2))``: the top eigenvalue of ``A(a_2)`` of the
    minimal example (docs/theory/minimal-example.md, the Corollary), in O(1) at any ``d``."""
    return math.sqrt((2.0 + mu) ** 2 + 2.0 * (d - 2.0))


def _minimal_example_data(d: int, mu: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(a_1, a_2, P)``: a_1 = 1_d, a_2 = -(1_d + μ e_1), P = swap of coords 1, 2
    (docs/theory/minimal-example.md)."""
    d = _positive_int(d, minimum=2)
    mu = _finite_float(mu, "mu")
    if mu <= 0:
        raise GDPerceptronError(f"mu must be > 0, got {mu}")
    a1 = np.ones(d)
    a2 = -np.ones(d)
    a2[0] -= mu
    return a1, a2, swap_involution(d)


def minimal_example_matrices(d: int, mu: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(A_1, A_2)``, each (d+2, d+2), for the minimal example of docs/theory/minimal-example.md.

    ``x_1 = 1_d, y_1 = +1``; ``x_2 = 1_d + μ e_1, y_2 = -1``; ``A_i = A(y_i x_i)`` with P the
    swap of coordinates 1 and 2. Requires d >= 2 and μ > 0.
    """
    a1, a2, P = _minimal_example_data(d, mu)
    return structured_matrix(a1, P), structured_matrix(a2, P)


def minimal_example_spectrum(d: int, mu: float = 1.0) -> MinimalSpectrum:
    """The Corollary of docs/theory/minimal-example.md: ``λ₁ = √(2d)``,
    ``λ₂ = sqrt((2+μ)² + 2(d-2))`` and μ.

    A_1 is case 2 (a_1 = P a_1); A_2 is case 4 with ``ā₊ = λ₂`` and ``ā₋ = μ``. The
    eigenvectors come from :func:`eigensystem`; the ±μ ones are proportional to
    ``[-μ, μ, μ, -μ, 0, …]`` (+μ) and ``[μ, -μ, μ, -μ, 0, …]`` (-μ). Requires d >= 2, μ > 0.
    """
    a1, a2, P = _minimal_example_data(d, mu)
    mu = float(mu)
    e1, e2 = eigensystem(a1, P), eigensystem(a2, P)
    if e1.case != 2 or e2.case != 4:  # pragma: no cover - guaranteed by the algebra
        raise GDPerceptronError(f"unexpected cases {e1.case}, {e2.case} in minimal example")
    lambda1 = float(np.sqrt(2.0 * d))
    V1, V2 = e1.eigenvectors, e2.eigenvectors
    return MinimalSpectrum(
        lambda1, lambda2(d, mu), mu, V1[:, 0], V1[:, 1], V2[:, 0], V2[:, 1], V2[:, 2], V2[:, 3]
    )


def growth_factors(eigenvalues: Any, eta: float) -> np.ndarray:
    """Per-step factors ``1 + η λ`` of eigen-components (docs/theory/reduction.md, quadratic
    models), same shape as ``eigenvalues``.

    For ``θ_{t+1} = (I + η A) θ_t`` the component of θ along an eigenvector of A with
    eigenvalue λ is multiplied by ``1 + ηλ`` each step. eigenvalues: any shape; same shape out.
    """
    eta = _finite_float(eta, "eta")
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if not np.all(np.isfinite(lam)):
        raise GDPerceptronError("eigenvalues contain non-finite values (NaN or inf)")
    return 1.0 + eta * lam
