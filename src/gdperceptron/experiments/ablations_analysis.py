"""The verdicts, tables and figures of the ``ablations`` experiment, from its saved records.

The rules are those of :mod:`gdperceptron.experiments.ablations` (its docstring, fixed
before the full run); docs/theory/experiments.md describes them in prose.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from gdperceptron import paired_speedup
from gdperceptron.experiments.base import Analysis, Record, SubClaim, Table, run_cell

SUBLINEAR = 0.75  # slope threshold between the sqrt(d) (0.5) and d (1.0) rates
FACTOR = 2.0  # "as fast as": within this factor
CLAIM_VARIANTS = {
    "3": ("relu + bias",),
    "4": ("leaky relu",),
    "5": ("two-layer relu", "standard relu w4", "standard relu w64", "mean-field relu w4",
          "mean-field relu w16", "mean-field relu w64"),
    "6": ("mlp depth 3", "mlp depth 4"),
    "7": ("square",),
}  # fmt: skip
CLAIM_TEXT = {
    "3": "With first-layer biases the two-layer relu network still separates the minimal "
    "example in sub-linearly many iterations in d.",
    "4": "With leaky relu the two-layer network still grows sub-linearly in d.",
    "5": "The sub-linear growth does not depend on the output scaling: standard and "
    "mean-field (1/width) two-layer relu networks of widths 4, 16, 64 all grow sub-linearly.",
    "6": "Deeper relu networks (depth 3 and 4) still grow sub-linearly in d.",
    "7": "With the square activation the two-layer network grows sub-linearly in d.",
}
LABEL = {"two-layer relu": "standard relu w16"}
FACTORISATION = ("linear model", "tied (reference)", "two-layer linear", "two-layer relu")
FIG = "ablations_iterations_vs_d"


def as_count(x: Any) -> float:
    """An iteration count as a float; ``None`` (unsolved) as ``inf``."""
    return math.inf if x is None else float(x)


def median_count(values: list[Any]) -> float:
    """Median over seeds; ``None`` (unsolved) counts as ``inf``."""
    return float(np.median([as_count(v) for v in values]))


def log_slope(d: Any, its: Any) -> float:
    """OLS slope of ``log max(its, 1)`` on ``log d`` over finite entries (NaN if < 2)."""
    d, its = np.asarray(d, dtype=float), np.asarray(its, dtype=float)
    ok = np.isfinite(its)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(d[ok]), np.log(np.maximum(its[ok], 1.0)), 1)[0])


def growth_status(curve: dict[int, float]) -> tuple[str, int | None, float]:
    """``(status, D, slope)`` of the growth rule: ``"sub-linear"`` (finite at every ``d``,
    slope < 0.75), ``"sub-linear up to D"`` (finite on the first ``k >= 3`` only, slope there
    < 0.75), else ``"not sub-linear"``; ``D`` is the last ``d`` used, ``slope`` over it."""
    ds = sorted(curve)
    k = next((j for j, d in enumerate(ds) if not math.isfinite(curve[d])), len(ds))
    slope = log_slope(ds[:k], [curve[d] for d in ds[:k]])
    if k == len(ds) and slope < SUBLINEAR:
        return "sub-linear", ds[-1], slope
    if 3 <= k < len(ds) and slope < SUBLINEAR:
        return "sub-linear up to D", ds[k - 1], slope
    return "not sub-linear", ds[k - 1] if k else None, slope


def combine(statuses: dict[str, tuple[str, int | None, float]]) -> tuple[str, str]:
    """``(verdict, condition)`` of a claim over several variants (module rule)."""
    full = [v for v, s in statuses.items() if s[0] == "sub-linear"]
    part = [v for v, s in statuses.items() if s[0] == "sub-linear up to D"]
    if len(full) == len(statuses):
        return "reproduced", ""
    if not full and not part:
        return "not reproduced", ""
    where = [LABEL.get(v, v) for v in full]
    where += [f"{LABEL.get(v, v)} for d ≤ {statuses[v][1]}" for v in part]
    return "partly", "holds for " + ", ".join(where)


def minimal_curves(records: list[Record]) -> dict[str, dict[str, dict[int, Any]]]:
    """``variant -> {"best", "paper", "limit", "c", "solved", "outcomes"} -> d -> value``:
    median best-step count, median count at ``c = 1``, the linear limit, median best ``c``,
    seeds solved / seeds, and the outcome classes of every search run."""
    out: dict[str, dict[str, dict[int, Any]]] = {}
    for params, result in records:
        if params.get("part") != "minimal":
            continue
        d, runs = int(params["d"]), result["runs"]
        cur = out.setdefault(params["variant"], {k: {} for k in
                                                  ("best", "paper", "limit", "c", "solved",
                                                   "outcomes")})  # fmt: skip
        cur["best"][d] = median_count([r["iterations"] for r in runs])
        cur["paper"][d] = median_count([r["paper_step"]["iterations"] for r in runs])
        if all("limit" in r for r in runs):
            cur["limit"][d] = median_count([r["limit"]["iterations"] for r in runs])
        cs = [r["best_step"] / result["scale"] for r in runs if r["best_step"] is not None]
        cur["c"][d] = float(np.median(cs)) if cs else math.nan
        cur["solved"][d] = f"{sum(r['iterations'] is not None for r in runs)}/{len(runs)}"
        cur["outcomes"][d] = Counter(
            "solved" if e["iterations"] is not None else e["stop_reason"]
            for r in runs
            for e in r["entries"]
        )
    return {v: {k: dict(sorted(c.items())) for k, c in cur.items()} for v, cur in out.items()}


def _fmt(x: float) -> str:
    return "unsolved" if not math.isfinite(x) else f"{x:g}"


def _cell(x: float) -> float | str:
    return x if math.isfinite(x) else "unsolved (median)"


def _curve_text(curve: dict[int, float]) -> str:
    return ", ".join(f"{d}: {_fmt(x)}" for d, x in curve.items())


def _factorisation_verdict(
    lin_ok: bool, ident: dict[int, float], relu: dict[int, float]
) -> tuple[str, str]:
    """Verdict and condition of rule 1 (and 1b) from (a) and the two curves."""
    status, D, _ = growth_status(ident)
    slower = [d for d in ident if math.isfinite(relu.get(d, math.inf))
              and ident[d] > FACTOR * relu[d]]  # fmt: skip
    if lin_ok and status == "sub-linear" and not slower:
        return "reproduced", ""
    if lin_ok and status == "sub-linear up to D":
        return "partly", f"for d ≤ {D}"
    if lin_ok and status == "sub-linear":
        where = ", ".join(map(str, slower))
        return "partly", (f"in the growth rate only: the linear network is more than "
                          f"{FACTOR:g}× slower than relu at d = {where}")  # fmt: skip
    return "not reproduced", ""


SCHEDULES = {"best": "its best step", "paper": "γ = 1/λ₂", "limit": "the γ→∞ limit"}


def claim_linear(cur: dict[str, Any]) -> SubClaim:
    """Sub-claim 1a (module rule, added after the quick run)."""
    claim = "The linear model from v₀ = 0 needs Ω(d) iterations at any constant step."
    criterion = (f"log-log slope ≥ {SUBLINEAR} at its best step, at γ = 1/λ₂ and in the "
                 "γ→∞ limit (partly: at some of them)")  # fmt: skip
    if "linear model" not in cur:
        return SubClaim("1a", claim, criterion, "not run", "the linear model is not in the records")
    lin = cur["linear model"]
    slopes = {k: log_slope(list(lin[k]), list(lin[k].values())) for k in SCHEDULES}
    ok = [k for k, s in slopes.items() if s >= SUBLINEAR]
    verdict = ("reproduced" if len(ok) == len(slopes)
               else "partly" if ok else "not reproduced")  # fmt: skip
    cond = "at " + " and ".join(SCHEDULES[k] for k in ok) if verdict == "partly" else ""
    evidence = "; ".join(f"{SCHEDULES[k]}: slope {slopes[k]:.2f} [{_curve_text(lin[k])}]"
                         for k in SCHEDULES)  # fmt: skip
    cs = lin["c"]
    evidence += f"; best c = γλ₂ per d [{', '.join(f'{d}: {c:.3g}' for d, c in cs.items())}]"
    return SubClaim("1a", claim, criterion, verdict, evidence, cond)


def claim_paper_schedule(cur: dict[str, Any]) -> SubClaim:
    """Sub-claim 1b (module rule, added after the quick run)."""
    claim = ("At the paper's step γ = 1/λ₂(d) the two-layer linear network grows "
             "sub-linearly in d, as fast as the relu network, while the linear model grows "
             "linearly.")  # fmt: skip
    criterion = (f"at γ = 1/λ₂: linear-model slope ≥ {SUBLINEAR}; two-layer linear median "
                 f"finite at every d with slope < {SUBLINEAR}; its median ≤ {FACTOR:g}× the "
                 "relu network's at every d where that is finite")  # fmt: skip
    need = ("linear model", "two-layer linear", "two-layer relu")
    if any(v not in cur for v in need):
        return SubClaim("1b", claim, criterion, "not run", "variants missing from the records")
    lin = cur["linear model"]["paper"]
    s_lin = log_slope(list(lin), list(lin.values()))
    ident, relu = cur["two-layer linear"]["paper"], cur["two-layer relu"]["paper"]
    verdict, cond = _factorisation_verdict(s_lin >= SUBLINEAR, ident, relu)
    evidence = (f"linear model slope {s_lin:.2f} [{_curve_text(lin)}]; two-layer linear slope "
                f"{growth_status(ident)[2]:.2f} [{_curve_text(ident)}]; two-layer relu slope "
                f"{growth_status(relu)[2]:.2f} [{_curve_text(relu)}]")  # fmt: skip
    return SubClaim("1b", claim, criterion, verdict, evidence, cond)


def claim_factorisation(cur: dict[str, Any]) -> SubClaim:
    """Sub-claim 1 (module rule)."""
    claim = ("On the minimal example the acceleration needs only the factorised "
             "parameterisation: the two-layer linear network grows sub-linearly in d, as fast "
             "as the relu network, while the linear model grows linearly.")  # fmt: skip
    criterion = (f"linear-model slope ≥ {SUBLINEAR} at its best step, at γ = 1/λ₂ and in the "
                 f"γ→∞ limit; two-layer linear: solved at every d with slope < {SUBLINEAR}; "
                 f"its median ≤ {FACTOR:g}× the relu network's at every d (each at its own "
                 "best step)")  # fmt: skip
    need = ("linear model", "two-layer linear", "two-layer relu")
    if any(v not in cur for v in need):
        return SubClaim("1", claim, criterion, "not run", "variants missing from the records")
    lin = cur["linear model"]
    lin_slopes = {k: log_slope(list(lin[k]), list(lin[k].values()))
                  for k in ("best", "paper", "limit")}  # fmt: skip
    a = all(s >= SUBLINEAR for s in lin_slopes.values())
    ident, relu = cur["two-layer linear"]["best"], cur["two-layer relu"]["best"]
    s_id = growth_status(ident)[2]
    verdict, cond = _factorisation_verdict(a, ident, relu)
    s_relu = growth_status(relu)[2]
    evidence = (
        f"linear model slopes {lin_slopes['best']:.2f} (best step) / {lin_slopes['paper']:.2f} "
        f"(γ = 1/λ₂) / {lin_slopes['limit']:.2f} (limit), medians [{_curve_text(lin['best'])}]; "
        f"two-layer linear slope {s_id:.2f} [{_curve_text(ident)}]; two-layer relu slope "
        f"{s_relu:.2f} [{_curve_text(relu)}]"
    )
    if "tied (reference)" in cur:
        tied = cur["tied (reference)"]["best"]
        evidence += f"; tied (reference) slope {growth_status(tied)[2]:.2f} [{_curve_text(tied)}]"
    return SubClaim("1", claim, criterion, verdict, evidence, cond)


def claim_growth(number: str, cur: dict[str, Any]) -> SubClaim:
    """Sub-claims 3 to 7: the growth rule on the claim's variants."""
    variants = CLAIM_VARIANTS[number]
    criterion = (f"each of {', '.join(LABEL.get(v, v) for v in variants)}: median at its best "
                 f"step finite at every d and log-log slope < {SUBLINEAR} (partly: only on the "
                 "first ≥ 3 dimensions, or only some variants)")  # fmt: skip
    have = {v: growth_status(cur[v]["best"]) for v in variants if v in cur}
    if not have:
        return SubClaim(number, CLAIM_TEXT[number], criterion, "not run",
                        "not in this version's variants")  # fmt: skip
    verdict, cond = combine(have)
    absent = [LABEL.get(v, v) for v in variants if v not in have]
    if absent and verdict == "reproduced":  # judged on the variants that ran
        verdict, cond = "partly", "holds for the variants that ran; not run: " + ", ".join(absent)
    parts = [f"{LABEL.get(v, v)} slope {s[2]:.2f} ({s[0].replace(' D', f' {s[1]}')}) "
             f"[{_curve_text(cur[v]['best'])}]" for v, s in have.items()]  # fmt: skip
    if number == "3" and "two-layer relu" in cur:
        s = growth_status(cur["two-layer relu"]["best"])
        parts.append(
            f"without bias: slope {s[2]:.2f} [{_curve_text(cur['two-layer relu']['best'])}]"
        )
    if number == "7":
        for v in have:
            d = max(cur[v]["outcomes"])
            oc = cur[v]["outcomes"][d]
            parts.append(f"outcome classes of its {sum(oc.values())} search runs at d = {d}: "
                         + ", ".join(f"{k} {n}" for k, n in sorted(oc.items())))  # fmt: skip
    return SubClaim(number, CLAIM_TEXT[number], criterion, verdict, "; ".join(parts), cond)


