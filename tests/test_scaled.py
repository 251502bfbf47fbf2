"""The exact scaled simulation (docs/theory/exact-simulation.md) against plain float64 GD
(``run``) wherever that is finite, for k = 1 (linear) and k = 2 (tied model, bias-free
two-layer ReLU net with both layers trained), every weight rule; finite log-form numbers
where plain GD overflows; the reduced problem; the log-form loss against direct formulas."""

from __future__ import annotations

import numpy as np
import pytest

from gdperceptron import (
    ALGORITHM_NAMES,
    GDPerceptronError,
    breast_cancer,
    gaussian,
    linear,
    minimal_example,
    reduce_problem,
    run,
    tied,
    two_layer,
)
from gdperceptron._jax import jnp
from gdperceptron.engines.scaled import log_per_sample_loss, run_scaled, run_scaled_problem

RTOL = 1e-12
PLAIN = ("loss", "min_margin", "n_misclassified", "grad_norm", "param_norm")


def assert_same_run(plain, scaled, data) -> None:
    """Every metric the plain run records equals the scaled one to RTOL relative (absolute
    RTOL * scale for the min margin, which crosses 0), at every iterate where plain is
    finite; same iterations, solved iteration and final parameters."""
    n = plain.iterations.size
    np.testing.assert_array_equal(plain.iterations, scaled.iterations[:n])
    fin = np.isfinite(plain["loss"]) & np.isfinite(plain["param_norm"])
    assert fin.sum() >= 2
    # The loss l(m) = log(1 + e^-m) has relative condition number |m l'(m) / l(m)| <= max(1, |m|)
    # in the margin: equal margins to RTOL relative give equal losses to RTOL * max(1, |m|).
    # Every model here has |m_i| <= ||theta||^k max_i ||x_i|| (linear: Cauchy-Schwarz; tied:
    # ||A(a)|| <= sqrt(2) ||a||, |m| <= ||a|| ||theta||^2 / sqrt(2); bias-free two-layer:
    # |u^T relu(W x)| <= ||u|| ||W|| ||x|| <= ||theta||^2 ||x|| / 2).
    k = scaled.config["degree"]
    with np.errstate(over="ignore"):  # near plain's overflow the bound is +inf: no test there
        m_bound = plain["param_norm"][fin] ** k * np.max(np.linalg.norm(data.X, axis=1))
        cond = np.maximum(1.0, m_bound)
    for name in PLAIN:
        a, b = plain[name][fin], scaled[name][:n][fin]
        if name == "loss":
            with np.errstate(over="ignore"):
                assert np.all(np.abs(b - a) <= RTOL * cond * np.abs(a)), name
            continue
        atol = RTOL * np.max(np.abs(a)) if name == "min_margin" else 0.0
        np.testing.assert_allclose(b, a, rtol=RTOL, atol=atol, err_msg=name)
    pos = fin & (plain["param_norm"] > 0)  # theta = 0 has no direction (recorded as 0)
    mnm = plain["min_margin"][pos] / plain["param_norm"][pos] ** scaled.config["degree"]
    got = scaled["min_normalized_margin"][:n][pos]
    np.testing.assert_allclose(got, mnm, rtol=1e-11, atol=RTOL * np.max(np.abs(mnm)))
    log_loss = scaled["log_loss"][:n][fin]
    with np.errstate(over="ignore"):
        tol = RTOL * cond * plain["loss"][fin]
    assert np.all(np.abs(np.exp(log_loss) - plain["loss"][fin]) <= tol)
    if plain.stop_reason != "non_finite":
        assert scaled.solved_iteration == plain.solved_iteration
        assert scaled.n_steps == plain.n_steps
        scale = np.max(np.abs(plain.final_params))
        np.testing.assert_allclose(scaled.final_params, plain.final_params, rtol=RTOL,
                                   atol=RTOL * scale)  # fmt: skip


def _cases():
    data = gaussian(30, 5, 0.05, seed=3)
    lin = linear(5)
    yield "linear-zero", lin, data, np.zeros(5), 1, (0.5, 5.0)
    yield "linear-random", lin, data, lin.init(1, 1.0), 1, (0.5, 5.0)
    mini = minimal_example(8)
    tm = tied(8)
    yield "tied", tm, mini, tm.initial_params(0), 2, (0.05, 0.1)
    net = two_layer(5, 6, "relu")
    yield "two-layer-relu", net, data, net.initial_params(2), 2, (0.3, 1.0)


