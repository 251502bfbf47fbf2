"""Figures of the acceleration experiment, drawn from its saved records only: iterations
against the step per model (one panel per data set) and the decisive one, the paired
speed-ups over the linear model with their 95% bootstrap intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron.experiments.acceleration_stats import SPEEDUP, collect, compare, roles
from gdperceptron.experiments.base import Record

FIG_STEPS = "acceleration_iterations_vs_step"
FIG_SPEEDUP = "acceleration_speedup"
ORDER = {"hard": 0, "easy": 1, "bundled": 2}
MARKERS = {"diverged": "x", "stalled": "v", "non_finite": "^", "max_iter": "o"}


def seed_curve(row: dict[str, Any]) -> tuple[list[tuple[float, int]], list[tuple[float, str]]]:
    """One seed's search: ``(step, iterations)`` of the runs that separated and ``(step,
    outcome)`` of those that did not (within their budgets), steps ascending."""
    runs = sorted(row["runs"], key=lambda r: r["step"])
    solved = [(r["step"], r["iterations"]) for r in runs if r["iterations"] is not None]
    unsolved = [(r["step"], r["outcome"]) for r in runs if r["iterations"] is None]
    return solved, unsolved


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Two figures: iterations against the step per model, one panel per data set (each
    seed's search as a thin line through the runs that separated, the runs that did not as
    markers of their outcome above the curves, the median over seeds of the best step and
    its count as a large dot); and the decisive one, the paired speed-ups with their 95%
    intervals per data set and model."""
    from gdperceptron.experiments.acceleration import MODELS  # import order: lazily
    from gdperceptron.experiments.figures import new_figure, save_figure

    role = roles(records)
    data = dict(sorted(collect(records).items(), key=lambda kv: (ORDER.get(role[kv[0]], 9),
                                                                   kv[0])))  # fmt: skip
    if not data:
        return []
    names = list(MODELS)
    ncols = min(3, len(data))
    nrows = -(-len(data) // ncols)
    fig, ax = new_figure(ncols=ncols, nrows=nrows, width=4.6, height=3.8)
    for axis in ax.flat[len(data) :]:
        axis.set_visible(False)
    for j, (label, by_model) in enumerate(data.items()):
        axis = ax.flat[j]
        counts = [c for rows in by_model.values() for r in rows for _, c in seed_curve(r)[0]]
        top = max([1.0, *counts])
        for m, rows in by_model.items():
            i = names.index(m)
            color, lw = f"C{i}", 1.6 if m == "linear" else 0.8
            for row in rows:
                solved, unsolved = seed_curve(row)
                if solved:
                    axis.plot(*zip(*solved, strict=True), "-", color=color, lw=lw, alpha=0.6)
                for step, why in unsolved:
                    axis.plot(step, top * 2 * 1.15**i, MARKERS.get(why, "o"), color=color,
                              mfc="none", ms=4, alpha=0.7)  # fmt: skip
            best = [(r["best_step"], r["best_iterations"]) for r in rows if r["best_step"]]
            if best:
                steps, its = zip(*best, strict=True)
                axis.plot(np.median(steps), np.median(its), "o", color=color, ms=7,
                          mec="k", label=m)  # fmt: skip
        axis.set(xscale="log", yscale="log", xlabel="step γ",
                 ylabel="iterations to accuracy 1.0", title=label)  # fmt: skip
    shown: dict[str, Any] = {}
    for axis in ax.flat:
        for handle, name in zip(*axis.get_legend_handles_labels(), strict=True):
            shown.setdefault(name, handle)
    ax[0, 0].legend(list(shown.values()), list(shown), fontsize=7, title_fontsize=6,
                    title="top: x diverged, v stalled, ^ non-finite, o budget")  # fmt: skip
    fig.tight_layout()
    stems = [save_figure(fig, out_dir, FIG_STEPS)]
    comps = {label: compare(by_model) for label, by_model in data.items()}
    fig, ax = new_figure(width=max(5.0, 1.6 * len(data)), height=3.8)
    axis = ax[0, 0]
    seen: set[str] = set()
    for j, comp in enumerate(comps.values()):
        width = len(comp["models"])
        for q, (m, c) in enumerate(comp["models"].items()):
            iv, i = c["speedup"], names.index(m)
            v, lo, hi = np.clip([iv.value, iv.low, iv.high], 1e-2, 1e3)
            name = None if m in seen else m
            x = j + 0.12 * (q - (width - 1) / 2)
            axis.errorbar([x], [v], yerr=[[v - lo], [hi - v]], fmt="o", color=f"C{i}", ms=4,
                          capsize=2, label=name)  # fmt: skip
            seen.add(m)
    axis.axhline(1.0, color="k", lw=0.8)
    axis.axhline(SPEEDUP, color="k", ls=":", lw=1)
    axis.set_yscale("log")
    ticks = [k if c["testable"] else f"{k} (cannot test)" for k, c in comps.items()]
    axis.set_xticks(range(len(comps)), ticks, rotation=20, fontsize=8)
    axis.set_xlim(-0.6, len(comps) - 0.4)
    axis.set_ylabel("speed-up over linear (95% CI)")
    axis.set_title("points at 0.01: a seed the model did not separate within its budget",
                   fontsize=8)  # fmt: skip
    axis.legend(fontsize=7)
    fig.tight_layout()
    stems.append(save_figure(fig, out_dir, FIG_SPEEDUP))
    return stems
