"""The `oscillations` experiment: its runs against an independent NumPy LR+GD, the
bisection of the cliff against a known boundary, the separability certificates (LP against
the max-margin QP), and its three verdict rules on synthetic sweeps made to pass, to be
`partly` and to fail."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.special import expit

from gdperceptron import breast_cancer, gaussian, linear, max_margin_direction
from gdperceptron.experiments import oscillations as osc


def test_one_run_matches_numpy_gd():
    data = gaussian(60, 5, 0.2, seed=1)
    A, n = data.A, data.n
    for step in (0.5, 20.0):
        r = osc.one_run(linear(data.d), data, np.zeros(data.d), step, 5000)
        v, losses, t = np.zeros(data.d), [], 0
        while True:
            m = A @ v
            losses.append(np.mean(np.logaddexp(0.0, -m)))
            if np.all(m > 0) or t == 5000:
                break
            v, t = v + step / n * expit(-m) @ A, t + 1
        assert r["iterations"] == t and r["outcome"] == "solved"
        assert r["loss_increases"] == int(np.sum(np.diff(losses) > 0))
        assert r["log10_max_loss"] == pytest.approx(math.log10(max(losses)), rel=1e-9)


def test_sweep_bisects_a_known_cliff(monkeypatch):
    edge = 3.3

    def fake(model, data, theta0, step, max_iter):
        solved = step < edge
        return {"step": float(step), "outcome": "solved" if solved else "diverged",
                "iterations": int(100 / step) + 1 if solved else None, "loss_increases": 0,
                "log10_max_loss": 0.0, "log10_loss_curve": np.zeros(1),
                "curve_iterations": np.zeros(1, dtype=int)}  # fmt: skip

    monkeypatch.setattr(osc, "one_run", fake)
    grid = osc.step_grid("1e-1:1e1:9")
    runs = osc.sweep(None, None, None, grid, 4, 10)
    assert len(runs) == 9 + 4 and sum(r["refined"] for r in runs) == 4
    lo, hi = osc.cliff(runs)
    assert lo < edge <= hi
    assert math.log10(hi / lo) == pytest.approx(0.25 / 2**4)  # a quarter decade, halved 4x
    assert osc.sooner_class(runs) == "below"


def test_certificates_agree_with_the_max_margin_qp():
    sub = breast_cancer(n=osc.N_SUBSAMPLE, seed=osc.DATA_SEED)
    assert osc.linearly_separable(sub.A)
    mm = max_margin_direction(sub)
    assert np.min(sub.A @ mm.direction) == pytest.approx(mm.margin, rel=1e-6) and mm.margin > 0
    full = breast_cancer()
    assert not osc.linearly_separable(full.A)
    # Gordan's alternative: no v with A v > 0 iff some alpha >= 0, sum alpha = 1, A^T alpha = 0
    n, d = full.A.shape
    res = linprog(np.zeros(n), A_eq=np.vstack([full.A.T, np.ones((1, n))]),
                  b_eq=np.r_[np.zeros(d), 1.0], bounds=[(0, None)] * n, method="highs")  # fmt: skip
    assert res.status == 0 and np.abs(full.A.T @ res.x).max() < 1e-9


# ------------------------------------------------------------------- verdict rules


def _sweep(
    counts: dict[float, int | None],
    outcome: str = "diverged",
    increases: tuple[int, int] = (0, 5),
    loss: tuple[float, float] = (0.0, 1.0),
) -> list:
    """Synthetic runs: ``counts`` per step (None = unsolved, with ``outcome``); the smallest
    step gets ``increases[0]`` loss increases and max loss ``loss[0]``, the others the second."""
    steps = sorted(counts)
    return [{"step": s, "iterations": counts[s], "refined": False,
             "outcome": "solved" if counts[s] is not None else outcome,
             "loss_increases": increases[k > 0], "log10_max_loss": loss[k > 0]}
            for k, s in enumerate(steps)]  # fmt: skip


WHOLE = {0.01: None, 0.1: 900, 1.0: 100, 10.0: 12, 100.0: 11}
CLIFF = {0.01: None, 0.1: 900, 1.0: 100, 3.0: 40, 10.0: None, 100.0: None}
NOISY = {0.01: None, 0.1: 900, 1.0: 50, 10.0: 100, 100.0: 11}  # a smaller step is faster
GAP = {0.01: 500, 0.1: None, 1.0: 100, 10.0: 12, 100.0: 11}  # solved below an unsolved step


def test_monotone_within_tolerance():
    assert osc.monotone(_sweep(WHOLE))
    assert osc.monotone(_sweep({1.0: 100, 10.0: 105}))  # within 10%: plateau scatter
    assert not osc.monotone(_sweep({1.0: 100, 10.0: 112}))
    assert not osc.monotone(_sweep(NOISY)) and not osc.monotone(_sweep(GAP))
    assert osc.cliff(_sweep(WHOLE)) is None and osc.cliff(_sweep(CLIFF)) == (3.0, 10.0)
    assert osc.monotone_up_to(_sweep(NOISY)) == 1.0 and osc.monotone_up_to(_sweep(WHOLE)) == 100.0


def test_sooner_rule():
    def verdict(*sweeps):
        c = osc.sooner_claim("1b", "relu", {s: _sweep(x) for s, x in enumerate(sweeps)})
        return c.verdict, c.condition

    assert verdict(WHOLE, WHOLE) == ("reproduced", "")
    v, cond = verdict(WHOLE, CLIFF)
    assert v == "partly" and "5.48" in cond  # gamma* = sqrt(3 * 10)
    assert verdict(CLIFF, NOISY)[0] == "not reproduced"
    assert verdict(GAP)[0] == "not reproduced"
    one_below = {0.01: None, 1.0: 100, 3.0: None, 10.0: None}  # one separating step only
    assert verdict(one_below)[0] == "not reproduced"


def test_diverge_rule():
    def verdict(*sweeps):
        return osc.diverge_claim("2b", "relu", dict(enumerate(sweeps))).verdict

    assert verdict(_sweep(CLIFF), _sweep(CLIFF)) == "reproduced"
    assert verdict(_sweep(CLIFF), _sweep(CLIFF, outcome="stalled")) == "partly"
    stalled = _sweep(CLIFF, outcome="stalled")
    stalled[-1]["outcome"] = "diverged"
    assert verdict(_sweep(CLIFF, outcome="max_iter"), stalled) == "not reproduced"  # 1 of 4
    assert verdict(_sweep(WHOLE)) == "not reproduced"  # no cliff at all


def test_loss_rule():
    def verdict(*sweeps):
        return osc.loss_claim("3a", "linear", dict(enumerate(sweeps))).verdict

    assert verdict(_sweep(WHOLE), _sweep(CLIFF)) == "reproduced"
    assert verdict(_sweep(WHOLE), _sweep(WHOLE, increases=(1, 5))) == "partly"
    assert verdict(_sweep(WHOLE, increases=(0, 0))) == "not reproduced"  # no oscillation
    assert verdict(_sweep(WHOLE, loss=(1.0, 0.5))) == "not reproduced"  # loss not higher


def test_quick_run_specifics(quick_run):
    """What the quick run of oscillations must show beyond the registry-wide checks of
    tests/test_experiments.py::test_quick_run_is_well_formed (same shared run)."""
    exp, records, analysis, stems, out = quick_run("oscillations")
    runs = records[0][1]["runs"]
    assert all(r["outcome"] in ("solved", "diverged", "stalled", "max_iter") for r in runs)
    # the scaled engine never leaves a network run non-finite
    assert all(r["log10_max_loss"] is not None and math.isfinite(r["log10_max_loss"])
               for r in runs)  # fmt: skip
