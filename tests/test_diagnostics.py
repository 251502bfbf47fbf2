"""Trajectory diagnostics (docs/theory/diagnostics.md) against plain NumPy loops and
independent computations: tau and the number of loss increases, separation for good, the
normalized margin, gamma t F, the max-margin direction (KKT conditions and a brute-force
search in 2-D) and the angle of v_t to it along a run."""

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
)
from gdperceptron.analysis.diagnostics import (
    angle_to,
    kkt_residual,
    loss_increases,
    max_margin_direction,
    normalized_margins,
    params_along,
    rate_constant,
    separated_for_good,
)
from gdperceptron.engines.scaled import run_scaled


def numpy_linear_gd(A: np.ndarray, gamma: float, T: int) -> list[np.ndarray]:
    """Plain NumPy LR+GD on the linear model from v_0 = 0: v+ = v + gamma/n sum sigma(-m) a."""
    v, out = np.zeros(A.shape[1]), []
    for _ in range(T + 1):
        out.append(v.copy())
        m = A @ v
        v = v + gamma / A.shape[0] * A.T @ (0.5 * (1 - np.tanh(m / 2)))
    return out


STEP, T = 100.0, 600


def loop_tau(loss: list[float]) -> tuple[int, int]:
    tau, count = 0, 0
    for t in range(1, len(loss)):
        if loss[t] > loss[t - 1]:
            tau, count = t, count + 1
    return tau, count


@pytest.fixture(scope="module")
def large_step_run():
    data = breast_cancer(n=300, seed=0)  # separable through 0 (an LP certifies it)
    traj = run(linear(data.d), data, "gd", STEP, theta0=np.zeros(data.d), max_iter=T,
               stop_when_solved=False, record_every=1)  # fmt: skip
    return data, traj


def test_tau_and_increases_against_a_loop(large_step_run) -> None:
    data, traj = large_step_run
    # the first steps against a plain NumPy loop (later, rounding grows: the dynamics at
    # this step are chaotic, docs/theory/experiments.md)
    vs = numpy_linear_gd(data.A, STEP, 30)
    loss = [float(np.mean(np.logaddexp(0.0, -data.A @ v))) for v in vs]
    np.testing.assert_allclose(traj["loss"][:31], loss, rtol=1e-10)
    tau, count = loss_increases(traj)
    assert (tau, count) == loop_tau(traj["loss"].tolist())
    assert count >= 1 and tau > 0  # a large step: the loss oscillates at first
    # the scaled engine gives the same from its log-loss
    scaled = run_scaled(linear(data.d), data, "gd", STEP, theta0=np.zeros(data.d), max_iter=T,
                        stop_when_solved=False, record_every=1)  # fmt: skip
    assert loss_increases(scaled) == loop_tau(scaled["log_loss"].tolist())


def test_separated_for_good_against_a_loop(large_step_run) -> None:
    data, traj = large_step_run
    nm = traj["n_misclassified"].tolist()
    first = None
    for t in range(len(nm)):
        if all(x == 0 for x in nm[t:]):
            first = t
            break
    assert separated_for_good(traj) == first
    assert first is not None and first >= traj.solved_iteration


def test_separated_for_good_on_hand_made_curves() -> None:
    def traj(nm):
        return Trajectory(np.arange(len(nm)), {"n_misclassified": np.array(nm)}, None,
                          "max_iter", len(nm) - 1, np.zeros(1), np.zeros(1), 0.0)  # fmt: skip

    assert separated_for_good(traj([3, 0, 1, 0, 0])) == 3
    assert separated_for_good(traj([0, 0])) == 0
    assert separated_for_good(traj([0, 2])) is None
    falling = Trajectory(np.arange(3), {"loss": np.array([2.0, 1.0, 0.5])}, None, "solved", 2,
                         np.zeros(1), np.zeros(1), 0.0)  # fmt: skip
    assert loss_increases(falling) == (0, 0)


