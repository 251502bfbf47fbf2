"""The run loop: a generalized perceptron run that returns its whole trajectory
(docs/theory/setting.md, docs/theory/reduction.md).

The loop is a jitted ``lax.scan`` over chunks of ``chunk`` steps, driven from Python so
that long runs can stop early, report progress, and keep memory bounded by recording
every ``record_every``-th iteration. Iteration ``t`` records the state *before* step
``t + 1``: loss, min margin and misclassified count of ``theta_t``, the norm of the
logistic gradient ``||grad F(theta_t)||``, ``||theta_t||``, and on request the norm of the
reduction's error term ``||xi_t||``.

The iteration complexity (docs/theory/setting.md) is the first ``t`` with every margin of
``theta_t``
strictly positive.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdperceptron._jax import jax, jnp
from gdperceptron.data.synthetic import Dataset
from gdperceptron.engines.algorithms import ALGORITHMS, Algorithm, check_step, get_algorithm
from gdperceptron.engines.losses import hard_weights, logistic_loss, logistic_weights
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.builtin import Involution, Model

METRICS = ("loss", "min_margin", "n_misclassified", "grad_norm", "param_norm", "error_norm")
STOP_REASONS = ("solved", "max_iter", "non_finite")


@dataclass(frozen=True)
class Trajectory:
    """The record of one run.

    Attributes:
        iterations: recorded iteration indices ``t``, shape ``(T,)`` (every
            ``record_every``-th, plus the last state reached).
        metrics: name -> array of shape ``(T,)`` for each name in :data:`METRICS`
            (``error_norm`` only when requested).
        solved_iteration: first ``t`` with all margins ``> 0``, or ``None``.
        stop_reason: ``"solved"``, ``"max_iter"`` or ``"non_finite"``.
        n_steps: number of steps taken.
        final_params: ``theta`` at the end, shape ``(p,)``.
        final_margins: margins of ``final_params``, shape ``(n,)``.
        elapsed_s: wall time of the loop itself (compilation excluded).
        config: the options of the run.
    """

    iterations: np.ndarray
    metrics: dict[str, np.ndarray]
    solved_iteration: int | None
    stop_reason: str
    n_steps: int
    final_params: np.ndarray
    final_margins: np.ndarray
    elapsed_s: float
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.solved_iteration is not None

    @property
    def final_loss(self) -> float:
        return float(self.metrics["loss"][-1])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.metrics[name]


def _structure_key(model: Model) -> tuple:
    """A hashable key that determines ``model.apply`` (models are rebuilt per run)."""
    items = []
    for k, v in sorted(model.info.items()):
        if isinstance(v, Involution):
            v = (
                "P",
                v.d,
                None if v.perm is None else v.perm.tobytes(),
                None if v.matrix is None else v.matrix.tobytes(),
            )
        items.append((k, v))
    return (model.name, model.d, model.n_params, tuple(items))


_CHUNK_CACHE: dict[tuple, Callable] = {}


def _compiled_chunk(
    model: Model, alg_name: str, chunk: int, stop_when_solved: bool, record_error: bool
) -> Callable:
    """The jitted chunk of ``chunk`` steps, cached on the model's structure so that repeated
    runs (other data of the same shape, other step or start) reuse one compilation."""
    key = (_structure_key(model), alg_name, chunk, stop_when_solved, record_error)
    if key not in _CHUNK_CACHE:
        if len(_CHUNK_CACHE) >= 64:
            _CHUNK_CACHE.pop(next(iter(_CHUNK_CACHE)))
        _CHUNK_CACHE[key] = _build_chunk(model, alg_name, chunk, stop_when_solved, record_error)
    return _CHUNK_CACHE[key]


def _build_chunk(
    model: Model, alg_name: str, chunk: int, stop_when_solved: bool, record_error: bool
) -> Callable:
    alg = get_algorithm(alg_name)

    def body(carry, _, X, y, gamma):
        theta, t, solved_at, frozen, t_max = carry
        n = X.shape[0]
        m, vjp = jax.vjp(lambda th: y * model.apply(th, X), theta)
        sig = logistic_weights(m)
        w = sig if alg.weights is logistic_weights else alg.weights(m)
        direction = vjp(w)[0]
        grad = -vjp(sig)[0] / n if alg.weights is not logistic_weights else -direction / n
        rec = [
            logistic_loss(m),
            jnp.min(m),
            jnp.sum(m <= 0).astype(jnp.float64),
            jnp.linalg.norm(grad),
            jnp.linalg.norm(theta),
        ]
        if record_error:
            rec.append(gamma / n * jnp.linalg.norm(vjp(sig - hard_weights(m))[0]))
        solved_now = jnp.all(m > 0)
        solved_at = jnp.where((solved_at < 0) & solved_now, t, solved_at)
        finite = jnp.all(jnp.isfinite(theta)) & jnp.isfinite(rec[0])
        stop = frozen | ~finite | (t >= t_max)
        if stop_when_solved:
            stop = stop | (solved_at >= 0)
        new = theta + alg.step_size(m, w, gamma) * direction
        theta = jnp.where(stop, theta, new)
        carry = (theta, t + jnp.where(stop, 0, 1), solved_at, stop, t_max)
        return carry, (jnp.stack(rec), stop, finite)

    def run_chunk(theta, t, solved_at, t_max, X, y, gamma):
        carry = (theta, t, solved_at, jnp.asarray(False), t_max)
        (theta, t, solved_at, _, _), out = jax.lax.scan(
            functools.partial(body, X=X, y=y, gamma=gamma), carry, None, length=chunk
        )
        return (theta, t, solved_at), out

    return jax.jit(run_chunk)


def run(
    model: Model,
    data: Dataset,
    algorithm: str | Algorithm,
    step: float,
    *,
    theta0: Any,
    max_iter: int = 10_000,
    stop_when_solved: bool = True,
    record_error: bool = False,
    record_every: int | None = None,
    chunk: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> Trajectory:
    """Run a generalized perceptron from ``theta0`` and return its :class:`Trajectory`.

    Args:
        model: the model (docs/theory/models.md); ``model.d`` must equal ``data.d``.
        data: the data set; labels in {-1, +1}.
        algorithm: a name in ``ALGORITHM_NAMES`` or an :class:`Algorithm`.
        step: ``gamma > 0`` (docs/theory/reduction.md table).
        theta0: initial parameters, shape ``(model.n_params,)``.
        max_iter: largest number of steps.
        stop_when_solved: stop at the first iteration with all margins positive.
        record_error: also record ``||xi_t||``, the norm of the reduction's error term.
        record_every: record every k-th iteration; default ``ceil(max_iter / 20000)``.
        chunk: steps per compiled scan.
        progress: called with ``(steps_done, max_iter)`` after each chunk.

    Example:
        >>> from gdperceptron import minimal_example, linear, run
        >>> data = minimal_example(d=10)
        >>> traj = run(linear(10), data, "perceptron", 1.0, theta0=[0.0] * 10)
        >>> traj.stop_reason, traj.solved_iteration is not None
        ('solved', True)
    """
    alg = get_algorithm(algorithm) if isinstance(algorithm, str) else algorithm
    gamma = check_step(step)
    if model.d != data.d:
        raise GDPerceptronError(f"model expects d = {model.d} features, data have {data.d}")
    if int(max_iter) != max_iter or max_iter < 0:
        raise GDPerceptronError(f"max_iter must be an integer >= 0, got {max_iter}")
    max_iter = int(max_iter)
    theta0 = np.asarray(theta0, dtype=np.float64)
    if theta0.shape != (model.n_params,):
        raise GDPerceptronError(f"theta0 must have shape ({model.n_params},), got {theta0.shape}")
    if record_every is not None and (int(record_every) != record_every or record_every < 1):
        raise GDPerceptronError(f"record_every must be an integer >= 1, got {record_every}")
    if int(chunk) != chunk or chunk < 1:
        # chunk = 0 would scan zero steps per call and never reach a stop: an endless loop
        raise GDPerceptronError(f"chunk must be an integer >= 1, got {chunk}")
    chunk = int(chunk)
    every = int(record_every) if record_every is not None else max(1, math.ceil(max_iter / 20_000))
    X, y = jnp.asarray(data.X), jnp.asarray(data.y)
    if alg.name not in ALGORITHMS or ALGORITHMS[alg.name] is not alg:
        raise GDPerceptronError(
            "custom algorithms are not supported by run(); "
            "use perceptron_step for a custom weight rule"
        )
    fn = _compiled_chunk(
        model,
        alg.name,
        int(chunk),
        bool(stop_when_solved),
        bool(record_error),
    )
    theta, t, solved_at = jnp.asarray(theta0), jnp.asarray(0), jnp.asarray(-1)
    t_max = jnp.asarray(max_iter)
    g = jnp.asarray(gamma)
    fn(theta, t, solved_at, t_max, X, y, g)  # compile (or hit the cache) before timing

    names = METRICS if record_error else METRICS[:-1]
    iters: list[np.ndarray] = []
    recs: list[np.ndarray] = []
    start = time.perf_counter()
    done = 0
    while True:
        (theta, t, solved_at), (rec, stopped, finite) = fn(theta, t, solved_at, t_max, X, y, g)
        rec, stopped, finite = np.asarray(rec), np.asarray(stopped), np.asarray(finite)
        k = np.arange(chunk)
        first_stop = int(np.argmax(stopped)) if stopped.any() else chunk
        sel = (k <= first_stop) & (((done + k) % every == 0) | (k == first_stop))
        iters.append(done + k[sel])
        recs.append(rec[sel])
        if stopped.any():
            break
        done += chunk
        if progress is not None:
            progress(done, max_iter)
    elapsed = time.perf_counter() - start
    steps = done + first_stop
    if not finite[first_stop]:
        stop_reason = "non_finite"
    elif stop_when_solved and int(solved_at) >= 0:
        stop_reason = "solved"
    else:
        stop_reason = "max_iter"
    if progress is not None:
        progress(max_iter, max_iter)

    iterations = np.concatenate(iters)
    table = np.concatenate(recs)
    _, uniq = np.unique(iterations, return_index=True)
    iterations, table = iterations[uniq], table[uniq]
    metrics = {name: table[:, k] for k, name in enumerate(names)}
    metrics["n_misclassified"] = metrics["n_misclassified"].astype(np.int64)
    final = np.asarray(theta)
    s = int(solved_at)
    return Trajectory(
        iterations=iterations,
        metrics=metrics,
        solved_iteration=s if s >= 0 else None,
        stop_reason=stop_reason,
        n_steps=steps,
        final_params=final,
        final_margins=np.asarray(data.y * np.asarray(model.apply(jnp.asarray(final), X))),
        elapsed_s=elapsed,
        config={
            "model": model.name,
            "algorithm": alg.name,
            "step": gamma,
            "max_iter": max_iter,
            "stop_when_solved": stop_when_solved,
            "record_every": every,
            "n": data.n,
            "d": data.d,
        },
    )
