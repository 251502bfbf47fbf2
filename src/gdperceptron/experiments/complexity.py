"""Experiment ``complexity``: O~(sqrt d) (tied model) against Omega(d) (linear model) on
the minimal example (docs/theory/minimal-example.md), with the log factor made explicit,
the linear bound at several steps, the tied model's sweeps and the error term.

What runs (every count in the exact reduced coordinates of
:func:`gdperceptron.iterations_to_solve`, except the hard perceptron, followed exactly by
:func:`~gdperceptron.analysis.complexity.perceptron_iterations`):

- ``tied-d``: the tied model at ``gamma = 1/lambda_2``, init ``N(0, s^2/d)`` with ``s = 1``,
  64 seeds per ``d``, 13 ``d`` from 10 to 10^7;
- ``linear``: the linear model from ``v_0 = 0`` (deterministic: one run per ``d``) at four
  step rules: ``gamma = 1/lambda_2`` (the tied model's step; ``d <= 10^5``), ``gamma = 1``,
  ``gamma = 100`` and the hard batch perceptron (the ``gamma -> inf`` limit); with each
  ``d`` the radius ``R^2 = max_i ||x_i||^2 = d + 2 mu + mu^2`` and the max margin ``gamma*``
  in closed form (``max_margin_closed_form``) and from the QP of
  :func:`gdperceptron.max_margin_direction`;
- ``tied-c`` / ``tied-s``: at ``d = 10^5``, 32 seeds, ``c`` in ``gamma = c/lambda_2`` over
  2^-4..2^4 and the init scale ``s`` over 10^-4..10 (the same seeds, hence the same initial
  directions, at every point of a sweep);
- ``tied-const``: the tied model at the constant steps ``gamma = 0.1`` and ``1`` over the
  13 ``d`` (64 seeds, budget 5000 steps); a run the plain loop does not solve is followed
  again by the scaled engine (:func:`gdperceptron.run_scaled`), which classifies it exactly
  (solved, diverged, budget) where float64 would overflow;
- ``xi``: the tied runs (``c = s = 1``) at ``d = 10^2..10^6`` followed step by step in
  NumPy (:func:`xi_ratios`), with ``r_t = ||xi_t|| / ||theta_{t+1} - theta_t||``, ``xi_t``
  the reduction's error term (GD step minus hard-perceptron step from ``theta_t``).

Statistics: ``med_d`` the median count over seeds (an unsolved run counts as its budget
and is reported), ``g_d = (med_d + 1) gamma_d`` (iterates inspected times the step),
``upper half`` = the grid points ``d >= sqrt(d_min d_max)`` (10^4..10^7). Every interval
is a 95% percentile bootstrap (2000 replicates, seed 0) resampling the runs within each
grid point (``paired`` over a sweep at one ``d``: one draw of seeds shared by every point);
the linear runs are deterministic, so their slopes are points.

Verdict rules of complexity (fixed before the full run; the thresholds were set from the
theory and knowing only the previous version's overall slopes, 0.576 tied and 1.012 linear;
rules 4b and 4c were revised once after a quick run, ``d <= 10^5`` with 8 seeds, showed the
count levelling off for small ``s`` and real divergence at ``gamma = 1``):

- 1a (tied O~(sqrt d), log factor explicit): ``a = `` OLS slope of ``log(g_d / ln d)``
  against ``log d`` over the upper half. ``g ~ ln d`` gives 0, ``sqrt d`` alone
  ``-1/ln d ~ -0.08``, ``sqrt d (ln d)^2`` ``+0.08``, ``d^0.7`` ``0.2 - 1/ln d >= 0.12``.
  reproduced iff every run solved and the CI of ``a`` ends at or below 0.05; partly
  (holds with a log factor up to about ``(ln d)^2``) iff it ends in (0.05, 0.10]; else not
  reproduced.
- 1b (the O~ hides a real logarithm): affine fit ``g_d = alpha + beta ln d`` over the whole
  grid. reproduced iff the CI of ``beta`` lies above 0; else not reproduced.
- 2 (linear Omega(d) at any step): per step rule the slope of ``log(count + 1)`` against
  ``log d`` over the whole grid and over the upper half. reproduced iff at every rule every
  run solved and both slopes ``>= 0.9``; partly iff so at some rules (the condition names
  them); else not reproduced.
- 3 (the classical bound ``B_d = R^2 / gamma*^2 = Theta(d)`` accounts for Omega(d)): the
  closed-form ``gamma*`` must equal the QP's to ``tol_d = max(1e-9, 100 kappa(G) eps)``
  relative at every ``d`` (``G = A A^T`` the Gram matrix of the ``a_i``, ``kappa`` its
  condition number, ``eps`` float64's; as first fixed the tolerance was ``1e-9`` at every
  ``d``, which the QP cannot attain in float64 at ``d = 10^7``, ``kappa ~ 10^8``: it stopped
  the full run before any number was seen). For each
  of ``gamma = 1``, ``gamma = 100`` and the perceptron: *holds* iff ``count <= B_d`` at
  every ``d``; *tight* iff ``count >= B_d / 10`` over the upper half. reproduced iff the
  check passes and every rule holds and is tight; partly iff the check passes and some
  rule holds (condition: which rules, and whether tight); else not reproduced.
- 4a (the sqrt d is the model's, not the schedule's: at fixed ``d`` the count does not
  depend on ``c``): ``a_c`` = OLS slope of ``log(med + 1)`` against ``log(1/c)`` over the
  ``c`` whose runs all solved. not reproduced if a run with ``c <= 1`` is unsolved;
  reproduced iff the CI lies in [-0.25, 0.25]; partly (condition: ``gamma = c/lambda_2``
  with ``c`` fixed; the count is ``~ c^-a_c``) iff its low end exceeds 0.25; else not
  reproduced.
- 4b (a small initialisation; the count does not depend on ``s``): exponents of
  ``med + 1`` in ``1/s`` (OLS slope of the logs, paired bootstrap) over ``s <= 10^-2`` and
  over every ``s``. not reproduced if a run is unsolved or the small-``s`` CI leaves
  [-0.1, 0.1]; reproduced iff both CIs lie in [-0.1, 0.1]; partly (condition: from a small
  init ``s <= 10^-2``; larger ``s`` separate sooner) iff only the small-``s`` one does.
- 4c (the sqrt d also at a constant step): per constant step the slope of ``log(med + 1)``
  against ``log d`` over the upper half; a step is *stable* when every run solved.
  reproduced iff every step is stable with the CI in [0.35, 0.75]; partly (condition: the
  schedule ``gamma ~ 1/sqrt d``; at the stable constant step(s) the count grows as
  ``d^b``, and which steps fail) iff some stable step has a CI ending at or below 0.25;
  else not reproduced.
- 5 (GD is the hard perceptron plus a small error): ``M_d`` = median over runs of the
  per-run median of ``r_t`` over the steps before separation. reproduced iff ``M_d <= 0.1``
  at every ``d``; not reproduced iff ``M_d >= 0.5`` at every ``d`` (GD never leaves the soft
  regime); partly otherwise (condition: the ``d`` where ``M_d < 0.5``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit

import gdperceptron as gp
from gdperceptron.analysis.complexity import (
    DEFAULT_DS,
    default_max_iter,
    perceptron_iterations,
    reduced_init,
    tied_step,
)
from gdperceptron.experiments import complexity_figures as figs
from gdperceptron.experiments.base import Experiment, Params, Result
from gdperceptron.experiments.complexity_analysis import analyze
from gdperceptron.experiments.complexity_verdicts import LINEAR_RULES

NAME = "complexity"
CONSTANT_STEPS = (0.1, 1.0)
CONSTANT_BUDGET = 5000
LP_RTOL = 1e-9
FIG = "complexity"
QUICK_DS = tuple(int(d) for d in np.unique(np.round(np.logspace(1, 5, 9))))


def _grid(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "ds": QUICK_DS,
            "seeds": 8,
            "sweep_seeds": 8,
            "lin_max": 10**5,
            "small_max": 10**4,
            "d_sweep": 10**4,
            "cs": (0.25, 0.5, 1.0, 2.0, 4.0),
            "ss": (1e-3, 1e-2, 1e-1, 1.0),
            "xi_ds": (100, 1000),
        }
    return {
        "ds": DEFAULT_DS,
        "seeds": 64,
        "sweep_seeds": 32,
        "lin_max": 10**7,
        "small_max": 10**5,
        "d_sweep": 10**5,
        "cs": tuple(2.0**k for k in range(-4, 5)),
        "ss": (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0),
        "xi_ds": (10**2, 10**3, 10**4, 10**5, 10**6),
    }


def tasks(quick: bool) -> list[Params]:
    """The task list (module docstring); quick: ``d <= 10^5`` (linear ``<= 10^4``), sweeps at
    ``d = 10^4``, 8 seeds."""
    g = _grid(quick)
    base = {"seed": 0, "mu": 1.0}
    out: list[Params] = []
    tied = {"model": "tied", "seeds": g["seeds"], **base}
    for d in g["ds"]:
        out.append({"part": "tied-d", "d": d, "c": 1.0, "init_scale": 1.0, **tied})
    for rule in LINEAR_RULES:
        top = g["small_max"] if rule == "1/lambda2" else g["lin_max"]
        out += [
            {"part": "linear", "model": "linear", "rule": rule, "d": d, **base}
            for d in g["ds"]
            if d <= top
        ]
    ds = g["d_sweep"]
    tied = tied | {"seeds": g["sweep_seeds"]}
    out += [{"part": "tied-c", "d": ds, "c": c, "init_scale": 1.0, **tied} for c in g["cs"]]
    out += [{"part": "tied-s", "d": ds, "c": 1.0, "init_scale": s, **tied} for s in g["ss"]]
    for gamma in CONSTANT_STEPS:
        out += [
            {"part": "tied-const", "d": d, "gamma": gamma, "init_scale": 1.0, **tied}
            for d in g["ds"]
        ]
    out += [{"part": "xi", "d": d, "c": 1.0, "init_scale": 1.0, **tied} for d in g["xi_ds"]]
    return out


def max_margin_closed_form(d: int, mu: float = 1.0) -> float:
    """``gamma* = mu sqrt(d - 1) / sqrt(4 d + 4 mu + mu^2)``: the max margin through the origin
    of ``a_1 = 1_d``, ``a_2 = -(1_d + mu e_1)`` (derived here: both constraints of the QP
    ``min ||w||^2/2, <w, a_i> >= 1`` are active, ``w = G^-1 1`` in the basis ``a_1, a_2`` with
    Gram matrix ``G = [[d, -(d+mu)], [-(d+mu), d + 2mu + mu^2]]``, ``det G = mu^2 (d-1)``,
    ``||w||^2 = 1^T G^-1 1 = (4d + 4mu + mu^2) / (mu^2 (d-1))``)."""
    return mu * math.sqrt(d - 1.0) / math.sqrt(4.0 * d + 4.0 * mu + mu * mu)


def _linear_task(p: Params) -> Result:
    d, mu, rule = int(p["d"]), float(p["mu"]), p["rule"]
    data = gp.minimal_example_reduced(d, mu)
    A = np.asarray(data.y)[:, None] * np.asarray(data.X)
    tol = max(LP_RTOL, 100 * np.linalg.cond(A @ A.T) * np.finfo(float).eps)
    lp = gp.max_margin_direction(data, tol=tol).margin
    out = {"R2": d + 2.0 * mu + mu * mu, "margin": max_margin_closed_form(d, mu)}
    out |= {"margin_lp": lp, "qp_tol": tol}
    if rule == "perceptron":
        budget = default_max_iter("linear", d, mu)
        return out | {"counts": [perceptron_iterations(d, mu=mu)], "step": None, "max_iter": budget}
    step = 1.0 / gp.lambda2(d, mu) if rule == "1/lambda2" else float(rule)
    budget = int(20.0 * d / (mu * mu * min(step, 1.0))) + 10_000
    counts = gp.iterations_to_solve("linear", d, mu=mu, step=step, seeds=1, max_iter=budget)
    return out | {"counts": counts.tolist(), "step": step, "max_iter": budget}


def xi_ratios(
    d: int, *, mu: float, step: float, theta0: np.ndarray, max_iter: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """GD on the tied model in the reduced coordinates of the minimal example, in NumPy, with
    ``r_t = ||xi_t|| / ||theta_{t+1} - theta_t||`` along each run (docs/theory/reduction.md).

    ``theta = (u_1, u_2, w~)`` (shape ``(S, 2 + k)``, ``k = min(d, 3)``),
    ``m_i = y_i (u_1 <w~, x_i> + u_2 <w~, P x_i>)`` with ``P`` the swap of the first two
    coordinates; ``grad m_i = y_i (<w~, x_i>, <w~, P x_i>, u_1 x_i + u_2 P x_i)``;
    ``theta_{t+1} - theta_t = (gamma/n) sum_i sigma(-m_i) grad m_i`` and
    ``xi_t = (gamma/n) sum_i (sigma(-m_i) - h(m_i)) grad m_i``. Both norms are invariant
    under the orthonormal change of coordinates. Returns the counts ``(S,)`` (``-1`` when
    not within ``max_iter``) and per run the ratios ``r_0 .. r_{count - 1}``."""
    data = gp.minimal_example_reduced(d, mu)
    X, y = np.asarray(data.X), np.asarray(data.y)
    XP = X.copy()
    XP[:, [0, 1]] = X[:, [1, 0]]
    theta = np.array(theta0, dtype=np.float64)
    S = theta.shape[0]
    counts = -np.ones(S, dtype=np.int64)
    ratios: list[list[float]] = [[] for _ in range(S)]
    live = np.arange(S)
    for t in range(max_iter + 1):
        th = theta[live]
        u1, u2, w = th[:, :1], th[:, 1:2], th[:, 2:]
        zx, zp = w @ X.T, w @ XP.T  # (S', n)
        m = y * (u1 * zx + u2 * zp)
        done = np.all(m > 0, axis=1)
        counts[live[done]] = t
        keep = ~done & np.all(np.isfinite(th), axis=1)
        live, m, zx, zp = live[keep], m[keep], zx[keep], zp[keep]
        th_u = th[keep, :2]
        if live.size == 0 or t == max_iter:
            break
        soft = expit(-m)
        hard = np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0))

        move = step / X.shape[0] * _direction(soft * y, th_u, zx, zp, X, XP)
        xi = step / X.shape[0] * _direction((soft - hard) * y, th_u, zx, zp, X, XP)
        r = np.linalg.norm(xi, axis=1) / np.linalg.norm(move, axis=1)
        for j, run in enumerate(live):
            ratios[run].append(float(r[j]))
        theta[live] = theta[live] + move
    return counts, [np.asarray(r) for r in ratios]


def _direction(
    qy: np.ndarray, u: np.ndarray, zx: np.ndarray, zp: np.ndarray, X: np.ndarray, XP: np.ndarray
) -> np.ndarray:
    """``sum_i q_i y_i grad m_i`` per run (``qy = q * y``, shape ``(S, n)``; ``u`` ``(S, 2)``,
    ``zx = <w~, x_i>``, ``zp = <w~, P x_i>`` ``(S, n)``): ``(sum qy zx, sum qy zp,
    sum_i qy_i (u_1 x_i + u_2 P x_i))``, shape ``(S, 2 + k)``."""
    gw = (qy * u[:, :1]) @ X + (qy * u[:, 1:]) @ XP
    return np.concatenate(
        [np.sum(qy * zx, 1, keepdims=True), np.sum(qy * zp, 1, keepdims=True), gw], axis=1
    )


def _xi_task(p: Params) -> Result:
    d, mu, seeds = int(p["d"]), float(p["mu"]), int(p["seeds"])
    step = tied_step(d, mu, p["c"])
    budget = default_max_iter("tied", d, mu)
    theta0 = reduced_init(
        "tied", d, seeds=seeds, seed=int(p["seed"]), init_scale=float(p["init_scale"])
    )
    counts, ratios = xi_ratios(d, mu=mu, step=step, theta0=theta0, max_iter=budget)
    first = ratios[0]
    keep = np.unique(np.linspace(0, max(first.size - 1, 0), min(first.size, 120)).astype(int))
    return {
        "counts": counts.tolist(),
        "step": step,
        "max_iter": budget,
        "min": [float(r.min()) if r.size else None for r in ratios],
        "median": [float(np.median(r)) if r.size else None for r in ratios],
        "above_half": [float(np.mean(r > 0.5)) if r.size else None for r in ratios],
        "curve_t": keep.tolist(),
        "curve_r": first[keep].tolist() if first.size else [],
    }


def run_task(params: Params) -> Result:
    """One task: counts (``-1`` = unsolved) with the step and budget; see the module doc."""
    part = params["part"]
    if part == "linear":
        return _linear_task(params)
    if part == "xi":
        return _xi_task(params)
    d, mu = int(params["d"]), float(params["mu"])
    const = "gamma" in params
    step = float(params["gamma"]) if const else tied_step(d, mu, params["c"])
    budget = CONSTANT_BUDGET if const else default_max_iter("tied", d, mu)
    theta0 = reduced_init(
        "tied",
        d,
        seeds=int(params["seeds"]),
        seed=int(params["seed"]),
        init_scale=float(params["init_scale"]),
    )
    counts = gp.iterations_to_solve("tied", d, mu=mu, step=step, theta0=theta0, max_iter=budget)
    out = {"counts": counts.tolist(), "step": step, "max_iter": budget}
    if const:  # classify the unsolved runs exactly (overflow is never "does not separate")
        out["outcomes"] = ["solved" if c >= 0 else "" for c in out["counts"]]
        data = gp.minimal_example_reduced(d, mu)
        for r in np.flatnonzero(counts < 0):
            tr = gp.run_scaled(gp.tied(data.d), data, "gd", step, theta0=theta0[r], max_iter=budget)
            out["outcomes"][r] = tr.stop_reason
            if tr.solved_iteration is not None:
                out["counts"][r] = int(tr.solved_iteration)
    return out


def draw_complexity(sweep: dict[str, Any], out_dir: str | Path, stem: str = FIG) -> str:
    """The ``gdperceptron complexity`` figure of a saved sweep (see
    :func:`complexity_figures.draw_sweep`)."""
    return figs.draw_sweep(sweep, out_dir, stem)


def plot_saved(json_path: str | Path, out_dir: str | Path | None = None) -> str:
    """Read a sweep saved as JSON and draw it beside the file (same stem)."""
    path = Path(json_path)
    sweep = json.loads(path.read_text())
    return draw_complexity(sweep, path.parent if out_dir is None else out_dir, path.stem)


EXPERIMENT = Experiment(
    name=NAME,
    title="Iteration complexity in d: tied model O~(√d) vs linear model Ω(d)",
    claim=(
        "Gradient Descent as a Perceptron Algorithm (Tyurin 2025), minimal example: with "
        "x1 = 1_d (label +1) and x2 = 1_d + μ e1 (label -1), GD on the logistic loss needs "
        "Ω(d) iterations to separate the data with the linear model (any constant step), "
        "but only O~(√d) with the tied two-layer model f = u1<w, x> + u2<w, Px> at step "
        "1/λ2 from a small random initialisation."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=figs.plot_all,
)
