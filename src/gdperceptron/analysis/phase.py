"""Phase diagrams over the step size: per step, the outcome class, the iterations to
separate and tau, with the ``gamma -> inf`` limit (docs/theory/diagnostics.md).

:func:`phase_diagram` runs one :class:`~gdperceptron.engines.config.RunConfig` at every
step of a log-spaced grid (:func:`step_grid`, a quarter decade or finer) through the code
of :func:`gdperceptron.engines.runner.execute` itself (``prepare`` once, ``run_prepared``
per step), so every entry is what ``gdperceptron run`` gives for that step and start. The
step is an argument of the compiled run loop, and the prepared model is held for the
sweep, so the whole sweep compiles once per engine. Near the largest grid step that still
separates (followed on the grid by one that does not; without one, at the last change of
outcome on the grid) the boundary is refined by ``refine`` bisections in ``log gamma``.

The ``gamma -> inf`` limit (:func:`step_limit`) of a ``k``-homogeneous model from
``theta_0``: the first step is ``theta_1 = theta_0 + gamma eta_0 g_0`` with
``g_0 = sum_i w_i(theta_0) grad m_i(theta_0)``, so ``theta_1 / gamma -> eta_0 g_0``; the
margins then grow like ``gamma^k`` and every weight becomes hard (``sigma(-M) -> 1[M < 0] +
1/2 1[M = 0]``). For ``k = 1`` (``grad m`` is scale-free) ``theta_t / gamma`` follows the
hard perceptron with ``gamma = 1`` (the normalized one for the normalized rules): from
``v_0 = 0`` this is the predecessor's ``v_hat_t`` (docs/theory/predecessor.md). For
``k >= 2`` the step outgrows ``theta_t`` and the direction follows the normalized hard
perceptron at infinite step, ``phi+ = sum_i h_i grad m_i(phi) / ||.||``, whatever the step
rule. Models without a degree have no limit here (``None``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from gdperceptron._jax import float64, jax, jnp
from gdperceptron.analysis.diagnostics import loss_increases
from gdperceptron.data.synthetic import Dataset
from gdperceptron.engines.algorithms import get_algorithm
from gdperceptron.engines.config import RunConfig, validate
from gdperceptron.engines.losses import hard_weights
from gdperceptron.engines.runner import prepare, run_prepared
from gdperceptron.engines.trajectory import _check_int
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model

HARD_RULE = {
    "gd": "perceptron",
    "perceptron": "perceptron",
    "normalized-gd": "normalized-perceptron",
    "normalized-perceptron": "normalized-perceptron",
}


def step_grid(spec: str | Sequence[float]) -> np.ndarray:
    """Log-spaced steps from ``"lo:hi:count"`` (or ``(lo, hi, count)``):
    ``count`` points from ``lo`` to ``hi``, both included, at least 4 per decade.

    Example:
        >>> g = step_grid("1e-1:1e1:9")
        >>> g.size, float(g[0]), round(float(g[1]), 4), float(g[-1])
        (9, 0.1, 0.1778, 10.0)
    """
    parts = spec.split(":") if isinstance(spec, str) else list(spec)
    try:
        lo, hi, count = float(parts[0]), float(parts[1]), int(float(parts[2]))
        if len(parts) != 3 or count != float(parts[2]):
            raise ValueError
    except (ValueError, IndexError, TypeError):
        raise GDPerceptronError(f"steps must be lo:hi:count, got {spec!r}") from None
    if not (0 < lo < hi < math.inf) or count < 2:
        raise GDPerceptronError(f"steps need 0 < lo < hi and count >= 2, got {spec!r}")
    decades = math.log10(hi / lo)
    if (count - 1) < 4 * decades - 1e-9:
        need = math.ceil(4 * decades - 1e-9) + 1
        raise GDPerceptronError(
            f"steps: {count} points over {decades:.3g} decades is coarser than a quarter "
            f"decade; use at least {need}"
        )
    return np.logspace(math.log10(lo), math.log10(hi), count)


class Limit(NamedTuple):
    """The ``gamma -> inf`` limit: ``iterations`` to separate (``None``: not within
    ``max_iter``, or no limit), the hard ``rule`` it follows, and ``n_misclassified``, the
    number of margins ``<= 0`` at ``t = 0, 1, ...`` until it stops."""

    iterations: int | None
    rule: str | None
    n_misclassified: tuple[int, ...] = ()


@float64
def step_limit(model: Model, data: Dataset, algorithm: str, theta0: Any, *, max_iter: int) -> Limit:
    """The iterations to separate of the ``gamma -> inf`` limit of ``algorithm`` from
    ``theta0`` (module docstring), at most ``max_iter`` steps."""
    k = model.degree
    if k is None:
        return Limit(None, None)
    max_iter = _check_int(max_iter, "max_iter", 0)
    alg = get_algorithm(algorithm)
    hard = get_algorithm(HARD_RULE[alg.name])
    X, y = jnp.asarray(data.X, dtype=jnp.float64), jnp.asarray(data.y, dtype=jnp.float64)
    theta = jnp.asarray(np.asarray(theta0, dtype=np.float64))

    def margins(th):
        return y * model.apply(th, X)

    rule = hard.name if k == 1 else "normalized-perceptron"
    m0, vjp0 = jax.vjp(margins, theta)
    bad0 = int(jnp.sum(m0 <= 0))
    if bad0 == 0 or max_iter == 0:
        return Limit(0 if bad0 == 0 else None, rule, (bad0,))
    w0 = alg.weights(m0)
    first = alg.step_size(m0, w0, 1.0) * vjp0(w0)[0]

    @jax.jit
    def loop(theta1):
        def cond(state):
            t, bad = state[1], state[2]
            return (bad[t] > 0) & (t < max_iter)

        def body(state):
            th, t, bad = state
            m, vjp = jax.vjp(margins, th)
            h = hard_weights(m)
            g = vjp(h)[0]
            new = th + hard.step_size(m, h, 1.0) * g if k == 1 else g / jnp.linalg.norm(g)
            return new, t + 1, bad.at[t + 1].set(jnp.sum(margins(new) <= 0))

        bad = jnp.zeros(max_iter + 1, dtype=jnp.int64).at[0].set(bad0)
        bad = bad.at[1].set(jnp.sum(margins(theta1) <= 0))
        return jax.lax.while_loop(cond, body, (theta1, 1, bad))

    _, t, bad = loop(first)
    t, bad = int(t), np.asarray(bad)[: int(t) + 1]
    return Limit(t if bad[-1] == 0 else None, rule, tuple(int(b) for b in bad))


class PhaseDiagram(NamedTuple):
    """Per step (equal-length lists, steps ascending): ``steps``, ``outcome`` (the run's
    ``stop_reason``), ``iterations`` (to separate, ``None`` where not solved), ``tau``
    (last loss increase, 0 if none), ``increases`` (their number), ``engine`` and
    ``refined`` (added by bisection); ``limit`` (:class:`Limit`) and the ``config``
    (resolved, step excluded)."""

    steps: list[float]
    outcome: list[str]
    iterations: list[int | None]
    tau: list[int]
    increases: list[int]
    engine: list[str]
    refined: list[bool]
    limit: Limit
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the lists, ``limit`` as ``{"iterations", "rule"}``, the config."""
        out = self._asdict()
        out["limit"] = {"iterations": self.limit.iterations, "rule": self.limit.rule}
        return out


