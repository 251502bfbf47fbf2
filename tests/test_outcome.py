"""Outcome classes of a run (docs/theory/diagnostics.md): a run constructed for each class,
the stuck samples and dead parameters against a hand-written NumPy Jacobian, and the
divergence criterion on hand-made trajectories."""

from __future__ import annotations

import numpy as np
import pytest

from gdperceptron import (
    GDPerceptronError,
    Trajectory,
    breast_cancer,
    gaussian,
    linear,
    make_dataset,
    run,
    two_layer,
)
from gdperceptron.engines.outcome import OUTCOMES, classify, diverging, margin_gradient_stats
from gdperceptron.engines.scaled import run_scaled


def relu_net_jacobian(W: np.ndarray, u: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d m_i / d theta for f(x) = sum_j u_j relu(<w_j, x>), theta = (vec W, u), by hand:
    d m / d W_jl = y u_j 1[<w_j, x> > 0] x_l and d m / d u_j = y relu(<w_j, x>)."""
    Z = X @ W.T  # (n, m)
    dW = (y[:, None] * u[None, :] * (Z > 0))[:, :, None] * X[:, None, :]  # (n, m, d)
    du = y[:, None] * np.maximum(Z, 0.0)
    return np.concatenate([dW.reshape(X.shape[0], -1), du], axis=1)


def dead_unit_problem():
    """Non-negative inputs: group A = (r, 0) with mixed labels, group B = (0, r) labelled +1.
    Every unit has W[j, 0] < 0, so every unit is negative on A (margins exactly 0, zero
    gradient, forever); unit 0 is negative on B too (dead on every sample)."""
    rng = np.random.default_rng(4)
    r = rng.uniform(0.5, 2.0, size=12)
    X = np.zeros((12, 2))
    X[:6, 0], X[6:, 1] = r[:6], r[6:]
    y = np.array([1, -1, 1, -1, 1, -1] + [1] * 6, dtype=float)
    m = 4
    W = np.column_stack([-rng.uniform(0.5, 1.0, m), rng.uniform(0.5, 1.0, m)])
    W[0, 1] = -0.3
    u = np.ones(m)
    return make_dataset(X, y), two_layer(2, m, "relu"), W, u


@pytest.mark.parametrize("algorithm", ["gd", "perceptron"])
def test_stalled_dead_units_on_non_negative_inputs(algorithm: str) -> None:
    data, net, W, u = dead_unit_problem()
    theta0 = np.concatenate([W.ravel(), u])
    traj = run(net, data, algorithm, 1.0, theta0=theta0, max_iter=200)
    assert traj.n_steps == 200 and traj.solved_iteration is None
    groups = [np.r_[2 * j : 2 * j + 2, 8 + j] for j in range(4)]  # unit j: w_j and u_j
    out = classify(net, data, traj, groups=groups)
    assert out.name == "stalled"
    # independent: the hand Jacobian at the final iterate
    theta = traj.final_params
    J = relu_net_jacobian(theta[:8].reshape(4, 2), theta[8:], data.X, data.y)
    m = data.y * (np.maximum(data.X @ theta[:8].reshape(4, 2).T, 0) @ theta[8:])
    bad = m <= 0
    assert bad.sum() == 6 and np.all(m[:6] == 0)  # group A
    assert out.n_nonpositive == 6
    assert out.n_stuck == int(np.sum(bad & np.all(J == 0, axis=1))) == 6
    assert out.n_dead_params == int(np.sum(np.all(J == 0, axis=0)))
    assert out.n_dead_params == 4 + 2  # W[:, 0] of every unit; W[0, 1] and u_0 of unit 0
    assert out.n_dead_groups == 1
    if algorithm == "perceptron":  # hard weights: the step is exactly zero, a fixed point
        np.testing.assert_array_equal(traj.final_params, theta0)


def test_margin_gradient_stats_against_hand_jacobian() -> None:
    data, net, W, u = dead_unit_problem()
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(net.n_params)
    m, norms, col = margin_gradient_stats(net, data, theta, batch=5)  # several batches
    J = relu_net_jacobian(theta[:8].reshape(4, 2), theta[8:], data.X, data.y)
    np.testing.assert_allclose(norms, np.linalg.norm(J, axis=1), rtol=1e-14)
    np.testing.assert_allclose(col, np.abs(J).sum(axis=0), rtol=1e-14)
    expected_m = data.y * (np.maximum(data.X @ theta[:8].reshape(4, 2).T, 0) @ theta[8:])
    np.testing.assert_allclose(m, expected_m, rtol=1e-14)
    rows = np.array([0, 3, 7])  # a subset, padded to the same batch shape
    m_r, norms_r, col_r = margin_gradient_stats(net, data, theta, rows=rows, batch=5)
    np.testing.assert_allclose(norms_r, np.linalg.norm(J[rows], axis=1), rtol=1e-14)
    np.testing.assert_allclose(col_r, np.abs(J[rows]).sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(m_r, expected_m[rows], rtol=1e-14)


def test_solved_and_budget_limited_runs() -> None:
    data = gaussian(40, 5, 0.05, seed=2)
    model = linear(5)
    solved = run(model, data, "gd", 10.0, theta0=np.zeros(5), max_iter=10_000)
    out = classify(model, data, solved)
    assert out.name == "solved" and solved.stop_reason == "solved"
    assert np.all(solved.final_margins > 0) and out.n_nonpositive == 0
    # asked to go on, a run keeps the budget's class; solved_iteration says when it separated
    on = run(model, data, "gd", 10.0, theta0=np.zeros(5), max_iter=solved.n_steps + 5,
             stop_when_solved=False)  # fmt: skip
    assert classify(model, data, on).name == "max_iter"
    assert on.solved_iteration == solved.solved_iteration
    short = run(model, data, "gd", 10.0, theta0=np.zeros(5), max_iter=solved.n_steps - 1)
    out = classify(model, data, short)
    assert short.solved_iteration is None and short.n_steps == solved.n_steps - 1
    assert out.name == "max_iter" and out.n_nonpositive > 0 and out.n_stuck == 0


def test_diverging_relu_net_at_a_large_step() -> None:
    # Breast cancer (separable subsample), two-layer ReLU net, step 100: plain float64
    # overflows (no exact representation: non_finite); the scaled run diverges by the
    # stated criterion.
    data = breast_cancer(n=300, seed=0)
    net = two_layer(data.d, 16, "relu")
    kw = {"theta0": net.initial_params(0), "max_iter": 300, "record_every": 1}
    plain = run(net, data, "gd", 100.0, **kw)
    assert plain.stop_reason == "non_finite"
    assert classify(net, data, plain).name == "non_finite"
    scaled = run_scaled(net, data, "gd", 100.0, **kw)  # degree from the model
    assert scaled.stop_reason == "diverged" and scaled.n_steps == 300
    assert diverging(scaled)
    # the criterion by hand: |min margin| = exp(2 s + log|min m(phi)|) grows every step
    log_mu = 2 * scaled["log_param_norm"] + np.log(-scaled["min_normalized_margin"])
    tail = slice(-21, None)
    assert np.all(np.diff(log_mu[tail]) > 0) and log_mu[-1] - log_mu[-21] >= np.log(2)


def test_never_solved_on_a_non_finite_iterate() -> None:
    # margins beyond float64 at the start: every margin is +inf > 0, but no finite iterate
    data = make_dataset(np.array([[1.0, 1.0], [-1.0, -1.0]]), np.array([1.0, -1.0]))
    traj = run(linear(2), data, "gd", 1.0, theta0=np.full(2, 1e308), max_iter=10)
    assert np.all(traj.final_margins > 0) and not np.all(np.isfinite(traj.final_margins))
    out = classify(linear(2), data, traj)
    assert out.name == "non_finite" and traj.solved_iteration is None
    assert out.name in OUTCOMES


def _traj(log_mu: np.ndarray, loss: np.ndarray, scaled: bool, k: int = 2) -> Trajectory:
    T = log_mu.size
    mm = -np.exp(log_mu)
    if scaled:  # split log|mu| = k s + log|min m(phi)| with |min m(phi)| = 0.5
        s = (log_mu - np.log(0.5)) / k
        metrics = {
            "log_loss": np.log(loss),
            "log_param_norm": s,
            "min_normalized_margin": np.full(T, -0.5),
            "n_misclassified": np.ones(T, int),
        }
        config = {"degree": k, "direction": np.ones(1), "log_norm": s[-1]}
    else:
        metrics = {"loss": loss, "min_margin": mm, "n_misclassified": np.ones(T, int)}
        config = {}
    return Trajectory(np.arange(T), metrics, None, "max_iter", T - 1, np.ones(1), np.ones(1),
                      0.0, config)  # fmt: skip


@pytest.mark.parametrize("scaled", [False, True])
def test_divergence_criterion(scaled: bool) -> None:
    W = 20
    grow = np.log(3.0) + 0.1 * np.arange(W + 1)  # |mu| grows every step, e^2 > 2 overall
    loss = np.exp(grow)
    assert diverging(_traj(grow, loss, scaled), W)
    flat = grow.copy()
    flat[10] = flat[9]  # one step without growth
    assert not diverging(_traj(flat, loss, scaled), W)
    slow = np.log(3.0) + 0.03 * np.arange(W + 1)  # grows every step but by e^0.6 < 2
    assert not diverging(_traj(slow, loss, scaled), W)
    assert not diverging(_traj(grow, loss[::-1], scaled), W)  # loss ends lower
    assert not diverging(_traj(grow[:-2], loss[:-2], scaled), W)  # fewer steps than W
    assert diverging(_traj(grow[5:], loss[5:], scaled), W - 5)
    with pytest.raises(GDPerceptronError, match="window"):
        diverging(_traj(grow, loss, scaled), 0)


def test_the_run_loop_reports_these_classes() -> None:
    from gdperceptron.engines.trajectory import STOP_REASONS

    assert STOP_REASONS == OUTCOMES
    data, net, W, u = dead_unit_problem()
    traj = run(net, data, "gd", 1.0, theta0=np.concatenate([W.ravel(), u]), max_iter=50)
    assert traj.stop_reason == "stalled"  # the run loop classifies its own end
