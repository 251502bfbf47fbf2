"""LR+GD with a large step tracks the hard perceptron (docs/theory/reduction.md; predecessor
Theorem 3.2).

From the same start ``theta_0`` run three trajectories with the same step ``gamma``:

* ``a_t``: LR+GD, ``a_{t+1} = a_t + (gamma/n) sum_i sigma(-m_i) grad m_i(a_t)``;
* ``b_t``: the hard perceptron, weights ``h(m) = 1[m<0] + 1/2 1[m=0]``, from ``theta_0``;
* ``c_t``: the hard perceptron restarted from GD's first iterate, ``c_1 = a_1``.

Measured per iteration ``t``: the relative gap ``||a_t - b_t|| / ||b_t||`` (and the same
for ``c``), whether the misclassified sets ``{i : m_i <= 0}`` of ``a_t`` and ``b_t`` are
identical, and the reduction's error term relative to the step,
``||xi_t|| / max(||a_{t+1} - a_t||, ||a_{t+1} - a_t - xi_t||)`` (in [0, 2]; ``xi_t`` from
:func:`gdperceptron.error_term`). For the linear model from ``v_0 = 0`` the independent
NumPy batch perceptron ``v̂_{t+1} = v̂_t + (1/n) sum_i h(<v̂_t, a_i>) a_i`` gives the
Theorem 3.2 distance ``||a_t / gamma - v̂_t|| / ||v̂_t||`` (the hard perceptron from 0 is
exactly ``b_t = gamma v̂_t``: its weights do not change when the iterate is scaled).

The step size is a traced argument of :func:`gdperceptron.perceptron_step`, so one
compilation per task serves every ``gamma``
(``vmap``). Two-layer trajectories grow geometrically at large steps and overflow after
a few dozen iterations; every curve stops at the first non-finite iterate (``horizon``).

Networks (two-layer ReLU, width 16) start from seeded random ``theta_0`` (three seeds).
Their first step cannot follow the hard perceptron: at the O(1) margins of a random start
the GD weights ``sigma(-m_i(theta_0))`` differ from the hard ones, and the step is ``gamma``
times their weighted sum, so as ``gamma -> inf`` the same-start gap at ``t = 1`` tends to
the first-step limit

    L_1 = ||sum_i (sigma(-m_i(theta_0)) - h(m_i(theta_0))) grad m_i(theta_0)||
          / ||sum_i h(m_i(theta_0)) grad m_i(theta_0)||,

computed from ``theta_0`` alone (for the linear model from ``v_0 = 0`` every margin is 0 and
``sigma(0) = h(0) = 1/2``, so ``L_1 = 0``). The fair test of the reduction for networks is the
perceptron restarted at GD's ``theta_1``.

Identities by construction (not evidence): the linear gap at ``t = 1`` is 0 (``L_1 = 0``);
the hard perceptron from 0 is ``gamma v̂_t`` (scale-free hard weights); the restarted gap
at ``t = 1`` is 0 (``c_1 = a_1``). Independent evidence: the gaps at ``t >= 2``, the NumPy
``v̂_t``, and the same-start network gap against ``L_1`` computed separately.

Verdict rules of reduction (fixed before the full run; ``T_EVAL = 10``, ``GAP_TOL = 1e-6``):

1. Linear model from ``v_0 = 0`` (predecessor Theorem 3.2). Per data set: the same-start
   relative gap at ``t = T_EVAL`` is ``<= GAP_TOL`` at the largest step and non-increasing
   over the three largest steps, and the distance ``||a_t/gamma - v̂_t|| / ||v̂_t||`` to
   the NumPy batch perceptron at ``t = T_EVAL`` is ``<= GAP_TOL`` at the largest step.
   Reproduced when every data set passes; partly (on the data sets that pass) when some do;
   not reproduced when none does.
2. Networks, perceptron restarted at GD's ``theta_1``. Per (data set, seed): the run stays
   finite beyond ``t = T_EVAL`` at the largest step, the restarted gap at ``t = T_EVAL`` is
   ``<= GAP_TOL`` there, and the misclassified sets of GD and of the restarted perceptron
   are equal at every ``1 <= t <= T_EVAL``. Reproduced when every case passes; partly (on the
   cases that pass) when some do; not reproduced when none does.
3. Networks from the same start: the gap does not vanish, and the first step sets it. Per
   (data set, seed), at the largest step: the same-start gap at ``t = 1`` equals ``L_1`` to a
   relative ``1e-3``, ``L_1 > GAP_TOL``, and the same-start gap at ``t = T_EVAL`` is
   ``> GAP_TOL``. Reproduced when every case passes; partly (on the cases that pass) when
   some do; not reproduced when none does. (The old rule, "same-start gap ``<= GAP_TOL``
   for networks", fails by construction: its limit is ``L_1 > 0``.)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jax
import numpy as np

from gdperceptron import (
    error_term,
    linear,
    load_named,
    margins_fn,
    perceptron_step,
    two_layer,
)
from gdperceptron.experiments.base import Analysis, Experiment, Params, Record, Result

NAME = "reduction"
GAMMAS = {True: (1.0, 1e2, 1e4, 1e6), False: (1e-1, 1.0, 10.0, 1e2, 1e3, 1e4, 1e5, 1e6)}
T_STEPS = {True: 20, False: 100}
DATA = {
    True: (("breast-cancer", None),),
    False: (("breast-cancer", None), ("digits", (3, 8)), ("digits", (1, 7))),
}
N_SAMPLES = {True: 100, False: 200}
MODELS = ("linear", "two-layer")
WIDTH, ACTIVATION = 16, "relu"
T_EVAL = 10  # the gap is compared at this fixed iteration (Theorem 3.2 is a fixed-t limit)
GAP_TOL = 1e-6  # "tracks": agreement to six significant digits at the largest step
FIG_GAMMA = "reduction_gap_vs_gamma"
FIG_TIME = "reduction_gap_vs_t"


def tasks(quick: bool) -> list[Params]:
    """One task per (data set, model); every step of the grid runs inside it."""
    return [
        {"data": name, "classes": None if cls is None else list(cls), "n": N_SAMPLES[quick],
         "data_seed": 0, "model": model, "seed": 0, "gammas": list(GAMMAS[quick]),
         "T": T_STEPS[quick]}
        for name, cls in DATA[quick]
        for model in MODELS
    ]  # fmt: skip


def compare(model: Any, data: Any, gammas: Any, theta0: Any, T: int) -> dict[str, np.ndarray]:
    """Run LR+GD, the hard perceptron and the restarted perceptron for ``T`` steps per step.

    Returns arrays with a leading axis over ``gammas`` and then ``t = 0..T``: ``margins_gd``,
    ``margins_perc``, ``margins_restart`` ``(G, T+1, n)``; ``theta_gd`` ``(G, T+1, p)``;
    ``gap``, ``norm_perc``, ``gap_restart``, ``norm_restart``, ``xi``, ``step_gd`` ``(G, T+1)``.
    Entry ``t`` of the restart arrays is meaningful for ``t >= 1``.
    """
    jnp = jax.numpy
    X, y = jnp.asarray(data.X), jnp.asarray(data.y)
    margins = margins_fn(model, X, y)
    th0 = jnp.asarray(theta0)

    def one(gamma: Any) -> tuple:
        gd = perceptron_step(model, X, y, "gd", gamma)
        pc = perceptron_step(model, X, y, "perceptron", gamma)

        def body(carry: tuple, _: Any) -> tuple:
            a, b, c, t = carry
            xi = error_term(model, X, y, gamma, a)
            a_next = gd(a)
            c_next = jnp.where(t == 0, a_next, pc(c))
            out = (
                margins(a), margins(b), margins(c), a,
                jnp.linalg.norm(a - b), jnp.linalg.norm(b),
                jnp.linalg.norm(a - c), jnp.linalg.norm(c),
                jnp.linalg.norm(xi), jnp.linalg.norm(a_next - a),
                jnp.linalg.norm(a_next - a - xi),
            )  # fmt: skip
            return (a_next, pc(b), c_next, t + 1), out

        return jax.lax.scan(body, (th0, th0, th0, jnp.asarray(0)), None, length=T + 1)[1]

    out = jax.jit(jax.vmap(one))(jnp.asarray(gammas, dtype=jnp.float64))
    keys = ("margins_gd", "margins_perc", "margins_restart", "theta_gd", "gap", "norm_perc",
            "gap_restart", "norm_restart", "xi", "step_gd", "step_perc")  # fmt: skip
    return {k: np.asarray(v) for k, v in zip(keys, out, strict=True)}


def batch_perceptron_limit(A: np.ndarray, T: int) -> np.ndarray:
    """NumPy ``v̂_t``, ``t = 0..T``: ``v̂_0 = 0``, ``v̂_{t+1} = v̂_t + (1/n) sum_i h_i a_i``
    with ``h = 1[<v̂, a_i> < 0] + 1/2 1[<v̂, a_i> = 0]`` (predecessor Theorem 3.2)."""
    n, d = A.shape
    v = np.zeros((T + 1, d))
    for t in range(T):
        m = A @ v[t]
        h = np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0))
        v[t + 1] = v[t] + h @ A / n
    return v


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with ``0/0 = 0`` (identical iterates) and ``x/0 = inf``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(num == 0, 0.0, num / den)


def _clean(x: Any) -> list:
    """A JSON list with ``None`` for non-finite entries."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(x, dtype=float)]


