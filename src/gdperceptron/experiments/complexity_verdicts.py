"""Statistics and verdict rules of the ``complexity`` experiment (the rules are stated in
the docstring of :mod:`gdperceptron.experiments.complexity`; each ``verdict_*`` function
below is one of them, a pure function of the statistics it names)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdperceptron.experiments.base import (
    Params,
    Record,
    Result,
)

LINEAR_RULES = ("1/lambda2", "1", "100", "perceptron")
BOUND_RULES = ("1", "100", "perceptron")
RULE_LABEL = {
    "1/lambda2": "γ = 1/λ₂",
    "1": "γ = 1",
    "100": "γ = 100",
    "perceptron": "hard perceptron",
}
N_BOOT = 2000
SMALL_S = 1e-2  # 4b: the "small" initialisations
TIGHT = 10.0  # "tight": the count is at least the bound over TIGHT over the upper half


# ------------------------------------------------------------------------------ statistics
def ols_slope(x: Any, z: Any) -> np.ndarray:
    """OLS slope ``sum_j (x_j - xbar)(z_j - zbar) / sum_j (x_j - xbar)^2`` along the last
    axis of ``z`` (shape ``(..., J)``; ``x`` shape ``(J,)``)."""
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean()
    z = np.asarray(z, dtype=np.float64)
    return np.sum((z - z.mean(axis=-1, keepdims=True)) * xc, axis=-1) / np.sum(xc * xc)


def filled(counts: Any, budget: int) -> np.ndarray:
    """Counts with unsolved runs (``-1``) set to their budget (medians become lower bounds)."""
    c = np.asarray(counts, dtype=np.float64)
    return np.where(c < 0, float(budget), c)


def boot_stat(
    groups: list[np.ndarray],
    fn: Callable[[np.ndarray], np.ndarray],
    *,
    paired: bool = False,
    n_boot: int = N_BOOT,
) -> tuple[float, float, float]:
    """``fn(medians)`` and its 95% percentile-bootstrap interval (``default_rng(0)``); ``fn``
    maps medians of shape ``(..., J)`` to ``(...)``. The runs are resampled within each group
    (independent groups, e.g. one per ``d``), or, ``paired``, with one draw of run indices
    shared by every group (the same seeds, hence the same initial directions, at every point
    of a sweep). Returns ``(value, low, high)``; identical runs give a point."""
    value = float(fn(np.array([np.median(g) for g in groups])))
    rng = np.random.default_rng(0)
    boot = np.empty((n_boot, len(groups)))
    if paired:
        size = {g.size for g in groups}
        if len(size) != 1:
            raise ValueError("a paired bootstrap needs the same number of runs in every group")
        idx = rng.integers(0, size.pop(), size=(n_boot, groups[0].size))
        for j, g in enumerate(groups):
            boot[:, j] = np.median(g[idx], axis=1)
    else:
        for j, g in enumerate(groups):
            boot[:, j] = np.median(g[rng.integers(0, g.size, size=(n_boot, g.size))], axis=1)
    lo, hi = np.percentile(fn(boot), [2.5, 97.5])
    return value, float(min(lo, value)), float(max(hi, value))


def _iv(v: tuple[float, float, float], nd: int = 3) -> str:
    return f"{v[0]:.{nd}f} [{v[1]:.{nd}f}, {v[2]:.{nd}f}]"


def _part(records: list[Record], part: str, key: str = "d") -> list[tuple[Params, Result]]:
    return sorted(((p, r) for p, r in records if p["part"] == part), key=lambda pr: pr[0][key])


def _groups(rows: list[tuple[Params, Result]]) -> list[np.ndarray]:
    return [filled(r["counts"], r["max_iter"]) for _, r in rows]


def _unsolved(rows: list[tuple[Params, Result]]) -> int:
    return int(sum(np.sum(np.asarray(r["counts"]) < 0) for _, r in rows))


# ---------------------------------------------------------------------------- the rules
def verdict_1a(high: float, unsolved: int) -> tuple[str, str]:
    """1a: reproduced iff no unsolved run and ``high <= 0.05``; partly iff ``<= 0.10``."""
    if unsolved or not high <= 0.10:
        return "not reproduced", ""
    if high <= 0.05:
        return "reproduced", ""
    return "partly", "with a log factor stronger than ln d, up to about (ln d)²"


def verdict_1b(low: float) -> tuple[str, str]:
    """1b: reproduced iff the interval of ``beta`` lies above 0."""
    return ("reproduced", "") if low > 0 else ("not reproduced", "")


def verdict_2(per_rule: dict[str, tuple[float, float, int]]) -> tuple[str, str]:
    """2: per rule ``(slope over the grid, slope over the upper half, unsolved)``."""
    ok = [k for k, (s, s2, u) in per_rule.items() if u == 0 and s >= 0.9 and s2 >= 0.9]
    if len(ok) == len(per_rule):
        return "reproduced", ""
    if ok:
        return "partly", "at " + ", ".join(RULE_LABEL[k] for k in ok)
    return "not reproduced", ""


def verdict_3(lp_error: float, per_rule: dict[str, tuple[bool, bool]]) -> tuple[str, str]:
    """3: per rule ``(holds, tight)``; ``lp_error`` is the largest relative difference of the
    closed-form margin and the QP's in units of the tolerance ``tol_d`` (must be ``<= 1``)."""
    if not lp_error <= 1.0:
        return "not reproduced", ""
    holds = [k for k, (h, _) in per_rule.items() if h]
    tight = [k for k, (h, t) in per_rule.items() if h and t]
    if len(tight) == len(per_rule):
        return "reproduced", ""
    if holds:
        cond = "as an upper bound at " + ", ".join(RULE_LABEL[k] for k in holds)
        loose = [RULE_LABEL[k] for k in holds if k not in tight]
        if loose:
            cond += f"; looser than {TIGHT:g}× at " + ", ".join(loose)
        return "partly", cond
    return "not reproduced", ""


