"""Outcome classes of a run: why it ended, by exact criteria (docs/theory/diagnostics.md).

Every run ends in exactly one class, tested in this order:

1. ``non_finite``: the final state has no finite representation (a NaN or infinity in
   ``theta``, its margins or its loss in the plain engine; a NaN in ``(s, phi)`` or
   ``s = +inf`` in the scaled engine, where every finite float64 run stays representable).
   Never ``solved``.
2. ``solved``: the run stopped at its first finite iterate with every margin strictly
   positive (``stop_when_solved``; a run asked to go on keeps the budget's class, and its
   ``solved_iteration`` says when it separated).
3. ``stalled``: the set ``S = {i : m_i(theta) <= 0}`` of the final iterate is non-empty and
   ``grad m_i(theta) = 0`` exactly for every ``i`` in ``S``: no misclassified sample exerts
   any force. For the hard rules (weights vanish outside ``S``) the step is exactly zero, a
   fixed point forever; for the logistic rules only correctly classified samples move
   ``theta``. Typical cause: dead ReLU units (a unit negative on a sample has zero gradient
   there; on non-negative inputs a unit negative on every input never recovers).
4. ``diverged``: over the last ``window`` steps (recorded at every iteration) the most
   negative margin ``mu_t = min_i m_i(theta_t)`` is negative at every iterate, strictly
   grows in magnitude at every step, and at least doubles in magnitude over the window,
   and the loss ends the window higher than it started. In the scaled representation
   ``log|mu_t| = k s_t + log|min_i m_i(phi_t)|``, so the test is exact at any scale. Since
   ``F >= |mu_t| / n`` (one sample's ``log(1 + e^|mu|) > |mu|``), a margin that keeps
   growing like this drives the loss without bound; it is a finite-window test, not a
   proof (default window: :data:`DIVERGENCE_WINDOW` steps). The misclassified set may
   change inside the window (it does for ReLU networks at large steps).
5. ``max_iter``: the step budget ran out and none of the above holds.

The stuck samples and dead parameters are found from per-sample gradients
``grad m_i(theta)`` (a ``vmap`` of ``grad``, in batches), never from the model's structure:
a *stuck* sample has ``m_i <= 0`` and a zero gradient, a *dead* parameter ``theta_j`` has
``d m_i / d theta_j = 0`` for every sample (it never moves under any rule). In a
two-layer network a unit dead on every sample makes its ``d + 1`` parameters dead; pass
``groups`` (index arrays, e.g. one per unit) to count dead groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from gdperceptron._jax import float64, jax, jnp
from gdperceptron.data.synthetic import Dataset
from gdperceptron.engines.trajectory import Trajectory, _compiled_chunk
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model

OUTCOMES = ("solved", "diverged", "stalled", "max_iter", "non_finite")
DIVERGENCE_WINDOW = 20
BATCH = 256


class Outcome(NamedTuple):
    """The class of a run and the counts behind it.

    Attributes:
        name: one of :data:`OUTCOMES`.
        n_nonpositive: ``|S|``, samples with margin ``<= 0`` at the final iterate.
        n_stuck: samples in ``S`` whose margin gradient is exactly zero.
        n_dead_params: parameters with zero partial derivative on every sample.
        n_dead_groups: groups (of ``groups``) all of whose parameters are dead, or None.
    """

    name: str
    n_nonpositive: int
    n_stuck: int
    n_dead_params: int
    n_dead_groups: int | None


def _grads_builder(apply_ref: Any) -> Any:
    """``(theta, X, y) -> (m, G)`` with ``G[i] = grad m_i(theta)`` (a ``vmap`` of
    ``grad``), the model function reached through a weak reference while traced."""

    def grads(theta, X, y):
        apply = apply_ref()

        def margin(th, x, yi):
            return yi * apply(th, x[None, :])[0]

        return jax.vmap(jax.value_and_grad(margin), in_axes=(None, 0, 0))(theta, X, y)

    return grads


@float64
def margin_gradient_stats(
    model: Model, data: Dataset, theta: Any, *, rows: Any = None, batch: int = BATCH
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the samples ``rows`` (default all; ``r`` of them): margins ``m_i`` (shape
    ``(r,)``), per-sample gradient norms ``||grad m_i(theta)||`` (shape ``(r,)``) and
    ``sum_i |d m_i / d theta_j|`` over them (shape ``(p,)``), from per-sample gradients
    computed ``min(batch, n)`` samples at a time (memory ``O(batch p)``; every batch has
    that shape, the last one padded, so one compilation serves any ``rows``)."""
    theta = jnp.asarray(np.asarray(theta, dtype=np.float64))
    idx = np.arange(data.n) if rows is None else np.asarray(rows, dtype=np.int64).ravel()
    ms, norms, col = [], [], np.zeros(model.n_params)
    if idx.size == 0:
        return np.zeros(0), np.zeros(0), col
    size = min(int(batch), data.n)  # depends on n only: one compilation for any rows
    for lo in range(0, idx.size, size):
        part = idx[lo : lo + size]
        take = np.concatenate([part, np.full(size - part.size, part[0])])
        X = jnp.asarray(data.X[take], dtype=jnp.float64)
        y = jnp.asarray(data.y[take], dtype=jnp.float64)
        args = (theta, X, y)
        key = ("margin-gradients", tuple((a.shape, str(a.dtype)) for a in args))
        m, G = _compiled_chunk(model, key, args, _grads_builder)(*args)
        G = np.asarray(G)[: part.size]
        ms.append(np.asarray(m)[: part.size])
        # finite gradients past 1e154 square to inf: the norm is then inf (it exceeds the
        # float64 range), which is what the zero / non-zero tests downstream need
        with np.errstate(over="ignore"):
            norms.append(np.linalg.norm(G, axis=1))
            col += np.abs(G).sum(axis=0)
    return np.concatenate(ms), np.concatenate(norms), col


