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
    GDPerceptronError,
    breast_cancer,
    linear,
    logistic_loss,
    margins_fn,
    max_margin_direction,
    perceptron_step,
    run_scaled,
    two_layer,
)
from gdperceptron.experiments.base import (
    Analysis,
    Experiment,
    Params,
    Record,
    Result,
    SubClaim,
    Table,
)
from gdperceptron.experiments.oscillations import linearly_separable

NAME = "chaos"
STEPS = {True: (0.01, 1.0, 100.0), False: (0.01, 0.1, 1.0, 10.0, 30.0, 100.0, 300.0, 1000.0)}
T_STEPS = {True: 150, False: 1000}
MODELS = {True: ("linear",), False: ("linear", "two-layer tanh", "two-layer relu")}
SEEDS = {True: (0,), False: (0, 1)}
DATA = ("full set (not separable)", "subsample (separable)")
QUICK_DATA = DATA[:1]
N_SUBSAMPLE, DATA_SEED = 300, 0
PERTURBATION = 1e-12
LINEAR_REGIME = 1e-6  # relative distance below which the perturbation is still linear
CHAOS_TOL = 0.01  # per iteration: an e-fold of relative separation per 100 iterations
RATE_TOL = 2e-3  # separation rate vs JVP rate, per iteration
MIN_WINDOW = 5
WIDTH = 16
CLIP = 1e30  # figure only: larger values (overflowing runs) are drawn at this value
FIG_DIST = "chaos_distance_vs_iteration"
FIG_LYAP = "chaos_lyapunov_vs_step"


def tasks(quick: bool) -> list[Params]:
    """One task per (data set, model, start); every step runs inside it (one compilation)."""
    return [
        {"data": data, "model": m, "seed": s, "steps": list(STEPS[quick]), "T": T_STEPS[quick],
         "standardized": True}
        for data in (QUICK_DATA if quick else DATA)
        for m in MODELS[quick]
        for s in SEEDS[quick]
    ]  # fmt: skip


def load(data: str) -> Any:
    """The data set called ``data`` (one of :data:`DATA`)."""
    if data == DATA[0]:
        return breast_cancer()
    if data == DATA[1]:
        return breast_cancer(n=N_SUBSAMPLE, seed=DATA_SEED)
    raise GDPerceptronError(f"data must be one of {DATA}, got {data!r}")


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


def _window(log_growth: np.ndarray, norm: np.ndarray, a: int, h: int) -> tuple[float, float]:
    """``(lambda, g)`` over the steps ``t = a .. h-2`` (module doc)."""
    lam = float(np.mean(log_growth[a : h - 1]))
    g = float((np.log(norm[h - 1]) - np.log(norm[a])) / (h - 1 - a))
    return lam, g


def exponents(log_growth: np.ndarray, dist: np.ndarray, norm: np.ndarray) -> dict[str, Any]:
    """Exponents of one step's run over the whole run and its second half, cut at the first
    non-finite entry (module doc), and the separation-rate check."""
    finite = np.isfinite(log_growth) & np.isfinite(dist) & np.isfinite(norm) & (norm > 0)
    h = int(np.argmin(finite)) if not finite.all() else finite.size
    keys = ("lambda_all", "growth_all", "lambda_rel_all", "lambda_2nd", "growth_2nd",
            "lambda_rel_2nd", "separation_rate", "jvp_rate")  # fmt: skip
    out: dict[str, Any] = {"horizon": h, **dict.fromkeys(keys), "window": 0}
    if h < 4:
        return out
    lam_all, g_all = _window(log_growth, norm, 0, h)
    lam_2nd, g_2nd = _window(log_growth, norm, h // 2, h)
    rel = dist[:h] / norm[:h]
    above = np.flatnonzero(rel > LINEAR_REGIME)
    w = int(above[0]) if above.size else h - 1
    sep = float(np.log(dist[w] / dist[0]) / w) if w > 0 and dist[w] > 0 else None
    return {
        **out,
        "lambda_all": lam_all, "growth_all": g_all, "lambda_rel_all": lam_all - g_all,
        "lambda_2nd": lam_2nd, "growth_2nd": g_2nd, "lambda_rel_2nd": lam_2nd - g_2nd,
        "window": w, "separation_rate": sep,
        "jvp_rate": float(np.mean(log_growth[:w])) if w > 0 else None,
    }  # fmt: skip


def _clean(x: Any) -> list:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(x, dtype=float)]


