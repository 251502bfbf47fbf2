"""Experiments reduction, oscillations, acceleration, ablations and chaos.

Each one runs at quick size (every task, then analyze and plot into a temporary folder),
and each has an independent check of its core computation on a tiny case: NumPy
recomputations, closed forms, or a direct :func:`gdperceptron.run` with the same config.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from gdperceptron import (
    breast_cancer,
    digits,
    linear,
    load_named,
    make_dataset,
    make_model,
    perceptron_step,
    run,
    two_layer,
)
from gdperceptron.experiments import Analysis, get_experiment
from gdperceptron.experiments import acceleration as acc
from gdperceptron.experiments import chaos as ch
from gdperceptron.experiments import oscillations as osc
from gdperceptron.experiments import reduction as red

MINE = ("reduction", "oscillations", "acceleration", "ablations", "chaos")


def _hard(m: np.ndarray) -> np.ndarray:
    return np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """``name -> (experiment, records, analysis, stems, out_dir)`` of a quick run, cached."""
    cache: dict[str, tuple] = {}

    def get(name: str) -> tuple:
        if name not in cache:
            exp = get_experiment(name)
            params = [json.loads(json.dumps(p)) for p in exp.make_tasks(True, None)]
            records = [(p, json.loads(json.dumps(exp.run_task(p)))) for p in params]
            out = tmp_path_factory.mktemp(name)
            cache[name] = (exp, records, exp.analyze(records), exp.plot(records, out), out)
        return cache[name]

    return get


@pytest.mark.parametrize("name", MINE)
def test_quick_run_is_well_formed(quick, name):
    exp, records, analysis, stems, out = quick(name)
    assert exp.name == name
    assert records and all(isinstance(r, dict) for _, r in records)
    assert isinstance(analysis, Analysis) and isinstance(analysis.reproduced, bool)
    prefix = "reproduced" if analysis.reproduced else "NOT reproduced"
    assert analysis.verdict.startswith(prefix), analysis.verdict
    assert analysis.table and all(isinstance(row, dict) for row in analysis.table)
    assert isinstance(analysis.numbers, dict) and analysis.numbers
    json.dumps(analysis.numbers)  # JSON-able
    assert analysis.decisive_figure in stems
    for stem in stems:
        for ext in ("png", "pdf"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000
    assert all(isinstance(p, dict) for p, _ in records)


# ----------------------------------------------------------------------------- reduction


def test_reduction_gap_closed_form_and_numpy():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((6, 3)), np.array([1.0, -1, 1, -1, 1, -1])
    data, gammas = make_dataset(X, y), [0.7, 5.0]
    c = red.compare(linear(3), data, gammas, np.zeros(3), 3)
    A, n = data.A, 6
    for k, g in enumerate(gammas):
        r = red.summarize_run(c, k, red.batch_perceptron_limit(A, 3), g)
        # t = 1 from v0 = 0: every weight is sigma(0) = h(0) = 1/2, so the gap is exactly 0
        assert r["rel_gap"][0] == 0.0 and r["rel_gap"][1] == 0.0
        v1 = g / (2 * n) * A.sum(0)
        gd2 = v1 + g / n * expit(-(A @ v1)) @ A
        pc2 = v1 + g / n * _hard(A @ v1) @ A
        expected = np.linalg.norm(gd2 - pc2) / np.linalg.norm(pc2)
        assert r["rel_gap"][2] == pytest.approx(expected, rel=1e-10)
        assert r["thm_gap"][2] == pytest.approx(expected, rel=1e-10)  # b_t = gamma v̂_t
        xi = g / n * (expit(-(A @ v1)) - _hard(A @ v1)) @ A  # error term at the GD iterate
        assert c["xi"][k][1] == pytest.approx(np.linalg.norm(xi), rel=1e-10)
    np.testing.assert_allclose(red.batch_perceptron_limit(A, 1)[1], A.sum(0) / (2 * n))


def test_reduction_traced_step_equals_perceptron_step():
    data = breast_cancer(n=40, seed=1)
    model = two_layer(data.d, 4, "relu")
    theta = model.initial_params(2)
    c = red.compare(model, data, [3.0], theta, 1)
    gd = np.asarray(perceptron_step(model, data.X, data.y, "gd", 3.0)(theta))
    pc = np.asarray(perceptron_step(model, data.X, data.y, "perceptron", 3.0)(theta))
    np.testing.assert_allclose(c["theta_gd"][0][1], gd, rtol=1e-12, atol=1e-14)
    assert c["step_gd"][0][0] == pytest.approx(np.linalg.norm(gd - theta), rel=1e-10)
    assert c["step_perc"][0][0] == pytest.approx(np.linalg.norm(pc - theta), rel=1e-10)
    assert c["gap"][0][1] == pytest.approx(np.linalg.norm(gd - pc), rel=1e-10)


# -------------------------------------------------------------------------- oscillations


def test_oscillations_metrics_match_numpy_gd(quick):
    _, records, _, _, _ = quick("oscillations")
    params, result = next((p, r) for p, r in records if p["model"] == "linear")
    data = breast_cancer(n=params["n"], seed=params["data_seed"])
    A, n = data.A, data.n
    for r in result["runs"]:
        v, losses, mis = np.zeros(data.d), [], []
        horizon = len(r["loss"]) if r["step"] <= 1.0 else 20  # large steps are chaotic
        for _ in range(horizon):
            m = A @ v
            losses.append(np.mean(np.logaddexp(0.0, -m)))
            mis.append(int(np.sum(m <= 0)))
            v = v + r["step"] / n * expit(-m) @ A
        np.testing.assert_allclose(r["loss"][:horizon], losses, rtol=1e-9)
        assert r["n_misclassified"][:horizon] == mis
        first = next((t for t, k in zip(r["iterations"], r["n_misclassified"], strict=True)
                      if k == 0), None)  # fmt: skip
        assert osc.run_metrics(r, n)["first_accuracy_1"] == first
    big = max(result["runs"], key=lambda r: r["step"])
    assert osc.run_metrics(big, n)["first_accuracy_1"] is not None  # linear γ=100 separates
    assert result["linearly_separable"] is True and result["linearly_separable_full_set"] is False


def test_oscillation_checks_on_synthetic_metrics():
    base = {"loss_increases": 0, "max_loss": 1.0}
    ms = [{"step": 1.0, "first_accuracy_1": 50, **base},
          {"step": 10.0, "first_accuracy_1": 5, "loss_increases": 3, "max_loss": 2.0}]  # fmt: skip
    assert all(osc.checks(ms).values())
    ms[0]["first_accuracy_1"] = 4  # a smaller step separates sooner: (a) fails
    assert not osc.checks(ms)["a_largest_step_separates_first"]


# -------------------------------------------------------------------------- acceleration


def test_acceleration_counts_equal_direct_run():
    data = digits((3, 8), n=100, seed=0)
    for key, step in (("linear", 10.0), ("relu w16", 1.0)):
        got = acc.iterations_to_separate(key, data, 0, step, 500)
        spec = dict(acc.MODELS[key])
        model = make_model(spec.pop("name"), data.d, **spec)
        theta0 = np.zeros(data.d) if key == "linear" else model.initial_params(0)
        traj = run(model, data, "gd", step, theta0=theta0, max_iter=500)
        assert got["iterations"] == traj.solved_iteration is not None
    # independent NumPy LR+GD for the linear model
    A, n, v, t = data.A, data.n, np.zeros(data.d), 0
    while np.any(A @ v <= 0):
        v, t = v + 10.0 / n * expit(-(A @ v)) @ A, t + 1
    assert acc.iterations_to_separate("linear", data, 0, 10.0, 500)["iterations"] == t


def _write_idx(path: Path, array: np.ndarray) -> None:
    dims = array.shape
    header = bytes([0, 0, 8, len(dims)]) + b"".join(int(k).to_bytes(4, "big") for k in dims)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_acceleration_data_dir_tasks(tmp_path):
    skipped = [t for t in acc.tasks_with_data(True, None) if t["part"] == "skipped"]
    assert sorted(t["data"] for t in skipped) == sorted(acc.IMAGES)
    folder = tmp_path / "mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    _write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (150, 28, 28)))
    _write_idx(folder / "train-labels-idx1-ubyte", np.arange(150) % 2)
    tasks = acc.tasks_with_data(True, str(tmp_path))
    mnist = [t for t in tasks if t["data"] == "mnist"]
    assert mnist and all(t["part"] == "run" and t["data_dir"] == str(tmp_path) for t in mnist)
    assert {t["data"] for t in tasks if t["part"] == "skipped"} == {"fashion-mnist", "cifar10"}
    params = {**next(t for t in mnist if t["model"] == "linear"), "steps": [10.0]}
    result = acc.run_task(params)
    data = load_named("mnist", data_dir=str(tmp_path), classes=(0, 1), n=params["n"], seed=0)
    traj = run(linear(784), data, "gd", 10.0, theta0=np.zeros(784), max_iter=params["max_iter"])
    assert result["runs"][0]["iterations"] == traj.solved_iteration
    note = acc.run_task(next(t for t in tasks if t["part"] == "skipped"))
    assert note["skipped"] is True and note["reason"]


# --------------------------------------------------------------------------------- chaos


def test_chaos_jvp_exponent_equals_scalar_closed_form():
    a = np.array([1.5, -0.4, 0.8, 2.0])  # a_i = y_i x_i in one dimension
    X, y = np.abs(a)[:, None], np.sign(a)
    gammas, T, v0 = [0.5, 30.0], 40, 0.3
    res = ch.lyapunov_runs(linear(1), X, y, gammas, np.array([v0]), np.array([1.0]), T)
    n = a.size
    for k, g in enumerate(gammas):
        v, logs = v0, []
        for _ in range(T):
            s = expit(-a * v)
            logs.append(np.log(abs(1.0 - g / n * np.sum(s * (1 - s) * a**2))))
            v = v + g / n * np.sum(s * a)
        np.testing.assert_allclose(res["log_growth"][k], logs, rtol=1e-9, atol=1e-12)
        ex = ch.exponents(res["log_growth"][k], res["dist"][k], res["norm"][k])
        assert ex["lambda"] == pytest.approx(np.mean(logs[T // 2 :]), rel=1e-9)


def test_chaos_separation_rate_matches_jvp_on_breast_cancer():
    data = breast_cancer(n=80, seed=0)
    model = linear(data.d)
    theta0 = model.initial_params(0, 1.0)
    u = np.random.default_rng(1).standard_normal(data.d)
    u /= np.linalg.norm(u)
    res = ch.lyapunov_runs(model, data.X, data.y, [0.1, 300.0], theta0, u, 150)
    for k in range(2):
        ex = ch.exponents(res["log_growth"][k], res["dist"][k], res["norm"][k])
        assert ex["window"] > 5
        assert ex["separation_rate"] == pytest.approx(ex["jvp_rate"], abs=2e-3)
