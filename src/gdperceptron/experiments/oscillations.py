"""Large steps: higher, oscillating loss, yet separation sooner (predecessor's experiments).

LR+GD on breast cancer (standardized) for steps 0.001 ... 100, a fixed number of
iterations, ``stop_when_solved=False``; the linear model from ``v_0 = 0`` and a two-layer
ReLU network (width 16) from seeded random starts. Per run, from the recorded
:class:`gdperceptron.Trajectory` metrics: the first iteration with accuracy 1.0
(``n_misclassified = 0``, the iteration complexity of docs/theory/setting.md), the number of loss
increases ``#{t : F(θ_{t+1}) > F(θ_t)}``, the largest loss, the fraction of later
iterations still at accuracy 1.0, and whether the run overflowed.

Data: the full set (569 samples) is not linearly separable by a hyperplane through the
origin (the linear model has no bias), so the linear model can never reach accuracy 1.0
there. The runs use a seeded subsample of 300 samples, standardized after subsampling,
whose linear separability is certified by a linear program (``A v >= 1`` feasible); the
task records the certificate for the subsample and for the full set.

Verdict, per run (model and seed), three checks on the step grid:
(a) no smaller step reaches accuracy 1.0 sooner than the largest step (which must reach it);
(b) the loss never increases at the smallest step and increases at least once at the largest;
(c) the largest loss at the largest step exceeds the largest loss at the smallest step.
The claim is reproduced for a model when (a)-(c) hold for every seed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron import breast_cancer, linear, run, two_layer
from gdperceptron.experiments.base import Analysis, Experiment, Params, Record, Result

NAME = "oscillations"
STEPS = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
MAX_ITER = {True: 500, False: 1000}
SEEDS = {True: (0,), False: (0, 1, 2)}
N_SUBSAMPLE, DATA_SEED = 300, 0
WIDTH, ACTIVATION = 16, "relu"
FIG = "oscillations_loss_accuracy"
ACC_FLOOR = 0.8  # accuracy axis floor in the figure; lower values are drawn at it


def tasks(quick: bool) -> list[Params]:
    """One task per (model, seed); all steps run inside it (one compilation)."""
    out: list[Params] = [{"model": "linear", "seed": 0}]
    out += [{"model": "two-layer", "seed": s} for s in SEEDS[quick]]
    return [
        {**p, "n": N_SUBSAMPLE, "data_seed": DATA_SEED, "steps": list(STEPS),
         "max_iter": MAX_ITER[quick]}
        for p in out
    ]  # fmt: skip


def linearly_separable(A: np.ndarray) -> bool:
    """Is there ``v`` with ``A v >= 1`` (every margin positive)? A linear program (HiGHS)."""
    from scipy.optimize import linprog

    n, d = A.shape
    res = linprog(np.zeros(d), A_ub=-A, b_ub=-np.ones(n), bounds=[(None, None)] * d,
                  method="highs")  # fmt: skip
    return bool(res.status == 0)


def _clean(x: Any) -> list:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(x, dtype=float)]


def run_task(params: Params) -> Result:
    """LR+GD for every step; the per-iteration loss, min margin and misclassified count."""
    data = breast_cancer(n=int(params["n"]), seed=int(params["data_seed"]))
    if params["model"] == "linear":
        model, theta0 = linear(data.d), np.zeros(data.d)
    else:
        model = two_layer(data.d, WIDTH, ACTIVATION)
        theta0 = model.initial_params(int(params["seed"]))
    runs = []
    for step in params["steps"]:
        traj = run(model, data, "gd", float(step), theta0=theta0,
                   max_iter=int(params["max_iter"]), stop_when_solved=False)  # fmt: skip
        runs.append({
            "step": float(step),
            "iterations": traj.iterations.tolist(),
            "loss": _clean(traj["loss"]),
            "min_margin": _clean(traj["min_margin"]),
            "n_misclassified": traj["n_misclassified"].tolist(),
            "stop_reason": traj.stop_reason,
        })  # fmt: skip
    out: Result = {"n": data.n, "d": data.d, "runs": runs}
    if params["model"] == "linear":
        out["linearly_separable"] = linearly_separable(data.A)
        out["linearly_separable_full_set"] = linearly_separable(breast_cancer().A)
    return out


def first_separated(iterations: list[int], n_misclassified: list[int]) -> int | None:
    """First recorded iteration with accuracy 1.0 (no margin <= 0), else None."""
    hits = np.flatnonzero(np.asarray(n_misclassified) == 0)
    return int(np.asarray(iterations)[hits[0]]) if hits.size else None


def run_metrics(r: dict[str, Any], n: int) -> dict[str, Any]:
    """Numbers of one run (one step) from its recorded curves."""
    loss = np.array([np.inf if v is None else v for v in r["loss"]], dtype=float)
    finite = loss[np.isfinite(loss)]
    first = first_separated(r["iterations"], r["n_misclassified"])
    nm = np.asarray(r["n_misclassified"])
    later = nm[np.asarray(r["iterations"]) >= first] if first is not None else nm[:0]
    return {
        "step": r["step"],
        "first_accuracy_1": first,
        "loss_increases": int(np.sum(np.diff(finite) > 0)),
        "max_loss": float(finite.max()) if finite.size else math.nan,
        "final_loss": float(finite[-1]) if finite.size else math.nan,
        "final_accuracy": 1.0 - float(nm[-1]) / n,
        "accuracy_1_fraction_after_first": float(np.mean(later == 0)) if later.size else None,
        "diverged": r["stop_reason"] == "non_finite",
        "iterations_run": int(r["iterations"][-1]),
    }


def checks(metrics: list[dict[str, Any]]) -> dict[str, bool]:
    """The three checks (a)-(c) of the module doc on one run's per-step metrics."""
    ms = sorted(metrics, key=lambda m: m["step"])
    small, large = ms[0], ms[-1]
    big = large["first_accuracy_1"]
    sooner = any(m["first_accuracy_1"] is not None and m["first_accuracy_1"] < big
                 for m in ms[:-1]) if big is not None else True  # fmt: skip
    return {
        "a_largest_step_separates_first": big is not None and not sooner,
        "b_oscillates_only_at_large_step": small["loss_increases"] == 0
        and large["loss_increases"] > 0,
        "c_higher_loss_at_large_step": large["max_loss"] > small["max_loss"],
    }


