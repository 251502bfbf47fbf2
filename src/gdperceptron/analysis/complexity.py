"""Iteration complexity of the minimal example as a function of d (docs/theory/minimal-example.md).

The paper's claim: on the minimal example (``x_1 = 1_d``, ``y_1 = +1``;
``x_2 = 1_d + mu e_1``, ``y_2 = -1``) GD on the logistic loss needs

- Omega(d) iterations with the linear model ``f = <v, x>`` (any constant step), and
- O~(sqrt d) iterations with the tied model ``f = u_1 <w, x> + u_2 <w, P x>``, step
  ``gamma = c / lambda_2``, ``lambda_2 = sqrt((2 + mu)^2 + 2 (d - 2))``, small random init.

**Exact reduced simulation.** Both models see the data only through ``Q^T w`` with ``Q``
the orthonormal basis of span{e_1, e_2, 1_d} (``k = min(d, 3)`` columns) of
:func:`~gdperceptron.data.synthetic.minimal_example_basis`;
:func:`~gdperceptron.data.synthetic.minimal_example_reduced` gives the data in that basis, where
the swap ``P`` acts as the swap of the first two coordinates.
So the margins of every iterate, hence the first solved iteration, are those of the
``d``-dimensional run, at a per-step cost that does not depend on ``d``.

**Initialisation.** ``N(0, s^2 I_d / d)`` is rotation invariant and ``Q`` has orthonormal
columns, so the reduced init ``Q^T w_0`` is *exactly* ``N(0, s^2 I_k / d)``; the part of
``w_0`` orthogonal to the span never moves and never enters a margin. We therefore
sample the ``k`` reduced coordinates directly (and ``u ~ N(0, s^2 / d)`` for the tied
model): ``theta_0 = s / sqrt(d) * rng.standard_normal(p)``, ``p = k`` (linear) or
``k + 2`` (tied), with ``rng = np.random.default_rng([seed, d, r])`` for run ``r`` of
``S``: bit-for-bit deterministic, independent across ``d`` and ``r``. Defaults: ``s = 0``
(``v_0 = 0``, so the linear runs are deterministic) and ``s = 1`` (tied).

**Cost.** A run is a ``lax.while_loop`` whose passes apply one GD step to every run of
the batch (``jax.vmap``); it ends when every run is solved. The linear count is about
``2 d / mu^2`` (2.0e7 steps at ``d = 10^7``) and cannot be shortcut by the perceptron
limit: in the 2-cycle that GD settles into, one margin sits at a fixed point near
``-ln(d / 2)`` (-8.5 at ``d = 10^4``), where ``sigma`` is not the hard weight (the hard
perceptron needs ~``1.5 d`` steps, GD ~``2 d``), so the run is simulated step by step.
With ``v_0 = 0`` all linear runs coincide and identical initial rows are simulated once
(a pass costs ~0.1 us for one run); the default sweep then takes seconds
(``benchmarks/bench_complexity.py``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gdperceptron._jax import float64, jax, jnp
from gdperceptron.analysis.spectral import lambda2
from gdperceptron.data.synthetic import minimal_example_reduced
from gdperceptron.engines.algorithms import check_step, margins_fn, perceptron_step
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.builtin import linear, tied

COMPLEXITY_MODELS = ("linear", "tied")
DEFAULT_DS = tuple(int(d) for d in np.unique(np.round(np.logspace(1, 7, 13))))


def tied_step(d: int, mu: float = 1.0, c: float = 1.0) -> float:
    """The tied model's step ``gamma = c / lambda_2`` (docs/theory/minimal-example.md)."""
    return c / lambda2(d, mu)


def default_max_iter(model_name: str, d: int, mu: float = 1.0) -> int:
    """Iteration budget: ``20 d / mu^2 + 10^4`` (linear; measured count ~ ``2 d / mu^2``)
    and ``1000 sqrt(d) + 10^4`` (tied; measured median ~ ``10 sqrt(d)``, max < ``30 sqrt d``
    up to ``d = 10^8`` at ``c = mu = 1``)."""
    _check_model(model_name)
    if model_name == "linear":
        budget = 20.0 * d / mu / mu  # mu^2 alone underflows to 0 for mu < 1e-154
        if not budget < 2**62:
            raise GDPerceptronError(
                f"the linear budget 20 d/mu^2 overflows at d={d}, mu={mu:g}; pass max_iter"
            )
        return int(budget) + 10_000
    return int(1000 * math.sqrt(d)) + 10_000


