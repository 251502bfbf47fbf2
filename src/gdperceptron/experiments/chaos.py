"""Sensitivity of LR+GD with large steps: finite-time Lyapunov exponents on separable and
non-separable data (docs/theory/experiments.md).

Deterministic LR+GD on breast cancer, ``T`` iterations with no stop at separation, on two
data sets named by what decides the long-run dynamics of the linear model:

* ``full set (not separable)``: all 569 samples, standardized; a linear program certifies
  that no hyperplane through the origin separates them (``A v >= 1`` infeasible), the
  regime where large-step GD on the logistic loss is known to cycle and to be chaotic;
* ``subsample (separable)``: 300 samples (seed 0), standardized after subsampling;
  separable through the origin, certified by the LP and by the max margin of
  :func:`gdperceptron.max_margin_direction` (recorded).

(Separability is that of the linear model; a network may separate the full set.) Models:
the linear model and two-layer networks of width 16 (tanh and ReLU), each from seeded random
starts ``theta_0`` (the linear model too, so that a relative perturbation is defined). Per
step ``gamma``:

* two trajectories from ``theta_0`` and ``theta_0 + 1e-12 ||theta_0|| u`` (``u`` a seeded
  unit vector): their distance per iteration;
* the finite-time Lyapunov exponent from Jacobian-vector products of the step map
  ``S = perceptron_step(model, X, y, "gd", gamma)``: ``log ||J_t v_t||`` with ``v_0 = u``,
  ``v_{t+1} = J_t v_t / ||J_t v_t||`` (``jax.jvp``), averaged over a window of steps
  ``t = a .. h-2`` (``h`` the horizon: the number of finite iterates), over the *whole run*
  (``a = 0``) and over its *second half* (``a = h // 2``);
* the growth rate of the iterate over the same window,
  ``g = log(||theta_{h-1}|| / ||theta_a||) / (h - 1 - a)``, and the relative exponent
  ``lambda_rel = lambda - g``. A run whose iterate grows geometrically has ``lambda ~ g``:
  its perturbations grow with the iterate, not relative to it; chaos is ``lambda_rel > 0``.

Overflow is never counted as chaos. A run that leaves float64's range (``h < T``) is
excluded from every verdict and shown as such; for a homogeneous model (linear, ReLU) the
scaled engine (:func:`gdperceptron.run_scaled`, exact at any scale) reruns it from the same
start and says what the run really does (``solved``, ``diverged``, ...).

Check of the estimate: over the first iterations, while the relative distance stays below
``1e-6`` (the linear regime of the perturbation), the growth rate of the 1e-12 separation,
``log(dist_t / dist_0) / t``, is compared with the mean of ``log ||J_t v_t||`` over the same
iterations.

The step size is a traced argument of :func:`gdperceptron.perceptron_step`, so one
compilation per task serves all steps (``vmap``). Every curve stops at the first non-finite
iterate.

Verdict rules of chaos (fixed before the full run; ``CHAOS_TOL = 0.01`` per iteration, an
e-fold of relative separation per 100 iterations). Per (data set, model, start), on the runs
that stay finite for all ``T`` iterations: *calm* when at the two smallest steps both
``lambda_rel`` (whole run and second half) are ``<= CHAOS_TOL``; *long-run chaotic* when
calm and the largest finite step has second-half ``lambda_rel > CHAOS_TOL``; *transient*
when calm, not long-run chaotic, and some finite step has whole-run ``lambda_rel >
CHAOS_TOL``.

1. (1a linear, 1b tanh, 1c ReLU) full set (not separable): large steps are chaotic.
2. (2a linear, 2b tanh, 2c ReLU) subsample (separable): large steps are chaotic.
   For each: reproduced when every start is long-run chaotic; partly (transient only: over
   the whole run, not its second half) when every start is long-run chaotic or transient
   and one at least transient; not reproduced otherwise (ReLU runs that overflow at the
   large steps leave a small largest finite step: not chaotic there).
3. The exponent estimate is right: on every finite run whose linear window has at least 5
   iterations, the 1e-12 separation rate and the JVP rate over that window differ by at
   most ``RATE_TOL = 2e-3`` per iteration. Reproduced when they all do, else not.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jax
import numpy as np

from gdperceptron import (
    breast_cancer,
    linear,
    logistic_loss,
    margins_fn,
    perceptron_step,
    two_layer,
)
from gdperceptron.experiments.base import Analysis, Experiment, Params, Record, Result

NAME = "chaos"
STEPS = {True: (0.01, 1.0, 100.0), False: (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)}
T_STEPS = {True: 200, False: 1000}
MODELS = {True: ("linear", "two-layer relu"), False: ("linear", "two-layer relu", "two-layer tanh")}
PERTURBATION = 1e-12
LINEAR_REGIME = 1e-6  # relative distance below which the perturbation is still linear
CHAOS_TOL = 0.01  # per iteration: an e-fold of relative separation per 100 iterations
WIDTH = 16
CLIP = 1e30  # figure only: larger values (overflowing runs) are drawn at this value
FIG_DIST = "chaos_distance_vs_iteration"
FIG_LYAP = "chaos_lyapunov_vs_step"


def tasks(quick: bool) -> list[Params]:
    """One task per model; every step runs inside it (one compilation)."""
    return [
        {"model": m, "seed": 0, "steps": list(STEPS[quick]), "T": T_STEPS[quick]}
        for m in MODELS[quick]
    ]


def build_model(name: str, d: int) -> Any:
    """The model called ``name`` (``linear``, ``two-layer relu``, ``two-layer tanh``)."""
    if name == "linear":
        return linear(d)
    return two_layer(d, WIDTH, name.split()[-1])


def lyapunov_runs(
    model: Any, X: Any, y: Any, gammas: Any, theta0: Any, u: Any, T: int
) -> dict[str, np.ndarray]:
    """For each step (leading axis): ``log_growth`` ``log ||J_t v_t||`` (T,), and for
    ``t = 0..T-1`` the distance of the perturbed trajectory ``dist``, ``norm`` of the
    iterate, ``loss`` and ``n_misclassified`` (T,)."""
    jnp = jax.numpy
    X, y = jnp.asarray(X), jnp.asarray(y)
    margins = margins_fn(model, X, y)
    th0, u = jnp.asarray(theta0), jnp.asarray(u)
    th0b = th0 + PERTURBATION * jnp.linalg.norm(th0) * u

    def one(gamma: Any) -> tuple:
        S = perceptron_step(model, X, y, "gd", gamma)

        def body(carry: tuple, _: Any) -> tuple:
            th, v, thb = carry
            th_next, Jv = jax.jvp(S, (th,), (v,))
            norm_jv = jnp.linalg.norm(Jv)
            m = margins(th)
            rec = (jnp.log(norm_jv), jnp.linalg.norm(th - thb), jnp.linalg.norm(th),
                   logistic_loss(m), jnp.sum(m <= 0))  # fmt: skip
            return (th_next, Jv / norm_jv, S(thb)), rec

        return jax.lax.scan(body, (th0, u, th0b), None, length=T)[1]

    out = jax.jit(jax.vmap(one))(jnp.asarray(gammas, dtype=jnp.float64))
    keys = ("log_growth", "dist", "norm", "loss", "n_misclassified")
    return {k: np.asarray(v) for k, v in zip(keys, out, strict=True)}


def exponents(log_growth: np.ndarray, dist: np.ndarray, norm: np.ndarray) -> dict[str, Any]:
    """Summaries of one step's run, cut at the first non-finite entry (see module doc)."""
    finite = np.isfinite(log_growth) & np.isfinite(dist) & np.isfinite(norm) & (norm > 0)
    h = int(np.argmin(finite)) if not finite.all() else finite.size
    out: dict[str, Any] = {"horizon": h}
    if h < 4:
        keys = ("lambda_all", "lambda", "norm_growth", "lambda_rel", "separation_rate", "jvp_rate")
        return {**out, **dict.fromkeys(keys), "window": 0}
    mid = h // 2
    lam = float(np.mean(log_growth[mid:h]))
    growth = float((np.log(norm[h - 1]) - np.log(norm[mid])) / max(h - 1 - mid, 1))
    rel = dist[:h] / norm[:h]
    above = np.flatnonzero(rel > LINEAR_REGIME)
    w = int(above[0]) if above.size else h - 1
    sep = float(np.log(dist[w] / dist[0]) / w) if w > 0 and dist[w] > 0 else None
    return {
        **out,
        "lambda_all": float(np.mean(log_growth[:h])),
        "lambda": lam,
        "norm_growth": growth,
        "lambda_rel": lam - growth,
        "window": w,
        "separation_rate": sep,
        "jvp_rate": float(np.mean(log_growth[:w])) if w > 0 else None,
    }