def phase_diagram(
    config: RunConfig,
    steps: str | Sequence[float],
    *,
    refine: int = 6,
    progress: Callable[[int, float, str], None] | None = None,
) -> PhaseDiagram:
    """Run ``config`` at every step of ``steps`` (``"lo:hi:count"`` or the steps
    themselves, a quarter decade or finer) and ``refine`` bisections near the separation
    boundary; see the module docstring. ``progress(k, step, outcome)`` after each run.

    Example:
        >>> from gdperceptron import RunConfig
        >>> cfg = RunConfig(data="gaussian", model="linear", n=20, d=3, max_iter=500)
        >>> pd = phase_diagram(cfg, "1e-1:1e1:9", refine=0)
        >>> len(pd.steps), pd.outcome[-1]
        (9, 'solved')
    """
    config = validate(config)
    refine = _check_int(refine, "refine", 0)
    grid = step_grid(steps) if isinstance(steps, str) else np.asarray(steps, dtype=np.float64)
    if not isinstance(steps, str):
        if grid.ndim != 1 or grid.size < 2 or not np.all(grid > 0) or not np.all(np.isfinite(grid)):
            raise GDPerceptronError("steps must be at least two positive finite numbers")
        grid = np.sort(grid)
        if np.max(np.diff(np.log10(grid))) > 0.25 + 1e-9:
            raise GDPerceptronError("steps: the grid is coarser than a quarter decade")
    prepared = prepare(config)  # held for the sweep: its model keeps the compilations cached
    problem = prepared.problem
    rows: dict[float, tuple] = {}

    def one(step: float, refined: bool) -> bool:
        traj = run_prepared(prepared, float(step))
        tau, count = loss_increases(traj)
        rows[float(step)] = (traj.stop_reason, traj.solved_iteration, tau, count,
                             traj.config.get("engine", "full"), refined)  # fmt: skip
        if progress is not None:
            progress(len(rows), float(step), traj.stop_reason)
        return traj.solved_iteration is not None

    solved = [one(s, False) for s in grid]
    # the separation boundary at the largest step: prefer a separating step followed by one
    # that does not; without one (every large step separates), the last change of outcome
    down = [j for j in range(len(grid) - 1) if solved[j] and not solved[j + 1]]
    edge = down or [j for j in range(len(grid) - 1) if solved[j] != solved[j + 1]]
    if edge and refine:
        j = edge[-1]
        lo, hi, lo_solved = float(grid[j]), float(grid[j + 1]), solved[j]
        for _ in range(refine):
            mid = math.sqrt(lo * hi)
            if one(mid, True) == lo_solved:
                lo = mid
            else:
                hi = mid
    limit = step_limit(problem.model, problem.data, config.algorithm, problem.theta0,
                       max_iter=config.max_iter)  # fmt: skip
    order = sorted(rows)
    cols = list(zip(*(rows[s] for s in order), strict=True))
    resolved = {k: v for k, v in config.to_dict().items() if k != "step"}
    return PhaseDiagram(order, list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]),
                        list(cols[4]), list(cols[5]), limit, resolved)  # fmt: skip