def _check_model(model_name: str) -> None:
    if model_name not in COMPLEXITY_MODELS:
        raise GDPerceptronError(
            f"unknown model {model_name!r}; choose one of {', '.join(COMPLEXITY_MODELS)}"
        )


def _check_d(d: Any) -> int:
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 2:
        raise GDPerceptronError(f"d must be an integer >= 2, got {d!r}")
    return int(d)


def _check_positive_int(x: Any, name: str, minimum: int = 1) -> int:
    if isinstance(x, bool) or not isinstance(x, int | np.integer) or x < minimum:
        raise GDPerceptronError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)


def _check_mu(mu: Any) -> float:
    try:
        mu = float(mu)
    except (TypeError, ValueError):
        raise GDPerceptronError(f"mu must be a number, got {mu!r}") from None
    if not (0 < mu < float("inf")):
        raise GDPerceptronError(f"mu must be a positive finite number, got {mu}")
    return mu


def reduced_init(
    model_name: str, d: int, *, seeds: int, seed: int, init_scale: float | None = None
) -> np.ndarray:
    """Reduced initial parameters, shape ``(seeds, p)``: row ``r`` is
    ``s / sqrt(d) * default_rng([seed, d, r]).standard_normal(p)`` with ``p = min(d, 3)``
    (linear) or ``min(d, 3) + 2`` (tied; order ``u_1, u_2, Q^T w``). Exactly the law of the
    projected ``N(0, s^2 I / d)`` init (module docstring)."""
    _check_model(model_name)
    d = _check_d(d)
    seeds = _check_positive_int(seeds, "seeds")
    seed = _check_positive_int(seed, "seed", 0)
    scale = (0.0 if model_name == "linear" else 1.0) if init_scale is None else init_scale
    if not (isinstance(scale, int | float) and 0 <= scale < float("inf")):
        raise GDPerceptronError(f"init_scale must be a finite number >= 0, got {scale!r}")
    p = min(d, 3) + (2 if model_name == "tied" else 0)
    rows = [np.random.default_rng([seed, d, r]).standard_normal(p) for r in range(seeds)]
    return float(scale) / math.sqrt(d) * np.stack(rows)


# While-loop passes per compiled call: long sweeps return to Python between chunks, so
# that Ctrl-C and SIGTERM are handled within a fraction of a second.
PASSES_PER_CALL = 2**18


@functools.lru_cache(maxsize=8)
def _compiled(model_name: str, k: int) -> Callable:
    """Jitted ``(state, X (2, k), y (2,), gamma, max_iter, passes) -> (state, passes run)``.

    ``state = (theta (S, p), t (S,), solved (S,), done (S,))``. One ``lax.while_loop``
    over the batch; each pass applies ``vmap(one)`` (one GD step of every run) and the
    loop stops when every run is solved, exhausted (``t = max_iter``) or non-finite, or
    after ``passes`` passes (the caller then calls again with the returned state). Data
    and step are traced, so one compilation serves every ``d``."""
    model = linear(k) if model_name == "linear" else tied(k)

    def loop(state, X: jax.Array, y: jax.Array, gamma: jax.Array, max_iter, passes):
        gd = perceptron_step(model, X, y, "gd", gamma)
        margins = margins_fn(model, X, y)

        def one(theta, t, solved, done):
            # state theta_t; record t if every margin of theta_t is > 0 (docs/theory/setting.md),
            # else step
            newly = ~done & jnp.all(margins(theta) > 0)
            solved = jnp.where(newly, t, solved)
            stop = done | newly | (t >= max_iter) | ~jnp.all(jnp.isfinite(theta))
            return jnp.where(stop, theta, gd(theta)), jnp.where(stop, t, t + 1), solved, stop

        step_all = jax.vmap(one)

        def body(carry):
            state, n = carry
            return step_all(*state), n + 1

        def more(carry):
            state, n = carry
            return ~jnp.all(state[3]) & (n < passes)

        return jax.lax.while_loop(more, body, (state, jnp.asarray(0, jnp.int64)))

    return jax.jit(loop)