def summarize_run(c: dict[str, np.ndarray], k: int, vhat: np.ndarray | None, gamma: float) -> dict:
    """Per-iteration curves for step index ``k`` of :func:`compare`'s output, cut at the
    first non-finite iterate (the horizon)."""
    ma, mb, mc = c["margins_gd"][k], c["margins_perc"][k], c["margins_restart"][k]
    finite = np.isfinite(ma).all(1) & np.isfinite(mb).all(1) & np.isfinite(mc).all(1)
    finite &= np.isfinite(c["gap"][k]) & np.isfinite(c["norm_perc"][k])
    horizon = int(np.argmin(finite)) if not finite.all() else finite.size
    cut = slice(0, horizon)
    same = np.all((ma <= 0) == (mb <= 0), axis=1)[cut]
    same_r = np.all((ma <= 0) == (mc <= 0), axis=1)[cut]
    xi_rel = _ratio(c["xi"][k], np.maximum(c["step_gd"][k], c["step_perc"][k]))[cut]
    differs = np.flatnonzero(~same)
    out = {
        "gamma": gamma,
        "horizon": horizon,
        "rel_gap": _clean(_ratio(c["gap"][k], c["norm_perc"][k])[cut]),
        "rel_gap_restart": _clean(_ratio(c["gap_restart"][k], c["norm_restart"][k])[cut]),
        "same_set": same.astype(int).tolist(),
        "same_set_restart": same_r.astype(int).tolist(),
        "first_set_difference": int(differs[0]) if differs.size else None,
        "xi_rel": _clean(xi_rel),
        "n_mis_gd": np.sum(ma <= 0, axis=1)[cut].tolist(),
        "n_mis_perc": np.sum(mb <= 0, axis=1)[cut].tolist(),
        "thm_gap": None,
    }
    if vhat is not None:
        v = vhat[:horizon]
        num = np.linalg.norm(c["theta_gd"][k][cut] / gamma - v, axis=1)
        out["thm_gap"] = _clean(_ratio(num, np.linalg.norm(v, axis=1)))
    return out