def test_normalized_margin_and_rate_constant(large_step_run) -> None:
    data, traj = large_step_run
    vs = numpy_linear_gd(data.A, STEP, 30)
    expected = [np.min(data.A @ v) / np.linalg.norm(v) if np.any(v) else np.nan for v in vs]
    np.testing.assert_allclose(normalized_margins(traj, 1)[:31], expected, rtol=1e-9)
    loss = np.array([np.mean(np.logaddexp(0.0, -data.A @ v)) for v in vs])
    np.testing.assert_allclose(rate_constant(traj)[:31], STEP * np.arange(31) * loss, rtol=1e-10)
    np.testing.assert_allclose(
        rate_constant(traj), STEP * traj.iterations * traj["loss"], rtol=1e-15
    )


def test_max_margin_direction_kkt_and_brute_force() -> None:
    # 2-D: the max over unit v of min_i <v, a_i>, by a fine scan of the angle
    rng = np.random.default_rng(1)
    theta, r = rng.uniform(-1.0, 1.2, 40), rng.uniform(0.5, 2.0, 40)  # a cone narrower than pi
    A = r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    y = np.where(np.arange(40) % 2 == 0, 1.0, -1.0)
    data = make_dataset(A * y[:, None], y)  # a_i = y_i x_i
    mm = max_margin_direction(data)
    assert kkt_residual(data.A, mm.w, mm.alpha) <= 1e-9
    angles = np.linspace(0, 2 * np.pi, 2_000_001)
    V = np.column_stack([np.cos(angles), np.sin(angles)])
    margins = (data.A @ V.T).min(axis=0)
    # min_i <v(angle), a_i> is Lipschitz in the angle with constant L = max_i ||a_i||, so the
    # scan's best is within L * spacing / 2 below the optimum, and never above it
    L, spacing = np.max(np.linalg.norm(data.A, axis=1)), angles[1] - angles[0]
    assert margins.max() <= mm.margin + 1e-12
    assert mm.margin - margins.max() <= L * spacing / 2
    assert np.min(data.A @ mm.direction) == pytest.approx(mm.margin, rel=1e-12)


def test_max_margin_in_higher_dimension_and_errors() -> None:
    data = gaussian(80, 6, 0.1, seed=0)
    mm = max_margin_direction(data)
    A = data.A
    assert kkt_residual(A, mm.w, mm.alpha) <= 1e-9
    # independently: no other unit direction beats it (random and perturbed candidates)
    rng = np.random.default_rng(0)
    cand = mm.direction + 1e-3 * rng.standard_normal((2000, 6))
    cand /= np.linalg.norm(cand, axis=1, keepdims=True)
    assert np.all((A @ cand.T).min(axis=0) <= mm.margin + 1e-12)
    bad = make_dataset(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([1.0, -1.0]))
    with pytest.raises(GDPerceptronError, match="separable"):
        max_margin_direction(bad)


def test_angle_along_a_run_converges(large_step_run) -> None:
    data, traj = large_step_run
    its, P = params_along(linear(data.d), data, "gd", STEP, theta0=np.zeros(data.d), max_iter=T,
                          every=50)  # fmt: skip
    assert its.tolist() == list(range(0, T + 1, 50))
    vs = numpy_linear_gd(data.A, STEP, 50)
    np.testing.assert_allclose(P[:2], np.array(vs)[[0, 50]], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(P[:2], axis=1), traj["param_norm"][[0, 50]],
                               rtol=1e-12)  # fmt: skip
    mm = max_margin_direction(data)
    ang = angle_to(P, mm.direction)
    expected = [np.arccos(np.clip(v @ mm.direction / np.linalg.norm(v), -1, 1)) for v in P[1:]]
    np.testing.assert_allclose(ang[1:], expected, rtol=1e-12)
    assert np.isnan(ang[0])  # v_0 = 0 has no direction
    assert ang[-1] < ang[1]  # GD's direction turns toward the max-margin one
