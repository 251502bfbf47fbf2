"""The predecessor's two theorems on small data sets (docs/theory/predecessor.md).

(a) Theorem 4.1, the loss is unreliable. On the pair ``(1, -1)`` with label +1 and
``(-1, -4)`` with label -1, with ``v_0 = 0``: ``a_1 = (1, -1)``, ``a_2 = (1, 4)``.
Every weight is ``sigma(0) = 1/2`` at the start, so ``v_1 = (gamma/2)(1/2)(a_1 + a_2) =
gamma (1/2, 3/4)``, with margins ``-gamma/4`` and ``7 gamma/2``: the loss after one step
is ``(softplus(gamma/4) + softplus(-7 gamma/2)) / 2 ~ gamma/8``, unbounded in gamma. The
second step adds ``(gamma/2) sigma(gamma/4) a_1 + ...``, so ``v_2 / gamma`` tends to the
batch perceptron's ``v̂_2 = (1, 1/4)`` (Theorem 3.2, docs/theory/predecessor.md), which
separates the data (margins 3/4 and 2), and the loss after two steps tends to 0.

(b) Theorem 5.1, the worst case of the batch perceptron: one sample ``(0.5, -1)`` with
label +1 and ``n - 1`` samples ``(-0.5, -1)`` with label -1. Iterations to separate, from
``v_0 = 0``, for LR+GD, the batch perceptron and Normalized LR+GD at steps 0.1, 1, 10,
100. The batch perceptron's count does not depend on its step from 0 (its iterates scale
with it); derived here: ``v_1 = eta (1/4, (n-2)/(2n))`` and then only sample 1 is
misclassified, each step adding ``(eta/n)(1/2, -1)`` and raising its margin by
``1.25 eta/n`` from ``eta (1/8 - (n-2)/(2n))``, so for ``n >= 3`` it needs
``2 + floor((3n - 8)/10)`` iterations: linear in n. Normalized LR+GD divides by the mean
weight, about ``1/n`` here, so its steps are ``n`` times longer.

Tasks: one for (a) with every gamma and the gamma -> infinity limit (the batch perceptron),
one per (n, algorithm) for (b) with all steps inside: one compilation per data shape and
algorithm, never repeated in another worker.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron import linear, loss_unreliable, run, worst_case
from gdperceptron.experiments.base import (
    Analysis,
    Experiment,
    Params,
    Record,
    Result,
    SubClaim,
    Table,
)

NAME = "predecessor"
GAMMAS = {True: (1.0, 1e2, 1e4, 1e6), False: (1.0, 10.0, 1e2, 1e3, 1e4, 1e5, 1e6)}
NS = {True: (8, 32, 128), False: (2, 4, 8, 16, 32, 64, 128, 256, 512)}
MAX_ITER = {True: 50_000, False: 200_000}
STEPS = (0.1, 1.0, 10.0, 100.0)
ALGORITHMS = ("gd", "perceptron", "normalized-gd")
LABELS = {"gd": "LR+GD", "perceptron": "batch perceptron", "normalized-gd": "Normalized LR+GD"}
GAMMA_FIT_MIN = 100.0  # loss after one step ~ gamma/8 once softplus(gamma/4) is linear
N_FIT_MIN = 8  # log-log slopes in n are fitted on n >= 8 (small n: start-up effects)
FIG_LOSS = "predecessor_loss_unreliable"
FIG_WORST = "predecessor_worst_case"


def tasks(quick: bool) -> list[Params]:
    """Task params: one ``loss_unreliable`` task (every gamma and the limit: two
    compilations in one process), then ``worst_case`` per (n, algorithm)."""
    out: list[Params] = [{"part": "loss_unreliable", "gammas": list(GAMMAS[quick])}]
    out += [
        {
            "part": "worst_case",
            "n": n,
            "algorithm": a,
            "steps": list(STEPS),
            "max_iter": MAX_ITER[quick],
        }
        for n in NS[quick]
        for a in ALGORITHMS
    ]
    return out


def _two_steps(algorithm: str, gamma: float) -> dict[str, Any]:
    """``v_1``, ``v_2``, the losses at t = 0, 1, 2 and the margins of ``v_2`` on the pair."""
    data, model = loss_unreliable(), linear(2)
    one = run(model, data, algorithm, gamma, theta0=np.zeros(2), max_iter=1, stop_when_solved=False)
    two = run(model, data, algorithm, gamma, theta0=np.zeros(2), max_iter=2, stop_when_solved=False)
    return {
        "v1": one.final_params.tolist(),
        "v2": two.final_params.tolist(),
        "loss": [float(x) for x in two.metrics["loss"]],
        "margins1": one.final_margins.tolist(),
        "margins2": two.final_margins.tolist(),
    }


def run_task(params: Params) -> Result:
    """One task (see :func:`tasks`); pure in ``params``."""
    if params["part"] == "loss_unreliable":
        return {
            "gd": [_two_steps("gd", float(g)) for g in params["gammas"]],
            # the gamma -> infinity limit of v_t / gamma: the batch perceptron with eta = 1
            "limit": _two_steps("perceptron", 1.0),
        }
    n, alg = int(params["n"]), str(params["algorithm"])
    runs = []
    for step in params["steps"]:
        traj = run(
            linear(2),
            worst_case(n),
            alg,
            float(step),
            theta0=np.zeros(2),
            max_iter=int(params["max_iter"]),
        )
        runs.append(
            {
                "step": float(step),
                "iterations": traj.solved_iteration,
                "stop_reason": traj.stop_reason,
            }
        )
    return {"runs": runs}


def log_slope(x: Any, y: Any) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (NaN with fewer than 2 points)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = (x > 0) & (y > 0) & np.isfinite(y)
    if ok.sum() < 2 or np.ptp(np.log(x[ok])) == 0:
        return math.nan
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def _loss_rows(records: list[Record]) -> tuple[list[tuple[float, Result]], Result | None]:
    """``[(gamma, two-step result), ...]`` sorted by gamma, and the limit's result."""
    rows: list[tuple[float, Result]] = []
    limit = None
    for params, result in records:
        if params["part"] == "loss_unreliable":
            rows += zip(params["gammas"], result["gd"], strict=True)
            limit = result["limit"]
    return sorted(rows, key=lambda row: row[0]), limit


