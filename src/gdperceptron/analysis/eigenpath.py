"""Trajectories of the tied model read in the eigenbasis of their driving matrices
(docs/theory/reduction.md, docs/theory/spectra.md).

The tied model's margins are quadratic, ``m_i(theta) = 1/2 theta^T A_i theta`` with
``A_i = A(a_i)`` (docs/theory/models.md), so one generalized perceptron step is

    theta_{t+1} = theta_t + eta_t sum_i w_i(theta_t) A_i theta_t .

Take as the *driving matrix* the hard perceptron's one,
``M_t = eta_t sum_i h(m_i(theta_t)) A_i = eta_t A(sum_i h_i a_i)`` (``A`` is linear in
``a``; ``eta_t`` is the algorithm's step, ``gamma/n`` for ``gd`` and ``perceptron``). Then

    theta_{t+1} = (I + M_t) theta_t + xi_t,    xi_t = eta_t sum_i (w_i - h_i) A_i theta_t,

with ``xi_t = 0`` for the hard perceptron (whose ``M_t`` only changes when the set of
misclassified samples does) and, for ``gd``, ``xi_t`` the reduction's error term of
docs/theory/reduction.md. Along a unit eigenvector ``v`` of ``M_t`` with eigenvalue
``lambda``,

    <theta_{t+1}, v> = (1 + lambda) <theta_t, v> + <xi_t, v>,

so the observed per-step ratio ``<theta_{t+1}, v> / <theta_t, v>`` equals the predicted
factor ``1 + lambda`` exactly for the hard perceptron, and for ``gd`` the defect
``|<theta_{t+1}, v> - (1 + lambda) <theta_t, v>|`` is at most ``||xi_t||``.

Dense ``(p, p)`` eigendecompositions: meant for small ``d`` or for the reduced problem of
:mod:`gdperceptron.engines.reduced` (``p = k + 2``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gdperceptron._jax import jax, jnp, x64
from gdperceptron.analysis.spectral import eigensystem, minimal_example_spectrum
from gdperceptron.data.synthetic import Dataset
from gdperceptron.engines.algorithms import Algorithm, check_step, get_algorithm, perceptron_step
from gdperceptron.engines.losses import hard_weights
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.builtin import swap
from gdperceptron.models.protocol import Model

COROLLARY_NAMES = ("v1+", "v1-", "v2+", "v2-", "vmu+", "vmu-")
EIGEN_TOL = (
    1e-10  # relative residual ||M v - rho v|| / ||M|| below which v counts as an eigenvector
)


class GrowthReport(NamedTuple):
    """Per-step eigen-analysis of a tied-model trajectory (docs/theory/reduction.md,
    docs/theory/spectra.md): ``T`` steps, ``p`` parameters, ``n`` samples.

    Attributes:
        thetas: iterates ``theta_0..theta_T``, shape ``(T+1, p)``.
        margins: their margins, ``(T+1, n)``.
        misclassified: ``m_i(theta_t) <= 0``, bool ``(T, n)``.
        etas: the algorithm's step ``eta_t``, ``(T,)``.
        eigenvalues: eigenvalues of ``M_t`` ascending (``numpy.linalg.eigh``), ``(T, p)``.
        projections: ``<theta_t, v_j(M_t)>``, ``(T, p)``.
        next_projections: ``<theta_{t+1}, v_j(M_t)>``, ``(T, p)``.
        observed: ``next_projections / projections`` (NaN where a projection is 0), ``(T, p)``.
        predicted: ``1 + eigenvalues``, ``(T, p)``.
        xi_norms: ``||theta_{t+1} - (I + M_t) theta_t||``, ``(T,)``.
        named: name -> ``<theta_t, v>`` for each named vector, ``(T+1,)``.
        named_factors: name -> ``1 + v^T M_t v`` at the steps where ``v`` is an eigenvector
            of ``M_t`` (relative residual ``<= EIGEN_TOL``), NaN elsewhere, ``(T,)``.
        eigenvectors: ``(T, p, p)`` (columns) when asked for, else ``None``.
    """

    thetas: np.ndarray
    margins: np.ndarray
    misclassified: np.ndarray
    etas: np.ndarray
    eigenvalues: np.ndarray
    projections: np.ndarray
    next_projections: np.ndarray
    observed: np.ndarray
    predicted: np.ndarray
    xi_norms: np.ndarray
    named: dict[str, np.ndarray]
    named_factors: dict[str, np.ndarray]
    eigenvectors: np.ndarray | None


def eigen_components(thetas: Any, vectors: Any) -> np.ndarray:
    """Components ``<theta_t, v_j>``: thetas ``(T, p)``, vectors ``(p, r)`` (columns) ->
    ``(T, r)``. A single vector ``(p,)`` gives ``(T,)``."""
    th = np.asarray(thetas, dtype=np.float64)
    V = np.asarray(vectors, dtype=np.float64)
    if th.ndim != 2 or V.ndim not in (1, 2) or V.shape[0] != th.shape[1]:
        raise GDPerceptronError(
            f"thetas must be (T, p) and vectors (p,) or (p, r); got {th.shape} and {V.shape}"
        )
    return th @ V


def _check_tied(model: Model, data: Dataset) -> None:
    if model.margin_matrix is None:
        raise GDPerceptronError(
            "eigenpaths need a model with quadratic margins (Model.margin_matrix, as the "
            f"tied model has), got {model.name!r}"
        )
    if model.d != data.d:
        raise GDPerceptronError(f"model expects d = {model.d} features, data have {data.d}")


def margin_matrix(model: Model, a: Any) -> np.ndarray:
    """The model's margin matrix ``A(a)``, ``m = 1/2 theta^T A(y x) theta``: for the tied
    model ``A(a) = [[0, 0, a^T], [0, 0, (P a)^T], [a, P a, 0]]`` (docs/theory/models.md);
    ``a`` of shape ``(d,)`` -> ``(p, p)``."""
    if model.margin_matrix is None:
        raise GDPerceptronError(
            f"margin matrices exist for models with quadratic margins, got {model.name!r}"
        )
    a = np.asarray(a, dtype=np.float64)
    if a.shape != (model.d,):
        raise GDPerceptronError(f"a must have shape ({model.d},), got {a.shape}")
    return model.margin_matrix(a)


def _tied_margins(model: Model, data: Dataset, thetas: np.ndarray) -> np.ndarray:
    """``m_i = y_i f(x_i; theta)`` for thetas ``(..., p)`` -> ``(..., n)``, NumPy float64,
    through the model's own ``apply``."""
    th = np.asarray(thetas, dtype=np.float64)
    with x64():
        X, y = jnp.asarray(data.X), jnp.asarray(data.y)
        flat = jnp.asarray(th.reshape(-1, th.shape[-1]))
        m = jax.vmap(lambda t: y * model.apply(t, X))(flat)
    return np.asarray(m, dtype=np.float64).reshape(th.shape[:-1] + (data.n,))