def _clean(x: Any) -> list:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(x, dtype=float)]


def run_task(params: Params) -> Result:
    """Lyapunov exponents and separation curves for every step of one model."""
    data = breast_cancer()
    model = build_model(params["model"], data.d)
    seed = int(params["seed"])
    theta0 = model.initial_params(seed, 1.0)
    u = np.random.default_rng(seed + 1).standard_normal(model.n_params)
    u /= np.linalg.norm(u)
    gammas = [float(g) for g in params["steps"]]
    res = lyapunov_runs(model, data.X, data.y, gammas, theta0, u, int(params["T"]))
    runs = []
    for k, g in enumerate(gammas):
        ex = exponents(res["log_growth"][k], res["dist"][k], res["norm"][k])
        h = ex["horizon"]
        runs.append({
            "step": g, **ex,
            "rel_dist": _clean(res["dist"][k][:h] / res["norm"][k][:h]),
            "loss": _clean(res["loss"][k][:h]),
            "n_misclassified_end": int(res["n_misclassified"][k][h - 1]) if h else None,
        })  # fmt: skip
    return {"n": data.n, "runs": runs}


def is_chaotic(r: dict[str, Any], T: int) -> bool:
    """``lambda_rel > CHAOS_TOL`` on a run that stays finite for all ``T`` iterations."""
    return r["horizon"] == T and r["lambda_rel"] is not None and r["lambda_rel"] > CHAOS_TOL


