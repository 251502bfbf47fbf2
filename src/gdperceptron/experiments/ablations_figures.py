"""The figures of the ``ablations`` experiment, from its saved records: iterations at the
best step against d per variant (decisive), and the Fashion-MNIST control."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gdperceptron.experiments.ablations_analysis import (
    CLAIM_VARIANTS,
    FACTORISATION,
    FIG,
    LABEL,
    as_count,
    claim_fmnist,
    fmnist_runs,
    median_count,
    minimal_curves,
)
from gdperceptron.experiments.base import Record

FIG_FMNIST = "ablations_fmnist_control"
PANELS = {
    "factorisation": FACTORISATION,
    "biases, activations, depth": ("two-layer relu", "relu + bias", "leaky relu",
                                   "mlp depth 3", "mlp depth 4", "square"),
    "width scaling": CLAIM_VARIANTS["5"],
}  # fmt: skip


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Median best-step iterations vs d per variant (log-log; a cross at the top where the
    median is unsolved), one panel per group of variants (the first also with the linear
    model at the paper's step), with sqrt(d) and d guides; and,
    with Fashion-MNIST records, the per-seed best counts and the paired speed-ups."""
    from gdperceptron.experiments.figures import new_figure, save_figure

    cur = minimal_curves(records)
    stems: list[str] = []
    if cur:
        fig, ax = new_figure(ncols=len(PANELS), width=4.8, height=4.0)
        for j, (title, names) in enumerate(PANELS.items()):
            axis = ax[0, j]
            names = [v for v in names if v in cur]
            fin = [x for v in names for x in cur[v]["best"].values() if math.isfinite(x)]
            top = 2.0 * max(fin, default=1.0)
            dd = np.array(sorted({d for v in names for d in cur[v]["best"]}), dtype=float)
            for k, v in enumerate(names):
                d = np.array(list(cur[v]["best"]), dtype=float)
                its = np.array(list(cur[v]["best"].values()), dtype=float)
                ok = np.isfinite(its)
                style = "s--" if v in ("linear model", "tied (reference)") else "o-"
                axis.loglog(d[ok], np.maximum(its[ok], 1.0), style, color=f"C{k}", ms=4,
                            lw=1.2, label=LABEL.get(v, v) if j == 2 else v)  # fmt: skip
                if not ok.all():
                    axis.plot(d[~ok], np.full((~ok).sum(), top), "x", color=f"C{k}", ms=7)
            if j == 0 and "linear model" in cur:  # the linear model at the paper's step
                lin = cur["linear model"]["paper"]
                axis.loglog(list(lin), list(lin.values()), "s:", color="0.5", ms=3, lw=1,
                            label="linear model at γ = 1/λ₂")  # fmt: skip
            if dd.size:
                axis.loglog(dd, 2 * np.sqrt(dd), "k:", lw=1, label="2√d")
                axis.loglog(dd, dd, "k-.", lw=1, label="d")
            axis.set(xlabel="dimension d", ylabel="median iterations at the best step",
                     title=f"minimal example: {title} (x: unsolved)")  # fmt: skip
            axis.legend(fontsize=6)
        fig.tight_layout()
        stems.append(save_figure(fig, out_dir, FIG))
    runs = fmnist_runs(records)
    if runs:
        fig, ax = new_figure(ncols=2, width=5.0, height=3.8)
        axis = ax[0, 1]
        _, _, numbers = claim_fmnist(records)
        for k, m in enumerate(("two-layer linear", "two-layer relu")):
            key = f"fmnist_speedup_{m.replace(' ', '_')}"
            if m in runs and "linear model" in runs:
                seeds = sorted(set(runs[m]) & set(runs["linear model"]))
                ratio = np.array([as_count(runs["linear model"][q]["iterations"])
                                  / as_count(runs[m][q]["iterations"]) for q in seeds])  # fmt: skip
                fin = np.isfinite(ratio) & (ratio > 0)
                axis.scatter(np.full(fin.sum(), k + 0.12), ratio[fin], s=12, color="0.4",
                             zorder=3, label="seeds" if k == 0 else None)  # fmt: skip
                if (~fin).any():
                    axis.annotate(f"{(~fin).sum()} seed(s) unsolved", (k, 1.0), fontsize=7,
                                  ha="center", va="bottom")  # fmt: skip
            vals = [numbers.get(key + tail, math.nan) for tail in ("", "_low", "_high")]
            if all(math.isfinite(x) and x > 0 for x in vals):
                v, lo, hi = vals
                axis.errorbar(k, v, yerr=[[v - lo], [hi - v]], fmt="o", capsize=5,
                              color=f"C{k + 1}")  # fmt: skip
        axis.axhline(1.0, color="k", ls=":", lw=1)
        axis.set_yscale("log")
        axis.set_xticks([0, 1], ["two-layer linear", "two-layer relu"], fontsize=8)
        axis.set_xlim(-0.5, 1.5)
        axis.set(ylabel="speed-up over the linear model (95% CI)",
                 title="paired per-seed ratios, each at its best step")  # fmt: skip
        axis = ax[0, 0]
        for k, by_seed in enumerate(runs.values()):
            its = np.array([as_count(r["iterations"]) for r in by_seed.values()])
            ok = np.isfinite(its)
            axis.scatter(np.full(ok.sum(), k), its[ok], color=f"C{k}", s=18, zorder=3)
            med = median_count([r["iterations"] for r in by_seed.values()])
            if math.isfinite(med):
                axis.bar(k, med, color=f"C{k}", alpha=0.35, width=0.6)
        axis.set_yscale("log")
        axis.set_xticks(range(len(runs)), list(runs), fontsize=8)
        axis.set(ylabel="iterations at the best step (dots: seeds; bar: median)",
                 title="Fashion-MNIST 2 vs 4, n = 1000, standardized")  # fmt: skip
        fig.tight_layout()
        stems.append(save_figure(fig, out_dir, FIG_FMNIST))
    return stems