def run_task(params: Params) -> Result:
    """Compare LR+GD with the hard perceptron for every step of ``params["gammas"]``."""
    cls = params["classes"]
    data = load_named(params["data"], classes=None if cls is None else tuple(cls),
                      n=int(params["n"]), seed=int(params["data_seed"]))  # fmt: skip
    if params["model"] == "linear":
        model = linear(data.d)
        theta0 = np.zeros(data.d)
    else:
        model = two_layer(data.d, WIDTH, ACTIVATION)
        theta0 = model.initial_params(int(params["seed"]))
    T, gammas = int(params["T"]), [float(g) for g in params["gammas"]]
    c = compare(model, data, gammas, theta0, T)
    vhat = batch_perceptron_limit(data.A, T) if params["model"] == "linear" else None
    runs = [summarize_run(c, k, vhat, g) for k, g in enumerate(gammas)]
    return {"n": data.n, "d": data.d, "n_params": model.n_params, "runs": runs}


def _label(params: Params) -> str:
    cls = params["classes"]
    data = params["data"] if cls is None else f"{params['data']} {cls[0]}v{cls[1]}"
    return f"{data}, {params['model']}"


def _at(curve: list, t: int) -> float:
    """``curve[t]`` or NaN beyond the horizon / when not finite."""
    return float(curve[t]) if t < len(curve) and curve[t] is not None else math.nan