def driving_matrix(
    model: Model, data: Dataset, algorithm: Algorithm | str, step: float, theta: Any
) -> tuple[np.ndarray, float]:
    """``(M, eta)``: ``M = eta sum_i h(m_i(theta)) A(a_i) = eta A(sum_i h_i a_i)``, shape
    ``(p, p)``, with ``eta`` the algorithm's step size at ``theta`` (docs/theory/reduction.md,
    docs/theory/spectra.md)."""
    _check_tied(model, data)
    alg = get_algorithm(algorithm) if isinstance(algorithm, str) else algorithm
    gamma = check_step(step)
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (model.n_params,):
        raise GDPerceptronError(f"theta must have shape ({model.n_params},), got {theta.shape}")
    m = jnp.asarray(_tied_margins(model, data, theta))
    eta = float(alg.step_size(m, alg.weights(m), gamma))
    h = np.asarray(hard_weights(m))
    return eta * margin_matrix(model, h @ data.A), eta


def corollary_vectors(d: int, mu: float = 1.0, basis: Any = None) -> dict[str, np.ndarray]:
    """Unit eigenvectors of the minimal example's ``A_1, A_2`` (docs/theory/minimal-example.md,
    the Corollary), named ``v1±`` (``±lambda_1`` of ``A_1``), ``v2±`` (``±lambda_2`` of
    ``A_2``), ``vmu±`` (``±mu`` of ``A_2``; in the kernel of ``A_1``), each of shape
    ``(d+2,)`` from :func:`gdperceptron.minimal_example_spectrum` (dense ``d x d``: small
    ``d``).

    With ``basis`` ``Q`` (``(d, k)``, orthonormal, containing ``1_d`` and ``e_1, e_2``, e.g.
    :func:`gdperceptron.data.synthetic.minimal_example_basis`) they are given in reduced coordinates
    ``(v_u, Q^T v_w)``, shape ``(k+2,)``, computed at any ``d`` as the same Proposition
    eigenvectors of the reduced matrices ``A(Q^T a_i)`` with ``P~ = Q^T P Q``; the
    ``w``-parts lie in ``span{a_i, P a_i}``, so nothing is lost.
    """
    if basis is None:
        s = minimal_example_spectrum(d, mu)
        vecs = (s.v1_plus, s.v1_minus, s.v2_plus, s.v2_minus, s.vmu_plus, s.vmu_minus)
        return dict(zip(COROLLARY_NAMES, vecs, strict=True))
    Q = np.asarray(basis, dtype=np.float64)
    minimal_example_spectrum(2, mu)  # validates mu with the Corollary's own checks
    if Q.ndim != 2 or Q.shape[0] != d or np.max(np.abs(Q.T @ Q - np.eye(Q.shape[1]))) > 1e-10:
        raise GDPerceptronError(f"basis must be ({d}, k) with orthonormal columns")
    P = swap(d)
    Pt = P.apply_rows(Q.T) @ Q
    a1 = np.ones(d)
    a2 = -np.ones(d)
    a2[0] -= mu
    out: dict[str, np.ndarray] = {}
    for a, names in ((a1, COROLLARY_NAMES[:2]), (a2, COROLLARY_NAMES[2:])):
        at = Q.T @ a
        if np.linalg.norm(a - Q @ at) > 1e-10 * np.linalg.norm(a):
            raise GDPerceptronError("basis does not contain the minimal example's samples")
        es = eigensystem(at, 0.5 * (Pt + Pt.T))
        out.update({nm: es.eigenvectors[:, j] for j, nm in enumerate(names)})
    return out


