"""Ablations and controls: where does the acceleration come from, and does it persist?

Iterations to separate (docs/theory/setting.md) of LR+GD for variants of the model inside the
generalized-perceptron framework (docs/theory/reduction.md).

**Minimal example** ``minimal_example(d, mu=1)`` (docs/theory/minimal-example.md), ``d`` in
``DIMS`` (256 to 16384; quick: 64 to 1024; 65536 too before the whole reproduction was
held to 10 minutes on 2 cores, which it cost 70 of this experiment's 556 CPU-seconds; the
rules are unchanged). Variants: the linear model from ``v_0 = 0``; the
tied model (reference, not judged); two-layer networks of width 16 with identity (the
two-layer *linear* network), relu, leaky_relu and square activations; relu with first-layer
biases and relu with the mean-field output ``1/m`` (docs/theory/experiments.md,
:mod:`gdperceptron.experiments.ablation_models`); standard relu at widths 4 and 64 and
mean-field relu at widths 4, 16, 64; relu MLPs of depth 3 and 4 (width 16). Networks start
from ``initial_params(seed)`` (the custom ones from the same draws), seeds ``SEEDS``; the
linear model from 0 is deterministic (one run). Every run uses the exact reduced simulation
(``reduce_problem``: ``n = 2`` samples span 2 of the ``d`` coordinates), whose counts equal
the plain loop's (tests).

Step schedule (growth in d): each (variant, d, seed) at its own best step on the grid
``gamma = c / lambda_2(d)``, ``c = 10^(-1 .. 2)`` by quarter decades (``lambda_2 = sqrt((2 +
mu)^2 + 2(d - 2))``, so ``c = 1`` is the paper's step for the tied model), then ``REFINE``
bisections in ``log gamma`` between the best grid step and the next one up when that one
fails (the cliff). The grid is relative to ``1/lambda_2`` because the paper's step scales
like ``1/sqrt(d)``; while the best step sits on an edge of the grid, the grid grows past it
by quarter decades, up to ``EXTEND = 8`` of them (added after the first full run, whose
grid edge ``c = 0.1`` cut off the linear model's best step at ``d = 65536`` and the tied
model's above ``c = 100``); the best step is reported, with a flag where it still sits on
an edge. A run that overflows float64 is followed by the scaled engine (homogeneous
models), which classifies it exactly. The search
(:func:`search_best`) starts at ``c = 1`` with the full budget, then goes down and then up the
grid; every later run is capped at the best count so far: a run that cannot separate within
it cannot beat it, so the minimum over the grid is exact whatever the order. Budget: ``2 d +
1000`` iterations per run for networks (more than the linear model needs at ``c = 1``, about
``1.8 d``: a network that needs more is not accelerated at that ``d``; ``4 d + 1000`` before
the first full run, halved for time: the runs that cost it are the stalled ones, which use
their whole budget), ``20 d`` for the linear model. The linear model is also run at
``c = 1`` and in the ``gamma -> inf`` limit (the hard perceptron with step 1 from 0,
predecessor Theorem 3.2).

**Fashion-MNIST 2 vs 4** (when the files are there; else its sub-claim is "not run"): ``n =
1000`` rows drawn by the seed, standardized per feature, seeds 0..4; the linear model from 0
and two-layer identity and relu networks (width 16, ``initial_params(seed)``), plain engine,
each (model, seed) at its own best step on ``gamma = 10^(-1 .. 1.5)`` by quarter decades
(search started at ``10^-0.5``, walking each direction until two consecutive steps do not
beat the best so far: the exact search of the minimal example took up to a minute per
seed for the two-layer linear network, whose best count is in the thousands at several ms
a step on this machine; the walk is exact when the count is unimodal in the step, and the
linear model's plateau above ``gamma = 1`` is why it waits for two misses) with
``FMNIST_REFINE = 2`` bisections, budget ``FMNIST_MAX_ITER = 6500`` (more than 3 times the
largest best count of the linear model in the first full run, 2061). A run that overflows
here stays "non-finite" (the scaled engine would cost a whole budget per run).
Speed-ups: geometric mean of the paired per-seed ratios ``linear / model`` with a 95%
percentile-bootstrap interval (``paired_speedup``; unsolved = inf).

Growth rule (per variant, minimal example): ``M(d)`` = median over seeds of the best-step
count (unsolved = inf; 0 counts as 1); slope = OLS of ``log M`` on ``log d``. The variant is
*sub-linear* when ``M(d)`` is finite at every ``d`` and the slope over all ``d`` is below
``SUBLINEAR = 0.75`` (the midpoint of the sqrt(d) and d rates); *sub-linear up to D* when
``M`` is finite on the first ``k >= 3`` dimensions only (``D`` the last of them) with slope
below 0.75 there; otherwise *not sub-linear*. A claim over several variants is reproduced
when all are sub-linear, not reproduced when none is sub-linear or sub-linear up to some D,
and partly otherwise (condition: the variants, and ranges, where it holds).

Verdict rules of ablations (fixed before the full run):

1. Factorisation on the toy problem. Reproduced when (a) the linear model's slope is at
   least 0.75 at its best step, at ``c = 1`` and in the limit, (b) the two-layer linear
   network is sub-linear, and (c) its ``M(d)`` is at most 2 times the relu network's at every
   ``d`` where the relu median is finite. Partly when (a) holds and (b) holds only up to some
   D, or (a) and (b) hold but (c) fails. Not reproduced otherwise.
2. Factorisation on real data (Fashion-MNIST 2 vs 4): with ``S_id``, ``S_relu`` the paired
   speed-ups of the linear network and the relu network over the linear model: reproduced
   when the interval of ``S_id`` lies above 1 and ``S_id >= S_relu / 2``; partly when the
   interval lies above 1 but ``S_id < S_relu / 2``; not reproduced when the interval of
   ``S_id`` reaches 1 or below. Not run without the data.
3. Biases: the growth rule on [relu + bias]; evidence beside it: relu without bias.
4. Leaky relu: the growth rule on [leaky_relu].
5. Width scaling: the growth rule on [standard w4, w16, w64, mean-field w4, w16, w64].
6. Depth: the growth rule on [mlp depth 3, mlp depth 4].
7. Square activation: the growth rule on [square]; the evidence states its outcome
   classes at the largest ``d``.

Added after the quick run, before the full one (rule 1 above is unchanged): the quick run
showed the linear model separating the minimal example in 2 iterations at every ``d`` at
its own best step. Exactly: from ``v_0 = 0``, ``v_1 = -(gamma/4) e_1`` (margins ``-gamma/4,
gamma/2``) and ``v_2 = v_1 + (gamma/2)(sigma(gamma/4) a_1 + sigma(-gamma/2) a_2)`` with
``a_1 = 1_d``, ``a_2 = -(1_d + e_1)``, so

    m_1(v_2) = -gamma/4 + (gamma/2)(d sigma(gamma/4) - (d + 1) sigma(-gamma/2)),
    m_2(v_2) =  gamma/2 - (gamma/2)((d + 1) sigma(gamma/4) - (d + 3) sigma(-gamma/2)),

both positive for ``gamma`` in about ``(16/(3d), 32/(3d))`` (``sigma(gamma/4) - sigma(-gamma/2)
~ 3 gamma/16``): a constant step of order ``1/d``, well below the paper's ``1/sqrt(2d)``.
Rule 1 then fails through (a) whatever the networks do, so two sub-claims separate the
two questions:

1a. The linear model needs Omega(d) iterations at any constant step: reproduced when its
    slope is at least 0.75 at its best step, at ``c = 1`` and in the limit; partly when at
    some of the three (condition: which); not reproduced when at none.
1b. At the paper's schedule ``gamma = 1/lambda_2(d)`` (the referee's comparison), the
    two-layer linear network grows sub-linearly while the linear model grows linearly, as
    fast as relu: rule 1 with every count taken at ``c = 1`` instead of the best step
    (linear model: slope at ``c = 1`` at least 0.75; two-layer linear: the growth rule at
    ``c = 1``; its median at most 2 times the relu network's at ``c = 1`` where that is
    finite); partly and not reproduced as in rule 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gdperceptron import (
    DataFileNotFoundError,
    GDPerceptronError,
    lambda2,
    load_named,
    make_model,
    minimal_example,
    reduce_problem,
    run,
    run_reduced_problem,
    run_scaled,
)
from gdperceptron.experiments import ablation_models as am
from gdperceptron.experiments.ablations_analysis import analyze
from gdperceptron.experiments.ablations_figures import plot
from gdperceptron.experiments.base import Experiment, Params, Result

NAME = "ablations"
MU = 1.0
DIMS = {True: (64, 256, 1024), False: (256, 1024, 4096, 16384)}
SEEDS = {True: (0, 1), False: (0, 1, 2, 3, 4)}
C_GRID = {True: (-0.5, 1.0, 7), False: (-1.0, 2.0, 13)}  # log10 c: lo, hi, count
REFINE = {True: 2, False: 4}
WIDTH = 16
# name -> (builder kind, options); kinds: linear, tied, two-layer, mlp, bias, mean-field
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "linear model": ("linear", {}),
    "tied (reference)": ("tied", {}),
    "two-layer linear": ("two-layer", {"activation": "identity"}),
    "two-layer relu": ("two-layer", {"activation": "relu"}),
    "relu + bias": ("bias", {}),
    "leaky relu": ("two-layer", {"activation": "leaky_relu"}),
    "standard relu w4": ("two-layer", {"activation": "relu", "width": 4}),
    "standard relu w64": ("two-layer", {"activation": "relu", "width": 64}),
    "mean-field relu w4": ("mean-field", {"width": 4}),
    "mean-field relu w16": ("mean-field", {}),
    "mean-field relu w64": ("mean-field", {"width": 64}),
    "mlp depth 3": ("mlp", {"depth": 3}),
    "mlp depth 4": ("mlp", {"depth": 4}),
    "square": ("two-layer", {"activation": "square"}),
}
# quick: one compilation per variant dominates its time (two for the square activation,
# whose overflowing runs go through the scaled engine), so the leaky relu, depth and square
# claims are "not run" there
QUICK_VARIANTS = ("linear model", "two-layer linear", "two-layer relu", "relu + bias",
                  "mean-field relu w16")  # fmt: skip
FMNIST = {"classes": (2, 4), "n": 1000, "seeds": (0, 1, 2, 3, 4)}
FMNIST_MODELS = {
    "linear model": ("linear", {}),
    "two-layer linear": ("two-layer", {"activation": "identity"}),
    "two-layer relu": ("two-layer", {"activation": "relu"}),
}
FMNIST_GRID = (-1.0, 1.5, 11)
FMNIST_ANCHOR = -0.5
FMNIST_MAX_ITER = 6500  # above 3 times the largest linear best count of the first run, 2061
FMNIST_REFINE, FMNIST_WALK = 2, 2
EXTEND = 8  # quarter decades past a grid edge while the best sits on it


def log_grid(spec: tuple[float, float, int]) -> list[float]:
    """``count`` values ``10^x``, ``x`` evenly from ``lo`` to ``hi``."""
    return [float(v) for v in np.logspace(spec[0], spec[1], int(spec[2]))]


def search_best(
    solve: Callable[[float, int], tuple[int | None, str]],
    steps: Sequence[float],
    anchor: int,
    refine: int,
    max_iter: int,
    walk: int = 0,
    extend: int = 0,
) -> dict[str, Any]:
    """The best step of ``steps`` (ascending, log-spaced) for ``solve(step, cap) ->
    (iterations or None, stop reason)``: ``steps[anchor]`` with ``max_iter``, then down to
    ``steps[0]``, then up; each later run capped at the best count so far (module doc).
    With ``walk = k > 0`` each direction stops after ``k`` consecutive steps that do not
    beat the best so far (a local search: exact when the count is unimodal in the step).
    While the best sits on an edge of the grid, the grid grows past it by one step of the
    same ratio, at most ``extend`` times. Then ``refine`` bisections in ``log step`` between
    the best grid step and the next one up when that one did not separate. Returns
    ``{"entries": [{"step", "iterations", "stop_reason", "cap"}], "best_step",
    "iterations", "at_edge"}`` (``None`` when nothing separates)."""
    entries: list[dict[str, Any]] = []
    best: list[Any] = [None, None]  # iterations, step
    grid = [float(s) for s in steps]
    ok: dict[float, bool] = {}

    def one(step: float) -> bool:
        cap = int(max_iter if best[0] is None else best[0])
        it, reason = solve(float(step), cap)
        entries.append({"step": float(step), "iterations": it, "stop_reason": reason,
                        "cap": cap})  # fmt: skip
        if it is not None and (best[0] is None or it < best[0]):
            best[0], best[1] = int(it), float(step)
        ok[float(step)] = it is not None
        return it is not None

    def sweep(order: list[float]) -> None:
        misses = 0
        for step in order:
            before = best[0]
            one(step)
            misses = misses + 1 if before is not None and best[0] == before else 0
            if walk and misses >= walk:
                return

    one(grid[anchor])
    sweep(grid[:anchor][::-1])
    sweep(grid[anchor + 1 :])
    ratio = grid[1] / grid[0]
    for _ in range(extend):
        if best[1] == grid[0]:
            grid.insert(0, grid[0] / ratio)
            one(grid[0])
        elif best[1] == grid[-1]:
            grid.append(grid[-1] * ratio)
            one(grid[-1])
        else:
            break
    at_edge = best[1] is not None and best[1] in (grid[0], grid[-1])
    if best[1] is not None and refine:
        j = grid.index(best[1])
        if j + 1 < len(grid) and not ok[grid[j + 1]]:
            lo, hi = grid[j], grid[j + 1]
            for _ in range(refine):
                mid = math.sqrt(lo * hi)
                lo, hi = (mid, hi) if one(mid) else (lo, mid)
    entries.sort(key=lambda e: e["step"])
    return {"entries": entries, "best_step": best[1], "iterations": best[0], "at_edge": at_edge}


def build(variant: str, d: int, seed: int) -> tuple[Any, np.ndarray]:
    """``(model, theta0)`` of a minimal-example variant (module doc)."""
    kind, options = VARIANTS[variant]
    m = int(options.get("width", WIDTH))
    if kind == "bias":
        return am.relu_bias(d, m), am.bias_start(d, m, seed)
    if kind == "mean-field":
        return am.relu_mean_field(d, m), am.mean_field_start(d, m, seed)
    opts = {k: v for k, v in options.items() if k != "width"}
    model = make_model(kind, d, width=m, **opts)
    return model, np.zeros(d) if kind == "linear" else model.initial_params(seed)


def network_budget(d: int) -> int:
    """Iterations a network run may take at dimension ``d``: ``2 d + 1000``."""
    return 2 * int(d) + 1000


def _solver(problem: Any, algorithm: str = "gd") -> Callable[[float, int], tuple[Any, str]]:
    """Runs of the reduced problem; one that overflows float64 is followed by the scaled
    engine when the model is homogeneous, which classifies it exactly (solved or not)."""

    def solve(step: float, cap: int) -> tuple[int | None, str]:
        traj = run_reduced_problem(problem, algorithm, step, max_iter=cap)
        if traj.stop_reason == "non_finite" and problem.model.degree is not None:
            traj = run_scaled(problem.model, problem.data, algorithm, step,
                              theta0=problem.theta0, max_iter=cap)  # fmt: skip
        return traj.solved_iteration, traj.stop_reason

    return solve


def run_minimal(params: Params) -> Result:
    """Best-step searches of one (variant, d) over its seeds; for the linear model also the
    ``gamma -> inf`` limit."""
    d, variant = int(params["d"]), params["variant"]
    scale = 1.0 / lambda2(d, MU)
    cs = log_grid(tuple(params["c_grid"]))
    anchor = int(np.argmin(np.abs(np.log10(cs))))
    data = minimal_example(d, MU)
    runs = []
    for seed in params["seeds"]:
        model, theta0 = build(variant, d, int(seed))
        problem = reduce_problem(model, data, theta0)
        found = search_best(_solver(problem), [c * scale for c in cs], anchor,
                            int(params["refine"]), int(params["max_iter"]),
                            extend=int(params["extend"]))  # fmt: skip
        rec = {"seed": int(seed), **found}
        paper = next(e for e in found["entries"] if e["step"] == cs[anchor] * scale)
        rec["paper_step"] = {"iterations": paper["iterations"], "stop_reason": paper["stop_reason"]}
        if VARIANTS[variant][0] == "linear":
            it, reason = _solver(problem, "perceptron")(1.0, int(params["max_iter"]))
            rec["limit"] = {"iterations": it, "stop_reason": reason}
        runs.append(rec)
    return {"runs": runs, "scale": scale}


def run_fmnist(params: Params) -> Result:
    """Best-step search of one (model, seed) on Fashion-MNIST."""
    seed = int(params["seed"])
    data = load_named("fashion-mnist", data_dir=params["data_dir"],
                      classes=tuple(params["classes"]), n=int(params["n"]), seed=seed)  # fmt: skip
    kind, options = FMNIST_MODELS[params["model"]]
    model = make_model(kind, data.d, width=WIDTH, **options)
    theta0 = np.zeros(data.d) if kind == "linear" else model.initial_params(seed)

    def solve(step: float, cap: int) -> tuple[int | None, str]:
        traj = run(model, data, "gd", step, theta0=theta0, max_iter=cap)
        return traj.solved_iteration, traj.stop_reason

    steps = log_grid(tuple(params["grid"]))
    anchor = int(np.argmin(np.abs(np.log10(steps) - params["anchor"])))
    found = search_best(solve, steps, anchor, int(params["refine"]), int(params["max_iter"]),
                        walk=int(params["walk"]), extend=int(params["extend"]))  # fmt: skip
    return {"seed": seed, "standardized": bool(data.info.get("standardized")), **found}


def run_task(params: Params) -> Result:
    """One task: a minimal-example (variant, d), a Fashion-MNIST (model, seed), or the note
    of missing data."""
    if params["part"] == "skipped":
        return {"skipped": True, "reason": params["reason"]}
    if params["part"] == "minimal":
        return run_minimal(params)
    return run_fmnist(params)


def tasks_with_data(quick: bool, data_dir: str | None) -> list[Params]:
    """One task per minimal-example (variant, d), plus one per Fashion-MNIST (model, seed)
    when the files are found (full version only), else a ``skipped`` task."""
    variants = QUICK_VARIANTS if quick else tuple(VARIANTS)
    out: list[Params] = []
    for v in variants:
        for d in DIMS[quick]:
            linear = VARIANTS[v][0] == "linear"
            out.append({"part": "minimal", "variant": v, "d": d,
                        "seeds": [0] if linear else list(SEEDS[quick]),
                        "c_grid": list(C_GRID[quick]), "refine": REFINE[quick],
                        "extend": EXTEND,
                        "max_iter": 20 * d if linear else network_budget(d)})  # fmt: skip
    if quick:
        return out
    try:
        if data_dir is None:
            raise GDPerceptronError("no data folder given")
        load_named("fashion-mnist", data_dir=data_dir, classes=FMNIST["classes"], n=10, seed=0)
    except (DataFileNotFoundError, GDPerceptronError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return [*out, {"part": "skipped", "data": "fashion-mnist", "reason": reason}]
    for m in FMNIST_MODELS:
        for s in FMNIST["seeds"]:
            out.append({"part": "fmnist", "model": m, "seed": s, "data_dir": str(data_dir),
                        "classes": list(FMNIST["classes"]), "n": FMNIST["n"],
                        "standardized": True, "grid": list(FMNIST_GRID),
                        "anchor": FMNIST_ANCHOR, "refine": FMNIST_REFINE, "extend": EXTEND,
                        "max_iter": FMNIST_MAX_ITER, "walk": FMNIST_WALK})  # fmt: skip
    return out


def tasks(quick: bool) -> list[Params]:
    """The tasks without a data folder."""
    return tasks_with_data(quick, None)


EXPERIMENT = Experiment(
    name=NAME,
    title="Ablations and controls: factorisation, biases, activations, width scaling, depth",
    claim=(
        "The referee's controls for the Õ(√d) against Ω(d) separation of the paper's tied "
        "model on the minimal example: is the acceleration due to the factorised "
        "(two-layer) parameterisation or to the nonlinearity, on the toy problem and on "
        "Fashion-MNIST 2 vs 4, and does it persist with biases, leaky relu, mean-field width "
        "scaling, depth 3-4 and the square activation? Each model at its own best step."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
    tasks_with_data=tasks_with_data,
)
