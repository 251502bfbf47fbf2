"""Diagnostics of a trajectory, standard in the large-step literature
(docs/theory/diagnostics.md).

From a saved :class:`~gdperceptron.engines.trajectory.Trajectory` (recorded at every
iteration for the exact values; otherwise over the recorded iterations):

- ``tau``: the last iteration ``t`` with ``F(theta_t) > F(theta_{t-1})`` (end of the
  oscillating phase; 0 when there is none), and the number of such increases
  (:func:`loss_increases`);
- the first iteration after which the data stay separated for good
  (:func:`separated_for_good`);
- the normalized margin ``min_i m_i(theta_t) / ||theta_t||^k`` (:func:`normalized_margins`);
- the rate constant of the stable phase ``gamma t F(theta_t)`` (:func:`rate_constant`).

From parameters (:func:`params_along` recomputes them along a run, with the same step map
as the run loop): for the linear model the angle between ``v_t`` and the max-margin
direction ``argmax_{||v|| = 1} min_i <v, a_i>`` (:func:`max_margin_direction`,
:func:`angle_to`).

The scaled engine's log forms (``log_loss``, ``log_param_norm``, ``min_normalized_margin``)
are used when present, so every diagnostic is exact at any scale; the loss comparisons are
the same on ``log F`` as on ``F`` (``log`` is increasing).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gdperceptron._jax import float64, jax, jnp
from gdperceptron.data.synthetic import Dataset
from gdperceptron.engines.algorithms import perceptron_step
from gdperceptron.engines.trajectory import Trajectory, _check_int
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model, split_params

KKT_TOL = 1e-9


def _loss_curve(traj: Trajectory) -> np.ndarray:
    """``log F`` (scaled engine) or ``F`` along the recorded iterations."""
    return np.asarray(traj.metrics["log_loss" if "log_loss" in traj.metrics else "loss"])


def loss_increases(traj: Trajectory) -> tuple[int, int]:
    """``(tau, count)``: ``tau = max{t >= 1 : F(theta_t) > F(theta_{t-1})}`` over the
    recorded iterations, the last one whose loss exceeds the loss at the previous recorded
    iteration (``tau = 0`` when the loss never increases), and ``count`` the number of such
    iterations. A non-finite loss after a finite one counts as
    an increase (``inf > F``); NaN never does.

    Example:
        >>> import numpy as np
        >>> from gdperceptron import Trajectory
        >>> t = Trajectory(np.arange(4), {"loss": np.array([3.0, 4.0, 2.0, 2.5])}, None,
        ...                "max_iter", 3, np.zeros(1), np.zeros(1), 0.0)
        >>> loss_increases(t)
        (3, 2)
    """
    loss = _loss_curve(traj)
    with np.errstate(invalid="ignore"):
        up = np.flatnonzero(loss[1:] > loss[:-1]) + 1
    if up.size == 0:
        return 0, 0
    return int(traj.iterations[up[-1]]), int(up.size)


def separated_for_good(traj: Trajectory) -> int | None:
    """The first recorded iteration from which every later recorded iterate has no margin
    ``<= 0`` (``n_misclassified = 0``), or ``None`` when the last one is not separated."""
    bad = np.flatnonzero(np.asarray(traj.metrics["n_misclassified"]) != 0)
    if bad.size and bad[-1] == traj.iterations.size - 1:
        return None
    first = bad[-1] + 1 if bad.size else 0
    return int(traj.iterations[first])


def normalized_margins(traj: Trajectory, degree: int) -> np.ndarray:
    """``min_i m_i(theta_t) / ||theta_t||^k`` along the recorded iterations, shape ``(T,)``:
    the scaled engine's ``min_normalized_margin``, else ``min_margin / param_norm^k``
    (NaN at ``theta = 0``)."""
    if "min_normalized_margin" in traj.metrics:
        return np.asarray(traj.metrics["min_normalized_margin"])
    k = _check_int(degree, "degree", 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.asarray(traj.metrics["param_norm"])
        return np.where(norm > 0, traj.metrics["min_margin"] / norm**k, np.nan)


def rate_constant(traj: Trajectory) -> np.ndarray:
    """``gamma t F(theta_t)`` along the recorded iterations, shape ``(T,)``: bounded in the
    stable phase where ``F(theta_t) = O~(1 / (gamma t))`` (docs/theory/diagnostics.md).
    Computed as ``exp(log gamma + log t + log F)`` from the scaled engine's log-loss."""
    gamma = float(traj.config["step"])
    t = traj.iterations.astype(np.float64)
    if "log_loss" in traj.metrics:
        with np.errstate(divide="ignore", over="ignore"):
            return np.exp(np.log(gamma) + np.log(t) + traj.metrics["log_loss"])
    return gamma * t * np.asarray(traj.metrics["loss"])


class MaxMargin(NamedTuple):
    """The hard-margin SVM through the origin of the vectors ``a_i = y_i x_i``.

    Attributes:
        direction: ``v* = w / ||w||``, shape ``(d,)``.
        margin: ``min_i <v*, a_i> = 1 / ||w||``.
        w: the primal solution of ``min ||w||^2 / 2`` s.t. ``A w >= 1``, shape ``(d,)``.
        alpha: the dual solution, ``w = A^T alpha``, ``alpha >= 0``, shape ``(n,)``.
    """

    direction: np.ndarray
    margin: float
    w: np.ndarray
    alpha: np.ndarray