def analyze(records: list[Record]) -> Analysis:
    """Per (model, seed) metrics and checks; verdict per model (module doc)."""
    table, numbers = [], {}
    ok_by_model: dict[str, list[bool]] = {}
    notes: dict[str, list[str]] = {}
    for params, result in sorted(records, key=lambda r: (r[0]["model"], r[0]["seed"])):
        model, seed = params["model"], params["seed"]
        metrics = [run_metrics(r, result["n"]) for r in result["runs"]]
        table += [{"model": model, "seed": seed, **m} for m in metrics]
        c = checks(metrics)
        ok_by_model.setdefault(model, []).append(all(c.values()))
        for k, v in c.items():
            numbers[f"{model}_seed{seed}_{k}"] = v
        firsts = ", ".join(f"{m['step']:g}:{m['first_accuracy_1']}" for m in metrics)
        div = [f"{m['step']:g}" for m in metrics if m["diverged"]]
        large = max(metrics, key=lambda m: m["step"])
        note = (
            f"seed {seed}: first acc-1 iteration per step {{{firsts}}}, loss increases at "
            f"γ={large['step']:g}: {large['loss_increases']}, max loss {large['max_loss']:.3g}"
        )
        if div:
            note += f", overflow at γ ∈ {{{', '.join(div)}}}"
        notes.setdefault(model, []).append(note)
        if "linearly_separable" in result:
            numbers["subsample_linearly_separable"] = result["linearly_separable"]
            numbers["full_set_linearly_separable"] = result["linearly_separable_full_set"]
    parts = []
    for model, oks in ok_by_model.items():
        numbers[f"reproduced_{model}"] = all(oks)
        status = "reproduced" if all(oks) else f"NOT reproduced ({sum(oks)}/{len(oks)} seeds)"
        parts.append(f"{model}: {status}; " + "; ".join(notes[model]))
    reproduced = bool(ok_by_model) and all(all(v) for v in ok_by_model.values())
    verdict = (f"{'reproduced' if reproduced else 'NOT reproduced'} (checks (a) largest step "
               "separates first, (b) loss rises only at large steps, (c) higher max loss): "
               + " | ".join(parts))  # fmt: skip
    return Analysis(reproduced, verdict, table, numbers, FIG)


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Loss (log y) and accuracy vs iteration, one curve per step; one row per model
    (the first seed of each model)."""
    import matplotlib.pyplot as plt

    from gdperceptron.experiments.figures import new_figure, save_figure

    first: dict[str, Record] = {}
    for rec in sorted(records, key=lambda r: (r[0]["model"], r[0]["seed"])):
        first.setdefault(rec[0]["model"], rec)
    if not first:
        return []
    fig, ax = new_figure(ncols=2, nrows=len(first), width=5.2, height=3.4)
    for i, (model, (params, result)) in enumerate(first.items()):
        runs = sorted(result["runs"], key=lambda r: r["step"])
        kept = [v for r in runs if r["stop_reason"] != "non_finite" for v in r["loss"] if v]
        top = max(10 * max(kept, default=10.0), 100.0)  # overflowing runs are drawn at the top
        for k, r in enumerate(runs):
            color = plt.cm.viridis(k / max(len(runs) - 1, 1))
            t = np.asarray(r["iterations"])
            loss = np.array([np.nan if v is None else v for v in r["loss"]], dtype=float)
            loss = np.where(np.isnan(loss), top, np.minimum(loss, top))
            label = f"γ={r['step']:g}" + (" (overflow)" if r["stop_reason"] == "non_finite" else "")
            ax[i, 0].semilogy(t, loss, color=color, lw=1, label=label)
            acc = 1.0 - np.asarray(r["n_misclassified"]) / result["n"]
            ax[i, 1].plot(t, np.maximum(acc, ACC_FLOOR), color=color, lw=1)
        title = f"{model}, seed {params['seed']}" if model != "linear" else "linear, v0 = 0"
        ax[i, 0].set(xlabel="iteration t", ylabel="logistic loss (clipped at the top)",
                     title=title, ylim=(None, top * 1.5))  # fmt: skip
        ax[i, 1].set(xlabel="iteration t", ylabel=f"training accuracy (≥ {ACC_FLOOR})", title=title,
                     ylim=(ACC_FLOOR - 0.005, 1.005))  # fmt: skip
        ax[i, 1].axhline(1.0, color="k", ls=":", lw=1)
        ax[i, 0].legend(fontsize=7)
    fig.tight_layout()
    return [save_figure(fig, out_dir, FIG)]


EXPERIMENT = Experiment(
    name=NAME,
    title="Large steps: higher, oscillating loss, yet accuracy 1.0 sooner",
    claim=(
        "Predecessor (Tyurin 2024), experiments: with LR+GD, larger step sizes (0.001 to "
        "100) give higher and non-monotone (oscillating) loss, yet reach accuracy 1.0 on the "
        "training set in fewer iterations; the loss is an unreliable progress measure."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