def _counts(records: list[Record]) -> dict[tuple[str, float], dict[int, int | None]]:
    """``(algorithm, step) -> {n: iterations or None}`` from the worst-case records."""
    out: dict[tuple[str, float], dict[int, int | None]] = {}
    for params, result in records:
        if params["part"] == "worst_case":
            for r in result["runs"]:
                out.setdefault((params["algorithm"], r["step"]), {})[params["n"]] = r["iterations"]
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def _loss_part(records: list[Record]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Numbers and table rows of part (a)."""
    rows, limit = _loss_rows(records)
    if not rows:
        return {}, []
    g = np.array([x for x, _ in rows])
    loss1 = np.array([r["loss"][1] for _, r in rows])
    loss2 = np.array([r["loss"][2] for _, r in rows])
    v2 = np.array([r["v2"] for _, r in rows]) / g[:, None]
    vhat2 = np.array(limit["v2"]) if limit else np.full(2, np.nan)
    dist = np.linalg.norm(v2 - vhat2, axis=1)
    fit = g >= GAMMA_FIT_MIN if np.sum(g >= GAMMA_FIT_MIN) >= 2 else np.ones_like(g, bool)
    table = [
        {
            "step γ": float(gi),
            "loss after 1 step": float(l1),
            "loss after 2 steps": float(l2),
            "v2/γ": "(" + ", ".join(f"{float(c):.6g}" for c in v) + ")",
            "|v2/γ − v̂2|": float(d),
            "min margin of v2": float(min(r["margins2"])),
        }
        for gi, l1, l2, v, d, (_, r) in zip(g, loss1, loss2, v2, dist, rows, strict=True)
    ]
    numbers = {
        "gamma_max": float(g[-1]),
        "loss1_at_gamma_max": float(loss1[-1]),
        "loss1_slope_in_gamma": log_slope(g[fit], loss1[fit]),
        "loss2_at_gamma_max": float(loss2[-1]),
        "v2_over_gamma_at_gamma_max": v2[-1].tolist(),
        "perceptron_limit_v2": vhat2.tolist(),
        "dist_to_limit_at_gamma_max": float(dist[-1]),
        "v2_separates_at_gamma_max": bool(min(rows[-1][1]["margins2"]) > 0),
    }
    return numbers, table


def _worst_part(records: list[Record]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Numbers and table rows of part (b)."""
    counts = _counts(records)
    numbers: dict[str, Any] = {}
    table = []
    for (alg, step), by_n in counts.items():
        ns = [n for n, c in by_n.items() if n >= N_FIT_MIN and c is not None]
        slope = log_slope(ns, [by_n[n] for n in ns])
        solved = [c for c in by_n.values() if c is not None]
        numbers[f"slope_{alg}_step_{step:g}"] = slope
        numbers[f"max_iterations_{alg}_step_{step:g}"] = max(solved) if solved else None
        row = {"algorithm": LABELS[alg], "step γ": step}
        row.update({f"n = {n}": "not within budget" if c is None else c for n, c in by_n.items()})
        row["slope (n≥8)"] = slope
        table.append(row)
    big = max(STEPS)
    gd, perc = counts.get(("gd", big), {}), counts.get(("perceptron", big), {})
    common = [n for n in gd if gd[n] is not None and perc.get(n) is not None]
    if common:  # LR+GD with a large step tracks the batch perceptron (docs/theory/predecessor.md)
        numbers[f"gd_over_perceptron_step_{big:g}_n_{max(common)}"] = (
            gd[max(common)] / perc[max(common)]
        )
    return numbers, table


def analyze(records: list[Record]) -> Analysis:
    """Four sub-claims, each reproduced or not by a fixed rule: (1) loss after one step
    grows ~linearly in gamma (log-log slope within 0.1 of 1); (2) after two steps it is
    below 1e-12 at the largest gamma and ``v_2/gamma`` is within 1e-6 of the separating
    ``v̂_2``; (3) batch perceptron slope in n within 0.2 of 1; (4) Normalized LR+GD slope at
    the largest step below 0.1."""
    a, table_a = _loss_part(records)
    b, table_b = _worst_part(records)
    big = max(STEPS)
    p_slope = b.get(f"slope_perceptron_step_{big:g}", math.nan)
    ngd_slope = b.get(f"slope_normalized-gd_step_{big:g}", math.nan)
    ngd_max = b.get(f"max_iterations_normalized-gd_step_{big:g}")
    slope1 = a.get("loss1_slope_in_gamma", math.nan)
    others = [s for s in STEPS if s != big and f"slope_normalized-gd_step_{s:g}" in b]
    small = (
        f"; at steps {', '.join(f'{s:g}' for s in others)} its slopes are "
        + ", ".join(f"{b[f'slope_normalized-gd_step_{s:g}']:.2f}" for s in others)
        if others
        else ""
    )

    def word(ok: bool) -> str:
        return "reproduced" if ok else "not reproduced"

    g_max = a.get("gamma_max", math.nan)
    claims = (
        SubClaim(
            "1",
            "Theorem 4.1: the loss is unreliable, after one step it grows without bound in γ",
            "log-log slope of the loss after one step in γ (γ ≥ 100) within 0.1 of 1",
            word(abs(slope1 - 1.0) <= 0.1),
            f"slope {slope1:.3f}; loss after 1 step {a.get('loss1_at_gamma_max', math.nan):.3g} "
            f"at γ = {g_max:.0e}",
        ),
        SubClaim(
            "2",
            "Theorem 4.1 / 3.2: yet after two steps the data are separated and the loss tends "
            "to 0, with v2/γ tending to the batch perceptron's v̂2",
            "at the largest γ: loss after 2 steps < 1e-12, |v2/γ − v̂2| < 1e-6, v2 separates",
            word(
                a.get("loss2_at_gamma_max", math.inf) < 1e-12
                and a.get("dist_to_limit_at_gamma_max", math.inf) < 1e-6
                and bool(a.get("v2_separates_at_gamma_max", False))
            ),
            f"loss after 2 steps {a.get('loss2_at_gamma_max', math.nan):.3g}, |v2/γ − v̂2| = "
            f"{a.get('dist_to_limit_at_gamma_max', math.nan):.2g} at γ = {g_max:.0e}",
        ),
        SubClaim(
            "3",
            "Theorem 5.1: on the worst case the batch perceptron needs a number of iterations "
            "linear in n",
            f"log-log slope of its count in n (n ≥ {N_FIT_MIN}) within 0.2 of 1",
            word(abs(p_slope - 1.0) <= 0.2),
            f"iterations ~ n^{p_slope:.2f} (closed form 2 + floor((3n − 8)/10))",
        ),
        SubClaim(
            "4",
            "Theorem 5.1: Normalized LR+GD with a large step separates the worst case in a "
            "number of iterations that does not grow with n",
            f"log-log slope of its count in n at step {big:g} below 0.1",
            word(ngd_slope < 0.1),
            f"at step {big:g} at most {ngd_max} iterations for every n (slope "
            f"{ngd_slope:.2f}){small}",
        ),
    )
    tables = (
        Table("Loss after one and two steps (Theorem 4.1)", table_a),
        Table("Iterations to separate the worst case (Theorem 5.1)", table_b, key_columns=2),
    )
    return Analysis(claims=claims, tables=tables, numbers={**a, **b}, decisive_figure=FIG_WORST)


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Figures: loss after 1 and 2 steps vs gamma (log-log, with ``|v_2/gamma - v̂_2|``),
    and iterations vs n per algorithm, one panel per step."""
    from gdperceptron.experiments.figures import new_figure, save_figure

    stems = []
    rows, limit = _loss_rows(records)
    if rows:
        fig, ax = new_figure(ncols=2, width=5.5)
        g = np.array([x for x, _ in rows])
        dist = np.full(len(g), np.nan)
        if limit:
            v2 = np.array([r["v2"] for _, r in rows]) / g[:, None]
            dist = np.linalg.norm(v2 - np.array(limit["v2"]), axis=1)
        series = [
            (ax[0, 0], [r["loss"][1] for _, r in rows], "loss after 1 step", "C3"),
            (ax[0, 0], [r["loss"][2] for _, r in rows], "loss after 2 steps", "C0"),
            (ax[0, 1], dist, "|v2/γ − v̂2|", "C2"),
        ]
        for axis, y, label, color in series:
            _loglog_with_zeros(axis, g, np.asarray(y, dtype=float), label, color)
        ax[0, 0].plot(g, g / 8, "k:", lw=1, label="γ/8")
        ax[0, 0].set(xlabel="step γ", ylabel="logistic loss", title="Loss is unreliable (Thm 4.1)")
        ax[0, 1].set(xlabel="step γ", ylabel="distance", title="v2/γ → perceptron's v̂2")
        for axis in ax[0]:
            axis.legend()
            axis.minorticks_off()  # log minor ticks cost most of the drawing time
        stems.append(save_figure(fig, out_dir, FIG_LOSS))
    counts = _counts(records)
    if counts:
        fig, ax = new_figure(ncols=len(STEPS), width=3.6)
        for j, step in enumerate(STEPS):
            axis = ax[0, j]
            if j:
                axis.sharey(ax[0, 0])
            for k, alg in enumerate(ALGORITHMS):
                by_n = counts.get((alg, step), {})
                ns = [n for n, c in by_n.items() if c is not None]
                axis.loglog(
                    ns,
                    [by_n[n] for n in ns],
                    "o-",
                    color=f"C{k}",
                    label=LABELS[alg],
                    ms=4,
                    alpha=0.8,
                )
            axis.set(xlabel="n", title=f"step {step:g}")
            axis.minorticks_off()  # log minor ticks cost most of the drawing time
        ax[0, 0].set_ylabel("iterations to separate")
        ax[0, 0].legend()
        stems.append(save_figure(fig, out_dir, FIG_WORST))
    return stems


def _loglog_with_zeros(axis: Any, x: np.ndarray, y: np.ndarray, label: str, color: str) -> None:
    """Plot positive values on log-log axes; values that are exactly 0 in float64 are
    marked with down-triangles at the bottom of the axis."""
    pos = y > 0
    axis.loglog(x[pos], y[pos], "o-", color=color, label=label, ms=4)
    if np.any(y == 0):
        floor = np.min(y[pos]) / 10 if np.any(pos) else 1e-300
        axis.plot(
            x[y == 0],
            np.full(np.sum(y == 0), floor),
            "v",
            color=color,
            label=f"{label} = 0 in float64",
        )


EXPERIMENT = Experiment(
    name=NAME,
    title="Predecessor: the loss is unreliable; the batch perceptron's worst case",
    claim=(
        "From logistic regression to the perceptron (Tyurin 2024), Theorem 4.1: on two "
        "samples, one LR+GD step from 0 makes the loss grow without bound in the step γ, "
        "yet after two steps v2/γ converges to a separating direction and the loss to 0. "
        "Theorem 5.1: on one sample (0.5, -1) with label +1 and n-1 samples (-0.5, -1) with "
        "label -1 the batch perceptron needs Ω(n) iterations, Normalized LR+GD a number that "
        "does not grow with n."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
