"""The ``complexity`` experiment: tasks, results against direct library calls and
independent NumPy computations (the hard perceptron with exact ties, the max margin, the
error term in full dimension), the statistics, each verdict rule on synthetic records made
to pass, to be partly and to fail, and the figures."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jax
import numpy as np
import pytest
from scipy.special import expit

import gdperceptron as gp
from gdperceptron.analysis.complexity import (
    default_max_iter,
    iterations_to_solve,
    perceptron_iterations,
    reduced_init,
    tied_step,
)
from gdperceptron.experiments import complexity as cx
from gdperceptron.experiments import complexity_verdicts as cv
from gdperceptron.experiments import get_experiment
from gdperceptron.experiments.base import SubClaim

EXP = get_experiment("complexity")


@pytest.fixture(scope="module")
def quick_records():
    params = [json.loads(json.dumps(p)) for p in EXP.make_tasks(True)]
    return [(p, json.loads(json.dumps(EXP.run_task(p)))) for p in params]


def test_tasks_are_json_and_cover_every_part() -> None:
    for quick in (True, False):
        tasks = EXP.make_tasks(quick)
        assert json.loads(json.dumps(tasks)) == tasks and len(tasks) >= 8
        assert {t["part"] for t in tasks} == {
            "tied-d",
            "linear",
            "tied-c",
            "tied-s",
            "tied-const",
            "xi",
        }
        assert {t["rule"] for t in tasks if t["part"] == "linear"} == set(cv.LINEAR_RULES)
        assert all("seed" in t for t in tasks)
    full = EXP.make_tasks(False)
    assert max(t["d"] for t in full if t["part"] == "tied-d") == 10**7
    assert max(t["d"] for t in full if t.get("rule") == "1/lambda2") == 10**5


def _numpy_perceptron(d: int, mu: float = 1.0) -> int:
    """The batch perceptron in full dimension, hard weights with 1/2 at a tie, step 1."""
    X = np.ones((2, d))
    X[1, 0] += mu
    A = np.array([[1.0], [-1.0]]) * X
    v, t = np.zeros(d), 0
    while True:
        m = A @ v
        if np.all(m > 0):
            return t
        v = v + 0.5 * (np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0)) @ A)
        t += 1


@pytest.mark.parametrize("d", [2, 3, 10, 57, 400])
def test_perceptron_iterations_equal_full_dimension_numpy(d) -> None:
    assert perceptron_iterations(d) == _numpy_perceptron(d)
    assert perceptron_iterations(d, mu=2.0) == _numpy_perceptron(d, 2.0)


def test_perceptron_iterations_budget_and_bad_input() -> None:
    assert perceptron_iterations(400, max_iter=10) == -1
    for bad in ({"d": 1}, {"d": 10, "mu": 0.0}, {"d": 10, "max_iter": -1}):
        with pytest.raises(gp.GDPerceptronError):
            perceptron_iterations(**bad)


@pytest.mark.parametrize("d", [2, 3, 10, 500])
def test_max_margin_closed_form_equals_the_qp_in_full_dimension(d) -> None:
    for mu in (1.0, 0.3):
        lp = gp.max_margin_direction(gp.minimal_example(d, mu)).margin
        assert cx.max_margin_closed_form(d, mu) == pytest.approx(lp, rel=1e-10)


def test_xi_ratios_equal_error_term_of_the_full_model() -> None:
    """The NumPy reduced run against gp.error_term and the GD step of tied(d) on the
    d-dimensional data, from the lifted start plus a part orthogonal to the span."""
    d, mu = 7, 1.0
    step = tied_step(d, mu)
    th0 = reduced_init("tied", d, seeds=6, seed=4)
    counts, ratios = cx.xi_ratios(d, mu=mu, step=step, theta0=th0, max_iter=500)
    assert counts.tolist() == iterations_to_solve("tied", d, theta0=th0).tolist()
    data, model = gp.minimal_example(d, mu), gp.tied(d)
    Q = gp.minimal_example_basis(d)
    gd = jax.jit(gp.perceptron_step(model, data.X, data.y, "gd", step))
    error = jax.jit(lambda th: gp.error_term(model, data.X, data.y, step, th))
    rng = np.random.default_rng(0)
    assert np.sum(counts > 0) >= 3
    for r in np.flatnonzero(counts > 0)[:3]:
        perp = rng.standard_normal(d)
        perp -= Q @ (Q.T @ perp)
        theta = np.concatenate([th0[r, :2], Q @ th0[r, 2:] + 0.1 * perp])
        want = []
        for _ in range(counts[r]):
            xi = np.asarray(error(theta))
            nxt = np.asarray(gd(theta))
            want.append(np.linalg.norm(xi) / np.linalg.norm(nxt - theta))
            theta = nxt
        assert ratios[r].size == counts[r]
        np.testing.assert_allclose(ratios[r], want, rtol=1e-9)


def test_xi_ratio_hand_formula_at_one_point() -> None:
    """One step by hand: margins, sigma(-m) and the hard weights at theta = (u, w~)."""
    d, step = 5, 0.3
    theta = np.array([[0.2, -0.1, 0.3, -0.4, 0.25]])
    _, ratios = cx.xi_ratios(d, mu=1.0, step=step, theta0=theta, max_iter=1)
    X = np.asarray(gp.minimal_example_reduced(d).X)
    y = np.array([1.0, -1.0])
    u1, u2, w = 0.2, -0.1, theta[0, 2:]
    XP = X[:, [1, 0, 2]]
    m = y * (u1 * X @ w + u2 * XP @ w)
    grads = np.stack(
        [
            np.concatenate([[y[i] * X[i] @ w, y[i] * XP[i] @ w], y[i] * (u1 * X[i] + u2 * XP[i])])
            for i in range(2)
        ]
    )
    move = step / 2 * expit(-m) @ grads
    xi = step / 2 * (expit(-m) - (m < 0)) @ grads
    assert ratios[0][0] == pytest.approx(np.linalg.norm(xi) / np.linalg.norm(move), rel=1e-12)


def test_results_equal_direct_calls(quick_records) -> None:
    for p, r in quick_records:
        d = p["d"]
        if p["part"] == "tied-d" and d in (10, 1000):
            th = reduced_init("tied", d, seeds=p["seeds"], seed=0, init_scale=1.0)
            assert r["counts"] == iterations_to_solve("tied", d, theta0=th).tolist()
            assert r["step"] == tied_step(d) and r["max_iter"] == default_max_iter("tied", d)
        if p["part"] == "linear" and d == 1000:
            want = (
                [perceptron_iterations(d)]
                if p["rule"] == "perceptron"
                else iterations_to_solve("linear", d, seeds=1, step=r["step"]).tolist()
            )
            assert r["counts"] == want
            assert r["R2"] == d + 3.0 and r["margin_lp"] == pytest.approx(r["margin"], rel=1e-9)
        if p["part"] == "tied-const":
            assert all(o in ("solved", "diverged", "max_iter", "stalled") for o in r["outcomes"])
            assert [o == "solved" for o in r["outcomes"]] == [c >= 0 for c in r["counts"]]


def test_quick_analysis_is_well_formed(quick_records, tmp_path: Path) -> None:
    a = EXP.analyze(quick_records)
    numbers = [c.number for c in a.claims]
    assert numbers == ["1a", "1b", "2", "3", "4a", "4b", "4c", "5"]
    assert all(isinstance(c, SubClaim) and c.criterion for c in a.claims)
    json.dumps(a.numbers)
    for t in a.tables:
        assert t.rows and all(set(row) == set(t.rows[0]) for row in t.rows), t.title
        for row in t.rows:
            assert all(isinstance(v, int | float | str) for v in row.values()), row
    assert EXP.plot(quick_records, tmp_path) == ["complexity", "complexity_sweeps", "complexity_xi"]
    for stem in ("complexity", "complexity_sweeps", "complexity_xi"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000
    # the linear slopes are those of an independent fit of the recorded counts
    rows = sorted((p["d"], r["counts"][0]) for p, r in quick_records if p.get("rule") == "1")
    want = np.polyfit(np.log([d for d, _ in rows]), np.log([c + 1.0 for _, c in rows]), 1)[0]
    assert a.numbers["linear_1_slope"] == pytest.approx(want, rel=1e-10)


def test_ols_slope_and_bootstraps() -> None:
    rng = np.random.default_rng(1)
    x, z = rng.standard_normal(7), rng.standard_normal((3, 7))
    for k in range(3):
        assert cv.ols_slope(x, z)[k] == pytest.approx(np.polyfit(x, z[k], 1)[0], rel=1e-12)
    # a sweep whose runs are all exactly proportional: the paired interval is a point
    base = np.exp(rng.standard_normal(16))
    groups = [base * 100 / c for c in (0.5, 1.0, 2.0)]
    fn = lambda m: cv.ols_slope(np.log([2.0, 1.0, 0.5]), np.log(m))  # noqa: E731
    v, lo, hi = cv.boot_stat(groups, fn, paired=True)
    assert v == pytest.approx(1.0) and hi - lo < 1e-12
    _, lo2, hi2 = cv.boot_stat(groups, fn)  # unpaired: the spread of the seeds enters
    assert hi2 - lo2 > 0.1


# ------------------------------------------------------------------- rules, one at a time
def test_rule_boundaries() -> None:
    assert cv.verdict_1a(0.05, 0)[0] == "reproduced"
    assert cv.verdict_1a(0.07, 0)[0] == "partly"
    assert cv.verdict_1a(0.11, 0)[0] == "not reproduced"
    assert cv.verdict_1a(0.0, 1)[0] == "not reproduced"
    assert [cv.verdict_1b(x)[0] for x in (0.01, 0.0)] == ["reproduced", "not reproduced"]
    ok, low = (1.0, 0.95, 0), (0.85, 1.0, 0)
    assert cv.verdict_2({"1": ok, "100": ok})[0] == "reproduced"
    assert cv.verdict_2({"1": ok, "100": low}) == ("partly", "at γ = 1")
    assert cv.verdict_2({"1": (1.0, 1.0, 2)})[0] == "not reproduced"
    assert cv.verdict_3(1.0, {"1": (True, True)})[0] == "reproduced"
    assert cv.verdict_3(2.0, {"1": (True, True)})[0] == "not reproduced"
    assert cv.verdict_3(0.0, {"1": (True, False), "100": (False, False)})[0] == "partly"
    assert cv.verdict_3(0.0, {"1": (False, True)})[0] == "not reproduced"
    assert cv.verdict_4a((0.0, -0.2, 0.25), 0)[0] == "reproduced"
    assert cv.verdict_4a((1.0, 0.9, 1.1), 0)[0] == "partly"
    assert cv.verdict_4a((0.2, 0.1, 0.3), 0)[0] == "not reproduced"
    assert cv.verdict_4a((0.0, -0.1, 0.1), 1)[0] == "not reproduced"
    flat, steep = (0.0, -0.05, 0.1), (0.3, 0.2, 0.4)
    assert cv.verdict_4b(flat, flat, 0)[0] == "reproduced"
    assert cv.verdict_4b(flat, steep, 0)[0] == "partly"
    assert cv.verdict_4b(steep, steep, 0)[0] == "not reproduced"
    assert cv.verdict_4b(flat, flat, 1)[0] == "not reproduced"
    half, slow = (0.5, 0.4, 0.6, 0), (0.05, -0.1, 0.2, 0)
    assert cv.verdict_4c({0.1: half, 1.0: half})[0] == "reproduced"
    v, cond = cv.verdict_4c({0.1: slow, 1.0: (0.0, 0.0, 0.0, 5)})
    assert v == "partly" and "γ = 1 runs fail" in cond
    assert cv.verdict_4c({0.1: half, 1.0: (0.0, 0.0, 0.0, 5)})[0] == "not reproduced"
    assert cv.verdict_5({100: 0.05, 1000: 0.1})[0] == "reproduced"
    assert cv.verdict_5({100: 0.6, 1000: 2.0})[0] == "not reproduced"
    assert cv.verdict_5({100: 0.3, 1000: 2.0}) == (
        "partly",
        "at d ∈ {1e+02}, where the median ratio is below 1/2",
    )


# ------------------------------------------------------- rules on synthetic full records
DS = [int(d) for d in np.unique(np.round(np.logspace(1, 7, 13)))]


def _runs(center: float, rng, n: int = 32, noise: float = 0.02) -> list[int]:
    return (
        np.maximum(np.round(center * np.exp(noise * rng.standard_normal(n))), 1)
        .astype(int)
        .tolist()
    )


def _synthetic(
    tied_law,
    linear_factor: float = 1.5,
    c_power: float = 1.0,
    s_power=None,
    const_power: float = 0.05,
    xi: float = 2.0,
) -> list:
    """Records of every part with counts drawn around the given laws (2% noise)."""
    rng = np.random.default_rng(0)
    recs = []
    big = 10**12
    for d in DS:
        gam = 1 / gp.lambda2(d, 1.0)
        base = {"d": d, "seed": 0, "mu": 1.0}
        recs.append(
            (
                {"part": "tied-d", **base},
                {"counts": _runs(tied_law(d), rng), "step": gam, "max_iter": big},
            )
        )
        for rule in cv.LINEAR_RULES:
            margin = cx.max_margin_closed_form(d)
            res = {
                "counts": [int(linear_factor * d)],
                "step": 1.0,
                "max_iter": big,
                "R2": d + 3.0,
                "margin": margin,
                "margin_lp": margin,
                "qp_tol": 1e-9,
            }
            recs.append(({"part": "linear", "rule": rule, **base}, res))
        for gamma in (0.1, 1.0):
            counts = _runs(30 * d**const_power, rng)
            recs.append(
                (
                    {"part": "tied-const", "gamma": gamma, **base},
                    {
                        "counts": counts,
                        "step": gamma,
                        "max_iter": big,
                        "outcomes": ["solved"] * len(counts),
                    },
                )
            )
    d, gam = 10**5, 1 / gp.lambda2(10**5, 1.0)
    unit = _runs(1.0, rng)
    s_power = s_power or (lambda s: 1.0)
    for c in (0.25, 0.5, 1.0, 2.0, 4.0):
        counts = [int(round(u * 2000 / c**c_power)) for u in unit]
        recs.append(
            (
                {"part": "tied-c", "d": d, "c": c},
                {"counts": counts, "step": c * gam, "max_iter": big},
            )
        )
    for s in (1e-4, 1e-3, 1e-2, 1e-1, 1.0):
        counts = [int(round(u * 2000 * s_power(s))) for u in unit]
        recs.append(
            (
                {"part": "tied-s", "d": d, "init_scale": s},
                {"counts": counts, "step": gam, "max_iter": big},
            )
        )
    for d in (100, 1000):
        recs.append(
            (
                {"part": "xi", "d": d},
                {
                    "counts": [5] * 4,
                    "max_iter": big,
                    "median": [xi] * 4,
                    "min": [xi / 2] * 4,
                    "above_half": [1.0] * 4,
                },
            )
        )
    return recs


def _verdicts(recs) -> dict[str, str]:
    return {c.number: c.verdict for c in EXP.analyze(recs).claims}


SQRT_LN = lambda d: 3 * math.sqrt(d) * math.log(d)  # noqa: E731
CASES = {
    "pass": (
        {"tied_law": SQRT_LN, "c_power": 0.0, "s_power": lambda s: 1.0, "const_power": 0.5,
         "xi": 0.05},
        dict.fromkeys(["1a", "1b", "2", "3", "4a", "4b", "4c", "5"], "reproduced"),
    ),
    "partly": (  # (ln d)^2, count ~ 1/c, faster from large s, polylog at a constant step
        {"tied_law": lambda d: 3 * math.sqrt(d) * math.log(d) ** 2, "linear_factor": 0.3,
         "s_power": lambda s: 1.0 if s <= 1e-2 else (s / 1e-2) ** -0.3, "xi": 0.3},
        {"1a": "partly", "1b": "reproduced", "2": "reproduced", "3": "partly", "4a": "partly",
         "4b": "partly", "4c": "partly", "5": "partly"},
    ),
    "fail": (  # d^0.7; 8 d exceeds R^2/gamma*^2 ~ 4 d; count grows with c and 1/s
        {"tied_law": lambda d: 3 * d**0.7, "linear_factor": 8.0, "c_power": -0.5,
         "s_power": lambda s: s**-0.3, "const_power": 0.5, "xi": 2.0},
        {"1a": "not reproduced", "3": "not reproduced", "4a": "not reproduced",
         "4b": "not reproduced", "5": "not reproduced"},
    ),
    "no log factor": (  # count = 3 / gamma: O~(sqrt d) holds, no logarithm is found
        {"tied_law": lambda d: 3 * gp.lambda2(d, 1.0)},
        {"1a": "reproduced", "1b": "not reproduced"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_verdict_rule_on_synthetic_records(case) -> None:
    kwargs, want = dict(CASES[case][0]), CASES[case][1]
    v = _verdicts(_synthetic(kwargs.pop("tied_law"), **kwargs))
    assert {k: v[k] for k in want} == want


def test_linear_rule_is_partly_when_one_step_is_slower_than_d() -> None:
    recs = [
        (p, r | {"counts": [int(r["counts"][0] ** 0.8)]}) if p.get("rule") == "100" else (p, r)
        for p, r in _synthetic(SQRT_LN)
    ]
    assert _verdicts(recs)["2"] == "partly"


def test_cli_sweep_figure_still_drawn(tmp_path: Path) -> None:
    sweep = gp.complexity_sweep([10, 100, 1000], seeds=2)
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(sweep))
    assert cx.plot_saved(path) == "saved"
    assert (tmp_path / "saved.png").stat().st_size > 1000