def _solve(
    model_name: str, d: int, *, mu: float, step: float, theta0: np.ndarray, max_iter: int
) -> tuple[np.ndarray, int]:
    """Counts ``(S,)`` and the number of while-loop passes (a cost diagnostic).

    Identical rows of ``theta0`` (e.g. the linear model's ``v_0 = 0``) give identical
    runs, so only the distinct rows are simulated: the cost of a loop pass grows with the
    batch, and the linear runs at ``d = 10^7`` take ~2e7 passes. The loop runs in calls of
    at most :data:`PASSES_PER_CALL` passes (the same steps as one call: the state is
    carried over exactly)."""
    data = minimal_example_reduced(d, mu)
    rows, inverse = np.unique(theta0, axis=0, return_inverse=True)
    fn = _compiled(model_name, data.d)
    S = rows.shape[0]
    state = (
        jnp.asarray(rows),
        jnp.zeros(S, jnp.int64),
        -jnp.ones(S, jnp.int64),
        jnp.zeros(S, bool),
    )
    args = [jnp.asarray(a) for a in (data.X, data.y, np.float64(step), np.int64(max_iter))]
    chunk, total = jnp.asarray(PASSES_PER_CALL, jnp.int64), 0
    while True:
        state, passes = fn(state, *args, chunk)
        total += int(passes)
        if bool(jnp.all(state[3])):
            break
    return np.asarray(state[2], dtype=np.int64)[inverse.ravel()], total


@float64
def iterations_to_solve(
    model_name: str,
    d: int,
    *,
    mu: float = 1.0,
    step: float | None = None,
    seeds: int = 16,
    seed: int = 0,
    max_iter: int | None = None,
    init_scale: float | None = None,
    theta0: Any = None,
) -> np.ndarray:
    """First iteration ``t`` at which GD (LR+GD, docs/theory/reduction.md) has every margin ``>
    0``, per run.

    Args:
        model_name: ``"linear"`` or ``"tied"`` (docs/theory/models.md, ``P`` = swap of 1 and 2).
        d: dimension of the minimal example (docs/theory/minimal-example.md), ``>= 2``; any size
            (reduced, exact).
        mu: the data parameter ``mu > 0``.
        step: GD step ``gamma``; default 1 (linear) or ``1 / lambda_2`` (tied).
        seeds: number ``S`` of runs (ignored when ``theta0`` is given).
        seed: base seed; run ``r`` uses ``default_rng([seed, d, r])`` (:func:`reduced_init`).
        max_iter: budget per run; default :func:`default_max_iter`.
        init_scale: ``s`` of the init ``N(0, s^2 / d)``; default 0 (linear), 1 (tied).
        theta0: explicit reduced inits, shape ``(S, p)``: ``Q^T v_0`` (linear) or
            ``(u_1, u_2, Q^T w_0)`` (tied), ``Q`` = ``minimal_example_basis(d)``.

    Returns:
        ``(S,)`` int64 array: the solved iteration (``0`` = separated at init), or ``-1``
        for a run not solved within ``max_iter`` steps (or that became non-finite).

    Example:
        >>> from gdperceptron.analysis.complexity import iterations_to_solve
        >>> iterations_to_solve("linear", 10, seeds=2).tolist()  # v_0 = 0: deterministic
        [16, 16]
    """
    _check_model(model_name)
    d = _check_d(d)
    mu = _check_mu(mu)
    step = check_step(
        (1.0 if model_name == "linear" else tied_step(d, mu)) if step is None else step
    )
    if max_iter is None:
        max_iter = default_max_iter(model_name, d, mu)
    max_iter = _check_positive_int(max_iter, "max_iter", 0)
    if max_iter >= 2**62:
        raise GDPerceptronError(f"max_iter must be < 2^62 (int64 step counters), got {max_iter}")
    if theta0 is None:
        theta0 = reduced_init(model_name, d, seeds=seeds, seed=seed, init_scale=init_scale)
    else:
        theta0 = np.asarray(theta0, dtype=np.float64)
        p = min(d, 3) + (2 if model_name == "tied" else 0)
        if theta0.ndim != 2 or theta0.shape[1] != p or theta0.shape[0] < 1:
            raise GDPerceptronError(f"theta0 must have shape (S, {p}), got {theta0.shape}")
        if not np.all(np.isfinite(theta0)):
            raise GDPerceptronError("theta0 contains non-finite values")
    counts, _ = _solve(model_name, d, mu=mu, step=step, theta0=theta0, max_iter=max_iter)
    return counts


@functools.lru_cache(maxsize=1)
def _perceptron_loop() -> Callable:
    def loop(d, mu, max_iter):
        def hard(m):
            return jnp.where(m < 0, 1.0, jnp.where(m == 0, 0.5, 0.0))

        def solved(a, b):
            return (a > 0) & (-(a + mu * b) > 0)

        def body(state):
            a, b, t = state
            w1, w2 = hard(a), hard(-(a + mu * b))
            return a + w1 * d - w2 * (d + mu), b + w1 - w2 * (1.0 + mu), t + 1

        def more(state):
            return ~solved(state[0], state[1]) & (state[2] < max_iter)

        zero = jnp.asarray(0.0, jnp.float64)
        a, b, t = jax.lax.while_loop(more, body, (zero, zero, jnp.asarray(0, jnp.int64)))
        return jnp.where(solved(a, b), t, -1)

    return jax.jit(loop)


