"""Statistics and tables of the acceleration experiment (its verdict rules are in the
docstring of :mod:`gdperceptron.experiments.acceleration`): the records grouped per data set
and model, testable seeds and sets, paired speed-ups, and the report's tables.

The rule's numbers: a model accelerates on a set when the paired geometric-mean speed-up is
at least :data:`SPEEDUP` with the 95% interval's lower end above 1 (``N_BOOT`` resamples);
a set is testable with at least :data:`MIN_SEEDS` separable seeds and a median linear best
count of at least :data:`MIN_LINEAR`; a network's budget is at least
:data:`NET_BUDGET_FACTOR` times the linear model's best count.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdperceptron import paired_speedup
from gdperceptron.experiments.base import Record, run_cell

SPEEDUP = 2.0
MIN_LINEAR = 20
MIN_SEEDS = 3
N_BOOT = 2000
NET_BUDGET_FACTOR = 3
SAME_STEP = 1.0
DATA_ROLES = ("hard", "easy", "bundled")


def collect(records: list[Record]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``data label -> model -> [per-seed results, seeds ascending]``."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for params, result in sorted(records, key=lambda rec: rec[0].get("seed", 0)):
        if result.get("skipped"):
            continue
        for key, res in result["models"].items():
            out.setdefault(params["label"], {}).setdefault(key, []).append(res)
    return out


def roles(records: list[Record]) -> dict[str, str]:
    """``data label -> role`` (one of :data:`DATA_ROLES`), skipped sets included."""
    return {p.get("label", p.get("data")): p.get("role", "bundled") for p, _ in records}


def testable_seeds(linear: list[dict[str, Any]]) -> list[int]:
    """Seeds whose subsample is separable through the origin (module docstring)."""
    return [r["seed"] for r in linear if r.get("separable", r["best_iterations"] is not None)]


def compare(by_model: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Testability of one data set and, per nonlinear model, the paired speed-up over the
    linear model on the testable seeds (module docstring)."""
    linear = by_model.get("linear", [])
    seeds = testable_seeds(linear)
    lin = {r["seed"]: r["best_iterations"] for r in linear}
    solved = [v for v in lin.values() if v is not None]
    med_lin = float(np.median(solved)) if solved else math.inf
    out: dict[str, Any] = {"seeds": seeds, "median_linear": med_lin, "models": {}}
    out["testable"] = len(seeds) >= MIN_SEEDS and med_lin >= MIN_LINEAR
    if not out["testable"]:
        why = (f"{len(seeds)} testable seeds (< {MIN_SEEDS})"
               if len(seeds) < MIN_SEEDS else
               f"the linear model needs only {med_lin:g} iterations (< {MIN_LINEAR})")  # fmt: skip
        out["why"] = why
    for key, rows in by_model.items():
        if key == "linear":
            continue
        its = {r["seed"]: r["best_iterations"] for r in rows}
        common = [s for s in seeds if s in its]
        if not common or any(lin[s] == 0 or its[s] == 0 for s in common):
            continue
        iv = paired_speedup([lin[s] for s in common], [its[s] for s in common],
                            n_boot=N_BOOT, level=0.95, seed=0)  # fmt: skip
        out["models"][key] = {
            "speedup": iv,
            "accelerates": bool(iv.value >= SPEEDUP and iv.low > 1.0),
            "slower": bool(iv.high < 1.0),
        }
    return out


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf"
    return f"{x:.3g}"


def interval_text(iv: Any) -> str:
    return f"{_fmt(iv.value)} [{_fmt(iv.low)}, {_fmt(iv.high)}]"


def _median_or_cell(rows: list[dict[str, Any]], key: str) -> Any:
    """Median over seeds of ``rows[*][key]["iterations"]``, or the outcome of the
    majority when most are unsolved."""
    cells = [r[key] for r in rows if r.get(key) is not None]
    if not cells:
        return "no limit (not homogeneous)"
    its = [c["iterations"] for c in cells]
    if sum(i is not None for i in its) * 2 > len(its):
        return float(np.median([math.inf if i is None else i for i in its]))
    outcomes = [c["outcome"] for c in cells if c["iterations"] is None]
    common = max(set(outcomes), key=outcomes.count)
    return f"{run_cell(None, common)} ({outcomes.count(common)} of {len(cells)} seeds)"


def best_table(data: dict[str, dict[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    rows = []
    for label, by_model in data.items():
        for m, seeds in by_model.items():
            its = [math.inf if r["best_iterations"] is None else r["best_iterations"]
                   for r in seeds]  # fmt: skip
            steps = [r["best_step"] for r in seeds if r["best_step"] is not None]
            rows.append({
                "data": label,
                "model": m,
                "best step γ (median of seeds)": float(np.median(steps)) if steps else "none",
                f"iterations at best step (median of {len(seeds)} seeds)": float(np.median(its)),
                "range over seeds": f"{_fmt(min(its))}–{_fmt(max(its))}",
                "best step strictly inside the steps run": (
                    f"{sum(r['interior'] for r in seeds)} of {len(seeds)} seeds"),
                "γ→∞ limit, iterations (median)": _median_or_cell(seeds, "limit"),
                "runs per seed (median)": float(np.median([len(r["runs"]) for r in seeds])),
            })  # fmt: skip
    return rows


def seed_table(data: dict[str, dict[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    rows = []
    for label, by_model in data.items():
        for m, seeds in by_model.items():
            row: dict[str, Any] = {"data": label, "model": m}
            for r in seeds:
                cell = run_cell(r["best_iterations"], "not within budget")
                at = "" if r["best_step"] is None else f" at γ={r['best_step']:.3g}"
                row[f"seed {r['seed']}: iterations at best step"] = f"{cell}{at}"
            rows.append(row)
    return rows


def same_step_table(data: dict[str, dict[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    rows = []
    for label, by_model in data.items():
        lin = {r["seed"]: r["same_step"]["iterations"] for r in by_model.get("linear", [])}
        for m, seeds in by_model.items():
            cells = [r["same_step"] for r in seeds]
            solved = [c["iterations"] for c in cells if c["iterations"] is not None]
            ratios = [lin[r["seed"]] / r["same_step"]["iterations"] for r in seeds
                      if lin.get(r["seed"]) and r["same_step"]["iterations"]]  # fmt: skip
            unsolved = [run_cell(None, c["outcome"]) for c in cells if c["iterations"] is None]
            rows.append({
                "data": label,
                "model": m,
                f"iterations at γ = {SAME_STEP:g} (median of solved seeds)": (
                    float(np.median(solved)) if solved else "none solved"),
                "unsolved seeds": ", ".join(sorted(set(unsolved))) or "none",
                "linear / model at that step (geometric mean)": (
                    float(np.exp(np.mean(np.log(ratios)))) if ratios else "n/a"),
            })  # fmt: skip
    return rows
