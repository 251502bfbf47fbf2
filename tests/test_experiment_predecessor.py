"""The ``predecessor`` experiment at quick size, against independent computations.

Closed forms used here (derived in the module docstring of the experiment):
* loss-unreliable pair, ``a_1 = (1, -1)``, ``a_2 = (1, 4)``: ``v_1 = (gamma/4)(a_1 + a_2)``,
  ``v_2 = v_1 + (gamma/2) sum_i sigma(-<v_1, a_i>) a_i``; the limit ``v̂_2 = (1, 1/4)``;
* worst case: the batch perceptron from 0 needs ``2 + floor((3n - 8)/10)`` iterations
  (n >= 3, except when ``3n - 8`` is a multiple of 10, where a margin is exactly 0).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from gdperceptron.experiments.base import Analysis
from gdperceptron.experiments.predecessor import (
    ALGORITHMS,
    EXPERIMENT,
    FIG_LOSS,
    FIG_WORST,
    GAMMAS,
    NS,
    STEPS,
    analyze,
    log_slope,
    run_task,
    tasks,
)

A = np.array([[1.0, -1.0], [1.0, 4.0]])  # a_i = y_i x_i of the loss-unreliable pair


@pytest.fixture(scope="module")
def records() -> list[tuple[dict, dict]]:
    """Every quick task, run in this process through a JSON round trip (as stored)."""
    out = []
    for params in tasks(True):
        params = json.loads(json.dumps(params))
        out.append((params, json.loads(json.dumps(run_task(params)))))
    return out


def by_part(records, part: str) -> list[tuple[dict, dict]]:
    return [(p, r) for p, r in records if p["part"] == part]


def test_task_lists() -> None:
    quick, full = tasks(True), tasks(False)
    for lst, q in ((quick, True), (full, False)):
        assert lst[0] == {"part": "loss_unreliable", "gammas": list(GAMMAS[q])}
        worst = [(p["n"], p["algorithm"]) for p in lst if p["part"] == "worst_case"]
        assert worst == [(n, a) for n in NS[q] for a in ALGORITHMS]
        assert json.loads(json.dumps(lst)) == lst
    assert min(GAMMAS[False]) == 1.0 and max(GAMMAS[False]) == 1e6
    assert NS[False] == tuple(2**k for k in range(1, 10))
    assert EXPERIMENT.make_tasks(True, "ignored") == quick


def test_one_and_two_steps_match_closed_form(records) -> None:
    ((params, results),) = by_part(records, "loss_unreliable")
    assert params["gammas"] == list(GAMMAS[True]) and len(results["gd"]) == len(GAMMAS[True])
    for g, result in zip(params["gammas"], results["gd"], strict=True):
        v1 = g / 4 * (A[0] + A[1])
        np.testing.assert_allclose(result["v1"], v1, rtol=1e-13)
        m1 = A @ v1
        np.testing.assert_allclose(m1, [-g / 4, 3.5 * g], rtol=1e-13)
        loss1 = np.mean(np.logaddexp(0.0, -m1))
        v2 = v1 + g / 2 * (expit(-m1) @ A)
        loss2 = np.mean(np.logaddexp(0.0, -(A @ v2)))
        assert result["loss"][0] == pytest.approx(math.log(2), rel=1e-14)
        assert result["loss"][1] == pytest.approx(loss1, rel=1e-12)
        assert result["loss"][2] == pytest.approx(loss2, rel=1e-12, abs=1e-300)
        np.testing.assert_allclose(result["v2"], v2, rtol=1e-12)
        np.testing.assert_allclose(result["margins2"], A @ v2, rtol=1e-12)
    limit = results["limit"]
    np.testing.assert_allclose(limit["v1"], [0.5, 0.75], rtol=0, atol=1e-15)
    np.testing.assert_allclose(limit["v2"], [1.0, 0.25], rtol=0, atol=1e-15)


def test_perceptron_counts_match_closed_form(records) -> None:
    checked = 0
    for params, result in by_part(records, "worst_case"):
        n = params["n"]
        for r in result["runs"]:
            assert r["stop_reason"] == "solved"
            if params["algorithm"] == "perceptron" and (3 * n - 8) % 10 != 0:
                assert r["iterations"] == 2 + (3 * n - 8) // 10, (n, r["step"])
                checked += 1
    assert checked == len(NS[True]) * len(STEPS)


def test_analysis_verdict_and_numbers(records) -> None:
    a = analyze(records)
    assert isinstance(a, Analysis) and a.reproduced, a.verdict
    assert a.decisive_figure == FIG_WORST and "NOT" not in a.verdict
    n = a.numbers
    assert n["gamma_max"] == 1e6
    assert n["loss1_at_gamma_max"] == pytest.approx(1e6 / 8, rel=1e-12)
    gam = np.array(GAMMAS[True])
    big = gam >= 100
    loss1 = [0.5 * (np.logaddexp(0, g / 4) + np.logaddexp(0, -3.5 * g)) for g in gam[big]]
    assert n["loss1_slope_in_gamma"] == pytest.approx(log_slope(gam[big], loss1), rel=1e-9)
    assert n["loss2_at_gamma_max"] == 0.0 and n["dist_to_limit_at_gamma_max"] == 0.0
    assert n["v2_separates_at_gamma_max"] is True
    ns = np.array(NS[True])
    counts = 2 + (3 * ns - 8) // 10
    assert n["slope_perceptron_step_100"] == pytest.approx(
        log_slope(ns[ns >= 8], counts[ns >= 8]), rel=1e-12
    )
    assert n["max_iterations_normalized-gd_step_100"] <= 3
    assert abs(n["slope_normalized-gd_step_100"]) < 0.1
    at_128 = {
        p["algorithm"]: {x["step"]: x["iterations"] for x in r["runs"]}
        for p, r in by_part(records, "worst_case")
        if p["n"] == 128
    }
    assert n["gd_over_perceptron_step_100_n_128"] == pytest.approx(
        at_128["gd"][100.0] / at_128["perceptron"][100.0], rel=1e-15
    )
    loss_rows, worst_rows = (t.rows for t in a.tables)
    assert len(worst_rows) == len(ALGORITHMS) * len(STEPS)
    assert all(set(r) == set(worst_rows[0]) for r in worst_rows)
    assert len(loss_rows) == len(GAMMAS[True])
    assert all(set(r) == set(loss_rows[0]) for r in loss_rows)


def test_verdict_is_honest_when_a_claim_fails(records) -> None:
    """Perceptron counts made constant in n: part (b) must be reported as not reproduced."""
    flat = []
    for params, result in records:
        if params["part"] == "worst_case" and params["algorithm"] == "perceptron":
            result = {"runs": [{**r, "iterations": 5} for r in result["runs"]]}
        flat.append((params, result))
    a = analyze(flat)
    assert not a.reproduced and a.status == "partly"
    verdicts = [c.verdict for c in a.claims]
    assert verdicts == ["reproduced", "reproduced", "not reproduced", "reproduced"]
    assert a.numbers["slope_perceptron_step_100"] == pytest.approx(0.0, abs=1e-12)


def test_plot_writes_both_figures(records, tmp_path: Path) -> None:
    stems = EXPERIMENT.plot(records, tmp_path)
    assert stems == [FIG_LOSS, FIG_WORST]
    for stem in stems:
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 1000