@float64
def perceptron_iterations(d: int, *, mu: float = 1.0, max_iter: int | None = None) -> int:
    """Iterations of the hard batch perceptron (``w_i = 1[m_i < 0] + 1/2 1[m_i = 0]``,
    docs/theory/reduction.md) from ``v_0 = 0`` to separate the minimal example with the
    linear model, or ``-1`` when not within ``max_iter`` (default :func:`default_max_iter`).

    From ``v_0 = 0`` the count does not depend on the step (the hard weights see only
    signs), so the step is taken as ``2`` (``eta / n = 1``) and the run is followed in the
    two numbers ``A = <v, 1_d>`` and ``B = <v, e_1>``: ``m_1 = A``, ``m_2 = -(A + mu B)``,
    ``A += w_1 d - w_2 (d + mu)``, ``B += w_1 - w_2 (1 + mu)``. For a dyadic ``mu`` (e.g. 1)
    every value is a dyadic rational below ``2^53``, so the ties ``m_i = 0`` (weight 1/2),
    which recur on these integer data, are met exactly. The reduced coordinates of
    :func:`iterations_to_solve` (``sqrt(d - 2)`` entries) round them away: they are exact
    for GD, whose weights are continuous, but not for the hard weights.

    Example:
        >>> perceptron_iterations(10)
        20
    """
    d = _check_d(d)
    mu = _check_mu(mu)
    budget = default_max_iter("linear", d, mu) if max_iter is None else max_iter
    budget = _check_positive_int(budget, "max_iter", 0)
    out = _perceptron_loop()(np.float64(d), np.float64(mu), np.int64(budget))
    return int(out)