def fmnist_runs(records: list[Record]) -> dict[str, dict[int, dict[str, Any]]]:
    """``model -> seed -> result`` of the Fashion-MNIST tasks."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for params, result in records:
        if params.get("part") == "fmnist":
            out.setdefault(params["model"], {})[int(params["seed"])] = result
    return out


def _iv(iv: Any) -> str:
    return f"{iv.value:.2g} [{iv.low:.2g}, {iv.high:.2g}]"


def claim_fmnist(records: list[Record]) -> tuple[SubClaim, list[dict[str, Any]], dict[str, Any]]:
    """Sub-claim 2 (module rule), its table rows and numbers."""
    claim = ("On Fashion-MNIST 2 vs 4 the factorised parameterisation alone also "
             "accelerates: the two-layer linear network separates in fewer iterations than "
             "the linear model, as the relu network does.")  # fmt: skip
    criterion = ("paired speed-up S_id of the two-layer linear network over the linear model "
                 "(geometric mean, 95% bootstrap interval, 5 seeds, each at its own best step): "
                 "interval above 1 and S_id ≥ S_relu/2; partly: interval above 1 but S_id < "
                 "S_relu/2; not reproduced: interval reaches 1")  # fmt: skip
    skipped = [r["reason"] for p, r in records if p.get("part") == "skipped"]
    runs = fmnist_runs(records)
    need = ("linear model", "two-layer linear", "two-layer relu")
    if any(m not in runs for m in need):
        why = skipped[0] if skipped else "no Fashion-MNIST records (the quick version has none)"
        return SubClaim("2", claim, criterion, "not run", why), [], {}
    seeds = sorted(set.intersection(*(set(runs[m]) for m in need)))

    def counts(m: str) -> list[Any]:
        return [None if runs[m][s]["iterations"] is None else max(1, runs[m][s]["iterations"])
                for s in seeds]  # fmt: skip

    base = counts("linear model")
    sp = {m: paired_speedup(base, counts(m)) for m in need[1:]}
    s_id, s_relu = sp["two-layer linear"], sp["two-layer relu"]
    if s_id.low > 1 and s_id.value >= s_relu.value / FACTOR:
        verdict, cond = "reproduced", ""
    elif s_id.low > 1:
        verdict, cond = (
            "partly",
            "the linear network accelerates, by less than half as much as relu",
        )
    else:
        verdict, cond = "not reproduced", ""
    rows, numbers = [], {}
    for m in need:
        its = [runs[m][s]["iterations"] for s in seeds]
        steps = [runs[m][s]["best_step"] for s in seeds if runs[m][s]["best_step"] is not None]
        rows.append({
            "model": m,
            "best step γ (median of seeds)": float(np.median(steps)) if steps else "unsolved",
            f"iterations at best step (median of {len(seeds)} seeds)": _cell(median_count(its)),
            "per seed": ", ".join(str(run_cell(i, "max_iter")) for i in its),
            "speed-up over linear (95% CI)": "1" if m == need[0] else _iv(sp[m]),
        })  # fmt: skip
        numbers[f"fmnist_median_{m.replace(' ', '_')}"] = median_count(its)
    for m, iv in sp.items():
        key = m.replace(" ", "_")
        numbers.update({f"fmnist_speedup_{key}": iv.value, f"fmnist_speedup_{key}_low": iv.low,
                        f"fmnist_speedup_{key}_high": iv.high})  # fmt: skip
    unsolved = {m: sum(runs[m][s]["iterations"] is None for s in seeds) for m in need}
    evidence = (f"S_id = {_iv(s_id)}, S_relu = {_iv(s_relu)} (geometric means; a seed a model "
                "never separates within the budget gives the ratio 0 or inf); median best "
                "counts: " + ", ".join(f"{r['model']} {r[list(r)[2]]}" for r in rows)
                + "; seeds unsolved at every step: "
                + ", ".join(f"{m} {k}/{len(seeds)}" for m, k in unsolved.items()))  # fmt: skip
    return SubClaim("2", claim, criterion, verdict, evidence, cond), rows, numbers


def _minimal_tables(cur: dict[str, Any]) -> list[Table]:
    rows, crow, prow, orow = [], [], [], []
    for v, c in cur.items():
        status, D, slope = growth_status(c["best"])
        rows.append({"variant": v, **{f"d={d}": _cell(x) for d, x in c["best"].items()},
                     "slope": round(slope, 3) if math.isfinite(slope) else "n/a",
                     "growth": status.replace(" D", f" {D}")})  # fmt: skip
        crow.append({"variant": v, **{f"d={d}": round(x, 3) if math.isfinite(x) else "unsolved"
                                      for d, x in c["c"].items()}})  # fmt: skip
        paper_slope = log_slope(list(c["paper"]), list(c["paper"].values()))
        prow.append({"variant": v, **{f"d={d}": _cell(x) for d, x in c["paper"].items()},
                     "slope": round(paper_slope, 3) if math.isfinite(paper_slope) else "n/a",
                     "seeds solved (largest d)": list(c["solved"].values())[-1]})  # fmt: skip
        d = max(c["outcomes"])
        oc = c["outcomes"][d]
        orow.append({"variant": v, "d": d, **{k.replace("_", " "): oc.get(k, 0) for k in
                     ("solved", "stalled", "diverged", "non_finite", "max_iter")}})  # fmt: skip
    out = [
        Table("Minimal example: median iterations at each variant's best step (over seeds)",
              rows, "best step per (variant, d, seed) on γ = c/λ₂(d), c = 10^(-1..2) by "
              "quarter decades, bisection near the cliff; unsolved = not within the budget",
              1),  # fmt: skip
        Table("Minimal example: best step c = γ·λ₂(d) (median over seeds)", crow,
              "an entry at 0.1 or 100 is at the edge of the grid", 1),  # fmt: skip
        Table("Minimal example: median iterations at the paper's step γ = 1/λ₂(d)", prow, "", 1),
        Table("Minimal example: outcome classes of all search runs at the largest d", orow,
              "max iter: not within the run's cap (the best count so far, or the budget)", 1),
    ]  # fmt: skip
    if "linear model" in cur:
        lin = cur["linear model"]
        lrows = [{"d": d, "best step": _cell(lin["best"][d]), "best c": round(lin["c"][d], 3),
                  "γ = 1/λ₂": _cell(lin["paper"][d]), "γ → ∞ (perceptron)": _cell(lin["limit"][d]),
                  "best / d": round(lin["best"][d] / d, 3)} for d in lin["best"]]  # fmt: skip
        out.append(Table("Linear model from v₀ = 0: iterations at three step schedules", lrows))
    return out


def analyze(records: list[Record]) -> Analysis:
    """Sub-claims 1 to 7 of the module rules, with their tables and numbers."""
    cur = minimal_curves(records)
    c2, frows, numbers = claim_fmnist(records)
    claims = [claim_factorisation(cur), claim_linear(cur), claim_paper_schedule(cur), c2,
              *(claim_growth(n, cur) for n in CLAIM_VARIANTS)]  # fmt: skip
    numbers["sublinear_threshold"] = SUBLINEAR
    for v, c in cur.items():
        key = v.replace(" ", "_")
        status, _, slope = growth_status(c["best"])
        numbers[f"slope_{key}"] = slope
        numbers[f"slope_paper_step_{key}"] = log_slope(list(c["paper"]), list(c["paper"].values()))
        numbers[f"sublinear_{key}"] = status == "sub-linear"
        numbers[f"median_at_largest_d_{key}"] = list(c["best"].values())[-1]
    numbers.update({f"verdict_{c.number}": c.verdict for c in claims})
    tables = _minimal_tables(cur)
    if frows:
        tables.append(Table("Fashion-MNIST 2 vs 4 (n = 1000, standardized): each model at its "
                            "own best step", frows, "γ = 10^(-1..1.5) by quarter decades, "
                            "bisection near the cliff; per-seed ratios paired", 1))  # fmt: skip
    return Analysis(claims=tuple(claims), tables=tuple(tables), numbers=numbers,
                    decisive_figure=FIG)  # fmt: skip