def certificate(data: Any) -> dict[str, Any]:
    """Separability through the origin: the LP answer and, when separable, the max margin."""
    separable = linearly_separable(data.A)
    margin = max_margin_direction(data).margin if separable else None
    return {"linearly_separable": separable, "max_margin": margin}


def run_task(params: Params) -> Result:
    """Exponents and separation curves for every step of one (data set, model, start); runs
    that overflow are rerun in the scaled engine (homogeneous models) and classified."""
    data = load(params["data"])
    model = build_model(params["model"], data.d)
    seed, T = int(params["seed"]), int(params["T"])
    theta0 = model.initial_params(seed, 1.0)
    u = np.random.default_rng(seed + 1).standard_normal(model.n_params)
    u /= np.linalg.norm(u)
    gammas = [float(g) for g in params["steps"]]
    res = lyapunov_runs(model, data.X, data.y, gammas, theta0, u, T)
    runs = []
    for k, g in enumerate(gammas):
        ex = exponents(res["log_growth"][k], res["dist"][k], res["norm"][k])
        h = ex["horizon"]
        r = {"step": g, **ex,
             "rel_dist": _clean(res["dist"][k][:h] / res["norm"][k][:h]),
             "loss": _clean(res["loss"][k][:h]),
             "n_misclassified_end": int(res["n_misclassified"][k][h - 1]) if h else None,
             "scaled_outcome": None, "scaled_solved": None}  # fmt: skip
        if h < T and model.degree is not None:
            traj = run_scaled(model, data, "gd", g, theta0=theta0, max_iter=T)
            r["scaled_outcome"], r["scaled_solved"] = traj.stop_reason, traj.solved_iteration
        runs.append(r)
    return {"n": data.n, **certificate(data), "runs": runs}


# ------------------------------------------------------------------------------ analysis


def _rel(r: dict[str, Any], key: str) -> float:
    v = r[f"lambda_rel_{key}"]
    return math.nan if v is None else float(v)


def start_class(runs: list[dict[str, Any]], T: int) -> str:
    """``long-run``, ``transient`` or ``none`` for one start (module doc); only runs finite
    for all ``T`` iterations count."""
    full = sorted((r for r in runs if r["horizon"] == T), key=lambda r: r["step"])
    small = sorted(runs, key=lambda r: r["step"])[:2]
    calm = all(r["horizon"] == T and _rel(r, "all") <= CHAOS_TOL and _rel(r, "2nd") <= CHAOS_TOL
               for r in small)  # fmt: skip
    if not calm or not full:
        return "none"
    if _rel(full[-1], "2nd") > CHAOS_TOL:
        return "long-run"
    if any(_rel(r, "all") > CHAOS_TOL for r in full):
        return "transient"
    return "none"


def _status(r: dict[str, Any], T: int) -> str:
    """How a run ended, for the table: finite, or the overflow and what the scaled engine
    says it really does."""
    if r["horizon"] == T:
        return "finite"
    text = f"overflow at t = {r['horizon']} (excluded)"
    if r["scaled_outcome"] is not None:
        it = r["scaled_solved"]
        text += f"; scaled engine: {r['scaled_outcome']}" + (f" at t = {it}" if it else "")
    return text


def data_claim(number: str, data: str, model: str, per_start: dict[int, dict]) -> SubClaim:
    """Sub-claims 1 and 2 for one (data set, model) over its starts."""
    classes = {s: start_class(v["runs"], v["T"]) for s, v in per_start.items()}
    parts = []
    for s in sorted(per_start):
        runs, T = per_start[s]["runs"], per_start[s]["T"]
        full = [r for r in runs if r["horizon"] == T]
        over = [f"{r['step']:g}" + (f": scaled engine {r['scaled_outcome']}" if r["scaled_outcome"]
                                    else "") for r in runs if r["horizon"] < T]  # fmt: skip
        big = max(full, key=lambda r: r["step"]) if full else None
        text = f"seed {s}: {classes[s]}"
        if big is not None:
            peak = max(full, key=lambda r: _rel(r, "all"))
            text += (f"; largest finite γ={big['step']:g}: λ_rel {_rel(big, 'all'):+.3f} (whole), "
                     f"{_rel(big, '2nd'):+.3f} (2nd half); max whole-run λ_rel "
                     f"{_rel(peak, 'all'):+.3f} at γ={peak['step']:g}")  # fmt: skip
        if over:
            text += f"; overflow (excluded) at γ ∈ {{{', '.join(over)}}}"
        parts.append(text)
    condition = ""
    if all(c == "long-run" for c in classes.values()):
        verdict = "reproduced"
    elif all(c in ("long-run", "transient") for c in classes.values()):
        verdict = "partly"
        condition = "transient only: over the whole run, not its second half"
    else:
        verdict = "not reproduced"
    return SubClaim(
        number,
        f"{data}, {model}: LR+GD with large steps is chaotic",
        f"per start: λ_rel ≤ {CHAOS_TOL:g} at the two smallest steps and second-half λ_rel > "
        f"{CHAOS_TOL:g} at the largest finite step (reproduced); only the whole-run λ_rel > "
        f"{CHAOS_TOL:g} somewhere (partly, transient); overflowing runs excluded",
        verdict,
        " | ".join(parts),
        condition,
    )


