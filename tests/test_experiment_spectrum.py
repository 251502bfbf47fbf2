"""The ``spectrum`` experiment at quick size: every task, the analysis and the figures.

Independent numbers: the Corollary's closed forms ``lambda_1 = sqrt(2d)``,
``lambda_2 = sqrt((2 + mu)^2 + 2(d - 2))`` recomputed here, ``numpy.linalg.eigvalsh`` of
``A(a)`` built entry by entry, and a reduced-engine run of the same configuration for the
trajectory tasks' solved iteration.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from reference import explicit_A

from gdperceptron import minimal_example, tied
from gdperceptron.engines.reduced import run_reduced
from gdperceptron.experiments import get_experiment
from gdperceptron.experiments.spectrum import (
    EIGEN_GRID,
    EXPERIMENT,
    FIG_COMPONENTS,
    FIG_EIGEN,
    TRAJ_GRID,
    analyze,
    run_task,
    tasks,
)


@pytest.fixture(scope="module")
def records() -> list[tuple[dict, dict]]:
    """Every quick task, through a JSON round trip (as the pipeline stores them)."""
    out = []
    for params in tasks(True):
        params = json.loads(json.dumps(params))
        result = run_task(params)
        out.append((params, json.loads(json.dumps(result, allow_nan=False))))
    return out


def test_registry_and_task_lists() -> None:
    assert get_experiment("spectrum") is EXPERIMENT
    for quick in (True, False):
        lst = tasks(quick)
        ds, mus = EIGEN_GRID[quick]
        assert [(p["d"], p["mu"]) for p in lst if p["part"] == "eigen"] == [
            (d, m) for d in ds for m in mus
        ]
        algs = {p["algorithm"] for p in lst if p["part"] == "trajectory"}
        assert algs == {a for a, _ in TRAJ_GRID[quick]} == {"perceptron", "gd"}
        assert json.loads(json.dumps(lst)) == lst
    assert max(EIGEN_GRID[False][0]) >= 100 and len(EIGEN_GRID[False][1]) >= 3


def test_eigen_tasks_against_closed_form(records) -> None:
    for params, r in records:
        if params["part"] != "eigen":
            continue
        d, mu = params["d"], params["mu"]
        assert r["lambda1"] == pytest.approx(math.sqrt(2 * d), rel=1e-14)
        assert r["lambda2"] == pytest.approx(math.sqrt((2 + mu) ** 2 + 2 * (d - 2)), rel=1e-14)
        a2 = -np.ones(d)
        a2[0] -= mu
        w1 = np.linalg.eigvalsh(explicit_A(np.ones(d)))
        w2 = np.linalg.eigvalsh(explicit_A(a2))
        assert r["lambda1_eigh"] == pytest.approx(w1[-1], rel=1e-12)
        assert r["lambda2_eigh"] == pytest.approx(w2[-1], rel=1e-12)
        assert r["mu_eigh"] == pytest.approx(mu, rel=1e-10)
        for key in ("spectrum_error", "eigvec_residual", "kernel_residual", "pattern_error"):
            assert 0.0 <= r[key] <= 1e-10, key


def test_trajectory_tasks(records) -> None:
    for params, r in records:
        if params["part"] != "trajectory":
            continue
        d, mu = params["d"], params["mu"]
        model = tied(d)
        gamma = params["c"] / math.sqrt((2 + mu) ** 2 + 2 * (d - 2))
        assert r["gamma"] == pytest.approx(gamma, rel=1e-14)
        traj = run_reduced(
            model,
            minimal_example(d, mu),
            params["algorithm"],
            gamma,
            theta0=model.initial_params(params["seed"]),
        )
        assert r["solved"] and r["steps"] == traj.solved_iteration
        assert len(r["sets"]) == r["steps"]
        for name in ("v2+", "v2-", "vmu+", "vmu-", "v1+", "v1-"):
            assert len(r["components"][name]) == r["steps"] + 1
            assert len(r["factors"][name]) == r["steps"]
        assert r["bound_excess"] <= 1e-12
        if params["algorithm"] == "perceptron":
            assert r["max_ratio_error"] <= 1e-10 and r["max_rel_defect"] <= 1e-10
        else:  # LR+GD: approximate, the defect is real
            assert r["max_rel_defect"] > 1e-3
        if d <= 30:
            assert r["cross_check_error"] <= 1e-9


def test_analysis_and_figures(records, tmp_path: Path) -> None:
    an = analyze(records)
    assert an.reproduced, an.verdict
    assert [c.number for c in an.claims] == ["1", "2", "3"]
    assert all(c.verdict == "reproduced" for c in an.claims)
    assert an.decisive_figure == FIG_COMPONENTS
    assert an.numbers["n_eigen_tasks"] == sum(p["part"] == "eigen" for p, _ in records)
    assert an.numbers["max_spectrum_error"] <= 1e-10
    closed, runs = an.tables
    assert len(closed.rows) + len(runs.rows) == len(records)
    for t in an.tables:
        assert len({tuple(row) for row in t.rows}) == 1  # same columns in every row
    stems = EXPERIMENT.plot(records, tmp_path)
    assert set(stems) == {FIG_COMPONENTS, FIG_EIGEN}
    for stem in stems:
        for ext in ("png", "pdf"):
            f = tmp_path / f"{stem}.{ext}"
            assert f.exists() and f.stat().st_size > 1000


def test_analysis_fails_when_a_check_fails(records) -> None:
    """The verdict turns on the numbers: a spoiled eigenvalue or a GD defect above its
    error term makes it 'NOT reproduced'."""
    bad = [(p, dict(r)) for p, r in records]
    first = next(i for i, (p, _) in enumerate(bad) if p["part"] == "eigen")
    bad[first][1]["spectrum_error"] = 1e-6
    an = analyze(bad)
    assert [c.verdict for c in an.claims] == ["not reproduced", "reproduced", "reproduced"]
    assert not an.reproduced and an.status == "partly"
    bad = [(p, dict(r)) for p, r in records]
    gd = next(i for i, (p, _) in enumerate(bad) if p.get("algorithm") == "gd")
    bad[gd][1]["bound_excess"] = 1e-3
    an = analyze(bad)
    assert [c.verdict for c in an.claims] == ["reproduced", "reproduced", "not reproduced"]
    perc = next(i for i, (p, _) in enumerate(bad) if p.get("algorithm") == "perceptron")
    bad[perc][1]["max_ratio_error"] = 1e-8
    bad[first][1]["spectrum_error"] = 1e-6
    assert analyze(bad).status == "not reproduced"