def _case_rows(label: str, runs: list[dict]) -> list[dict[str, Any]]:
    """Table rows of one (data, model) case, one per step."""
    rows = []
    for r in runs:
        xi = np.array(r["xi_rel"][1:], dtype=float)
        rows.append({
            "case": label, "gamma": r["gamma"],
            f"rel gap t={T_EVAL}": _at(r["rel_gap"], T_EVAL),
            f"restart gap t={T_EVAL}": _at(r["rel_gap_restart"], T_EVAL),
            f"Thm 3.2 gap t={T_EVAL}": _at(r["thm_gap"], T_EVAL) if r["thm_gap"] else None,
            "set agreement": float(np.mean(r["same_set"])) if r["same_set"] else math.nan,
            "restart set agreement": float(np.mean(r["same_set_restart"][1:]))
            if len(r["same_set_restart"]) > 1 else math.nan,
            "first set difference": r["first_set_difference"],
            "median xi/step": float(np.nanmedian(xi)) if xi.size else math.nan,
            "horizon": r["horizon"],
        })  # fmt: skip
    return rows


def analyze(records: list[Record]) -> Analysis:
    """Per (data, model): gap at ``t = T_EVAL`` per step; verdict as in the module doc."""
    table: list[dict[str, Any]] = []
    numbers: dict[str, Any] = {"t_eval": T_EVAL, "gap_tol": GAP_TOL}
    passed: dict[str, list[str]] = {"linear": [], "two-layer": []}
    failed: dict[str, list[str]] = {"linear": [], "two-layer": []}
    restart: dict[str, list[float]] = {"linear": [], "two-layer": []}
    for params, result in sorted(records, key=lambda r: _label(r[0])):
        label, runs = _label(params), result["runs"]
        table += _case_rows(label, runs)
        gaps = np.array([_at(r["rel_gap"], T_EVAL) for r in runs])
        ok = bool(gaps[-1] <= GAP_TOL and np.all(np.diff(gaps[-3:]) <= 0))
        key = label.replace(", ", "_").replace(" ", "_")
        rgap = _at(runs[-1]["rel_gap_restart"], T_EVAL)
        numbers[f"gap_t{T_EVAL}_at_gamma_max_{key}"] = float(gaps[-1])
        numbers[f"restart_gap_t{T_EVAL}_at_gamma_max_{key}"] = rgap
        numbers[f"set_agreement_at_gamma_max_{key}"] = float(np.mean(runs[-1]["same_set"]))
        numbers[f"tracks_{key}"] = ok
        if runs[-1]["thm_gap"]:
            numbers[f"thm32_gap_t{T_EVAL}_at_gamma_max_{key}"] = _at(runs[-1]["thm_gap"], T_EVAL)
        model = params["model"]
        (passed if ok else failed)[model].append(f"{label.split(',')[0]} {gaps[-1]:.2g}")
        restart[model].append(rgap)
    gmax = max((r["gamma"] for _, res in records for r in res["runs"]), default=math.nan)
    reproduced = bool(records) and not (failed["linear"] or failed["two-layer"])
    parts = []
    for model in ("linear", "two-layer"):
        if passed[model] or failed[model]:
            status = "tracks" if not failed[model] else "does NOT track"
            cases = "; ".join(passed[model] + failed[model])
            parts.append(f"{model} {status} ({cases})")
    if failed["two-layer"]:
        parts.append(
            "the two-layer gap is set at the first step (σ(−m_i(θ_0)) ≠ h(m_i(θ_0)) at the O(1) "
            f"margins of a random start); the perceptron restarted at GD's θ_1 tracks it: gap "
            f"{max(restart['two-layer']):.2g} (largest over the data sets) at t={T_EVAL}, "
            f"γ={gmax:.0e}"
        )
    verdict = (
        f"{'reproduced' if reproduced else 'NOT reproduced'}: relative gap "
        f"‖θ_GD − θ_perc‖/‖θ_perc‖ at t={T_EVAL}, γ={gmax:.0e}, same start (criterion ≤ "
        f"{GAP_TOL:g} and non-increasing over the 3 largest γ): " + "; ".join(parts)
    )
    return Analysis(reproduced, verdict, table, numbers, FIG_GAMMA)


