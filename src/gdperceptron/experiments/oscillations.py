"""Large steps: higher, oscillating loss, yet separation sooner (predecessor's experiments),
per model, with the critical step of networks (docs/theory/experiments.md).

Data: breast cancer, a seeded subsample of 300 samples standardized after subsampling. The
full set (569) is not linearly separable through the origin (the linear model has no bias),
so the linear model could never reach accuracy 1.0 there; the subsample's separability is
certified by a linear program (``A v >= 1`` feasible) and its max margin ``gamma*`` from
:func:`gdperceptron.max_margin_direction` is recorded, with the LP answer for the full set.

Models: the linear model from ``v_0 = 0`` and two-layer networks of width 16 (ReLU, tanh,
both layers trained) from five seeded random starts. The linear and ReLU models are
positively homogeneous (degrees 1 and 2): they run in the scaled engine
(:func:`gdperceptron.run_scaled`), which never overflows and classifies every run exactly;
the tanh network runs in the plain engine. Every run is classified (``solved``,
``diverged``, ``stalled``, ``max_iter`` = not within budget, ``non_finite``).

Steps: a quarter-decade grid from 1e-3 to 1e2 (:func:`gdperceptron.step_grid`), then
``REFINE`` bisections in ``log gamma`` between the largest grid step that separates and the
next grid step, when that one does not (the separation cliff). The cliff is bracketed by
``[gamma_lo, gamma_hi]``: ``gamma_lo`` the largest step found to separate, ``gamma_hi`` the
smallest larger step found not to; ``gamma* = sqrt(gamma_lo gamma_hi)``. A model whose
largest grid step separates has no cliff on the grid. Budgets: ``MAX_ITER`` steps per run,
for the networks at least three times the linear model's best count (checked in the
analysis). Per run: the iterations to separate, the outcome, the number of loss increases
``#{t : F(theta_{t+1}) > F(theta_t)}`` and the largest loss (as ``log10``, exact in the
scaled engine); the ``gamma -> inf`` limit of each start (the hard perceptron) beside them.

"Monotone" (larger steps separate sooner), on a set of steps: the steps that separate form
an upper segment of the set (no step separates while a larger one of the set does not), and
for every pair of separating steps ``gamma_j < gamma_k`` the counts satisfy
``count_j >= 0.9 count_k`` (10% tolerance for the rounding-driven scatter of large-step
counts).

Verdict rules of oscillations (fixed before the full run):

1. (1a linear, 1b ReLU, 1c tanh) Larger steps separate sooner. Per start: *whole* when the
   largest grid step separates and the whole step set is monotone; *below the cliff* when
   there is a cliff and the steps ``<= gamma_lo`` are monotone and include at least two
   separating steps; else *fails*. Reproduced when every start is whole; partly (for
   ``gamma < gamma*``, median and range over starts) when every start is whole or below the
   cliff and one at least below; not reproduced when any start fails.
2. (2b ReLU, 2c tanh) Above the cliff the run diverges for real. Over the starts with a
   cliff, every run at a step ``> gamma_lo`` (grid and bisection): reproduced when all are
   classified ``diverged``; partly (for the steps above gamma*, the classes named) when at
   least half are; not reproduced when fewer are, or when no start has a cliff.
3. (3a linear, 3b ReLU, 3c tanh) Larger steps give a higher, non-monotone loss. Per start:
   the loss never increases at the smallest grid step, and at the largest separating step
   ``<= gamma_lo`` it increases at least once and its largest loss exceeds the smallest
   step's. Reproduced when every start passes; partly (for the starts that pass) when at
   least one passes; not reproduced when none does.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron import (
    breast_cancer,
    linear,
    max_margin_direction,
    run,
    run_scaled,
    step_grid,
    two_layer,
)
from gdperceptron.analysis.phase import step_limit
from gdperceptron.experiments.base import (
    Analysis,
    Experiment,
    Params,
    Record,
    Result,
    SubClaim,
    Table,
    run_cell,
)

NAME = "oscillations"
GRID = {True: "1e0:1e1:5", False: "1e-3:1e2:21"}
REFINE = {True: 2, False: 4}
MAX_ITER = {True: {"linear": 1000, "net": 400}, False: {"linear": 20000, "net": 2000}}
SEEDS = {True: (0,), False: (0, 1, 2, 3, 4)}
MODELS = {True: ("relu",), False: ("linear", "relu", "tanh")}
LABELS = {"linear": "linear", "relu": "two-layer ReLU w16", "tanh": "two-layer tanh w16"}
N_SUBSAMPLE, DATA_SEED, WIDTH = 300, 0, 16
TOLERANCE = 0.9  # count_j >= TOLERANCE * count_k for gamma_j < gamma_k
CURVE_POINTS = 400  # loss curves kept for the figure (decade steps only), at most this long
LOSS_CLIP = 3.0  # figure only: log10 losses above this (diverging runs) are drawn at it
FIG = "oscillations_phase"
FIG_LOSS = "oscillations_loss_curves"


def tasks(quick: bool) -> list[Params]:
    """One task per (model, start); every step of the grid runs inside it."""
    out = []
    for model in MODELS[quick]:
        seeds = (0,) if model == "linear" else SEEDS[quick]
        kind = "linear" if model == "linear" else "net"
        out += [{"model": model, "seed": s, "n": N_SUBSAMPLE, "data_seed": DATA_SEED,
                 "grid": GRID[quick], "refine": REFINE[quick], "max_iter": MAX_ITER[quick][kind],
                 "limit": not quick, "standardized": True} for s in seeds]  # fmt: skip
    return out


def linearly_separable(A: np.ndarray) -> bool:
    """Is there ``v`` with ``A v >= 1`` (every margin positive)? A linear program (HiGHS)."""
    from scipy.optimize import linprog

    n, d = A.shape
    res = linprog(np.zeros(d), A_ub=-A, b_ub=-np.ones(n), bounds=[(None, None)] * d,
                  method="highs")  # fmt: skip
    return bool(res.status == 0)


def build(model_name: str, d: int, seed: int) -> tuple[Any, np.ndarray]:
    """The model and its start: the linear model from 0, a network from ``seed``."""
    if model_name == "linear":
        return linear(d), np.zeros(d)
    net = two_layer(d, WIDTH, model_name)
    return net, net.initial_params(seed)


def one_run(model: Any, data: Any, theta0: np.ndarray, step: float, max_iter: int) -> dict:
    """One classified run: scaled engine for a homogeneous model, plain otherwise."""
    if model.degree is not None:
        traj = run_scaled(model, data, "gd", step, theta0=theta0, max_iter=max_iter)
        log_loss = np.asarray(traj["log_loss"]) / math.log(10.0)
    else:
        traj = run(model, data, "gd", step, theta0=theta0, max_iter=max_iter)
        with np.errstate(divide="ignore"):
            log_loss = np.log10(np.asarray(traj["loss"]))
    finite = log_loss[np.isfinite(log_loss)]
    ups = int(np.sum(np.diff(finite) > 0)) + int(finite.size < log_loss.size)
    return {
        "step": float(step),
        "outcome": traj.stop_reason,
        "iterations": traj.solved_iteration,
        "loss_increases": ups,
        "log10_max_loss": float(finite.max()) if finite.size else None,
        "log10_loss_curve": log_loss,
        "curve_iterations": np.asarray(traj.iterations),
    }


def sweep(model: Any, data: Any, theta0: np.ndarray, grid: np.ndarray, refine: int,
          max_iter: int) -> list[dict]:  # fmt: skip
    """Runs at every grid step, then ``refine`` bisections at the cliff (module doc)."""
    runs = [one_run(model, data, theta0, float(g), max_iter) | {"refined": False} for g in grid]
    solved = [r["iterations"] is not None for r in runs]
    if solved[-1] or not any(solved):
        return runs
    j = max(k for k in range(len(grid) - 1) if solved[k] and not solved[k + 1])
    lo, hi = float(grid[j]), float(grid[j + 1])
    for _ in range(refine):
        mid = math.sqrt(lo * hi)
        r = one_run(model, data, theta0, mid, max_iter) | {"refined": True}
        runs.append(r)
        lo, hi = (mid, hi) if r["iterations"] is not None else (lo, mid)
    return sorted(runs, key=lambda r: r["step"])


def _curve(r: dict) -> dict:
    """A loss curve thinned to at most ``CURVE_POINTS`` points, ``None`` for non-finite."""
    t, y = r.pop("curve_iterations"), r.pop("log10_loss_curve")
    keep = np.unique(np.linspace(0, t.size - 1, min(t.size, CURVE_POINTS)).astype(int))
    vals = [float(v) if math.isfinite(v) else None for v in y[keep]]
    return {"t": t[keep].tolist(), "log10_loss": vals}


def run_task(params: Params) -> Result:
    """The step sweep of one (model, start), its loss curves at decade steps and its
    ``gamma -> inf`` limit; for the linear model the separability certificates."""
    data = breast_cancer(n=int(params["n"]), seed=int(params["data_seed"]))
    model, theta0 = build(params["model"], data.d, int(params["seed"]))
    grid = step_grid(params["grid"])
    runs = sweep(model, data, theta0, grid, int(params["refine"]), int(params["max_iter"]))
    curves = {}
    for r in runs:
        c = _curve(r)
        exponent = math.log10(r["step"])
        if not r["refined"] and abs(exponent - round(exponent)) < 1e-9:
            curves[f"{r['step']:g}"] = c
    limit = None
    if params.get("limit", True):  # the quick version leaves out the gamma -> inf limit
        limit = step_limit(model, data, "gd", theta0, max_iter=int(params["max_iter"]))
    out: Result = {"n": data.n, "d": data.d, "runs": runs, "curves": curves,
                   "limit_iterations": None if limit is None else limit.iterations,
                   "limit_rule": None if limit is None else limit.rule}  # fmt: skip
    if params["model"] == "linear":
        out["linearly_separable"] = linearly_separable(data.A)
        out["linearly_separable_full_set"] = linearly_separable(breast_cancer().A)
        out["max_margin"] = max_margin_direction(data).margin
    return out


# ------------------------------------------------------------------------------ analysis


def cliff(runs: list[dict]) -> tuple[float, float] | None:
    """``(gamma_lo, gamma_hi)`` when the largest step does not separate and a smaller one
    does (module doc), else None."""
    runs = sorted(runs, key=lambda r: r["step"])
    if runs[-1]["iterations"] is not None:
        return None
    ok = [k for k, r in enumerate(runs) if r["iterations"] is not None]
    if not ok:
        return None
    k = max(j for j in ok if runs[j + 1]["iterations"] is None)
    return runs[k]["step"], runs[k + 1]["step"]


def monotone(runs: list[dict]) -> bool:
    """Larger steps separate sooner on these runs (module doc): the separating steps form an
    upper segment and ``count_j >= TOLERANCE count_k`` for ``gamma_j < gamma_k``."""
    counts = [r["iterations"] for r in sorted(runs, key=lambda r: r["step"])]
    solved = [c is not None for c in counts]
    # an upper segment: once a step separates, every larger one does
    if any(solved[j] and not solved[j + 1] for j in range(len(counts) - 1)):
        return False
    c = [x for x in counts if x is not None]
    return all(c[j] >= TOLERANCE * c[k] for j in range(len(c)) for k in range(j + 1, len(c)))


def monotone_up_to(runs: list[dict]) -> float | None:
    """The largest step ``s`` of the sweep such that the runs at steps ``<= s`` are monotone
    with at least two separating steps (descriptive; not part of a rule), else None."""
    runs = sorted(runs, key=lambda r: r["step"])
    best = None
    for k in range(len(runs)):
        head = runs[: k + 1]
        if monotone(head) and sum(r["iterations"] is not None for r in head) >= 2:
            best = runs[k]["step"]
    return best


def sooner_class(runs: list[dict]) -> str:
    """``whole``, ``below`` (the cliff) or ``fails``: rule 1 of the module doc, one start."""
    edge = cliff(runs)
    if edge is None:
        top = max(runs, key=lambda r: r["step"])
        return "whole" if top["iterations"] is not None and monotone(runs) else "fails"
    below = [r for r in runs if r["step"] <= edge[0]]
    n_solved = sum(r["iterations"] is not None for r in below)
    return "below" if monotone(below) and n_solved >= 2 else "fails"


def loss_check(runs: list[dict]) -> bool:
    """Rule 3 of the module doc for one start."""
    runs = sorted(runs, key=lambda r: r["step"])
    edge = cliff(runs)
    cand = [r for r in runs if r["iterations"] is not None
            and (edge is None or r["step"] <= edge[0])]  # fmt: skip
    if not cand:
        return False
    small, large = runs[0], cand[-1]
    return (
        small["loss_increases"] == 0
        and large["loss_increases"] >= 1
        and large["log10_max_loss"] is not None
        and small["log10_max_loss"] is not None
        and large["log10_max_loss"] > small["log10_max_loss"]
    )


def _gstar(edge: tuple[float, float]) -> float:
    return math.sqrt(edge[0] * edge[1])


def sooner_claim(number: str, model: str, per_start: dict[int, list[dict]]) -> SubClaim:
    """Sub-claim 1 for one model (rule 1 of the module doc)."""
    classes = {s: sooner_class(r) for s, r in per_start.items()}
    edges = {s: cliff(r) for s, r in per_start.items()}
    gstars = sorted(_gstar(e) for e in edges.values() if e is not None)
    best = {s: min((x["iterations"] for x in r if x["iterations"] is not None), default=None)
            for s, r in per_start.items()}  # fmt: skip
    ev = "; ".join(
        f"seed {s}: {classes[s]}"
        + (f", γ* = {_gstar(edges[s]):.3g} [{edges[s][0]:.3g}, {edges[s][1]:.3g}]" if edges[s] else
           ", no cliff on the grid")
        + f", best count {best[s]}"
        + (f", monotone up to γ = {up:.3g}" if (up := monotone_up_to(per_start[s])) else "")
        for s in sorted(per_start)
    )  # fmt: skip
    condition = ""
    if all(c == "whole" for c in classes.values()):
        verdict = "reproduced"
    elif all(c in ("whole", "below") for c in classes.values()):
        verdict = "partly"
        med = float(np.median(gstars))
        condition = f"for γ < γ* = {med:.3g} (median; range {gstars[0]:.3g}–{gstars[-1]:.3g})"
    else:
        verdict = "not reproduced"
    return SubClaim(
        number,
        f"{LABELS[model]}: larger steps separate sooner",
        "per start: the separating steps form an upper segment of the grid and "
        f"count(γ_j) ≥ {TOLERANCE:g}·count(γ_k) for γ_j < γ_k, over the whole grid "
        "(reproduced) or below the cliff γ* for every start (partly)",
        verdict,
        ev,
        condition,
    )


def diverge_claim(number: str, model: str, per_start: dict[int, list[dict]]) -> SubClaim:
    """Sub-claim 2 for one network model (rule 2 of the module doc)."""
    above: list[str] = []
    for runs in per_start.values():
        edge = cliff(runs)
        if edge is not None:
            above += [r["outcome"] for r in runs if r["step"] > edge[0]]
    counts = {k: above.count(k) for k in sorted(set(above))}
    ev = (f"{len(above)} runs above γ* over {sum(cliff(r) is not None for r in per_start.values())}"
          f" starts with a cliff: " + ", ".join(f"{k} {v}" for k, v in counts.items())
          if above else "no start has a cliff on the grid")  # fmt: skip
    n_div = counts.get("diverged", 0)
    condition = ""
    if above and n_div == len(above):
        verdict = "reproduced"
    elif above and 2 * n_div >= len(above):
        verdict = "partly"
        others = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "diverged")
        condition = f"above γ* most runs diverge; the others: {others}"
    else:
        verdict = "not reproduced"
    return SubClaim(
        number,
        f"{LABELS[model]}: above the critical step γ* the run diverges for real",
        "every run at a step above γ_lo (grid and bisection, every start with a cliff) is "
        "classified diverged (reproduced; at least half: partly)",
        verdict,
        ev,
        condition,
    )


def loss_claim(number: str, model: str, per_start: dict[int, list[dict]]) -> SubClaim:
    """Sub-claim 3 for one model (rule 3 of the module doc)."""
    ok = {s: loss_check(r) for s, r in per_start.items()}
    parts = []
    for s in sorted(per_start):
        runs = sorted(per_start[s], key=lambda r: r["step"])
        edge = cliff(runs)
        cand = [r for r in runs if r["iterations"] is not None
                and (edge is None or r["step"] <= edge[0])]  # fmt: skip
        if cand:
            large = cand[-1]
            parts.append(f"seed {s}: γ={large['step']:.3g}: {large['loss_increases']} increases, "
                         f"max loss 10^{large['log10_max_loss']:.2f}; γ={runs[0]['step']:g}: "
                         f"{runs[0]['loss_increases']} increases")  # fmt: skip
        else:
            parts.append(f"seed {s}: no separating step")
    passed = [s for s, v in ok.items() if v]
    condition = ""
    if len(passed) == len(ok):
        verdict = "reproduced"
    elif passed:
        verdict, condition = "partly", f"for seeds {', '.join(map(str, passed))}"
    else:
        verdict = "not reproduced"
    return SubClaim(
        number,
        f"{LABELS[model]}: larger steps give a higher, non-monotone loss",
        "per start: no loss increase at the smallest step; at the largest separating step "
        "below γ* at least one increase and a larger maximum loss than at the smallest step",
        verdict,
        "; ".join(parts),
        condition,
    )


def _limit_cell(iterations: int | None, rule: str | None, params: Params) -> int | str:
    """The ``gamma -> inf`` limit's count, or why there is none."""
    if iterations is not None:
        return iterations
    if rule is not None:
        return "not within budget"
    return "not computed" if not params.get("limit", True) else "none (not homogeneous)"