def complexity_sweep(
    ds: Sequence[int] = DEFAULT_DS,
    *,
    seeds: int = 16,
    seed: int = 0,
    c: float = 1.0,
    linear_step: float = 1.0,
    mu: float = 1.0,
    max_iter: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Counts of both models over a grid of ``d`` (docs/theory/minimal-example.md): linear with step
    ``linear_step`` and ``v_0 = 0``; tied with step ``c / lambda_2`` and ``N(0, 1/d)`` init.

    Returns:
        ``{"linear": {...}, "tied": {...}, "config": {...}}``; per model: ``d``, ``step``
        (per ``d``), ``max_iter`` (per ``d``), ``counts`` (``len(ds)`` lists of ``seeds``
        ints, ``-1`` = unsolved), ``median``, ``q25``, ``q75`` (of the counts with unsolved
        runs set to ``max_iter``: lower bounds when ``unsolved > 0``), ``unsolved`` (per
        ``d``). ``progress(done, len(ds))`` is called after each ``d``.
    """
    ds_list = [_check_d(d) for d in ds]
    if not ds_list or len(set(ds_list)) != len(ds_list):
        raise GDPerceptronError(f"ds must be a non-empty list of distinct integers, got {ds!r}")
    c, linear_step, mu = check_step(c), check_step(linear_step), _check_mu(mu)
    out: dict[str, Any] = {m: {k: [] for k in _FIELDS} for m in COMPLEXITY_MODELS}
    for i, d in enumerate(ds_list):
        for name in COMPLEXITY_MODELS:
            gamma = linear_step if name == "linear" else tied_step(d, mu, c)
            budget = default_max_iter(name, d, mu) if max_iter is None else max_iter
            counts = iterations_to_solve(
                name, d, mu=mu, step=gamma, seeds=seeds, seed=seed, max_iter=budget
            )
            filled = np.where(counts < 0, budget, counts)
            q25, med, q75 = np.percentile(filled, [25, 50, 75])
            row = {"d": d, "step": gamma, "max_iter": int(budget), "counts": counts.tolist()}
            row |= {"median": float(med), "q25": float(q25), "q75": float(q75)}
            row["unsolved"] = int(np.sum(counts < 0))
            for key in _FIELDS:
                out[name][key].append(row[key])
        if progress is not None:
            progress(i + 1, len(ds_list))
    out["config"] = {
        "ds": ds_list,
        "seeds": int(seeds),
        "seed": int(seed),
        "c": c,
        "linear_step": linear_step,
        "mu": mu,
        "max_iter": max_iter,
        "linear_init_scale": 0.0,
        "tied_init_scale": 1.0,
        "seed_scheme": "run r at dimension d: numpy.random.default_rng([seed, d, r])",
    }
    return out


_MAX_BOOT_DRAWS = 2**26  # indices of one d's bootstrap draw (int64: 512 MiB)
_FIELDS = ("d", "step", "max_iter", "counts", "median", "q25", "q75", "unsolved")


def fit_loglog_slope(
    d: Sequence[int],
    counts_per_d: Sequence[Sequence[int]],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    max_iter: int | Sequence[int] | None = None,
    offset: float = 1.0,
) -> tuple[float, tuple[float, float]]:
    """OLS slope of ``log(median_d + offset)`` against ``log d`` and its 95% bootstrap CI.

    ``slope = sum_j (x_j - xbar)(z_j - zbar) / sum_j (x_j - xbar)^2`` with ``x_j = log d_j``,
    ``z_j = log(median of counts at d_j + offset)``. ``offset = 1`` counts the iterates
    ``theta_0 .. theta_t`` inspected (keeps runs solved at init, count 0, on the log scale).
    CI: percentile bootstrap, ``n_boot`` replicates, each resampling the runs *within*
    each ``d`` with replacement (runs are independent across ``d``; :func:`reduced_init`),
    ``rng = default_rng(seed)``. If every ``d`` has identical counts (e.g. the
    deterministic linear runs) the CI is the single point ``(slope, slope)``.

    Unsolved runs (``-1``) are never dropped: without ``max_iter`` they raise; with it
    (one value, or one per ``d``) they count as ``max_iter``, so the medians are lower
    bounds. Shapes: ``d`` ``(J,)``, ``counts_per_d`` ``J`` sequences (lengths may differ).
    """
    d_arr = np.asarray(d, dtype=np.float64)
    groups = [np.asarray(c, dtype=np.float64) for c in counts_per_d]
    if d_arr.ndim != 1 or d_arr.size < 2 or len(groups) != d_arr.size:
        raise GDPerceptronError(
            f"need >= 2 values of d and one list of counts per d; got {d_arr.size} d values "
            f"and {len(groups)} lists"
        )
    if not np.all(np.isfinite(d_arr)) or np.any(d_arr <= 0) or np.unique(d_arr).size < 2:
        raise GDPerceptronError("d values must be positive, finite and not all equal")
    if any(g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)) for g in groups):
        raise GDPerceptronError("each d needs a non-empty 1-D list of finite counts")
    if not (offset >= 0 and np.isfinite(offset)):
        raise GDPerceptronError(f"offset must be a finite number >= 0, got {offset}")
    n_boot = _check_positive_int(n_boot, "n_boot")
    if n_boot * max(g.size for g in groups) > _MAX_BOOT_DRAWS:
        raise GDPerceptronError(
            f"n_boot={n_boot} with {max(g.size for g in groups)} runs per d needs more than "
            f"{_MAX_BOOT_DRAWS:.3g} bootstrap indices per d; use a smaller n_boot"
        )
    budgets = np.broadcast_to(np.asarray(-1 if max_iter is None else max_iter), d_arr.shape)
    for j, g in enumerate(groups):
        if np.any((g < 0) & (g != -1)) or np.any(g != np.round(g)):
            raise GDPerceptronError(f"counts must be integers >= 0 or -1 (unsolved), at d={d[j]}")
        if np.any(g == -1):
            if budgets[j] < 0:
                raise GDPerceptronError(
                    f"{int(np.sum(g == -1))} unsolved run(s) at d={int(d_arr[j])}; pass "
                    "max_iter to count them as max_iter (the medians become lower bounds)"
                )
            groups[j] = np.where(g == -1, float(budgets[j]), g)
    x = np.log(d_arr)
    xc = x - x.mean()

    def slope_of(medians: np.ndarray) -> np.ndarray:
        if np.any(medians + offset <= 0):
            raise GDPerceptronError("a median count of 0 with offset 0 has no logarithm")
        z = np.log(medians + offset)
        # an elementwise product summed along the last axis, not a matrix product: BLAS
        # kernels sum a 1-D dot and the rows of a gemv in different orders, and the point
        # estimate must be bit-identical to a bootstrap replicate drawn from the same medians
        return np.sum((z - z.mean(axis=-1, keepdims=True)) * xc, axis=-1) / np.sum(xc * xc)

    slope = float(slope_of(np.array([np.median(g) for g in groups])))
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, len(groups)))
    for j, g in enumerate(groups):
        boot[:, j] = np.median(g[rng.integers(0, g.size, size=(n_boot, g.size))], axis=1)
    lo, hi = np.percentile(slope_of(boot), [2.5, 97.5])
    return slope, (float(lo), float(hi))
