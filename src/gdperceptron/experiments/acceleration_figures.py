"""Figures of the acceleration experiment, drawn from its saved records only: iterations
against the step per model (one panel per data set) and the decisive one, the paired
speed-ups over the linear model with their 95% bootstrap intervals."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron.experiments.acceleration_stats import SPEEDUP, collect, compare
from gdperceptron.experiments.base import Record

FIG_STEPS = "acceleration_iterations_vs_step"
FIG_SPEEDUP = "acceleration_speedup"
MARKERS = {"diverged": "x", "stalled": "v", "non_finite": "^", "max_iter": "o"}


def lattice_medians(rows: list[dict[str, Any]]) -> list[tuple[float, float, str]]:
    """``(step, median iterations over the seeds that ran it, majority outcome)`` at each
    lattice step of the searches (``inf`` when most did not separate)."""
    by: dict[float, list[dict[str, Any]]] = {}
    for r in rows:
        for run in r["runs"]:
            if run["k"] is not None:
                by.setdefault(run["step"], []).append(run)
    out = []
    for step in sorted(by):
        its = [math.inf if x["iterations"] is None else x["iterations"] for x in by[step]]
        outs = [x["outcome"] for x in by[step] if x["iterations"] is None] or ["solved"]
        out.append((step, float(np.median(its)), max(set(outs), key=outs.count)))
    return out


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Two figures: iterations against the step per model (median over seeds at each
    lattice step, unsolved steps as markers of their outcome above the curves, each
    seed's best as a dot), one panel per data set; and the decisive one, the paired
    speed-ups with their 95% intervals per data set and model."""
    from gdperceptron.experiments.acceleration import MODELS  # import order: lazily
    from gdperceptron.experiments.figures import new_figure, save_figure

    data = collect(records)
    if not data:
        return []
    names = list(MODELS)
    fig, ax = new_figure(ncols=len(data), width=4.6, height=3.8)
    for j, (label, by_model) in enumerate(data.items()):
        axis = ax[0, j]
        top = max(1.0, *(r["best_iterations"] or 1 for rows in by_model.values() for r in rows))
        for m, rows in by_model.items():
            color = f"C{names.index(m)}"
            med = lattice_medians(rows)
            fin = [(s, v) for s, v, _ in med if math.isfinite(v)]
            if fin:
                xs, ys = zip(*fin, strict=True)
                axis.loglog(xs, ys, "-", color=color, lw=2.2 if m == "linear" else 1.2,
                            label=m)  # fmt: skip
            for s, v, why in med:
                if not math.isfinite(v):
                    axis.plot(s, top * 3 * (1 + 0.08 * names.index(m)), MARKERS.get(why, "o"),
                              color=color, mfc="none", ms=5)  # fmt: skip
            best = [(r["best_step"], r["best_iterations"]) for r in rows if r["best_step"]]
            if best:
                axis.plot(*zip(*best, strict=True), ".", color=color, ms=6)
        axis.set(xscale="log", yscale="log", xlabel="step γ",
                 ylabel="iterations to accuracy 1.0 (median of seeds)", title=label)  # fmt: skip
    ax[0, 0].legend(fontsize=7, title="above: x diverged, v stalled, o budget", title_fontsize=6)
    fig.tight_layout()
    stems = [save_figure(fig, out_dir, FIG_STEPS)]
    comps = {label: compare(by_model) for label, by_model in data.items()}
    fig, ax = new_figure(width=max(5.0, 1.6 * len(data)), height=3.8)
    axis = ax[0, 0]
    seen: set[str] = set()
    for j, comp in enumerate(comps.values()):
        for m, c in comp["models"].items():
            iv, i = c["speedup"], names.index(m)
            v, lo, hi = np.clip([iv.value, iv.low, iv.high], 1e-2, 1e3)
            name = None if m in seen else m
            axis.errorbar([j + 0.12 * (i - 3)], [v], yerr=[[v - lo], [hi - v]], fmt="o",
                          color=f"C{i}", ms=4, capsize=2, label=name)  # fmt: skip
            seen.add(m)
    axis.axhline(1.0, color="k", lw=0.8)
    axis.axhline(SPEEDUP, color="k", ls=":", lw=1)
    axis.set_yscale("log")
    ticks = [k if c["testable"] else f"{k} (cannot test)" for k, c in comps.items()]
    axis.set_xticks(range(len(comps)), ticks, rotation=20, fontsize=8)
    axis.set_ylabel("speed-up over linear (95% CI)")
    axis.legend(fontsize=7)
    fig.tight_layout()
    stems.append(save_figure(fig, out_dir, FIG_SPEEDUP))
    return stems