def _by_model(records: list[Record]) -> dict[str, dict[int, list[dict]]]:
    out: dict[str, dict[int, list[dict]]] = {}
    for params, result in records:
        out.setdefault(params["model"], {})[int(params["seed"])] = result["runs"]
    return out


def analyze(records: list[Record]) -> Analysis:
    """Sub-claims 1-3 per model (module doc), the phase table and the cliff table."""
    by_model = _by_model(records)
    order = [m for m in ("linear", "relu", "tanh") if m in by_model]
    letters = dict(zip(("linear", "relu", "tanh"), "abc", strict=True))
    claims = [sooner_claim(f"1{letters[m]}", m, by_model[m]) for m in order]
    claims += [diverge_claim(f"2{letters[m]}", m, by_model[m]) for m in order if m != "linear"]
    claims += [loss_claim(f"3{letters[m]}", m, by_model[m]) for m in order]
    numbers: dict[str, Any] = {"tolerance": TOLERANCE}
    phase_rows, cliff_rows = [], []
    lin_best = None
    for params, result in sorted(records, key=lambda r: (order.index(r[0]["model"]), r[0]["seed"])):
        m, s = params["model"], int(params["seed"])
        runs = result["runs"]
        edge = cliff(runs)
        best = min((r["iterations"] for r in runs if r["iterations"] is not None), default=None)
        if m == "linear":
            lin_best = best
            numbers["subsample_linearly_separable"] = result["linearly_separable"]
            numbers["full_set_linearly_separable"] = result["linearly_separable_full_set"]
            numbers["subsample_max_margin"] = result["max_margin"]
        numbers[f"{m}_seed{s}_best_count"] = best
        numbers[f"{m}_seed{s}_gamma_star"] = _gstar(edge) if edge else None
        numbers[f"{m}_seed{s}_class"] = sooner_class(runs)
        numbers[f"{m}_seed{s}_max_iter"] = params["max_iter"]
        for r in runs if s == min(p["seed"] for p, _ in records if p["model"] == m) else ():
            phase_rows.append({"model": LABELS[m], "seed": s, "step γ": round(r["step"], 6),
                               "bisection": "yes" if r["refined"] else "",
                               "iterations to separate": run_cell(r["iterations"], r["outcome"]),
                               "loss increases": r["loss_increases"],
                               "log10 max loss": round(r["log10_max_loss"], 3)
                               if r["log10_max_loss"] is not None else "non-finite"})  # fmt: skip
        limit = result["limit_iterations"]
        cliff_rows.append({
            "model": LABELS[m], "seed": s,
            "best count": best if best is not None else "none",
            "at step γ": next((round(r["step"], 4) for r in runs if r["iterations"] == best), "")
            if best is not None else "",
            "monotone up to γ": round(up, 4) if (up := monotone_up_to(runs)) else "nowhere",
            "γ* (cliff)": round(_gstar(edge), 4) if edge else "no cliff",
            "bracket": f"[{edge[0]:.4g}, {edge[1]:.4g}]" if edge else "",
            "γ → ∞ limit (iterations)": _limit_cell(limit, result["limit_rule"], params),
            "budget (max_iter)": params["max_iter"],
        })  # fmt: skip
    nets = [p["max_iter"] for p, _ in records if p["model"] != "linear"]
    if lin_best is not None and nets:
        numbers["net_budget_over_linear_best"] = min(nets) / lin_best
    note = "Breast cancer, 300 samples (seed 0), standardized."
    if "subsample_linearly_separable" in numbers:
        yes = {True: "yes", False: "no"}
        note += (
            " Linearly separable through the origin (LP): "
            f"{yes[numbers['subsample_linearly_separable']]}, max margin "
            f"{numbers['subsample_max_margin']:.3g}; the full set (569 samples): "
            f"{yes[numbers['full_set_linearly_separable']]}."
        )
    note += " Linear and ReLU: scaled engine (exact, never overflows); tanh: plain engine."
    if "net_budget_over_linear_best" in numbers:
        note += (f" Network budget = {numbers['net_budget_over_linear_best']:.2g} × the linear "
                 "model's best count.")  # fmt: skip
    tables = (
        Table("Best step and critical step per start", cliff_rows, note, key_columns=2),
        Table(
            "Every run of the step sweep, first start of each model",
            phase_rows,
            "The other starts: their best count, γ* and bracket above.",
            key_columns=3,
        ),
    )
    return Analysis(claims=tuple(claims), tables=tables, numbers=numbers, decisive_figure=FIG)