CASES = list(_cases())


@pytest.mark.parametrize("algorithm", ALGORITHM_NAMES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_scaled_equals_plain(case, algorithm: str) -> None:
    _, model, data, theta0, k, steps = case
    for step in steps:
        kw = {"theta0": theta0, "max_iter": 40, "stop_when_solved": False, "record_every": 1}
        plain = run(model, data, algorithm, step, **kw)
        scaled = run_scaled(model, data, algorithm, step, degree=k, **kw)
        assert_same_run(plain, scaled, data)


@pytest.mark.parametrize("case", CASES[1:3], ids=[c[0] for c in CASES[1:3]])
def test_scaled_stops_where_plain_stops(case) -> None:
    _, model, data, theta0, k, steps = case
    kw = {"theta0": theta0, "max_iter": 2000, "record_every": 1}
    plain = run(model, data, "gd", steps[-1], **kw)
    scaled = run_scaled(model, data, "gd", steps[-1], degree=k, **kw)
    assert plain.stop_reason == scaled.stop_reason == "solved"
    assert_same_run(plain, scaled, data)


def test_scaled_is_finite_where_plain_overflows() -> None:
    # Two-layer ReLU net on the separable breast-cancer subsample at step 100: plain float64
    # GD overflows after a few dozen steps; the scaled run agrees with it until then and
    # stays finite (the loss reaches about e^(10^4)).
    data = breast_cancer(n=300, seed=0)
    net = two_layer(data.d, 16, "relu")
    kw = {"theta0": net.initial_params(0), "max_iter": 300, "stop_when_solved": False,
          "record_every": 1}  # fmt: skip
    plain = run(net, data, "gd", 100.0, **kw)
    assert plain.stop_reason == "non_finite"
    scaled = run_scaled(net, data, "gd", 100.0, degree=2, **kw)
    assert scaled.n_steps == 300
    for name in ("log_loss", "log_param_norm", "log_grad_norm", "min_normalized_margin"):
        assert np.all(np.isfinite(scaled[name])), name
    assert scaled["log_loss"][-1] > np.log(np.finfo(float).max)  # beyond float64
    assert not np.isfinite(scaled["loss"][-1])
    assert_same_run(plain, scaled, data)
    assert np.linalg.norm(scaled.config["direction"]) == pytest.approx(1.0, abs=1e-14)


def test_scaled_runs_on_a_reduced_problem() -> None:
    # The minimal example at d = 200 written in k = 3 coordinates: the scaled run of the
    # reduced problem has the plain full run's loss, margins, misclassified counts and (with
    # the constant orthogonal remainder put back) parameter norms.
    d = 200
    model, data = tied(d), minimal_example(d)
    theta0 = model.initial_params(0)
    step = 1.0 / np.sqrt(9.0 + 2 * (d - 2))
    rp = reduce_problem(model, data, theta0)
    assert rp.k == 3 and rp.perp_norm > 0
    kw = {"max_iter": 3000, "record_every": 1}
    full = run(model, data, "gd", step, theta0=theta0, **kw)
    scaled = run_scaled_problem(rp, "gd", step, **kw)
    assert full.stop_reason == "solved" and scaled.stop_reason == "solved"
    assert scaled.solved_iteration == full.solved_iteration
    assert scaled.config["k"] == 3 and scaled.config["d"] == d
    for name in ("loss", "grad_norm", "n_misclassified", "param_norm"):
        np.testing.assert_allclose(scaled[name], full[name], rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(scaled["min_margin"], full["min_margin"], rtol=1e-9,
                               atol=1e-9 * np.max(np.abs(full["min_margin"])))  # fmt: skip
    mnm = full["min_margin"] / full["param_norm"] ** 2
    np.testing.assert_allclose(scaled["min_normalized_margin"], mnm, rtol=1e-9,
                               atol=1e-9 * np.max(np.abs(mnm)))  # fmt: skip


def test_log_per_sample_loss_against_direct_formulas() -> None:
    M = np.array([-700.0, -45.0, -30.5, -29.0, -1.0, 0.0, 2.0, 29.0, 31.0, 100.0, 600.0])
    with np.errstate(divide="ignore"):
        log_abs, sign = np.log(np.abs(M)), np.sign(M)  # log 0 = -inf: the margin 0
    got = np.asarray(log_per_sample_loss(jnp.asarray(log_abs), jnp.asarray(sign)))
    direct = np.log(np.logaddexp(0.0, -M))  # accurate in this range
    np.testing.assert_allclose(got, direct, rtol=1e-14)
    # beyond float64: M = -e^L has l = |M| (1 + e^-|M| / |M|) = |M| exactly, log l = L;
    # M = +e^L has log l = -e^L = -inf after rounding
    L = np.array([800.0, 5000.0])
    np.testing.assert_array_equal(
        np.asarray(log_per_sample_loss(jnp.asarray(L), jnp.asarray(-np.ones(2)))), L
    )
    assert np.all(np.isneginf(np.asarray(log_per_sample_loss(jnp.asarray(L), jnp.ones(2)))))


def test_degree_is_checked() -> None:
    data = gaussian(10, 3, seed=0)
    net = two_layer(3, 4, "relu")
    th = net.initial_params(0)
    with pytest.raises(GDPerceptronError, match="degree"):
        run_scaled(net, data, "gd", 1.0, theta0=th, degree=1)
    with pytest.raises(GDPerceptronError, match="degree"):
        run_scaled(two_layer(3, 4, "tanh"), data, "gd", 1.0, theta0=th, degree=2)
    with pytest.raises(GDPerceptronError, match="degree"):
        run_scaled(net, data, "gd", 1.0, theta0=th, degree=0)
    with pytest.raises(GDPerceptronError, match="step"):
        run_scaled(net, data, "gd", -1.0, theta0=th, degree=2)


def test_scaled_is_deterministic() -> None:
    data = gaussian(20, 4, seed=1)
    net = two_layer(4, 5, "relu")
    kw = {"theta0": net.initial_params(0), "degree": 2, "max_iter": 50, "record_every": 1}
    a, b = run_scaled(net, data, "gd", 5.0, **kw), run_scaled(net, data, "gd", 5.0, **kw)
    for name in a.metrics:
        np.testing.assert_array_equal(a[name], b[name])
    np.testing.assert_array_equal(a.config["direction"], b.config["direction"])


def test_execute_auto_reruns_an_overflowing_homogeneous_run_scaled(capsys) -> None:
    from gdperceptron import RunConfig, execute
    from gdperceptron.cli import main

    cfg = RunConfig(data="breast-cancer", n=300, model="two-layer", step=100.0, max_iter=300)
    full = execute(cfg.replace(engine="full"))
    assert full.stop_reason == "non_finite" and full.config["engine"] == "full"
    auto = execute(cfg)
    assert auto.config["engine"] == "scaled" and auto.stop_reason == "diverged"
    assert auto.n_steps == 300 and np.all(np.isfinite(auto["log_loss"]))
    scaled = execute(cfg.replace(engine="scaled"))
    np.testing.assert_array_equal(scaled["log_loss"], auto["log_loss"])
    assert main(["run", "--data", "breast-cancer", "--n", "300", "--model", "two-layer",
                 "--step", "100", "--max-iter", "300", "--json"]) == 0  # fmt: skip
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["stop_reason"] == "diverged" and out["engine"] == "scaled"
    assert out["final_log_loss"] == pytest.approx(float(auto["log_loss"][-1]), rel=1e-12)
    with pytest.raises(GDPerceptronError, match="degree"):
        execute(cfg.replace(engine="scaled", activation="tanh"))
    with pytest.raises(GDPerceptronError, match="record_error"):
        execute(cfg.replace(engine="scaled", record_error=True))


def test_scaled_engine_with_the_reduced_coordinates() -> None:
    from gdperceptron import RunConfig, execute

    cfg = RunConfig(data="minimal", model="tied", d=500, step=100.0, max_iter=200)
    auto = execute(cfg)  # reduced (k = 3), overflows, reruns scaled in the same coordinates
    assert auto.config["engine"] == "scaled" and auto.config["k"] == 3
    assert auto.stop_reason in ("diverged", "max_iter") and np.all(np.isfinite(auto["log_loss"]))
    full = execute(cfg.replace(engine="full"))
    n = full.iterations.size - 1  # the iterates before plain float64 overflowed
    np.testing.assert_allclose(auto["loss"][:n], full["loss"][:n], rtol=1e-9)