def _groups(records: list[Record]) -> dict[tuple[str, str], dict[int, dict]]:
    out: dict[tuple[str, str], dict[int, dict]] = {}
    for params, result in records:
        key = (params["data"], params["model"])
        out.setdefault(key, {})[int(params["seed"])] = {"runs": result["runs"], "T": params["T"]}
    return out


def analyze(records: list[Record]) -> Analysis:
    """Sub-claims 1-3 of the module doc, the exponent tables and the certificates."""
    groups = _groups(records)
    models = [m for m in ("linear", "two-layer tanh", "two-layer relu")
              if any(k[1] == m for k in groups)]  # fmt: skip
    letters = dict(zip(models, "abc", strict=False))
    claims = []
    for number, data in (("1", DATA[0]), ("2", DATA[1])):
        for m in models:
            if (data, m) in groups:
                claims.append(data_claim(f"{number}{letters[m]}", data, m, groups[(data, m)]))
    numbers: dict[str, Any] = {"chaos_tol": CHAOS_TOL, "rate_tol": RATE_TOL}
    rows, detail, certs = [], [], {}
    gaps = []
    for params, result in sorted(records, key=lambda r: (DATA.index(r[0]["data"]),
                                                         models.index(r[0]["model"]),
                                                         r[0]["seed"])):  # fmt: skip
        data, m, s, T = params["data"], params["model"], int(params["seed"]), int(params["T"])
        certs[data] = {"data": data, "samples": result["n"],
                       "separable through the origin (LP)": "yes"
                       if result["linearly_separable"] else "no",
                       "max margin": result["max_margin"]
                       if result["max_margin"] is not None else "none"}  # fmt: skip
        for r in result["runs"]:
            rows.append({"data": data, "model": m, "seed": s, "step γ": r["step"],
                         "λ_rel, whole run": r["lambda_rel_all"],
                         "λ_rel, 2nd half": r["lambda_rel_2nd"],
                         "misclassified at the end": r["n_misclassified_end"],
                         "run": _status(r, T)})  # fmt: skip
            detail.append({"data": data, "model": m, "seed": s, "step γ": r["step"],
                           "λ (JVP), 2nd half": r["lambda_2nd"],
                           "growth of ‖θ‖, 2nd half": r["growth_2nd"],
                           "1e-12 separation rate": r["separation_rate"],
                           "JVP rate, same window": r["jvp_rate"],
                           "window (iterations)": r["window"]})  # fmt: skip
            key = f"{DATA.index(data)}_{m.replace(' ', '_')}_seed{s}_step_{r['step']:g}"
            numbers[f"lambda_rel_2nd_{key}"] = r["lambda_rel_2nd"]
            numbers[f"lambda_rel_all_{key}"] = r["lambda_rel_all"]
            ok_window = r["horizon"] == T and r["window"] >= MIN_WINDOW
            if ok_window and r["separation_rate"] is not None and r["jvp_rate"] is not None:
                gaps.append(abs(r["separation_rate"] - r["jvp_rate"]))
        numbers[f"class_{DATA.index(data)}_{m.replace(' ', '_')}_seed{s}"] = start_class(
            result["runs"], T
        )
    for k, data in enumerate(DATA):
        if data in certs:
            sep = certs[data]["separable through the origin (LP)"] == "yes"
            numbers[f"data{k}_linearly_separable"] = sep
    numbers["max_rate_gap"] = max(gaps) if gaps else None
    ok = bool(gaps) and max(gaps) <= RATE_TOL
    claims.append(SubClaim(
        "3", "the JVP exponent measures the growth of a real 1e-12 perturbation",
        f"|separation rate − JVP rate| ≤ {RATE_TOL:g} per iteration on every finite run with a "
        f"linear window of ≥ {MIN_WINDOW} iterations",
        "reproduced" if ok else "not reproduced",
        f"largest difference {max(gaps):.2g} over {len(gaps)} runs" if gaps else "no such run",
    ))  # fmt: skip
    tables = (
        Table("The two data sets", list(certs.values()),
              "Breast cancer, standardized; separability through the origin by a linear "
              "program, max margin from the hard-margin QP."),
        Table("Relative Lyapunov exponents (per iteration)", rows,
              f"λ_rel = JVP exponent − growth rate of ‖θ‖; chaotic: > {CHAOS_TOL:g}. Runs "
              "that overflow are excluded, with what the scaled engine says they do.",
              key_columns=4),
        Table("Exponent details and the separation-rate check", detail, "", key_columns=4),
    )  # fmt: skip
    return Analysis(claims=tuple(claims), tables=tables, numbers=numbers,
                    decisive_figure=FIG_LYAP)  # fmt: skip


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Relative separation vs iteration (first start, one panel per data set and model);
    relative exponents vs step, whole run and second half, one panel per data set."""
    import matplotlib.pyplot as plt

    from gdperceptron.experiments.figures import new_figure, save_figure

    groups = _groups(records)
    if not groups:
        return []
    keys = sorted(groups, key=lambda k: (DATA.index(k[0]), k[1]))
    fig, ax = new_figure(ncols=len(keys), width=3.6, height=3.2)
    for j, key in enumerate(keys):
        s0 = min(groups[key])
        runs = sorted(groups[key][s0]["runs"], key=lambda r: r["step"])
        for k, r in enumerate(runs):
            color = plt.cm.viridis(k / max(len(runs) - 1, 1))
            y = np.array([np.nan if v is None else v for v in r["rel_dist"]], dtype=float)
            y[y <= 0] = np.nan
            ax[0, j].semilogy(np.arange(y.size), np.minimum(y, CLIP), color=color, lw=0.8,
                              label=f"γ={r['step']:g}")  # fmt: skip
        ax[0, j].set(xlabel="iteration t", ylabel="‖θ_t − θ'_t‖ / ‖θ_t‖",
                     title=f"{key[0]}\n{key[1]}, seed {s0}")  # fmt: skip
        ax[0, j].title.set_fontsize(8)
    ax[0, 0].legend(fontsize=6)
    fig.tight_layout()
    stems = [save_figure(fig, out_dir, FIG_DIST)]
    datas = [d for d in DATA if any(k[0] == d for k in keys)]
    fig, ax = new_figure(ncols=len(datas), width=5.0, height=3.8)
    for j, data in enumerate(datas):
        axis = ax[0, j]
        for c, key in enumerate(k for k in keys if k[0] == data):
            for s, v in sorted(groups[key].items()):
                runs = sorted(v["runs"], key=lambda r: r["step"])
                fin = [r for r in runs if r["horizon"] == v["T"]]
                g = [r["step"] for r in fin]
                lab = key[1] if s == min(groups[key]) else None
                axis.semilogx(g, [_rel(r, "2nd") for r in fin], "o-", color=f"C{c}", ms=4,
                              lw=1, label=lab and f"{lab}: 2nd half")  # fmt: skip
                axis.semilogx(g, [_rel(r, "all") for r in fin], "x:", color=f"C{c}", ms=4,
                              lw=1, label=lab and f"{lab}: whole run")  # fmt: skip
                over = [r["step"] for r in runs if r["horizon"] < v["T"]]
                axis.plot(over, np.zeros(len(over)), "|", color=f"C{c}", ms=14,
                          label=lab and f"{lab}: overflow, excluded" if over else None)  # fmt: skip
        axis.axhline(CHAOS_TOL, color="k", ls=":", lw=1, label=f"threshold {CHAOS_TOL:g}")
        axis.axhline(0.0, color="k", lw=0.5)
        axis.set(xlabel="step γ", ylabel="λ_rel = λ − growth rate of ‖θ‖ (per iteration)",
                 title=data)  # fmt: skip
        axis.legend(fontsize=6)
    fig.tight_layout()
    stems.append(save_figure(fig, out_dir, FIG_LYAP))
    return stems


EXPERIMENT = Experiment(
    name=NAME,
    title="Chaos: sensitivity of LR+GD with large steps, separable vs non-separable data",
    claim=(
        "Summary of the paper: losses oscillate chaotically in deterministic runs "
        "with large steps. Tested as a positive finite-time Lyapunov exponent of the GD step "
        "map at large steps (relative to the growth of the iterate, over the whole run and "
        "its second half) and a non-positive one at small steps, on a data set that is not "
        "linearly separable and on one that is, overflowing runs excluded."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
