"""The ``complexity`` experiment at quick size: tasks, results against direct library
calls, the analysis against an independent slope fit, the verdict rule, the figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gdperceptron.analysis.complexity import (
    DEFAULT_DS,
    default_max_iter,
    iterations_to_solve,
    tied_step,
)
from gdperceptron.experiments import get_experiment
from gdperceptron.experiments.complexity import (
    QUICK_DS,
    draw_complexity,
    plot_saved,
    sweep_from_records,
    verdict,
)

EXP = get_experiment("complexity")


@pytest.fixture(scope="module")
def quick_records():
    return [(p, EXP.run_task(p)) for p in EXP.make_tasks(True)]


def test_tasks_are_json_and_cover_the_grids() -> None:
    for quick, ds, seeds in ((True, QUICK_DS, 8), (False, DEFAULT_DS, 16)):
        tasks = EXP.tasks(quick)
        assert json.loads(json.dumps(tasks)) == tasks
        assert sorted((t["model"], t["d"]) for t in tasks) == sorted(
            (m, d) for m in ("linear", "tied") for d in ds
        )
        assert {t["seeds"] for t in tasks} == {seeds}
    assert len(DEFAULT_DS) >= 13 and QUICK_DS[0] == 10 and QUICK_DS[-1] == 10**5


def test_results_equal_direct_calls(quick_records) -> None:
    for params, result in quick_records:
        assert json.loads(json.dumps(result)) == result
        if params["d"] not in (10, 1000, 100_000):
            continue
        d, model = params["d"], params["model"]
        step = 1.0 if model == "linear" else tied_step(d)
        assert result["step"] == step
        assert result["max_iter"] == default_max_iter(model, d)
        want = iterations_to_solve(model, d, seeds=8, seed=0, step=step)
        assert result["counts"] == want.tolist()


def _ols_slope(d, counts) -> float:
    med = np.array([np.median(c) for c in counts])
    return float(np.polyfit(np.log(d), np.log(med + 1.0), 1)[0])


def test_analysis_numbers_and_verdict(quick_records) -> None:
    a = EXP.analyze(quick_records)
    for model in ("linear", "tied"):
        rows = sorted((p["d"], r["counts"]) for p, r in quick_records if p["model"] == model)
        d, counts = [x for x, _ in rows], [c for _, c in rows]
        assert a.numbers[f"{model}_slope"] == pytest.approx(_ols_slope(d, counts), rel=1e-12)
        lo, hi = a.numbers[f"{model}_slope_ci"]
        assert lo <= a.numbers[f"{model}_slope"] <= hi
        assert a.numbers[f"{model}_unsolved"] == 0
    # the linear runs start at v_0 = 0: identical counts, a point interval
    assert a.numbers["linear_slope_ci"][0] == a.numbers["linear_slope_ci"][1]
    assert (a.reproduced, a.verdict) == verdict(a.numbers)
    assert len(a.table) == 2 * len(QUICK_DS) and a.decisive_figure == "complexity"


def _records(alpha_linear: float, alpha_tied: float, unsolved: int = 0, noise: float = 0.3):
    rng = np.random.default_rng(0)
    out = []
    for d in (10, 100, 1000, 10**4, 10**5, 10**6):
        for model, alpha in (("linear", alpha_linear), ("tied", alpha_tied)):
            counts = np.round(5 * d**alpha * np.exp(noise * rng.standard_normal(16))).astype(int)
            if model == "tied" and d == 10**6:
                counts[:unsolved] = -1
            params = {"model": model, "d": d}
            out.append((params, {"counts": counts.tolist(), "step": 1.0, "max_iter": 10**9}))
    return out


@pytest.mark.parametrize(
    ("alphas", "unsolved", "expected"),
    [((1.0, 0.5), 0, True), ((1.0, 0.9), 0, False), ((0.6, 0.5), 0, False),
     ((1.0, 0.5), 3, False), ((0.5, 1.0), 0, False)],
)  # fmt: skip
def test_verdict_rule_on_synthetic_records(alphas, unsolved, expected) -> None:
    a = EXP.analyze(_records(*alphas, unsolved=unsolved))
    assert a.reproduced is expected
    for model, alpha in zip(("linear", "tied"), alphas, strict=True):
        lo, hi = a.numbers[f"{model}_slope_ci"]
        if not unsolved:  # the fit recovers the synthetic exponent
            assert lo < alpha < hi
    assert a.verdict.startswith("reproduced" if expected else "NOT reproduced")


def test_verdict_boundaries() -> None:
    base = {"linear_slope": 1.0, "tied_slope": 0.5, "linear_unsolved": 0, "tied_unsolved": 0}
    assert verdict(base | {"linear_slope_ci": [0.75, 1.25], "tied_slope_ci": [0.25, 0.75]})[0]
    assert not verdict(base | {"linear_slope_ci": [0.74, 1.0], "tied_slope_ci": [0.4, 0.6]})[0]
    assert not verdict(base | {"linear_slope_ci": [0.9, 1.1], "tied_slope_ci": [0.4, 0.76]})[0]


def test_plot_reads_saved_results(quick_records, tmp_path: Path) -> None:
    assert EXP.plot(quick_records, tmp_path) == ["complexity"]
    sweep = sweep_from_records(json.loads(json.dumps(quick_records)))
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(sweep))
    assert plot_saved(path) == "saved"
    assert draw_complexity({"tied": sweep["tied"]}, tmp_path / "one") == "complexity"
    for stem in ("complexity", "saved", "one/complexity"):
        for ext in (".png", ".pdf"):
            assert (tmp_path / f"{stem}{ext}").stat().st_size > 1000