FLOOR = 1e-17  # values below this (float64 zeros included) are drawn at the floor


def _floor_plot(axis: Any, x: Any, y: Any, style: str, color: Any, label: str | None) -> None:
    """Log-log plot; values below ``FLOOR`` (exact zeros included) are down-triangles there."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    pos = y >= FLOOR
    axis.loglog(x[pos], y[pos], style, color=color, label=label, ms=4)
    low = np.isfinite(y) & (y < FLOOR)
    if np.any(low):
        axis.plot(x[low], np.full(int(np.sum(low)), FLOOR), "v", color=color, ms=5)


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Gap at ``t = T_EVAL`` and set agreement vs the step; gap vs ``t`` per step."""
    import matplotlib.pyplot as plt

    from gdperceptron.experiments.figures import new_figure, save_figure

    if not records:
        return []
    recs = sorted(records, key=lambda r: _label(r[0]))
    fig, ax = new_figure(ncols=3, width=4.6)
    for j, (params, result) in enumerate(recs):
        g = [r["gamma"] for r in result["runs"]]
        color = f"C{j}"
        _floor_plot(ax[0, 0], g, [_at(r["rel_gap"], T_EVAL) for r in result["runs"]], "o-",
                    color, _label(params))  # fmt: skip
        _floor_plot(ax[0, 0], g, [_at(r["rel_gap_restart"], T_EVAL) for r in result["runs"]],
                    "x--", color, None)  # fmt: skip
        ax[0, 1].semilogx(g, [np.mean(r["same_set"]) for r in result["runs"]], "o-", color=color)
        xi = [np.nanmedian(np.array(r["xi_rel"][1:], dtype=float)) for r in result["runs"]]
        _floor_plot(ax[0, 2], g, xi, "o-", color, None)
    ax[0, 0].axhline(GAP_TOL, color="k", ls=":", lw=1)
    ax[0, 0].set(xlabel="step γ", ylabel=f"‖θ_GD − θ_perc‖ / ‖θ_perc‖ at t={T_EVAL}",
                 title=f"gap (o same start, x restart at θ_1; ▼ < {FLOOR:g})")  # fmt: skip
    ax[0, 1].set(xlabel="step γ", ylabel="fraction of t with equal sets", ylim=(-0.02, 1.02),
                 title="misclassified-set agreement")  # fmt: skip
    ax[0, 2].set(xlabel="step γ", ylabel="median_t ‖ξ_t‖ / ‖step‖",
                 title=f"error term of the reduction (▼ < {FLOOR:g})")  # fmt: skip
    ax[0, 0].legend(fontsize=7)
    stems = [save_figure(fig, out_dir, FIG_GAMMA)]
    fig, ax = new_figure(ncols=len(MODELS), width=5.0)
    first = {p["model"]: (p, r) for p, r in reversed(recs)}
    for j, model in enumerate(MODELS):
        if model not in first:
            continue
        params, result = first[model]
        for k, r in enumerate(result["runs"]):
            gap = np.array([np.nan if v is None else v for v in r["rel_gap"]], dtype=float)
            t = np.arange(gap.size)
            color = plt.cm.viridis(k / max(len(result["runs"]) - 1, 1))
            ax[0, j].semilogy(t[gap > 0], gap[gap > 0], color=color, label=f"γ={r['gamma']:g}")
        ax[0, j].set(xlabel="iteration t", ylabel="relative gap to the perceptron",
                     title=f"{_label(params)} (0 not drawn)")  # fmt: skip
        ax[0, j].legend(fontsize=7)
    stems.append(save_figure(fig, out_dir, FIG_TIME))
    return stems


EXPERIMENT = Experiment(
    name=NAME,
    title="The reduction: LR+GD with a large step tracks the hard perceptron",
    claim=(
        "GD on the logistic loss is a generalized perceptron whose weights σ(−m_i) tend to "
        "the hard weights 1[m_i<0] as the margins grow; from the same start, LR+GD "
        "with step γ tracks the hard perceptron with step γ, the relative gap tending to 0 "
        "as γ grows (predecessor Theorem 3.2 for the linear model from v_0 = 0: v_t/γ → v̂_t)."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