def model_verdict(runs: list[dict[str, Any]], T: int) -> tuple[bool, str]:
    """The per-model check of the module doc and a one-line summary."""
    runs = sorted(runs, key=lambda r: r["step"])
    calm = not any(is_chaotic(r, T) for r in runs[:2])
    full = [r for r in runs if r["horizon"] == T]
    large = full[-1] if full else None
    chaotic_large = large is not None and is_chaotic(large, T)
    overflow = [f"{r['step']:g}" for r in runs if r["horizon"] < T]

    def lam(r: dict[str, Any]) -> str:
        return "n/a" if r["lambda_rel"] is None else f"{r['lambda_rel']:+.3f}"

    text = ", ".join(f"γ={r['step']:g}: {lam(r)}" for r in runs)
    if overflow:
        text += f"; overflow at γ ∈ {{{', '.join(overflow)}}}"
    if large is not None:
        text += f"; largest finite step {large['step']:g}"
    return calm and chaotic_large, text


def analyze(records: list[Record]) -> Analysis:
    """Per (model, step) exponents; the verdict of the module doc."""
    table, numbers, parts, oks = [], {"chaos_tol": CHAOS_TOL}, [], []
    for params, result in sorted(records, key=lambda r: r[0]["model"]):
        model = params["model"]
        for r in result["runs"]:
            table.append({
                "model": model, "step": r["step"], "lambda (JVP, 2nd half)": r["lambda"],
                "iterate growth rate": r["norm_growth"], "lambda_rel": r["lambda_rel"],
                "chaotic": is_chaotic(r, int(params["T"])),
                "separation rate": r["separation_rate"],
                "JVP rate (same window)": r["jvp_rate"], "window": r["window"],
                "horizon": r["horizon"], "misclassified at end": r["n_misclassified_end"],
            })  # fmt: skip
            key = f"{model.replace(' ', '_')}_step_{r['step']:g}"
            numbers[f"lambda_rel_{key}"] = r["lambda_rel"]
            if r["separation_rate"] is not None and r["jvp_rate"] is not None:
                numbers[f"rate_gap_{key}"] = abs(r["separation_rate"] - r["jvp_rate"])
        ok, text = model_verdict(result["runs"], int(params["T"]))
        numbers[f"reproduced_{model.replace(' ', '_')}"] = ok
        oks.append(ok)
        parts.append(f"{model} {'✓' if ok else '✗'} (λ_rel per iteration: {text})")
    gaps = [v for k, v in numbers.items() if k.startswith("rate_gap_")]
    numbers["max_rate_gap"] = max(gaps) if gaps else None
    reproduced = bool(oks) and all(oks)
    verdict = (
        f"{'reproduced' if reproduced else 'NOT reproduced'} (chaotic := λ − iterate growth "
        f"> {CHAOS_TOL:g}/iteration; needs calm smallest steps and a chaotic largest finite "
        "step): " + " | ".join(parts)
        + (f"; 1e-12 separation rate vs JVP rate differ by ≤ {max(gaps):.2g}" if gaps else "")
    )  # fmt: skip
    return Analysis(reproduced, verdict, table, numbers, FIG_LYAP)


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Relative separation and loss vs iteration per step (log y), one column per model;
    Lyapunov exponents vs step."""
    import matplotlib.pyplot as plt

    from gdperceptron.experiments.figures import new_figure, save_figure

    recs = sorted(records, key=lambda r: r[0]["model"])
    if not recs:
        return []
    fig, ax = new_figure(ncols=len(recs), nrows=2, width=4.6, height=3.4)
    for j, (params, result) in enumerate(recs):
        runs = sorted(result["runs"], key=lambda r: r["step"])
        for k, r in enumerate(runs):
            color = plt.cm.viridis(k / max(len(runs) - 1, 1))
            for i, key in enumerate(("rel_dist", "loss")):
                y = np.array([np.nan if v is None else v for v in r[key]], dtype=float)
                y[y <= 0] = np.nan
                y = np.minimum(y, CLIP)  # overflowing runs: drawn at the clip value
                ax[i, j].semilogy(np.arange(y.size), y, color=color, lw=0.8,
                                  label=f"γ={r['step']:g}")  # fmt: skip
        ax[0, j].set(xlabel="iteration t", ylabel="‖θ_t − θ'_t‖ / ‖θ_t‖",
                     title=f"{params['model']}: 1e-12 perturbation")  # fmt: skip
        ax[1, j].set(xlabel="iteration t", ylabel=f"logistic loss (clipped at {CLIP:g})",
                     title=params["model"])  # fmt: skip
        ax[0, j].legend(fontsize=7)
    fig.tight_layout()
    stems = [save_figure(fig, out_dir, FIG_DIST)]
    fig, ax = new_figure(ncols=2, width=5.0)
    for j, (params, result) in enumerate(recs):
        runs = [
            r for r in sorted(result["runs"], key=lambda r: r["step"]) if r["lambda"] is not None
        ]
        g = [r["step"] for r in runs]
        ax[0, 0].semilogx(g, [r["lambda_rel"] for r in runs], "o-", color=f"C{j}",
                          label=params["model"])  # fmt: skip
        over = [r for r in runs if r["horizon"] < int(params["T"])]
        label = "overflows" if over and j == 0 else None
        ax[0, 0].plot([r["step"] for r in over], [r["lambda_rel"] for r in over], "o", ms=11,
                      mfc="none", color="k", label=label)  # fmt: skip
        ax[0, 1].semilogx(g, [r["lambda"] for r in runs], "o-", color=f"C{j}",
                          label=f"{params['model']}: JVP λ")  # fmt: skip
        ax[0, 1].semilogx(g, [r["norm_growth"] for r in runs], "x:", color=f"C{j}",
                          label=f"{params['model']}: growth of ‖θ‖")  # fmt: skip
    ax[0, 0].axhline(CHAOS_TOL, color="k", ls=":", lw=1, label=f"threshold {CHAOS_TOL:g}")
    ax[0, 0].axhline(0.0, color="k", lw=0.5)
    ax[0, 0].set(xlabel="step γ", ylabel="λ_rel = λ − growth rate of ‖θ‖",
                 title="relative Lyapunov exponent (2nd half; ○ overflows)")  # fmt: skip
    ax[0, 1].set(xlabel="step γ", ylabel="per iteration", title="JVP exponent and ‖θ‖ growth")
    for axis in ax[0]:
        axis.legend(fontsize=7)
    fig.tight_layout()
    stems.append(save_figure(fig, out_dir, FIG_LYAP))
    return stems


EXPERIMENT = Experiment(
    name=NAME,
    title="Chaos: sensitivity of LR+GD with large steps",
    claim=(
        "Summary of the paper: losses oscillate chaotically in deterministic runs "
        "with large steps. Tested as a positive finite-time Lyapunov exponent of the GD step "
        "map at large steps (relative to the growth of the iterate) and a non-positive one "
        "at small steps, with the growth of a 1e-12 perturbation as a check."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