def kkt_residual(A: np.ndarray, w: np.ndarray, alpha: np.ndarray) -> float:
    """The largest violation of the KKT conditions of ``min ||w||^2/2`` s.t. ``A w >= 1``:
    stationarity ``w = A^T alpha``, primal ``A w >= 1``, dual ``alpha >= 0`` and
    complementary slackness ``alpha_i (a_i^T w - 1) = 0``, relative to ``||w||`` and 1."""
    slack = A @ w - 1.0
    return float(
        max(
            np.linalg.norm(w - A.T @ alpha) / max(np.linalg.norm(w), 1.0),
            max(0.0, -slack.min()),
            max(0.0, -alpha.min()),
            np.max(np.abs(alpha * slack)) / max(alpha.max(), 1.0),
        )
    )


def max_margin_direction(data: Dataset, *, tol: float = KKT_TOL) -> MaxMargin:
    """The max-margin direction ``argmax_{||v|| = 1} min_i <v, a_i>`` through the origin
    (docs/theory/diagnostics.md), from the hard-margin SVM QP ``min ||w||^2/2`` s.t.
    ``A w >= 1`` (``A`` of shape ``(n, d)``, rows ``a_i = y_i x_i``).

    Solved through its dual, ``max sum_i alpha_i - ||A^T alpha||^2 / 2`` over
    ``alpha >= 0``: without an intercept the dual has no equality constraint, so it is a
    bound-constrained QP that :func:`scipy.optimize.minimize` with L-BFGS-B solves with
    the exact gradient; the support set ``{alpha_i > 0}`` is then refined by solving the
    equality system ``A_S A_S^T alpha_S = 1`` exactly and dropping negative
    ``alpha`` (active-set steps), which gives the KKT conditions to rounding. (A
    soft-margin solver such as scikit-learn's ``LinearSVC`` with a huge ``C`` only
    approximates the hard margin, to its stopping tolerance.) Raises
    :class:`GDPerceptronError` when the data are not separable through the origin or the
    KKT residual exceeds ``tol``.
    """
    from scipy.optimize import minimize

    A = np.asarray(data.A, dtype=np.float64)
    n, _ = A.shape
    G = A @ A.T

    def neg_dual(alpha: np.ndarray) -> tuple[float, np.ndarray]:
        Ga = G @ alpha
        return 0.5 * alpha @ Ga - alpha.sum(), Ga - 1.0

    res = minimize(neg_dual, np.zeros(n), jac=True, method="L-BFGS-B",
                   bounds=[(0.0, None)] * n,
                   options={"maxiter": 100_000, "ftol": 1e-16, "gtol": 1e-13})  # fmt: skip
    alpha = np.maximum(res.x, 0.0)
    scale = max(alpha.max(), np.finfo(float).tiny)
    support = alpha > 1e-8 * scale
    for _ in range(n):  # active-set refinement on the support found
        a_s = np.zeros(n)
        if not support.any():
            break
        sol, *_ = np.linalg.lstsq(G[np.ix_(support, support)], np.ones(support.sum()), rcond=None)
        a_s[support] = sol
        if np.all(sol >= 0):
            w_s = A.T @ a_s
            if np.all(A @ w_s >= 1.0 - tol):
                alpha = a_s
                break
            support = support | (A @ w_s < 1.0 - tol)
        else:
            support[np.flatnonzero(support)[sol < 0]] = False
    w = A.T @ alpha
    if not np.all(np.isfinite(w)) or np.linalg.norm(w) == 0:
        raise GDPerceptronError("data: no max-margin direction (not separable through 0)")
    resid = kkt_residual(A, w, alpha)
    if resid > tol:
        raise GDPerceptronError(
            f"data: the hard-margin QP has no solution to tolerance {tol} (KKT residual "
            f"{resid:.2e}); the data may not be separable through the origin"
        )
    norm = float(np.linalg.norm(w))
    return MaxMargin(w / norm, 1.0 / norm, w, alpha)


def angle_to(params: Any, direction: Any) -> np.ndarray:
    """Angle in radians between each row of ``params`` (shape ``(T, d)`` or ``(d,)``) and
    ``direction`` (shape ``(d,)``): ``arccos(<v, v*> / (||v|| ||v*||))``, NaN for ``v = 0``."""
    V = np.atleast_2d(np.asarray(params, dtype=np.float64))
    u = np.asarray(direction, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (V @ u) / (np.linalg.norm(V, axis=1) * np.linalg.norm(u))
    return np.arccos(np.clip(c, -1.0, 1.0))


@float64
def params_along(
    model: Model,
    data: Dataset,
    algorithm: str,
    step: float,
    *,
    theta0: Any,
    max_iter: int,
    every: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """``(iterations, params)``: ``theta_t`` for ``t = 0, every, 2 every, ..., <= max_iter``,
    shapes ``(T,)`` and ``(T, p)``, by the step map of the run loop
    (:func:`gdperceptron.engines.algorithms.perceptron_step`) in one compiled scan of
    ``every`` steps (plain float64: use it where the run stays finite)."""
    max_iter = _check_int(max_iter, "max_iter", 0)
    every = _check_int(every, "every", 1)
    flat0, _ = split_params(model, theta0)
    X, y = jnp.asarray(data.X, dtype=jnp.float64), jnp.asarray(data.y, dtype=jnp.float64)
    step_map = perceptron_step(model, X, y, algorithm, step)

    @jax.jit
    def advance(theta):
        return jax.lax.fori_loop(0, every, lambda _, th: step_map(th), theta)

    theta = jnp.asarray(flat0)
    its, out = [0], [np.asarray(theta)]
    while its[-1] + every <= max_iter:
        theta = advance(theta)
        its.append(its[-1] + every)
        out.append(np.asarray(theta))
    return np.asarray(its, dtype=np.int64), np.stack(out)
