"""Each model at its own best step: a bounded search on the quarter-decade step lattice.

The iterations to separate (docs/theory/setting.md) of LR+GD from a fixed start, as a
function of the step ``gamma``, fall roughly like ``1 / gamma`` up to a cliff above which
the run no longer separates (it diverges, stalls on dead units or overflows); the best
step sits just below the cliff. :func:`search` finds it on the lattice
``gamma_k = 10^(k / 4)`` (a quarter decade, :data:`K_MIN` <= k <= :data:`K_MAX`) plus
bisections in ``log gamma`` next to the best lattice step, as the instrument
:func:`gdperceptron.phase_diagram` does, but with budgets that make it affordable:

1. from the lattice step ``start_k``, with the full ``budget``; while no run separates,
   the next lattice step below the steps tried when the last run diverged, stalled or
   overflowed (above the cliff), above them when it ran out of budget (too slow), at most
   ``2`` :data:`MAX_TRIES` runs;
2. up from the first separating step, each run bounded by the best count ``B`` so far (a
   run that has not separated after ``B`` iterations cannot be the best: branch and bound),
   until ``patience`` consecutive lattice steps do not improve on ``B``;
3. down from the first separating step, bounded by ``B``, while the count does not grow
   (the count is not monotone in the step: the linear model has a flat, bumpy plateau);
4. ``refine`` bisections between the best lattice step and the next one up, each run
   bounded by ``B``; a midpoint that separates within ``B`` moves the lower end up.

The best step is the one with the fewest iterations (ties: the smaller step); it is
*interior* when runs at a smaller and at a larger step took more iterations or did not
separate within their budgets. A run whose float64 state overflows (``non_finite``) is run
again by the exact scaled engine (:func:`gdperceptron.run_scaled`, same budget) when the
model is positively homogeneous, so overflow is never counted as a failure to separate;
other models keep the class ``non_finite``. Every unsolved run keeps its outcome class
(docs/theory/diagnostics.md) and its budget.

The ``gamma -> inf`` limit (docs/theory/diagnostics.md) of a homogeneous model is the run
of the scaled engine at ``gamma =`` :data:`LIMIT_STEP`: after the first step every logistic
weight is exactly hard in float64, and the first step is ``theta_0 + gamma g_0`` with
``g_0`` from the logistic weights at ``theta_0``, which the normalization makes
``g_0 / ||g_0||``, as in ``step_limit`` of the phase instrument (the test compares the
two). It is run with the bound ``B``: does the limit separate within the best finite count?
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdperceptron import run, run_scaled

QUARTER = 0.25
K_MIN, K_MAX = -12, 16  # gamma from 1e-3 to 1e4
MAX_TRIES = 4  # an unsolved start: at most 2 x this many lattice steps tried
LIMIT_STEP = 1e300
SCALED_CHUNK = 32


def lattice(k: int) -> float:
    """``gamma_k = 10^(k / 4)``; ``lattice(0) == 1.0`` exactly."""
    return float(10.0 ** (k * QUARTER))


def lattice_floor(step: float) -> int:
    """The largest ``k`` with ``gamma_k <= step`` (rounding-safe for lattice steps)."""
    return int(math.floor(math.log10(step) / QUARTER + 1e-9))


def attempt(model: Any, data: Any, theta0: Any, step: float, budget: int) -> dict[str, Any]:
    """One LR+GD run at ``step`` with at most ``budget`` iterations; a ``non_finite`` run
    of a homogeneous model is run again by the scaled engine. Returns ``{"step",
    "iterations" (None: unsolved), "outcome", "budget", "engine"}``."""
    traj = run(model, data, "gd", step, theta0=theta0, max_iter=int(budget))
    engine = "full"
    if traj.stop_reason == "non_finite" and model.degree is not None:
        traj, engine = _scaled(model, data, theta0, step, int(budget)), "scaled"
    its, why = traj.solved_iteration, traj.stop_reason
    if its is not None and its > budget:  # a scaled scan ran past a budget below its length
        its, why = None, "max_iter"
    return {"step": float(step), "iterations": its, "outcome": why, "budget": int(budget),
            "engine": engine}  # fmt: skip


def _scaled(model: Any, data: Any, theta0: Any, step: float, budget: int) -> Any:
    """:func:`gdperceptron.run_scaled` in scans of :data:`SCALED_CHUNK` steps whatever the
    budget: a budget below the scan's length would shorten the scan and compile it again for
    every budget, so at least ``SCALED_CHUNK - 1`` steps are run (callers count a separation
    after ``budget`` as none)."""
    return run_scaled(model, data, "gd", step, theta0=theta0,
                      max_iter=max(budget, SCALED_CHUNK - 1), chunk=SCALED_CHUNK)  # fmt: skip


def gamma_limit(model: Any, data: Any, theta0: Any, budget: int) -> dict[str, Any] | None:
    """The ``gamma -> inf`` limit run within ``budget`` iterations (module docstring), or
    None for a model without a degree of homogeneity."""
    if model.degree is None:
        return None
    traj = _scaled(model, data, theta0, LIMIT_STEP, int(budget))
    its, why = traj.solved_iteration, traj.stop_reason
    if its is not None and its > budget:
        its, why = None, "max_iter"
    return {"iterations": its, "outcome": why, "budget": int(budget)}


def _better(it: int | None, best: int | None) -> bool:
    return it is not None and (best is None or it < best)


def search(
    model: Any,
    data: Any,
    theta0: Any,
    *,
    start_k: int,
    budget: int,
    patience: int = 2,
    refine: int = 2,
) -> dict[str, Any]:
    """The best step of ``model`` from ``theta0`` on ``data`` (module docstring).

    Returns ``{"runs": [run dicts with "k" (lattice index, None for a bisection point)],
    "best_step", "best_iterations" (None when nothing separated), "best_k" (lattice step
    at or below the best), "interior" (bool), "at_edge" (the search reached K_MIN or
    K_MAX)}``.
    """
    runs: dict[float, dict[str, Any]] = {}

    def go(step: float, cap: int, k: int | None) -> int | None:
        if step in runs:
            return runs[step]["iterations"]
        runs[step] = {**attempt(model, data, theta0, step, cap), "k": k}
        return runs[step]["iterations"]

    k0 = max(K_MIN, min(K_MAX, int(start_k)))
    k, it = k0, go(lattice(k0), budget, k0)
    # no separation at the start: above the cliff (diverged, stalled, overflow: go down)
    # or too slow (not within the budget: go up); the direction turns when a run says so
    lo_k = hi_k = k0
    way = 1 if runs[lattice(k0)]["outcome"] == "max_iter" else -1
    for _ in range(2 * MAX_TRIES):
        if it is not None:
            break
        j = hi_k + 1 if way > 0 else lo_k - 1
        if not K_MIN <= j <= K_MAX:
            way = -way
            continue
        lo_k, hi_k = min(lo_k, j), max(hi_k, j)
        k, it = j, go(lattice(j), budget, j)
        slow = runs[lattice(j)]["outcome"] == "max_iter"
        way = 1 if slow else -1
    if it is None:
        return _summary(runs, None, None)
    first_k, best_k, best = k, k, it
    j, miss = best_k + 1, 0
    while miss < patience and j <= K_MAX:  # up with the bound
        it = go(lattice(j), best, j)
        if _better(it, best):
            best_k, best, miss = j, it, 0
        else:
            miss += 1
        j += 1
    j = first_k - 1
    while j >= K_MIN:  # down from the first separating step, bounded, while it improves
        it = go(lattice(j), best, j)
        if it is None or it > best:
            break
        best_k, best, j = j, it, j - 1  # ties: the smaller step
    best_step = lattice(best_k)
    if best_k + 1 <= K_MAX and lattice(best_k + 1) in runs:
        lo, hi = lattice(best_k), lattice(best_k + 1)
        for _ in range(int(refine)):
            mid = math.sqrt(lo * hi)
            it = go(mid, best, None)
            if it is not None:
                lo = mid
                if it < best:
                    best, best_step = it, mid
            else:
                hi = mid
    return _summary(runs, best_step, best)


def _summary(runs: dict[float, dict[str, Any]], step: float | None, best: int | None) -> dict:
    order = sorted(runs)
    rows = [runs[s] for s in order]
    ks = [r["k"] for r in rows if r["k"] is not None]
    at_edge = bool(ks) and (min(ks) <= K_MIN or max(ks) >= K_MAX)
    interior = False
    if step is not None:
        worse = [s for s in order if runs[s]["iterations"] is None or runs[s]["iterations"] > best]
        interior = any(s < step for s in worse) and any(s > step for s in worse)
    return {"runs": rows, "best_step": step, "best_iterations": best,
            "best_k": None if step is None else lattice_floor(step),
            "interior": bool(interior), "at_edge": at_edge}  # fmt: skip


def steps_spanned(result: dict[str, Any]) -> tuple[float, float]:
    """Smallest and largest step run by a :func:`search`."""
    steps = np.array([r["step"] for r in result["runs"]])
    return float(steps.min()), float(steps.max())
