"""The spectrum of the minimal example and tied-model trajectories in its eigenbasis
(docs/theory/spectra.md, docs/theory/minimal-example.md).

(a) Closed form against ``numpy.linalg.eigh``: for the minimal example (``x_1 = 1_d``,
``y_1 = +1``; ``x_2 = 1_d + mu e_1``, ``y_2 = -1``; ``P`` the swap of coordinates 1, 2)
the Corollary gives ``spec A_1 = {+-lambda_1, 0^d}`` with ``lambda_1 = sqrt(2d)`` and
``spec A_2 = {+-lambda_2, +-mu, 0^(d-2)}`` with ``lambda_2 = sqrt((2+mu)^2 + 2(d-2))``,
and the ``+-mu`` eigenvectors of ``A_2`` lie in the kernel of ``A_1``. Each task compares
the sorted spectra (relative to the largest eigenvalue), the eigenvector residuals
``||A v - lambda v||``, ``||A_1 v_mu+-||`` and the direction of ``v_mu+-`` with the
patterns ``[-mu, mu, mu, -mu, 0, ...]`` (+mu) and ``[mu, -mu, mu, -mu, 0, ...]`` (-mu).

(b) Trajectories in the eigenbasis (docs/theory/reduction.md quadratic models): the tied model from
``N(0, 1/d)`` with step ``gamma = c / lambda_2``, hard perceptron and LR+GD, in the exact
reduced coordinates of ``span{e_1, e_2, 1_d}`` (:mod:`gdperceptron.engines.reduced`; ``p = 5``).
:func:`gdperceptron.growth_report` gives at each step the eigenvalues ``lambda``
of the hard driving matrix ``M_t`` and the components of ``theta_t`` on its eigenvectors;
the claim is ``<theta_{t+1}, v> = (1 + lambda) <theta_t, v>`` exactly for the perceptron,
and within ``||xi_t||`` (the reduction's error term) for LR+GD. Along the Corollary's
vectors the predicted factors are closed forms: while only sample 2 is misclassified
(``M_t = eta A_2``, ``eta = gamma/2``) ``v2+-`` grow by ``1 +- eta lambda_2`` and
``vmu+-`` by ``1 +- eta mu``; while only sample 1 is, ``vmu+-`` (kernel of ``A_1``) stay.
At small ``d`` the reduced report is checked against the report in full coordinates.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron import lambda2, minimal_example, tied
from gdperceptron.analysis.eigenpath import corollary_vectors, growth_report
from gdperceptron.analysis.spectral import minimal_example_matrices, minimal_example_spectrum
from gdperceptron.data.synthetic import minimal_example_basis
from gdperceptron.engines.reduced import reduce_problem
from gdperceptron.experiments.base import (
    Analysis,
    Experiment,
    Params,
    Record,
    Result,
    SubClaim,
    Table,
)

NAME = "spectrum"
EIGEN_GRID = {
    True: ((2, 3, 10, 50), (0.5, 1.0, 2.0)),
    False: ((2, 3, 5, 10, 30, 100, 300), (0.1, 0.5, 1.0, 2.0, 5.0)),
}
TRAJ_GRID = {  # (algorithm, dimensions); seeds below
    True: (("perceptron", (10, 100)), ("gd", (10, 100))),
    False: (("perceptron", (10, 100, 1000, 10_000)), ("gd", (10, 100, 1000))),
}
SEEDS = {True: (0,), False: (0, 1)}
MAX_STEPS = 5000
CROSS_CHECK_MAX_D = 30  # full-coordinate reports (dense (d+2)^2 eigh per step) up to here
TOL = 1e-10  # closed form vs eigh, exactness of the perceptron's factors
FOLLOW = ("v2+", "v2-", "vmu+", "vmu-", "v1+", "v1-")
FIG_COMPONENTS = "spectrum_components"
FIG_EIGEN = "spectrum_eigenvalues"


def tasks(quick: bool) -> list[Params]:
    """``eigen`` tasks over (d, mu) and ``trajectory`` tasks over (algorithm, d, seed)."""
    ds, mus = EIGEN_GRID[quick]
    out: list[Params] = [{"part": "eigen", "d": d, "mu": mu} for d in ds for mu in mus]
    out += [
        {"part": "trajectory", "algorithm": a, "d": d, "mu": 1.0, "c": 1.0, "seed": s}
        for a, dims in TRAJ_GRID[quick]
        for d in dims
        for s in SEEDS[quick]
    ]
    return out


def _eigen(d: int, mu: float) -> Result:
    s = minimal_example_spectrum(d, mu)
    A1, A2 = minimal_example_matrices(d, mu)
    w1, w2 = np.linalg.eigvalsh(A1), np.linalg.eigvalsh(A2)
    c1 = np.sort(np.r_[s.lambda1, -s.lambda1, np.zeros(d)])
    c2 = np.sort(np.r_[s.lambda2, -s.lambda2, mu, -mu, np.zeros(d - 2)])
    pairs = [
        (A1, s.v1_plus, s.lambda1),
        (A1, s.v1_minus, -s.lambda1),
        (A2, s.v2_plus, s.lambda2),
        (A2, s.v2_minus, -s.lambda2),
        (A2, s.vmu_plus, mu),
        (A2, s.vmu_minus, -mu),
    ]
    pattern = np.zeros((2, d + 2))
    pattern[0, :4] = (-mu, mu, mu, -mu)
    pattern[1, :4] = (mu, -mu, mu, -mu)
    vmu = (s.vmu_plus, s.vmu_minus)
    cos = [abs(v @ p) / np.linalg.norm(p) for v, p in zip(vmu, pattern, strict=True)]
    return {
        "lambda1": s.lambda1,
        "lambda2": s.lambda2,
        "lambda1_eigh": float(w1[-1]),
        "lambda2_eigh": float(w2[-1]),
        "mu_eigh": float(w2[np.argmin(np.abs(w2 - mu))]),
        "spectrum_error": max(
            float(np.max(np.abs(w1 - c1)) / s.lambda1), float(np.max(np.abs(w2 - c2)) / s.lambda2)
        ),
        "eigvec_residual": max(
            float(np.linalg.norm(A @ v - lam * v)) / np.max(np.abs(np.linalg.eigvalsh(A)))
            for A, v, lam in pairs
        ),
        "kernel_residual": max(float(np.linalg.norm(A1 @ v)) for v in (s.vmu_plus, s.vmu_minus))
        / s.lambda1,
        "pattern_error": float(max(1.0 - c for c in cos)),
    }


def _nan_to_none(x: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(x, dtype=float)]


def _trajectory(p: Params) -> Result:
    d, mu, alg = int(p["d"]), float(p["mu"]), str(p["algorithm"])
    data, model = minimal_example(d, mu), tied(d)
    theta0 = model.initial_params(int(p["seed"]))
    lam2 = lambda2(d, mu)
    gamma = float(p["c"]) / lam2
    Q = minimal_example_basis(d)
    red = reduce_problem(model, data, theta0, basis=Q)
    vecs = corollary_vectors(d, mu, basis=Q)
    rep = growth_report(
        red.model, red.data, alg, gamma, red.theta0, MAX_STEPS, vectors=vecs, stop_when_solved=True
    )
    T = rep.thetas.shape[0] - 1
    norms = np.linalg.norm(rep.thetas, axis=1)
    defect = np.abs(rep.next_projections - rep.predicted * rep.projections)  # (T, p)
    big = np.abs(rep.projections) >= 1e-6 * norms[:T, None]
    ratio_err = np.abs(rep.observed - rep.predicted)[big]
    sets = [int(m[0]) + 2 * int(m[1]) for m in rep.misclassified]  # 1: {1}, 2: {2}, 3: both
    eta = gamma / 2.0
    closed = {"v2+": eta * lam2, "v2-": -eta * lam2, "vmu+": eta * mu, "vmu-": -eta * mu}
    rate_err = 0.0
    for t, s in enumerate(sets):
        for name, rho in closed.items():
            if s == 2 or (s == 1 and name.startswith("vmu")):
                want = 1.0 + (rho if s == 2 else 0.0)
                err = abs(rep.named_factors[name][t] - want)  # NaN: not an eigenvector
                rate_err = max(rate_err, err if math.isfinite(err) else math.inf)
    out: Result = {
        "steps": T,
        "solved": bool(np.all(rep.margins[-1] > 0)),
        "gamma": gamma,
        "eta": eta,
        "lambda2": lam2,
        "max_rel_defect": float(np.max(defect / norms[1:, None], initial=0.0)),
        "max_ratio_error": float(np.max(ratio_err, initial=0.0)),
        "bound_excess": float(
            np.max((defect.max(axis=1, initial=0.0) - rep.xi_norms) / norms[1:], initial=0.0)
        ),
        "max_rel_xi": float(np.max(rep.xi_norms / norms[1:], initial=0.0)),
        "corollary_rate_error": float(rate_err),
        "sets": sets,
        "components": {n: rep.named[n].tolist() for n in FOLLOW},
        "factors": {n: _nan_to_none(rep.named_factors[n]) for n in FOLLOW},
        "cross_check_error": None,
    }
    if d <= CROSS_CHECK_MAX_D:  # the same report in full coordinates (p = d + 2)
        full = growth_report(model, data, alg, gamma, theta0, T)
        scale = np.linalg.norm(full.thetas, axis=1)
        errs = [np.max(np.abs(full.named[n] - rep.named[n]) / scale) for n in FOLLOW]
        out["cross_check_error"] = float(max(errs))
    return out


def run_task(params: Params) -> Result:
    """One task (see :func:`tasks`); pure in ``params``."""
    if params["part"] == "eigen":
        return _eigen(int(params["d"]), float(params["mu"]))
    return _trajectory(params)


def analyze(records: list[Record]) -> Analysis:
    """Three sub-claims, each reproduced or not by a fixed rule: (1) every closed-form
    spectrum, eigenvector, kernel and pattern check within ``TOL = 1e-10`` of ``eigh``;
    (2) along every hard-perceptron trajectory the per-step ratio equals ``1 + lambda`` to
    ``TOL`` and the Corollary's factors hold to ``TOL``, and the reduced reports match the
    full ones to 1e-9 where both were computed; (3) along every LR+GD trajectory the defect
    stays below ``||xi_t||`` (excess ``<= 1e-12 ||theta||``) and every run separates."""
    eig = [(p, r) for p, r in records if p["part"] == "eigen"]
    traj = [(p, r) for p, r in records if p["part"] == "trajectory"]
    perc = [r for p, r in traj if p["algorithm"] == "perceptron"]
    keys = ("spectrum_error", "eigvec_residual", "kernel_residual", "pattern_error")
    n: dict[str, Any] = {f"max_{k}": max((r[k] for _, r in eig), default=math.nan) for k in keys}
    n["n_eigen_tasks"] = len(eig)
    n["max_d_eigen"] = max((p["d"] for p, _ in eig), default=0)
    n["perceptron_max_ratio_error"] = max((r["max_ratio_error"] for r in perc), default=math.nan)
    n["perceptron_max_rel_defect"] = max((r["max_rel_defect"] for r in perc), default=math.nan)
    n["corollary_rate_error"] = max((r["corollary_rate_error"] for _, r in traj), default=math.nan)
    n["bound_excess"] = max((r["bound_excess"] for _, r in traj), default=math.nan)
    gd = [r for p, r in traj if p["algorithm"] == "gd"]
    n["gd_max_rel_defect"] = max((r["max_rel_defect"] for r in gd), default=math.nan)
    n["gd_max_rel_xi"] = max((r["max_rel_xi"] for r in gd), default=math.nan)
    cross = [r["cross_check_error"] for _, r in traj if r["cross_check_error"] is not None]
    n["cross_check_error"] = max(cross, default=math.nan)
    n["all_solved"] = all(r["solved"] for _, r in traj)
    eig_ok = bool(eig) and all(n[f"max_{k}"] <= TOL for k in keys)
    perc_ok = bool(perc) and (
        n["perceptron_max_ratio_error"] <= TOL
        and n["perceptron_max_rel_defect"] <= TOL
        and n["corollary_rate_error"] <= TOL
    )
    gd_ok = bool(gd) and n["bound_excess"] <= 1e-12 and n["all_solved"]
    cross_ok = not cross or n["cross_check_error"] <= 1e-9

    def word(ok: bool) -> str:
        return "reproduced" if ok else "not reproduced"

    claims = (
        SubClaim(
            "1",
            "the closed-form spectra of A_1 and A_2 (±λ_1; ±λ_2, ±μ; zeros) and their "
            "eigenvectors, with the ±μ eigenvectors of A_2 in the kernel of A_1",
            f"every relative eigenvalue error, eigenvector and kernel residual and pattern "
            f"error ≤ {TOL:g} against numpy.linalg.eigh (independent evidence)",
            word(eig_ok),
            f"{len(eig)} (d, μ) pairs, d ≤ {n['max_d_eigen']}: spectrum error "
            f"{n['max_spectrum_error']:.1e}, eigenvector residual "
            f"{n['max_eigvec_residual']:.1e}, kernel residual {n['max_kernel_residual']:.1e}, "
            f"pattern error {n['max_pattern_error']:.1e}",
        ),
        SubClaim(
            "2",
            "along the hard perceptron, components on the driving matrix's eigenvectors grow "
            "by exactly 1 + λ per step, and the Corollary's vectors by 1 ± ηλ_2, 1 ± ημ",
            f"largest ratio error, relative defect and Corollary-factor error ≤ {TOL:g}; "
            f"reduced and full-coordinate reports agree to 1e-9 where both ran",
            word(perc_ok and cross_ok),
            f"ratio error {n['perceptron_max_ratio_error']:.1e}, defect "
            f"{n['perceptron_max_rel_defect']:.1e}, Corollary factors "
            f"{n['corollary_rate_error']:.1e}, reduced vs full {n['cross_check_error']:.1e} "
            f"({len(perc)} runs)",
        ),
        SubClaim(
            "3",
            "along LR+GD the same growth holds up to the reduction's error term: the defect "
            "never exceeds ||ξ_t||",
            "defect − ||ξ_t|| ≤ 1e-12·||θ_t|| at every step of every run, and every run separates",
            word(gd_ok),
            f"defect up to {n['gd_max_rel_defect']:.2g}·||θ||, ||ξ_t|| up to "
            f"{n['gd_max_rel_xi']:.2g}·||θ||, excess {n['bound_excess']:.1e}; all solved: "
            f"{'yes' if n['all_solved'] else 'no'} ({len(gd)} runs)",
        ),
    )
    closed = [
        {"d": p["d"], "μ": p["mu"], "λ_1": r["lambda1"], "λ_2": r["lambda2"],
         "spectrum error (relative)": r["spectrum_error"],
         "eigenvector residual": r["eigvec_residual"], "kernel residual": r["kernel_residual"],
         "pattern error": r["pattern_error"]}
        for p, r in eig
    ]  # fmt: skip
    runs = [
        {"rule": p["algorithm"], "d": p["d"], "seed": p["seed"],
         "ratio error": r["max_ratio_error"], "relative defect": r["max_rel_defect"],
         "||ξ_t|| / ||θ_t|| (max)": r["max_rel_xi"],
         "Corollary factor error": r["corollary_rate_error"],
         "bound excess": r["bound_excess"], "reduced vs full": r["cross_check_error"]}
        for p, r in traj
    ]  # fmt: skip
    tables = (
        Table("Closed forms against eigh", closed, key_columns=2),
        Table("Trajectories in the eigenbasis", runs, key_columns=3),
    )
    return Analysis(claims=claims, numbers=n, decisive_figure=FIG_COMPONENTS, tables=tables)


def _predicted(comp: np.ndarray, factors: list[float | None]) -> np.ndarray:
    """One-step-ahead prediction ``|(1 + lambda_t) <theta_t, v>|`` of ``|<theta_{t+1}, v>|``,
    shape ``(T+1,)`` (NaN at ``t = 0`` and where ``v`` is not an eigenvector of ``M_t``)."""
    f = np.array([np.nan if x is None else x for x in factors], dtype=float)
    return np.abs(np.r_[np.nan, comp[:-1] * f])


def plot(records: list[Record], out_dir: Path) -> list[str]:
    """Figures: |<theta_t, v>| against t for the Corollary's vectors with the predicted
    growth (one panel per algorithm, largest d, first seed); closed-form eigenvalues against
    ``eigh`` over d and their relative errors."""
    from gdperceptron.experiments.figures import new_figure, save_figure

    stems = []
    traj = [(p, r) for p, r in records if p["part"] == "trajectory"]
    algs = [a for a in ("perceptron", "gd") if any(p["algorithm"] == a for p, _ in traj)]
    if algs:
        fig, ax = new_figure(ncols=len(algs), width=6.0, height=4.2)
        for j, alg in enumerate(algs):
            p, r = max(
                ((p, r) for p, r in traj if p["algorithm"] == alg),
                key=lambda pr: (pr[0]["d"], -pr[0]["seed"]),
            )
            axis, t = ax[0, j], np.arange(r["steps"] + 1)
            for k, name in enumerate(("v2+", "v2-", "vmu+", "vmu-")):
                comp = np.asarray(r["components"][name])
                axis.semilogy(t, np.abs(comp), "-", color=f"C{k}", lw=1.5, label=f"|<θ_t, {name}>|")
                pred = _predicted(comp, r["factors"][name])
                axis.semilogy(t, pred, "o", color=f"C{k}", ms=2.5, mfc="none", alpha=0.8)
            for s, (lo, hi) in _runs(r["sets"]):
                if s == 2:
                    axis.axvspan(lo, hi, color="0.9", lw=0)
            who = "hard perceptron" if alg == "perceptron" else "LR+GD (vs the perceptron's M_t)"
            axis.set(xlabel="step t", ylabel="|component|", title=f"{who}, d={p['d']}")
        ax[0, 0].plot(
            [], [], "ko", ms=2.5, mfc="none", label="predicted from t-1: |(1 + λ) <θ_t-1, v>|"
        )
        ax[0, 0].fill_between([], [], color="0.9", label="only sample 2 misclassified")
        ax[0, 0].legend(fontsize=8)
        stems.append(save_figure(fig, out_dir, FIG_COMPONENTS))
    eig = sorted((p["d"], p["mu"], r) for p, r in records if p["part"] == "eigen")
    if eig:
        fig, ax = new_figure(ncols=2, width=5.5)
        mu0 = 1.0 if any(m == 1.0 for _, m, _ in eig) else eig[0][1]
        rows = [(d, r) for d, m, r in eig if m == mu0]
        d = np.array([x for x, _ in rows], dtype=float)
        for k, (key, label) in enumerate((("lambda1", "λ1"), ("lambda2", "λ2"))):
            ax[0, 0].loglog(d, [r[key] for _, r in rows], "-", color=f"C{k}", label=f"{label}")
            ax[0, 0].loglog(d, [r[f"{key}_eigh"] for _, r in rows], "o", color=f"C{k}", ms=5)
        ax[0, 0].loglog(d, [r["mu_eigh"] for _, r in rows], "o", color="C2", label=f"μ={mu0:g}")
        ax[0, 0].set(xlabel="d", ylabel="eigenvalue", title="closed form (lines) vs eigh (dots)")
        ax[0, 0].legend()
        floor = 1e-18  # exact zeros drawn at the floor
        for k, key in enumerate(("spectrum_error", "eigvec_residual", "kernel_residual")):
            x = [d for d, _, _ in eig]
            y = [max(r[key], floor) for _, _, r in eig]
            ax[0, 1].loglog(x, y, "o", color=f"C{k}", ms=4, alpha=0.7, label=key.replace("_", " "))
        ax[0, 1].axhline(TOL, color="k", ls=":", label="tolerance 1e-10")
        ax[0, 1].set(xlabel="d", ylabel="relative error", title="all (d, μ); exact 0 at 1e-18")
        ax[0, 1].legend(fontsize=8)
        ds = sorted({x for x, _, _ in eig})
        for axis in ax[0]:
            axis.set_xticks(ds, [str(x) for x in ds])
            axis.minorticks_off()
        stems.append(save_figure(fig, out_dir, FIG_EIGEN))
    return stems


def _runs(sets: list[int]) -> list[tuple[int, tuple[int, int]]]:
    """Maximal runs of equal values: ``[(value, (start, end)), ...]`` with end exclusive."""
    out, start = [], 0
    for t in range(1, len(sets) + 1):
        if t == len(sets) or sets[t] != sets[start]:
            out.append((sets[start], (start, t)))
            start = t
    return out


EXPERIMENT = Experiment(
    name=NAME,
    title="Spectrum of the minimal example; trajectories in its eigenbasis",
    claim=(
        "Proposition and Corollary: A_1 has eigenvalues ±√(2d), A_2 has "
        "±sqrt((2+μ)²+2(d-2)) and ±μ, and the μ-eigenvectors of A_2 lie in the kernel of "
        "A_1. For the tied model a step is θ_{t+1} = (I + M_t) θ_t, so the component "
        "along an eigenvector of M_t with eigenvalue λ is multiplied by 1 + λ, exactly for the "
        "hard perceptron and up to the error term ξ_t for LR+GD."
    ),
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