def _minimal_vectors(model: Model, data: Dataset) -> dict[str, np.ndarray]:
    """The Corollary's vectors when ``data`` is the minimal example with the default ``P``."""
    if data.name != "minimal" or "mu" not in data.info or model.d != data.d:
        return {}
    d, mu = data.d, float(data.info["mu"])
    P = model.info["P"]
    if P.perm is None or not np.array_equal(P.perm, swap(d).perm):
        return {}
    X = np.ones((2, d))
    X[1, 0] += mu
    if not (np.array_equal(data.X, X) and np.array_equal(data.y, [1.0, -1.0])):
        return {}
    return corollary_vectors(d, mu)


def growth_report(
    model: Model,
    data: Dataset,
    algorithm: Algorithm | str,
    step: float,
    theta0: Any,
    T: int,
    *,
    vectors: dict[str, Any] | None = None,
    keep_vectors: bool = False,
    stop_when_solved: bool = False,
) -> GrowthReport:
    """Run ``T`` steps of ``algorithm`` (via :func:`gdperceptron.perceptron_step`)
    on the tied model and read each step in the eigenbasis of its driving matrix ``M_t``
    (module docstring; docs/theory/reduction.md, docs/theory/spectra.md).

    Args:
        model: the tied model (``p = d + 2``).
        data: its data.
        algorithm: as for :func:`gdperceptron.run`.
        step: as for :func:`gdperceptron.run`.
        theta0: ``(p,)``.
        T: number of steps (>= 0).
        vectors: name -> ``(p,)`` vectors to follow; default: the Corollary's
            :func:`corollary_vectors` when ``data`` is the minimal example with ``P`` the
            swap of coordinates 1, 2 (none otherwise).
        keep_vectors: also return the ``(T, p, p)`` eigenvectors.
        stop_when_solved: stop at the first ``theta_t`` with every margin ``> 0`` (then the
            report has ``t`` steps instead of ``T``). A run also stops before the first
            iterate with a non-finite parameter or margin.
    """
    _check_tied(model, data)
    alg = get_algorithm(algorithm) if isinstance(algorithm, str) else algorithm
    gamma = check_step(step)
    if int(T) != T or T < 0:
        raise GDPerceptronError(f"T must be an integer >= 0, got {T}")
    p = model.n_params
    theta = np.asarray(theta0, dtype=np.float64)
    if theta.shape != (p,):
        raise GDPerceptronError(f"theta0 must have shape ({p},), got {theta.shape}")
    named_vecs = _minimal_vectors(model, data) if vectors is None else dict(vectors)
    for name, v in named_vecs.items():
        if np.shape(v) != (p,):
            raise GDPerceptronError(f"vector {name!r} must have shape ({p},), got {np.shape(v)}")
    step_fn = jax.jit(perceptron_step(model, data.X, data.y, alg, gamma))
    thetas = [theta]
    for _ in range(int(T)):
        if stop_when_solved and np.all(_tied_margins(model, data, thetas[-1]) > 0):
            break
        nxt = np.asarray(step_fn(jnp.asarray(thetas[-1])))
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.all(np.isfinite(_tied_margins(model, data, nxt)))
        if not (finite and np.all(np.isfinite(nxt))):
            break  # diverged: the report ends at the last iterate with finite margins
        thetas.append(nxt)
    thetas_arr = np.stack(thetas)
    T = thetas_arr.shape[0] - 1
    margins = _tied_margins(model, data, thetas_arr)
    lams, projs, nexts, xis, etas, vecs_all = [], [], [], [], [], []
    factors: dict[str, list[float]] = {name: [] for name in named_vecs}
    for t in range(int(T)):
        M, eta = driving_matrix(model, data, alg, gamma, thetas_arr[t])
        lam, V = np.linalg.eigh(M)
        lams.append(lam)
        projs.append(thetas_arr[t] @ V)
        nexts.append(thetas_arr[t + 1] @ V)
        xis.append(np.linalg.norm(thetas_arr[t + 1] - thetas_arr[t] - M @ thetas_arr[t]))
        etas.append(eta)
        if keep_vectors:
            vecs_all.append(V)
        scale = max(np.max(np.abs(lam)), 1e-300)
        for name, v in named_vecs.items():
            v = np.asarray(v, dtype=np.float64)
            Mv = M @ v
            rho = float(v @ Mv) / float(v @ v)
            is_eig = np.linalg.norm(Mv - rho * v) <= EIGEN_TOL * scale * np.linalg.norm(v)
            factors[name].append(1.0 + rho if is_eig else np.nan)
    shape = (int(T), p)
    lams_a = np.reshape(np.array(lams), shape)
    projs_a = np.reshape(np.array(projs), shape)
    nexts_a = np.reshape(np.array(nexts), shape)
    observed = np.full(shape, np.nan)
    np.divide(nexts_a, projs_a, out=observed, where=projs_a != 0)
    return GrowthReport(
        thetas=thetas_arr,
        margins=margins,
        misclassified=margins[:-1] <= 0,
        etas=np.array(etas, dtype=np.float64),
        eigenvalues=lams_a,
        projections=projs_a,
        next_projections=nexts_a,
        observed=observed,
        predicted=1.0 + lams_a,
        xi_norms=np.array(xis, dtype=np.float64),
        named={nm: eigen_components(thetas_arr, np.asarray(v)) for nm, v in named_vecs.items()},
        named_factors={nm: np.array(f, dtype=np.float64) for nm, f in factors.items()},
        eigenvectors=np.array(vecs_all).reshape(int(T), p, p) if keep_vectors else None,
    )
