"""Experiment ``complexity``: O~(sqrt d) (tied model) against Omega(d) (linear model) on
the minimal example (docs/theory/minimal-example.md).

One task per (model, d): ``seeds`` GD runs in the exact reduced coordinates
(:func:`gdperceptron.iterations_to_solve`). ``analyze`` fits the log-log slope
of the median count in ``d`` with a 95% bootstrap CI
(:func:`gdperceptron.fit_loglog_slope`) and decides the verdict with
:func:`verdict`. Figures are drawn by :func:`draw_complexity` from a saved sweep (the
dict of :func:`gdperceptron.complexity_sweep`, as written to JSON by
``gdperceptron complexity``, or rebuilt from saved records by :func:`sweep_from_records`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron.analysis.complexity import (
    COMPLEXITY_MODELS,
    DEFAULT_DS,
    default_max_iter,
    fit_loglog_slope,
    iterations_to_solve,
    tied_step,
)
from gdperceptron.experiments.base import Analysis, Experiment, Params, Record, Result

NAME = "complexity"
FIG = "complexity"
QUICK_DS = tuple(int(d) for d in np.unique(np.round(np.logspace(1, 5, 9))))
CLAIMED = {"linear": 1.0, "tied": 0.5}
HALF_WIDTH = 0.25
N_BOOT = 2000


def tasks(quick: bool) -> list[Params]:
    """One task per (model, d): the default grid (13 log-spaced d from 10 to 10^7, 16 runs)
    or, quick, 9 values from 10 to 10^5 with 8 runs."""
    ds, seeds = (QUICK_DS, 8) if quick else (DEFAULT_DS, 16)
    return [
        {"model": m, "d": d, "seeds": seeds, "seed": 0, "mu": 1.0, "c": 1.0, "linear_step": 1.0}
        for d in ds
        for m in COMPLEXITY_MODELS
    ]


def run_task(params: Params) -> Result:
    """Counts of ``params["seeds"]`` runs: linear with step ``linear_step`` and ``v_0 = 0``,
    tied with step ``c / lambda_2`` and ``N(0, 1/d)`` init; budget ``default_max_iter``."""
    model, d, mu = params["model"], int(params["d"]), float(params["mu"])
    step = float(params["linear_step"]) if model == "linear" else tied_step(d, mu, params["c"])
    budget = default_max_iter(model, d, mu)
    counts = iterations_to_solve(
        model,
        d,
        mu=mu,
        step=step,
        seeds=int(params["seeds"]),
        seed=int(params["seed"]),
        max_iter=budget,
    )
    return {"counts": counts.tolist(), "step": step, "max_iter": budget}


def sweep_from_records(records: list[Record]) -> dict[str, Any]:
    """The saved records as a sweep dict: per model, ``d`` (sorted) and per ``d``
    ``counts``, ``max_iter``, ``step``, ``unsolved``, and ``median``/``q25``/``q75`` of the
    counts with unsolved runs set to ``max_iter`` (then lower bounds)."""
    out: dict[str, Any] = {}
    for model in COMPLEXITY_MODELS:
        rows = sorted((p["d"], r) for p, r in records if p["model"] == model)
        part: dict[str, list] = {k: [] for k in ("d", "step", "max_iter", "counts", "unsolved")}
        part |= {"median": [], "q25": [], "q75": []}
        for d, r in rows:
            counts = np.asarray(r["counts"])
            q25, med, q75 = np.percentile(np.where(counts < 0, r["max_iter"], counts), [25, 50, 75])
            for key, value in (
                ("d", d),
                ("step", r["step"]),
                ("max_iter", r["max_iter"]),
                ("counts", r["counts"]),
                ("unsolved", int(np.sum(counts < 0))),
                ("median", float(med)),
                ("q25", float(q25)),
                ("q75", float(q75)),
            ):
                part[key].append(value)
        out[model] = part
    return out


def verdict(numbers: dict[str, Any]) -> tuple[bool, str]:
    """The decision rule. Reproduced iff, for each model, the 95% CI of the slope lies
    within ``HALF_WIDTH = 1/4`` of the claimed exponent (tied 1/2, linear 1) and no run is
    unsolved. 1/4 is half the gap between neighbouring exponents of the ladder
    0, 1/2, 1, 3/2: a CI inside it is nearer to the claimed exponent than to any other, in
    particular on the claimed side of 3/4, the midpoint between sqrt(d) and d. A CI need
    not contain 1/2 exactly: O~ allows polylog factors, which add ~k / ln d to the slope."""
    parts, ok = [], True
    for model, alpha in CLAIMED.items():
        lo, hi = numbers[f"{model}_slope_ci"]
        inside = alpha - HALF_WIDTH <= lo and hi <= alpha + HALF_WIDTH
        unsolved = numbers[f"{model}_unsolved"]
        ok = ok and inside and unsolved == 0
        parts.append(
            f"{model} slope {numbers[f'{model}_slope']:.3f} (95% CI [{lo:.3f}, {hi:.3f}], "
            f"claimed {alpha:g}{'' if inside else ', CI outside ±1/4'}"
            f"{f', {unsolved} unsolved runs' if unsolved else ''})"
        )
    head = "reproduced" if ok else "NOT reproduced"
    return ok, f"{head}: " + "; ".join(parts)


def analyze(records: list[Record]) -> Analysis:
    """Slopes with 95% percentile-bootstrap CIs (``n_boot = 2000``, seed 0) per model, the
    same over the upper half of the grid (``d >= sqrt(d_min d_max)``, the asymptotic
    regime), a table of median and quartiles per (model, d), and :func:`verdict`."""
    sweep = sweep_from_records(records)
    numbers: dict[str, Any] = {}
    table: list[dict[str, Any]] = []
    for model in COMPLEXITY_MODELS:
        s = sweep[model]
        slope, ci = fit_loglog_slope(
            s["d"], s["counts"], n_boot=N_BOOT, seed=0, max_iter=s["max_iter"]
        )
        d = np.asarray(s["d"], dtype=float)
        upper = d >= np.sqrt(d.min() * d.max())
        sel = [j for j in range(d.size) if upper[j]]
        numbers[f"{model}_slope"], numbers[f"{model}_slope_ci"] = slope, list(ci)
        if len(sel) >= 2:
            s2, ci2 = fit_loglog_slope(
                [s["d"][j] for j in sel],
                [s["counts"][j] for j in sel],
                n_boot=N_BOOT,
                seed=0,
                max_iter=[s["max_iter"][j] for j in sel],
            )
            numbers[f"{model}_slope_upper_half"], numbers[f"{model}_slope_upper_half_ci"] = (
                s2,
                list(ci2),
            )
        numbers[f"{model}_unsolved"] = int(sum(s["unsolved"]))
        numbers[f"{model}_median_at_dmax"] = s["median"][-1]
        for j, dj in enumerate(s["d"]):
            table.append(
                {
                    "model": model,
                    "d": dj,
                    "median": s["median"][j],
                    "q25": s["q25"][j],
                    "q75": s["q75"][j],
                    "unsolved": s["unsolved"][j],
                    "step": s["step"][j],
                }
            )
    numbers["d_min"], numbers["d_max"] = min(sweep["tied"]["d"]), max(sweep["tied"]["d"])
    ok, text = verdict(numbers)
    return Analysis(ok, text, table, numbers, FIG)


def draw_complexity(sweep: dict[str, Any], out_dir: str | Path, stem: str = FIG) -> str:
    """Log-log figure of a saved sweep: median count per ``d`` for each model, the
    interquartile band, and reference lines ``∝ d`` and ``∝ sqrt(d)`` through each
    model's median at the middle ``d``; slopes in the legend when the sweep has them.
    Writes ``<out_dir>/<stem>.png`` and ``.pdf``; returns ``stem``."""
    from gdperceptron.experiments.figures import new_figure, save_figure

    fig, ax = new_figure(width=6.0, height=4.4)
    axis = ax[0, 0]
    styles = {"linear": ("C3", "d", 1.0), "tied": ("C0", "√d", 0.5)}
    for model, (color, ref, power) in styles.items():
        s = sweep.get(model)
        if not s or not s.get("d"):
            continue
        d, med = np.asarray(s["d"], dtype=float), np.asarray(s["median"], dtype=float)
        label = f"{model}: median, band = quartiles"
        if s.get("slope") is not None:  # no slope is fitted on unsolved runs
            lo, hi = s["slope_ci"]
            label = f"{model}: slope {s['slope']:.3f} [{lo:.3f}, {hi:.3f}]"
        pos = med > 0
        axis.loglog(d[pos], med[pos], "o-", color=color, ms=4, label=label)
        q25, q75 = np.asarray(s["q25"], dtype=float), np.asarray(s["q75"], dtype=float)
        band = q25 > 0
        axis.fill_between(d[band], q25[band], q75[band], color=color, alpha=0.2, lw=0)
        mid = int(np.argmin(np.abs(np.log(d) - np.log(d).mean())))
        if med[mid] > 0:
            axis.loglog(
                d, med[mid] * (d / d[mid]) ** power, ":", color=color, lw=1.2, label=f"∝ {ref}"
            )
    axis.set(
        xlabel="dimension d",
        ylabel="iterations to separate (GD)",
        title="Minimal example: tied model vs linear model",
    )
    axis.legend()
    return save_figure(fig, out_dir, stem)


def plot_saved(json_path: str | Path, out_dir: str | Path | None = None) -> str:
    """Read a sweep saved as JSON and draw it beside the file (same stem)."""
    path = Path(json_path)
    sweep = json.loads(path.read_text())
    return draw_complexity(sweep, path.parent if out_dir is None else out_dir, path.stem)


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """The decisive figure, drawn from the saved records."""
    return [draw_complexity(sweep_from_records(records), out_dir, FIG)]


EXPERIMENT = Experiment(
    name=NAME,
    title="Iteration complexity in d: tied model O~(√d) vs linear model Ω(d)",
    claim=(
        "Gradient Descent as a Perceptron Algorithm (Tyurin 2025), minimal example: with "
        "x1 = 1_d (label +1) and x2 = 1_d + μ e1 (label -1), GD on the logistic loss needs "
        "Ω(d) iterations to separate the data with the linear model (any constant step), "
        "but only O~(√d) with the tied two-layer model f = u1<w, x> + u2<w, Px> at step "
        "1/λ2 from a small random initialisation."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