def _final_point(traj: Trajectory, params: Any = None) -> tuple[np.ndarray, bool]:
    """The final iterate up to a positive scale (``phi`` for the scaled engine: margins'
    signs and zero gradients are scale-invariant for homogeneous models) and whether the
    final state is finite."""
    if "direction" in traj.config:
        phi = np.asarray(traj.config["direction"], dtype=np.float64)
        s = float(traj.config["log_norm"])
        ok = bool(np.all(np.isfinite(phi))) and not np.isnan(s) and s < np.inf
        return (phi if np.isfinite(s) else np.zeros_like(phi)), ok
    theta = np.asarray(traj.final_params if params is None else params, dtype=np.float64)
    loss = traj.metrics["loss"][-1] if "loss" in traj.metrics else 0.0
    ok = (
        np.all(np.isfinite(theta)) and np.isfinite(loss) and np.all(np.isfinite(traj.final_margins))
    )
    return theta, bool(ok) and traj.stop_reason != "non_finite"


def diverging(traj: Trajectory, window: int = DIVERGENCE_WINDOW) -> bool:
    """The ``diverged`` criterion (item 4 of the module docstring) on the last ``window``
    steps of the recorded metrics; False when fewer consecutive steps are recorded."""
    if int(window) != window or window < 1:
        raise GDPerceptronError(f"window must be an integer >= 1, got {window}")
    it = traj.iterations[-(window + 1) :]
    if it.size < window + 1 or np.any(np.diff(it) != 1):
        return False
    mets = {k: v[-(window + 1) :] for k, v in traj.metrics.items()}
    with np.errstate(divide="ignore", invalid="ignore"):
        if "log_loss" in mets:  # scaled engine: log forms
            mnm = mets["min_normalized_margin"]
            if np.any(mnm >= 0):
                return False
            log_mu = float(traj.config["degree"]) * mets["log_param_norm"] + np.log(-mnm)
            log_loss = mets["log_loss"]
        else:
            mm, loss = mets["min_margin"], mets["loss"]
            if np.any(mm >= 0) or not np.all(np.isfinite(loss)) or not np.all(np.isfinite(mm)):
                return False
            log_mu, log_loss = np.log(-mm), np.log(loss)
    return bool(
        np.all(np.diff(log_mu) > 0)
        and log_mu[-1] - log_mu[0] >= np.log(2.0)
        and log_loss[-1] > log_loss[0]
    )


@float64
def classify(
    model: Model,
    data: Dataset,
    traj: Trajectory,
    *,
    finite: bool | None = None,
    window: int = DIVERGENCE_WINDOW,
    groups: Sequence[Any] | None = None,
    counts: bool = True,
    params: Any = None,
    batch: int = BATCH,
) -> Outcome:
    """The :class:`Outcome` of a run (criteria in the module docstring).

    Args:
        model: the run's model (the reduced one for a reduced run).
        data: the run's data (reduced likewise).
        traj: its trajectory (plain or scaled engine).
        finite: whether the final state is finite; default: read from ``traj``.
        window: steps of the ``diverged`` criterion.
        groups: optional index arrays into ``theta`` (e.g. one per hidden unit).
        counts: compute every count; with ``False`` only the class is exact (the
            gradients of the samples with margin ``<= 0`` are all it needs), the counts
            other than ``n_nonpositive`` are then those of these samples only.
        params: the final flat parameters, shape ``(p,)`` (default ``traj.final_params``;
            give them for a run started from a pytree).
        batch: samples per per-sample-gradient batch.

    Example:
        >>> import numpy as np
        >>> from gdperceptron import linear, make_dataset, run
        >>> data = make_dataset(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0]))
        >>> traj = run(linear(2), data, "gd", 1.0, theta0=np.zeros(2))
        >>> classify(linear(2), data, traj).name
        'solved'
    """
    point, ok = _final_point(traj, params)
    if finite is not None:
        ok = ok and finite
    if not ok:
        return Outcome("non_finite", 0, 0, 0, None)
    bad = np.asarray(traj.final_margins) <= 0  # the run loop's own margins
    stops = bool(traj.config.get("stop_when_solved", True))
    if not bad.any() and not counts:
        return Outcome("solved" if stops else "max_iter", 0, 0, 0, None)
    rows = None if counts else np.flatnonzero(bad)
    _, gnorm_rows, col = margin_gradient_stats(model, data, point, rows=rows, batch=batch)
    gnorm = np.full(data.n, np.inf)
    gnorm[np.arange(data.n) if rows is None else rows] = gnorm_rows
    stuck = bad & (gnorm == 0)
    dead = col == 0
    n_groups = None
    if groups is not None:
        n_groups = int(sum(bool(np.all(dead[np.asarray(g, dtype=np.int64)])) for g in groups))
    counts = (int(bad.sum()), int(stuck.sum()), int(dead.sum()), n_groups)
    if not bad.any():
        return Outcome("solved" if stops else "max_iter", *counts)
    if np.array_equal(stuck, bad):
        return Outcome("stalled", *counts)
    if diverging(traj, window):
        return Outcome("diverged", *counts)
    return Outcome("max_iter", *counts)