# ------------------------------------------------------------------------------- figures


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Iterations to separate vs step per start (unsolved runs marked by class), and loss
    curves at decade steps for the linear model and the first start of each network."""
    import matplotlib.pyplot as plt

    from gdperceptron.experiments.figures import new_figure, save_figure

    by_model = _by_model(records)
    if not by_model:
        return []
    order = [m for m in ("linear", "relu", "tanh") if m in by_model]
    fig, ax = new_figure(ncols=len(order), width=4.6, height=3.6)
    markers = {"diverged": "x", "stalled": "s", "max_iter": "^", "non_finite": "D"}
    for j, m in enumerate(order):
        axis = ax[0, j]
        top = 1
        for k, (s, runs) in enumerate(sorted(by_model[m].items())):
            runs = sorted(runs, key=lambda r: r["step"])
            ok = [r for r in runs if r["iterations"] is not None]
            axis.loglog([r["step"] for r in ok], [max(r["iterations"], 1) for r in ok], "o-",
                        color=f"C{k}", ms=3, lw=1, label=f"seed {s}")  # fmt: skip
            top = max([top] + [r["iterations"] for r in ok])
            edge = cliff(runs)
            if edge:
                axis.axvline(_gstar(edge), color=f"C{k}", ls=":", lw=1)
        for k, (_s, runs) in enumerate(sorted(by_model[m].items())):
            for r in runs:
                if r["iterations"] is None:
                    axis.plot(r["step"], top * 2.0, markers.get(r["outcome"], "."),
                              color=f"C{k}", ms=5, mfc="none")  # fmt: skip
        for name, mk in markers.items():
            axis.plot([], [], mk, color="k", mfc="none", label=run_cell(None, name))
        axis.set(xlabel="step γ", ylabel="iterations to separate",
                 title=f"{LABELS[m]} (dotted: γ*; top row: unsolved)")  # fmt: skip
        axis.legend(fontsize=6)
    fig.tight_layout()
    stems = [save_figure(fig, out_dir, FIG)]
    fig, ax = new_figure(ncols=len(order), width=4.6, height=3.4)
    for j, m in enumerate(order):
        s0 = min(by_model[m])
        params, result = next((p, r) for p, r in records if p["model"] == m and p["seed"] == s0)
        keys = sorted(result["curves"], key=float)
        for k, key in enumerate(keys):
            c = result["curves"][key]
            y = np.array([np.nan if v is None else v for v in c["log10_loss"]], dtype=float)
            y = np.minimum(y, LOSS_CLIP)  # diverging runs are drawn at the clip
            color = plt.cm.viridis(k / max(len(keys) - 1, 1))
            ax[0, j].plot(np.asarray(c["t"]) + 1, y, color=color, lw=1, label=f"γ={key}")
        ax[0, j].set_xscale("log")
        ax[0, j].set(xlabel="iteration t + 1", title=f"{LABELS[m]}, seed {s0}",
                     ylabel=f"log10 logistic loss (clipped at {LOSS_CLIP:g})")  # fmt: skip
        ax[0, j].legend(fontsize=6)
    fig.tight_layout()
    stems.append(save_figure(fig, out_dir, FIG_LOSS))
    return stems


EXPERIMENT = Experiment(
    name=NAME,
    title="Large steps: higher, oscillating loss, yet accuracy 1.0 sooner",
    claim=(
        "Predecessor (Tyurin 2024), experiments: with LR+GD, larger step sizes (0.001 to "
        "100) give higher and non-monotone (oscillating) loss, yet reach accuracy 1.0 on the "
        "training set in fewer iterations; the loss is an unreliable progress measure. "
        "Tested per model on a quarter-decade step grid with the critical step γ* of "
        "networks bisected."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
