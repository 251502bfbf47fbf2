"""Figures of the ``complexity`` experiment, drawn from saved records only: the counts
against ``d`` with the fits and the linear bound (decisive), the tied model's sweeps, and
the error-term ratio along the tied runs; and the figure of a saved
``gdperceptron complexity`` sweep. matplotlib is imported on the first drawing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron.experiments.base import Record
from gdperceptron.experiments.complexity_verdicts import (
    LINEAR_RULES,
    RULE_LABEL,
    _part,
    filled,
)


def _medq(rows: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = [filled(r["counts"], r["max_iter"]) for _, r in rows]
    q = np.array([np.percentile(x, [50, 25, 75]) for x in g])
    return q[:, 0], q[:, 1], q[:, 2]


def _counts_figure(records: list[Record], out_dir: Path) -> str:
    from gdperceptron.experiments.figures import new_figure, save_figure

    fig, ax = new_figure(ncols=2, width=5.6, height=4.2)
    left, right = ax[0, 0], ax[0, 1]
    rows = _part(records, "tied-d")
    d = np.array([p["d"] for p, _ in rows], dtype=float)
    med, q25, q75 = _medq(rows)
    gam = np.array([r["step"] for _, r in rows])
    left.loglog(d, med, "o-", color="C0", ms=4, label="tied, γ = 1/λ₂ (median, quartiles)")
    left.fill_between(d, q25, q75, color="C0", alpha=0.2, lw=0)
    for j, rule in enumerate(LINEAR_RULES):
        lin = [(p, r) for p, r in _part(records, "linear") if p["rule"] == rule]
        if not lin:
            continue
        dl = np.array([p["d"] for p, _ in lin], dtype=float)
        cl = np.array([filled(r["counts"], r["max_iter"])[0] for _, r in lin])
        left.loglog(
            dl,
            cl,
            "s-" if j else "s--",
            color=f"C{j + 1}",
            ms=3,
            label=f"linear, {RULE_LABEL[rule]}",
        )
        if rule == "1":
            bound = np.array([r["R2"] / r["margin"] ** 2 for _, r in lin])
            left.loglog(dl, bound, ":", color="k", lw=1.5, label="bound R²/γ*²")
    left.loglog(d, med[0] * np.sqrt(d / d[0]), ":", color="C0", lw=1, label="∝ √d")
    left.set(
        xlabel="dimension d",
        ylabel="iterations to separate",
        title="Minimal example: counts against d",
    )
    left.legend(fontsize=7)
    g = (med + 1) * gam
    right.semilogx(d, g, "o-", color="C0", ms=4, label="count × γ")
    right.semilogx(d, g / np.log(d), "s-", color="C3", ms=4, label="count × γ / ln d")
    right.set(
        xlabel="dimension d",
        ylabel="tied model, median",
        title="The log factor: count × γ against d",
    )
    right.legend()
    return save_figure(fig, out_dir, "complexity")


def _sweeps_figure(records: list[Record], out_dir: Path) -> str:
    from gdperceptron.experiments.figures import new_figure, save_figure

    fig, ax = new_figure(ncols=3, width=4.4, height=3.8)
    rows = _part(records, "tied-c", "c")
    c = np.array([p["c"] for p, _ in rows])
    med, q25, q75 = _medq(rows)
    a = ax[0, 0]
    a.loglog(c, med, "o-", ms=4, label="median (quartiles)")
    a.fill_between(c, q25, q75, alpha=0.2, lw=0)
    mid = int(np.argmin(np.abs(np.log(c))))
    a.loglog(c, med[mid] * c[mid] / c, ":", color="k", label="∝ 1/c")
    a.set(xlabel="c in γ = c/λ₂", ylabel="iterations", title=f"d = {rows[0][0]['d']:.0e}: step")
    a.legend()
    rows = _part(records, "tied-s", "init_scale")
    s = np.array([p["init_scale"] for p, _ in rows])
    med, q25, q75 = _medq(rows)
    a = ax[0, 1]
    a.semilogx(s, med, "o-", ms=4, label="median (quartiles)")
    a.fill_between(s, q25, q75, alpha=0.2, lw=0)
    a.set(xlabel="init scale s", ylabel="iterations", title="init N(0, s²/d)")
    a.legend()
    a = ax[0, 2]
    const = [(p, r) for p, r in records if p["part"] == "tied-const"]
    for j, gamma in enumerate(sorted({p["gamma"] for p, _ in const})):
        rows = sorted(((p, r) for p, r in const if p["gamma"] == gamma), key=lambda x: x[0]["d"])
        d = np.array([p["d"] for p, _ in rows], dtype=float)
        solved = [np.asarray(r["counts"])[np.asarray(r["counts"]) >= 0] for _, r in rows]
        med = np.array([np.median(c) if c.size else np.nan for c in solved])
        allok = np.array(
            [c.size == len(r["counts"]) for c, (_, r) in zip(solved, rows, strict=True)]
        )
        a.loglog(d, med, "-", color=f"C{j}", lw=1)
        a.loglog(d[allok], med[allok], "o", color=f"C{j}", ms=4, label=f"γ = {gamma:g}")
        if not allok.all():
            a.loglog(
                d[~allok],
                med[~allok],
                "o",
                mfc="none",
                color=f"C{j}",
                ms=5,
                label=f"γ = {gamma:g}, some runs diverge (median of the solved)",
            )
    a.set(xlabel="dimension d", ylabel="iterations", title="constant step")
    a.legend(fontsize=7)
    return save_figure(fig, out_dir, "complexity_sweeps")


def _xi_figure(records: list[Record], out_dir: Path) -> str:
    from gdperceptron.experiments.figures import new_figure, save_figure

    fig, ax = new_figure(width=6.0, height=4.0)
    a = ax[0, 0]
    for j, (p, r) in enumerate(_part(records, "xi")):
        t, ratio = np.asarray(r["curve_t"], dtype=float), np.asarray(r["curve_r"])
        if t.size == 0:
            continue
        a.semilogy(
            t / max(r["counts"][0], 1),
            ratio,
            "-",
            color=f"C{j}",
            lw=1,
            label=f"d = {p['d']:.0e} (seed 0)",
        )
    a.axhline(0.5, color="k", ls=":", lw=1, label="1/2")
    a.set(
        xlabel="t / iterations to separate",
        ylabel="‖ξ_t‖ / ‖θ_{t+1} − θ_t‖",
        title="Tied model: the reduction's error term along a run",
    )
    a.legend(fontsize=8)
    return save_figure(fig, out_dir, "complexity_xi")


def plot_all(records: list[Record], out_dir: Path) -> list[str]:
    """The decisive figure ``complexity``, ``complexity_sweeps`` and ``complexity_xi``."""
    out = Path(out_dir)
    return [_counts_figure(records, out), _sweeps_figure(records, out), _xi_figure(records, out)]


def draw_sweep(sweep: dict[str, Any], out_dir: str | Path, stem: str = "complexity") -> str:
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
