"""Exact scaled simulation of k-homogeneous models: a run that never overflows
(docs/theory/exact-simulation.md).

A model is k-homogeneous when ``f(x; c theta) = c^k f(x; theta)`` for every ``c > 0``
(linear: ``k = 1``; tied model and bias-free two-layer networks with both layers trained
and a relu / leaky_relu / identity activation: ``k = 2``; bias-free depth-``L`` networks:
``k = L``). Then ``m_i(c theta) = c^k m_i(theta)`` and
``grad m_i(c theta) = c^(k-1) grad m_i(theta)``. The state is ``theta = e^s phi`` with
``||phi|| = 1``, and one step ``theta+ = theta + eta sum_i w_i grad m_i(theta)`` of any rule
of docs/theory/reduction.md is

    psi = phi + c g,   c = eta e^((k-2)s),   g = sum_i w_i grad m_i(phi),
    s+ = s + log ||psi||,   phi+ = psi / ||psi||

(written ``psi' = e^(-log c) phi + g``, ``s+ = s + log c + log ||psi'||`` when ``c > 1``,
so that neither ``c`` nor ``psi`` is ever formed when it would overflow). The margins
``M_i = e^(ks) m_i(phi)`` enter only through ``L_i = ks + log|m_i(phi)|`` and their signs:

- logistic weights ``sigma(-M_i)``: ``M_i`` is formed with ``L_i`` clipped at 700; beyond
  it ``sigma(-M_i)`` is exactly 0 or 1 in float64, so the clip changes nothing;
- per-sample loss ``l_i = log(1 + exp(-M_i))`` in log form: ``log l_i = L_i +
  log1p(log1p(e^-|M|) / |M|)`` for ``M_i < -30`` (``= L_i`` beyond the clip),
  ``-M_i + log1p(-e^(-M_i) / 2)`` for ``M_i > 30`` (error ``O(e^(-2 M))``), else
  ``log(softplus(-M_i))``; ``log F = logsumexp_i(log l_i) - log n``;
- hard weights and ``S_t = {M_i <= 0}`` depend on the signs alone.

The start ``theta = 0`` (``s = -inf``) is exact too: the margins and their gradients are
then evaluated at ``theta = 0`` itself (``s`` taken as 0 in every formula), which gives the
plain first step. Recorded metrics (iteration ``t`` is the state before step ``t + 1``):

- ``log_loss`` = ``log F(theta_t)``, ``log_param_norm`` = ``s_t = log ||theta_t||``,
  ``log_grad_norm`` = ``log ||grad F(theta_t)||``: finite at every scale (``-inf`` only for
  an exact 0: ``theta = 0``, a zero gradient, or a loss below ``exp(-1.8e308)``);
- ``min_normalized_margin`` = ``min_i m_i(theta_t) / ||theta_t||^k = min_i m_i(phi_t)``
  (0 at ``theta = 0``); ``n_misclassified`` = ``#{M_i <= 0}``;
- ``loss``, ``min_margin``, ``grad_norm``, ``param_norm``: the plain values, the exponentials
  of the log forms (``+-inf`` where they exceed the float64 range).

``Trajectory.final_params`` is ``e^s phi`` (``+-inf`` entries on overflow) and
``final_margins`` ``e^(ks) m(phi)``; ``config["log_norm"]`` (``s``) and
``config["direction"]`` (``phi``, shape ``(p,)``) hold the exact final state.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from gdperceptron._jax import float64, jax, jnp
from gdperceptron.data.synthetic import Dataset
from gdperceptron.engines.algorithms import Algorithm
from gdperceptron.engines.losses import logistic_weights
from gdperceptron.engines.trajectory import (
    Trajectory,
    _compiled_chunk,
    check_run_arguments,
    run_record,
)
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model

SCALED_METRICS = (
    "log_loss",
    "log_param_norm",
    "log_grad_norm",
    "min_normalized_margin",
    "n_misclassified",
    "loss",
    "min_margin",
    "grad_norm",
    "param_norm",
)
CLIP = 700.0  # log-margin clip: sigma(-M) is exactly 0 or 1 in float64 for |M| > e^700
SWITCH = 30.0  # |M| beyond which the per-sample loss uses its asymptotic log form
HOMOGENEITY_RTOL = 1e-9


def log_per_sample_loss(log_abs: jax.Array, sign: jax.Array) -> jax.Array:
    """``log l_i = log log(1 + exp(-M_i))`` from ``L_i = log|M_i|`` and ``sign(M_i)``,
    shape ``(n,)``; exact in float64 at any ``|M_i|`` (module docstring)."""
    M = sign * jnp.exp(jnp.minimum(log_abs, CLIP))
    big = jnp.abs(M)
    safe = jnp.where(big > SWITCH, big, SWITCH)
    neg = log_abs + jnp.log1p(jnp.log1p(jnp.exp(-safe)) / safe)
    m_true = jnp.exp(log_abs)  # +inf beyond float64: then -m_true = -inf, correctly rounded
    pos = -m_true + jnp.log1p(-0.5 * jnp.exp(-safe))
    mid_M = jnp.clip(M, -SWITCH, SWITCH)
    mid = jnp.log(jnp.logaddexp(0.0, -mid_M))
    return jnp.where(M < -SWITCH, neg, jnp.where(M > SWITCH, pos, mid))


def _signed_exp(log_abs: jax.Array, sign: jax.Array) -> jax.Array:
    return jnp.where(sign == 0, 0.0, sign * jnp.exp(log_abs))


def _chunk_builder(alg: Algorithm, degree: int, chunk: int, stop_when_solved: bool) -> Callable:
    """``apply_ref -> run_chunk``: a ``lax.scan`` of ``chunk`` scaled steps (frozen after the
    stop), the model function reached through a weak reference while it is traced."""
    k = float(degree)
    return functools.partial(_build_chunk, alg=alg, k=k, chunk=chunk, stop=stop_when_solved)


def _build_chunk(apply_ref: Callable, *, alg: Algorithm, k: float, chunk: int, stop: bool):
    stop_when_solved = stop

    def body(carry, _, X, y, gamma):
        apply = apply_ref()
        s, phi, t, solved_at, t_max = carry
        n = X.shape[0]
        zero = jnp.isneginf(s)  # theta = 0 exactly: evaluate the model at 0 itself
        s_eff = jnp.where(zero, 0.0, s)
        x = jnp.where(zero, 0.0, phi)
        m, vjp = jax.vjp(lambda th: y * apply(th, X), x)
        sign = jnp.sign(m)
        log_abs = k * s_eff + jnp.log(jnp.abs(m))
        M = sign * jnp.exp(jnp.minimum(log_abs, CLIP))  # exact weights (module docstring)
        sig = logistic_weights(M)
        w = sig if alg.weights is logistic_weights else alg.weights(M)
        g = vjp(w)[0]
        g_sig = g if alg.weights is logistic_weights else vjp(sig)[0]
        log_l = log_per_sample_loss(log_abs, sign)
        log_loss = jax.scipy.special.logsumexp(log_l) - jnp.log(n)
        log_grad = (k - 1.0) * s_eff + jnp.log(jnp.linalg.norm(g_sig) / n)
        i_min = jnp.argmin(m)
        rec = jnp.stack(
            [
                log_loss,
                s,
                log_grad,
                jnp.where(zero, 0.0, m[i_min]),
                jnp.sum(m <= 0).astype(jnp.float64),
                jnp.exp(log_loss),
                _signed_exp(log_abs[i_min], sign[i_min]),
                jnp.exp(log_grad),
                jnp.exp(s),
            ]
        )
        solved_now = jnp.all(m > 0)
        finite = jnp.all(jnp.isfinite(phi)) & ~jnp.isnan(s) & (s < jnp.inf) & ~jnp.isnan(log_loss)
        solved_at = jnp.where((solved_at < 0) & solved_now & finite, t, solved_at)
        stop = ~finite | (t >= t_max)
        if stop_when_solved:
            stop = stop | (solved_at >= 0)
        # the step: theta+ = e^s_eff (x + c g), c = eta e^((k-2) s_eff)
        log_c = jnp.log(alg.step_size(M, w, gamma)) + (k - 2.0) * s_eff
        big_c = log_c > 0
        psi = jnp.where(big_c, jnp.exp(-jnp.abs(log_c)) * x + g, x + jnp.exp(-jnp.abs(log_c)) * g)
        nrm = jnp.linalg.norm(psi)
        s_new = s_eff + jnp.where(big_c, log_c, 0.0) + jnp.log(nrm)
        phi_new = jnp.where(nrm > 0, psi / jnp.where(nrm > 0, nrm, 1.0), 0.0)
        s = jnp.where(stop, s, s_new)
        phi = jnp.where(stop, phi, phi_new)
        carry = (s, phi, t + jnp.where(stop, 0, 1), solved_at, t_max)
        return carry, (rec, stop, finite)

    def run_chunk(s, phi, t, solved_at, t_max, X, y, gamma):
        carry = (s, phi, t, solved_at, t_max)
        (s, phi, t, solved_at, _), out = jax.lax.scan(
            functools.partial(body, X=X, y=y, gamma=gamma), carry, None, length=chunk
        )
        return (s, phi, t, solved_at), out

    return run_chunk


@float64
def check_degree(model: Model, data: Dataset, degree: Any, theta: np.ndarray) -> int:
    """Validate ``degree`` as an integer ``k >= 1`` and check ``m(2 theta) = 2^k m(theta)`` at
    ``theta`` (or, for ``theta = 0``, at a seeded random point) to ``1e-9`` relative, so that
    a wrong degree raises instead of giving a silently wrong run."""
    if isinstance(degree, bool) or not isinstance(degree, int | np.integer) or degree < 1:
        raise GDPerceptronError(f"degree must be an integer >= 1, got {degree!r}")
    k = int(degree)
    point = theta if np.any(theta != 0) else np.random.default_rng(0).standard_normal(theta.size)
    point = point / np.linalg.norm(point)
    X, y = jnp.asarray(data.X), jnp.asarray(data.y)
    m1 = np.asarray(y * model.apply(jnp.asarray(point), X))
    m2 = np.asarray(y * model.apply(jnp.asarray(2.0 * point), X))
    scale = max(float(np.max(np.abs(m1))), np.finfo(float).tiny)
    if np.max(np.abs(m2 - 2.0**k * m1)) > HOMOGENEITY_RTOL * 2.0**k * scale:
        raise GDPerceptronError(
            f"degree: the model is not {k}-homogeneous (f(x; 2 theta) != 2^{k} f(x; theta))"
        )
    return k


@float64
def run_scaled(
    model: Model,
    data: Dataset,
    algorithm: str | Algorithm,
    step: float,
    *,
    theta0: Any = None,
    degree: int | None = None,
    max_iter: int = 10_000,
    stop_when_solved: bool = True,
    record_every: int | None = None,
    chunk: int = 256,
    progress: Callable[..., None] | None = None,
) -> Trajectory:
    """Run a generalized perceptron exactly in the scaled representation
    ``theta = e^s phi`` (docs/theory/exact-simulation.md) and return its :class:`Trajectory`.

    The same trajectory as :func:`gdperceptron.engines.trajectory.run` wherever that one is
    finite, and finite log-form metrics (``log_loss``, ``log_param_norm``,
    ``log_grad_norm``, ``min_normalized_margin``; see the module docstring) where it would
    overflow. ``stop_reason`` is an outcome class of :mod:`gdperceptron.engines.outcome`.

    Args:
        model: a ``degree``-homogeneous model; ``model.d == data.d``.
        data: the data set.
        algorithm: a name in ``ALGORITHM_NAMES`` or one of ``ALGORITHMS``.
        step: ``gamma > 0``.
        theta0: initial parameters, shape ``(model.n_params,)``; 0 is allowed.
        degree: ``k``; default ``model.degree`` where the model declares one.
        max_iter: largest number of steps.
        stop_when_solved: stop at the first iteration with all margins positive.
        record_every: record every k-th iteration; default ``ceil(max_iter / 20000)``.
        chunk: iterations per compiled scan.
        progress: called after each chunk as ``progress(steps_done, max_iter, latest)``.

    Example:
        >>> import numpy as np
        >>> from gdperceptron import breast_cancer, two_layer
        >>> data = breast_cancer(n=300)
        >>> net = two_layer(data.d, 16, "relu")
        >>> traj = run_scaled(net, data, "gd", 1000.0, theta0=net.initial_params(0),
        ...                   degree=2, max_iter=200, stop_when_solved=False)
        >>> bool(np.all(np.isfinite(traj["log_loss"])))
        True
    """
    from gdperceptron.engines.outcome import classify

    alg, gamma, theta0, structured, max_iter, record_every, chunk = check_run_arguments(
        model, data, algorithm, step, theta0, max_iter, record_every, chunk, "run_scaled()"
    )
    if not np.all(np.isfinite(theta0)):
        raise GDPerceptronError("theta0 contains non-finite values")
    if degree is None:
        degree = model.degree
        if degree is None:
            raise GDPerceptronError("degree: the model declares no homogeneity degree; pass one")
    k = check_degree(model, data, degree, theta0)
    every = record_every if record_every is not None else max(1, math.ceil(max_iter / 20_000))
    chunk = max(1, min(chunk, max_iter + 1))  # a short run compiles a short scan

    norm0 = float(np.linalg.norm(theta0))
    s = jnp.asarray(math.log(norm0) if norm0 > 0 else -math.inf)
    phi = jnp.asarray(theta0 / norm0 if norm0 > 0 else np.zeros_like(theta0))
    t, solved_at, t_max = jnp.asarray(0), jnp.asarray(-1), jnp.asarray(max_iter)
    X = jnp.asarray(data.X, dtype=jnp.float64)
    y, g = jnp.asarray(data.y, dtype=jnp.float64), jnp.asarray(gamma)
    args = (s, phi, t, solved_at, t_max, X, y, g)
    key = ("scaled", alg.name, k, chunk, bool(stop_when_solved),
           tuple((a.shape, str(a.dtype)) for a in args))  # fmt: skip
    fn = _compiled_chunk(model, key, args, _chunk_builder(alg, k, chunk, bool(stop_when_solved)))

    iters, recs = [], []
    jax.block_until_ready(args)  # the data's transfer is not part of the steps' clock
    start = time.perf_counter()
    done = 0
    while True:
        (s, phi, t, solved_at), (rec, stopped, finite) = fn(s, phi, t, solved_at, t_max, X, y, g)
        rec, stopped, finite = np.asarray(rec), np.asarray(stopped), np.asarray(finite)
        idx = np.arange(chunk)
        first_stop = int(np.argmax(stopped)) if stopped.any() else chunk
        sel = (idx <= first_stop) & (((done + idx) % every == 0) | (idx == first_stop))
        iters.append(done + idx[sel])
        recs.append(rec[sel])
        if stopped.any():
            break
        done += chunk
        if progress is not None and recs[-1].size:
            progress(done, max_iter, dict(zip(SCALED_METRICS, recs[-1][-1].tolist(), strict=True)))
    elapsed = time.perf_counter() - start
    iterations, table = np.concatenate(iters).astype(np.int64), np.concatenate(recs)
    if progress is not None:
        progress(
            done + first_stop, max_iter, dict(zip(SCALED_METRICS, table[-1].tolist(), strict=True))
        )
    _, uniq = np.unique(iterations, return_index=True)
    iterations, table = iterations[uniq], table[uniq]
    metrics = {name: table[:, j] for j, name in enumerate(SCALED_METRICS)}
    metrics["n_misclassified"] = metrics["n_misclassified"].astype(np.int64)

    s_f, phi_f = float(s), np.asarray(phi)
    with np.errstate(over="ignore", invalid="ignore"):
        final = np.exp(s_f) * phi_f if math.isfinite(s_f) else np.zeros_like(phi_f)
        m_dir = np.asarray(y * model.apply(jnp.asarray(phi_f), X), dtype=np.float64)
        final_margins = np.where(m_dir == 0, 0.0, np.sign(m_dir) * np.exp(k * s_f) * np.abs(m_dir))
    solved = int(solved_at)
    traj = Trajectory(
        iterations=iterations,
        metrics=metrics,
        solved_iteration=solved if solved >= 0 else None,
        stop_reason="max_iter",
        n_steps=done + first_stop,
        final_params=model.structured(final) if structured else final,
        final_margins=final_margins,
        elapsed_s=elapsed,
        config={
            **run_record(
                model,
                alg,
                gamma,
                max_iter,
                stop_when_solved,
                every,
                data.n,
                data.d,
                data.info.get("standardized"),
            ),  # fmt: skip
            "engine": "scaled",
            "degree": k,
            "log_norm": s_f,
            "direction": phi_f,
        },
    )
    outcome = classify(model, data, traj, finite=bool(finite[first_stop]), counts=False)
    return dataclasses.replace(traj, stop_reason=outcome.name)


def run_scaled_problem(problem: Any, algorithm: str, step: float, **kwargs: Any) -> Trajectory:
    """:func:`run_scaled` on a :class:`~gdperceptron.engines.reduced.ReducedProblem` (the
    reduced model is as homogeneous as the full one: its margins depend on the reduced
    parameters alone), expressed in the full problem's terms like
    :func:`~gdperceptron.engines.reduced.run_reduced_problem`: with ``theta_perp`` the
    constant remainder, ``||theta||^2 = e^(2s) + ||theta_perp||^2``, so ``log_param_norm``
    becomes ``logaddexp(2 s, 2 log ||theta_perp||) / 2``, ``param_norm`` its exponential and
    ``min_normalized_margin`` is rescaled by ``(e^s / ||theta||)^k``; ``config`` gets
    ``engine="scaled"``, ``k``, the full ``d`` and ``params="reduced"`` (``final_params``
    and ``direction`` stay in reduced coordinates)."""
    traj = run_scaled(problem.model, problem.data, algorithm, step, theta0=problem.theta0,
                      **kwargs)  # fmt: skip
    metrics = dict(traj.metrics)
    s = metrics["log_param_norm"]
    with np.errstate(divide="ignore"):
        log_perp = np.log(problem.perp_norm)
        s_full = 0.5 * np.logaddexp(2.0 * s, 2.0 * log_perp)
        k = traj.config["degree"]
        metrics["min_normalized_margin"] = metrics["min_normalized_margin"] * np.exp(
            k * np.where(np.isneginf(s), 0.0, s - s_full)
        )
    metrics["log_param_norm"] = s_full
    with np.errstate(over="ignore"):
        metrics["param_norm"] = np.exp(s_full)
    config = {**traj.config, "d": problem.full_model.d, "k": problem.k, "params": "reduced"}
    return dataclasses.replace(traj, metrics=metrics, config=config)