def verdict_4a(a: tuple[float, float, float] | None, unsolved_small_c: int) -> tuple[str, str]:
    """4a: exponent ``a_c`` of the count in ``1/c``, ``None`` when fewer than 2 ``c`` solved."""
    if unsolved_small_c or a is None:
        return "not reproduced", ""
    if -0.25 <= a[1] and a[2] <= 0.25:
        return "reproduced", ""
    if a[1] > 0.25:
        return "partly", (
            f"γ = c/λ₂ with c fixed as d grows: the count scales as c^-{a[0]:.2f}, so the √d "
            "is that of the step 1/γ"
        )
    return "not reproduced", ""


def verdict_4b(
    e_small: tuple[float, float, float], e_all: tuple[float, float, float], unsolved: int
) -> tuple[str, str]:
    """4b: exponents of the count in ``1/s`` over ``s <= SMALL_S`` and over every ``s``."""

    def flat(e: tuple[float, float, float]) -> bool:
        return -0.1 <= e[1] and e[2] <= 0.1

    if unsolved or not flat(e_small):
        return "not reproduced", ""
    if flat(e_all):
        return "reproduced", ""
    return "partly", (
        f"from a small init, s ≤ {SMALL_S:g}; larger s separate sooner (exponent "
        f"{e_all[0]:.2f} of the count in 1/s over every s)"
    )


def verdict_4c(per_step: dict[float, tuple[float, float, float, int]]) -> tuple[str, str]:
    """4c: per constant step ``(slope, low, high, unsolved)`` over the upper half."""
    stable = {g: v for g, v in per_step.items() if v[3] == 0}
    if len(stable) == len(per_step) and all(
        0.35 <= lo and hi <= 0.75 for _, lo, hi, _ in stable.values()
    ):
        return "reproduced", ""
    slow = {g: v for g, v in stable.items() if v[2] <= 0.25}
    if slow:
        cond = "at the schedule γ ∝ 1/√d; at the constant step " + ", ".join(
            f"γ = {g:g} the count grows as d^{v[0]:.2f}" for g, v in slow.items()
        )
        unstable = [f"{g:g}" for g in per_step if g not in stable]
        if unstable:
            cond += "; at γ = " + ", ".join(unstable) + " runs fail to separate"
        return "partly", cond
    return "not reproduced", ""


def verdict_5(median_ratio: dict[int, float]) -> tuple[str, str]:
    """5: ``M_d`` per ``d``."""
    if all(m <= 0.1 for m in median_ratio.values()):
        return "reproduced", ""
    if all(m >= 0.5 for m in median_ratio.values()):
        return "not reproduced", ""
    where = [f"{d:.0e}" for d, m in median_ratio.items() if m < 0.5]
    return "partly", "at d ∈ {" + ", ".join(where) + "}, where the median ratio is below 1/2"
