"""The `chaos` experiment: the JVP exponent against the closed form of a scalar map, the
separation rate against the JVP rate, the windows of the exponents against hand-made
curves, the separability certificates, overflowing runs classified by the scaled engine,
and its verdict rules on synthetic runs made to pass, to be `partly` and to fail."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from gdperceptron import breast_cancer, linear, max_margin_direction
from gdperceptron.experiments import chaos as ch


def test_jvp_exponent_equals_scalar_closed_form():
    a = np.array([1.5, -0.4, 0.8, 2.0])  # a_i = y_i x_i in one dimension
    X, y = np.abs(a)[:, None], np.sign(a)
    gammas, T, v0 = [0.5, 30.0], 40, 0.3
    res = ch.lyapunov_runs(linear(1), X, y, gammas, np.array([v0]), np.array([1.0]), T)
    n = a.size
    for k, g in enumerate(gammas):
        v, logs, norms = v0, [], []
        for _ in range(T):
            s = expit(-a * v)
            norms.append(abs(v))
            logs.append(np.log(abs(1.0 - g / n * np.sum(s * (1 - s) * a**2))))
            v = v + g / n * np.sum(s * a)
        np.testing.assert_allclose(res["log_growth"][k], logs, rtol=1e-9, atol=1e-12)
        ex = ch.exponents(res["log_growth"][k], res["dist"][k], res["norm"][k])
        half = T // 2
        assert ex["lambda_2nd"] == pytest.approx(np.mean(logs[half : T - 1]), rel=1e-9)
        assert ex["lambda_all"] == pytest.approx(np.mean(logs[: T - 1]), rel=1e-9)
        growth = np.log(norms[-1] / norms[half]) / (T - 1 - half)
        assert ex["lambda_rel_2nd"] == pytest.approx(ex["lambda_2nd"] - growth, rel=1e-9, abs=1e-12)


def test_exponent_windows_on_hand_made_curves():
    T = 101
    t = np.arange(T)
    # the iterate grows like e^{0.3 t} and the perturbation with it: lambda_rel = 0
    ex = ch.exponents(np.full(T, 0.3), 1e-12 * np.exp(0.3 * t), np.exp(0.3 * t))
    assert ex["lambda_rel_all"] == pytest.approx(0.0, abs=1e-12)
    assert ex["lambda_rel_2nd"] == pytest.approx(0.0, abs=1e-12)
    # transient: log-growth 0.2 over the first half, -0.1 after, the iterate bounded
    lg = np.where(t < 50, 0.2, -0.1)
    ex = ch.exponents(lg, 1e-12 * np.exp(np.cumsum(lg)), np.ones(T))
    assert ex["lambda_rel_2nd"] == pytest.approx(-0.1)
    assert ex["lambda_rel_all"] == pytest.approx((50 * 0.2 - 50 * 0.1) / 100)
    # a non-finite entry cuts the run (the horizon)
    lg = np.full(T, 0.1)
    lg[60] = np.inf
    assert ch.exponents(lg, np.ones(T), np.ones(T))["horizon"] == 60


def test_separation_rate_matches_jvp_on_breast_cancer():
    data = breast_cancer(n=80, seed=0)
    model = linear(data.d)
    theta0 = model.initial_params(0, 1.0)
    u = np.random.default_rng(1).standard_normal(data.d)
    u /= np.linalg.norm(u)
    res = ch.lyapunov_runs(model, data.X, data.y, [0.1, 300.0], theta0, u, 150)
    for k in range(2):
        ex = ch.exponents(res["log_growth"][k], res["dist"][k], res["norm"][k])
        assert ex["window"] > 5
        assert ex["separation_rate"] == pytest.approx(ex["jvp_rate"], abs=ch.RATE_TOL)


def test_certificates_name_the_data_sets():
    full, sub = ch.certificate(ch.load(ch.DATA[0])), ch.certificate(ch.load(ch.DATA[1]))
    assert not full["linearly_separable"] and full["max_margin"] is None
    data = ch.load(ch.DATA[1])
    assert sub["linearly_separable"] and sub["max_margin"] > 0
    # the margin is that of a direction separating every sample
    mm = max_margin_direction(data)
    assert np.min(data.A @ mm.direction) == pytest.approx(sub["max_margin"], rel=1e-6)


@pytest.mark.slow
def test_overflowing_relu_run_is_excluded_and_classified():
    params = {"data": ch.DATA[1], "model": "two-layer relu", "seed": 0, "steps": [0.01, 1e5],
              "T": 40}  # fmt: skip
    result = ch.run_task(params)
    calm, big = result["runs"]
    assert calm["horizon"] == 40 and calm["scaled_outcome"] is None
    assert big["horizon"] < 40 and big["scaled_outcome"] in ("diverged", "solved", "max_iter")
    assert ch._status(big, 40).startswith(f"overflow at t = {big['horizon']} (excluded)")


# ------------------------------------------------------------------- verdict rules


def _run(step: float, rel_all: float, rel_2nd: float, horizon: int = 100) -> dict:
    return {"step": step, "horizon": horizon, "lambda_rel_all": rel_all,
            "lambda_rel_2nd": rel_2nd, "scaled_outcome": None, "scaled_solved": None}  # fmt: skip


def _start(large: tuple[float, float], overflow_huge: bool = False) -> dict:
    runs = [_run(0.01, 0.0, 0.0), _run(0.1, 0.001, -0.001), _run(10.0, *large)]
    if overflow_huge:  # an overflowing run with a large exponent must not count
        runs.append(_run(1000.0, 5.0, 5.0, horizon=30))
    return {"runs": runs, "T": 100}


def test_start_classes_and_claims():
    long_run, transient, calm = (0.3, 0.2), (0.2, -0.05), (0.005, 0.0)
    assert ch.start_class(_start(long_run)["runs"], 100) == "long-run"
    assert ch.start_class(_start(transient)["runs"], 100) == "transient"
    assert ch.start_class(_start(calm, overflow_huge=True)["runs"], 100) == "none"
    noisy = _start(long_run)
    noisy["runs"][0]["lambda_rel_all"] = 0.05  # chaotic already at the smallest step
    assert ch.start_class(noisy["runs"], 100) == "none"

    def verdict(*starts):
        c = ch.data_claim("1a", ch.DATA[0], "linear", dict(enumerate(starts)))
        return c.verdict

    assert verdict(_start(long_run), _start(long_run, overflow_huge=True)) == "reproduced"
    assert verdict(_start(long_run), _start(transient)) == "partly"
    assert verdict(_start(long_run), _start(calm, overflow_huge=True)) == "not reproduced"


def test_quick_run_specifics(quick_run):
    """What the quick run of chaos must show beyond the registry-wide checks of
    tests/test_experiments.py::test_quick_run_is_well_formed (same shared run)."""
    exp, records, analysis, stems, out = quick_run("chaos")
    assert analysis.numbers["data0_linearly_separable"] is False
