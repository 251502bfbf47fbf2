"""The run loop (docs/theory/setting.md, docs/theory/reduction.md) against independent loops: plain
NumPy for the linear model, a
Python loop over jitted ``perceptron_step`` for the tied model. Stop reasons, recorded metrics,
subsampling, chunking, determinism and input validation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.special import expit

import gdperceptron as gp
from gdperceptron import (
    ALGORITHMS,
    Algorithm,
    GDPerceptronError,
    RunConfig,
    execute,
    gaussian,
    linear,
    make_dataset,
    perceptron_step,
    run,
    tied,
    two_layer,
    worst_case,
)
from gdperceptron._jax import jax, jnp
from gdperceptron.analysis.spectral import householder_involution
from gdperceptron.engines import trajectory as trajectory_module
from gdperceptron.engines.outcome import classify
from gdperceptron.models.builtin import Involution, swap

# ----------------------------------------------------------- NumPy reference loop


@dataclass
class Reference:
    thetas: list[np.ndarray]  # θ_0 .. θ_K, the states visited
    solved: int | None  # first t with every margin > 0
    stop_reason: str


def np_weights(m: np.ndarray, algorithm: str) -> np.ndarray:
    if algorithm in ("gd", "normalized-gd"):
        return expit(-m)
    return np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0))


def np_eta(m: np.ndarray, w: np.ndarray, algorithm: str, gamma: float) -> float:
    n = m.size
    if algorithm == "normalized-gd":
        return gamma / w.sum()
    if algorithm == "normalized-perceptron":
        return gamma / max(int(np.sum(m <= 0)), 1)
    return gamma / n


def np_loss(m: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, -m)))


def np_linear_run(
    A: np.ndarray,
    algorithm: str,
    gamma: float,
    theta0: np.ndarray,
    max_iter: int,
    stop_when_solved: bool = True,
) -> Reference:
    """Linear model: θ_{t+1} = θ_t + η_t Σ_i w_i a_i. Stops at the first state that is
    non-finite (θ or loss), solved (if asked), or at t = max_iter."""
    thetas = [np.asarray(theta0, dtype=np.float64)]
    solved = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(max_iter + 1):
            v = thetas[-1]
            m = A @ v
            if not (np.all(np.isfinite(v)) and np.isfinite(np_loss(m))):
                return Reference(thetas, solved, "non_finite")
            if solved is None and np.all(m > 0):
                solved = t
                if stop_when_solved:
                    return Reference(thetas, solved, "solved")
            if t == max_iter:
                break
            w = np_weights(m, algorithm)
            thetas.append(v + np_eta(m, w, algorithm, gamma) * (w @ A))
    return Reference(thetas, solved, "max_iter")


def np_metrics(A: np.ndarray, v: np.ndarray) -> dict[str, float]:
    """The recorded quantities of a state of the linear model, from their definitions."""
    m = A @ v
    n = A.shape[0]
    return {
        "loss": np_loss(m),
        "min_margin": float(m.min()),
        "n_misclassified": int(np.sum(m <= 0)),
        "grad_norm": float(np.linalg.norm(-(expit(-m) @ A) / n)),  # ‖∇F(θ_t)‖
        "param_norm": float(np.linalg.norm(v)),
    }


DATA = gaussian(30, 4, 0.02, seed=3)


# ----------------------------------------------------------- against the references


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_linear_run_matches_numpy_loop(algorithm: str) -> None:
    gamma, max_iter = 5.0, 400
    theta0 = np.zeros(DATA.d)
    ref = np_linear_run(DATA.A, algorithm, gamma, theta0, max_iter)
    traj = run(linear(DATA.d), DATA, algorithm, gamma, theta0=theta0, max_iter=max_iter)
    assert ref.stop_reason == "solved" and ref.solved is not None and ref.solved > 3
    assert traj.stop_reason == ref.stop_reason
    assert traj.solved_iteration == ref.solved
    assert traj.n_steps == ref.solved == len(ref.thetas) - 1
    np.testing.assert_allclose(traj.final_params, ref.thetas[-1], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(traj.final_margins, DATA.A @ ref.thetas[-1], rtol=1e-11, atol=1e-13)
    # every state recorded (max_iter < 20000): metrics against recomputation
    assert list(traj.iterations) == list(range(traj.n_steps + 1))
    for key in ("loss", "min_margin", "grad_norm", "param_norm"):
        expected = [np_metrics(DATA.A, v)[key] for v in ref.thetas]
        np.testing.assert_allclose(traj[key], expected, rtol=1e-10, atol=1e-13, err_msg=key)
    expected = [np_metrics(DATA.A, v)["n_misclassified"] for v in ref.thetas]
    np.testing.assert_array_equal(traj["n_misclassified"], expected)
    assert traj["n_misclassified"][-1] == 0 and np.all(traj["n_misclassified"][:-1] > 0)


def test_tied_run_matches_python_jax_loop() -> None:
    data = gaussian(12, 5, 0.1, seed=8)
    model = tied(5)
    theta0 = model.initial_params(2, 1.0)
    gamma, max_iter = 0.8, 300
    # a Python loop over single jitted steps (the run loop scans compiled chunks instead)
    step = jax.jit(perceptron_step(model, data.X, data.y, "gd", gamma))
    apply = jax.jit(model.apply)
    theta, solved, states = jnp.asarray(theta0), None, []
    for t in range(max_iter + 1):
        states.append(np.asarray(theta))
        m = data.y * np.asarray(apply(theta, jnp.asarray(data.X)))
        if np.all(m > 0):
            solved = t
            break
        theta = step(theta)
    assert solved is not None and solved > 2
    traj = run(model, data, "gd", gamma, theta0=theta0, max_iter=max_iter)
    assert traj.solved_iteration == solved and traj.stop_reason == "solved"
    np.testing.assert_allclose(traj.final_params, states[-1], rtol=1e-10, atol=1e-13)
    norms = [np.linalg.norm(s) for s in states]
    np.testing.assert_allclose(traj["param_norm"], norms, rtol=1e-10)


def test_stop_when_solved_false_runs_exactly_max_iter() -> None:
    gamma, max_iter = 5.0, 137
    theta0 = np.zeros(DATA.d)
    ref = np_linear_run(DATA.A, "gd", gamma, theta0, max_iter, stop_when_solved=False)
    assert ref.solved is not None and ref.solved < max_iter
    traj = run(
        linear(DATA.d), DATA, "gd", gamma, theta0=theta0, max_iter=max_iter, stop_when_solved=False
    )
    assert traj.n_steps == max_iter and traj.stop_reason == "max_iter"
    assert traj.solved_iteration == ref.solved
    assert traj.iterations[-1] == max_iter
    np.testing.assert_allclose(traj.final_params, ref.thetas[max_iter], rtol=1e-11, atol=1e-13)


def test_max_iter_reached_without_solving() -> None:
    # worst case of the predecessor (Theorem 5.1): the batch perceptron needs ~0.3 n steps
    data = worst_case(40)
    theta0 = np.zeros(2)
    ref = np_linear_run(data.A, "perceptron", 1.0, theta0, 5)
    assert ref.stop_reason == "max_iter" and ref.solved is None
    traj = run(linear(2), data, "perceptron", 1.0, theta0=theta0, max_iter=5)
    assert traj.stop_reason == "max_iter" and traj.solved_iteration is None and not traj.solved
    assert traj.n_steps == 5
    np.testing.assert_array_equal(traj.final_params, ref.thetas[-1])  # dyadic: exact


# -------------------------------------------------------------------- stop reasons


def test_non_finite_linear_overflow() -> None:
    # a_1 = (1e300, 0): v_1 = (γ/(2n)) Σ a_i has first coordinate 2.5e309 = inf for γ = 1e10
    data = make_dataset([[1e300, 0.0], [0.0, -1.0]], [1, -1])
    ref = np_linear_run(data.A, "gd", 1e10, np.zeros(2), 50)
    assert ref.stop_reason == "non_finite" and len(ref.thetas) - 1 == 1
    traj = run(linear(2), data, "gd", 1e10, theta0=np.zeros(2), max_iter=50)
    assert traj.stop_reason == "non_finite" and traj.n_steps == 1
    assert not traj.solved and traj.iterations[-1] == 1
    assert not np.all(np.isfinite(traj.final_params))


def test_non_finite_square_activation_huge_step() -> None:
    data = gaussian(20, 5, 0.1, seed=0)
    model = two_layer(5, 4, "square")
    theta0 = model.initial_params(0)
    gamma = 1e6
    # independent Python loop: first state whose θ or loss is not finite
    step = jax.jit(perceptron_step(model, data.X, data.y, "gd", gamma))
    apply = jax.jit(model.apply)
    theta, first_bad = jnp.asarray(theta0), None
    for t in range(100):
        m = data.y * np.asarray(apply(theta, jnp.asarray(data.X)))
        with np.errstate(over="ignore", invalid="ignore"):
            if not (np.all(np.isfinite(np.asarray(theta))) and np.isfinite(np_loss(m))):
                first_bad = t
                break
        theta = step(theta)
    assert first_bad is not None and first_bad > 1
    traj = run(model, data, "gd", gamma, theta0=theta0, max_iter=100, stop_when_solved=False)
    assert traj.stop_reason == "non_finite" and traj.n_steps == first_bad
    assert not np.isfinite(traj.final_loss)


def test_solved_at_zero_and_max_iter_zero() -> None:
    u = np.array(DATA.info["direction"])
    assert np.all(DATA.A @ u > 0)  # the stored direction separates the data
    model = linear(DATA.d)
    traj = run(model, DATA, "gd", 1.0, theta0=u, max_iter=100)
    assert traj.solved_iteration == 0 and traj.stop_reason == "solved" and traj.n_steps == 0
    np.testing.assert_array_equal(traj.final_params, u)
    np.testing.assert_array_equal(traj.iterations, [0])
    # max_iter = 0: nothing moves, one state recorded; solved at 0 still counts
    traj0 = run(model, DATA, "gd", 1.0, theta0=np.zeros(DATA.d), max_iter=0)
    assert traj0.n_steps == 0 and traj0.stop_reason == "max_iter" and not traj0.solved
    np.testing.assert_array_equal(traj0.final_params, np.zeros(DATA.d))
    np.testing.assert_array_equal(traj0.iterations, [0])
    # at v = 0: loss log 2, all n margins are 0 (counted misclassified), ‖∇F‖ = ‖Σ a_i‖/(2n)
    assert traj0["loss"][0] == pytest.approx(np.log(2.0), rel=1e-15)
    assert traj0["n_misclassified"][0] == DATA.n
    assert traj0["grad_norm"][0] == pytest.approx(
        np.linalg.norm(DATA.A.sum(axis=0)) / (2 * DATA.n), rel=1e-13
    )
    traj1 = run(model, DATA, "gd", 1.0, theta0=u, max_iter=0)
    assert traj1.solved_iteration == 0 and traj1.stop_reason == "solved"


# ------------------------------------------------- recording, chunking, determinism


def test_record_every_keeps_the_last_state() -> None:
    gamma, max_iter, every = 5.0, 400, 7
    theta0 = np.zeros(DATA.d)
    ref = np_linear_run(DATA.A, "gd", gamma, theta0, max_iter)
    last = len(ref.thetas) - 1
    assert last % every != 0  # so the last state is an extra record
    traj = run(
        linear(DATA.d), DATA, "gd", gamma, theta0=theta0, max_iter=max_iter, record_every=every
    )
    expected_iters = list(range(0, last + 1, every)) + [last]
    np.testing.assert_array_equal(traj.iterations, expected_iters)
    for key in ("loss", "min_margin", "grad_norm", "param_norm"):
        expected = [np_metrics(DATA.A, ref.thetas[t])[key] for t in expected_iters]
        np.testing.assert_allclose(traj[key], expected, rtol=1e-10, atol=1e-13, err_msg=key)
    # without stopping: max_iter = 100 with every 30 records 0, 30, 60, 90 and 100
    traj = run(
        linear(DATA.d),
        DATA,
        "gd",
        gamma,
        theta0=theta0,
        max_iter=100,
        record_every=30,
        stop_when_solved=False,
    )
    np.testing.assert_array_equal(traj.iterations, [0, 30, 60, 90, 100])


def _fingerprint(traj) -> list[np.ndarray]:
    return [traj.iterations, traj.final_params, *(traj[k] for k in sorted(traj.metrics))]


@pytest.mark.parametrize("model_name", ["linear", "tied"])
def test_chunk_size_does_not_change_results(model_name: str) -> None:
    model = linear(DATA.d) if model_name == "linear" else tied(DATA.d)
    theta0 = model.initial_params(5, 0.5)
    runs = [
        run(
            model,
            DATA,
            "gd",
            0.7,
            theta0=theta0,
            max_iter=60,
            stop_when_solved=False,
            record_error=True,
            chunk=c,
        )
        for c in (1, 7, 256)
    ]
    base = _fingerprint(runs[0])
    for other in runs[1:]:
        for a, b in zip(base, _fingerprint(other), strict=True):
            np.testing.assert_array_equal(a, b)  # bit for bit
        assert other.solved_iteration == runs[0].solved_iteration
        assert other.n_steps == runs[0].n_steps == 60


def test_same_config_twice_is_bit_identical() -> None:
    cfg = RunConfig(data="gaussian", model="two-layer", activation="tanh", d=4, n=20, step=2.0)
    a, b = execute(cfg), execute(cfg)
    assert a.solved_iteration == b.solved_iteration and a.stop_reason == b.stop_reason
    for x, y in zip(_fingerprint(a), _fingerprint(b), strict=True):
        np.testing.assert_array_equal(x, y)


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int]] = []
    latest: list[dict] = []

    def progress(done: int, total: int, last: dict) -> None:
        calls.append((done, total))
        latest.append(last)

    traj = run(
        linear(DATA.d),
        DATA,
        "gd",
        0.1,
        theta0=np.zeros(DATA.d),
        max_iter=20,
        stop_when_solved=False,
        chunk=8,
        progress=progress,
    )
    # one call after each chunk of 8 steps that did not reach the stop (8, 16), then a last
    # call (max_iter, max_iter) once the third chunk stops at t = 20
    assert calls == [(8, 20), (16, 20), (20, 20)]
    # each call carries the metrics of the last iteration recorded before it: t = 7, 15, 20
    for last, t in zip(latest, (7, 15, 20), strict=True):
        k = int(np.flatnonzero(traj.iterations == t)[0])
        assert last == {name: float(traj.metrics[name][k]) for name in last}


# ---------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "kwargs",
    [
        {"theta0": np.zeros(3)},  # wrong shape
        {"theta0": np.zeros((4, 1))},
        {"step": 0.0},
        {"step": -1.0},
        {"step": float("nan")},
        {"step": float("inf")},
        {"step": "fast"},
        {"max_iter": -1},
        {"max_iter": 2.5},
        {"algorithm": "adam"},
        {"algorithm": Algorithm("gd", ALGORITHMS["gd"].weights, ALGORITHMS["gd"].step_size)},
        {"chunk": 0},
        {"chunk": -3},
        {"record_every": 0},
        {"record_every": -2},
    ],
    ids=lambda kw: f"{next(iter(kw))}={next(iter(kw.values()))!r}"[:40],
)
def test_bad_inputs_raise(kwargs: dict) -> None:
    args = {"algorithm": "gd", "step": 1.0, "theta0": np.zeros(DATA.d), "max_iter": 10}
    args.update(kwargs)
    model = linear(DATA.d)
    with pytest.raises(GDPerceptronError):
        run(model, DATA, args.pop("algorithm"), args.pop("step"), **args)


def test_model_data_dimension_mismatch() -> None:
    with pytest.raises(GDPerceptronError, match="d = 5"):
        run(linear(5), DATA, "gd", 1.0, theta0=np.zeros(5))
    with pytest.raises(GDPerceptronError):
        run(tied(3), DATA, "gd", 1.0, theta0=np.zeros(5))


# ------------------------------------------------ what the loop executes, and its clock


def test_the_loop_evaluates_exactly_the_iterations_it_reports() -> None:
    calls = []

    def apply(theta, X):
        jax.debug.callback(lambda: calls.append(1))
        return X @ theta

    model = gp.Model("counted", DATA.d, DATA.d, apply, None, 1.0, {})
    traj = run(
        model,
        DATA,
        "gd",
        0.1,
        theta0=np.zeros(DATA.d),
        max_iter=10,
        stop_when_solved=False,
        chunk=256,
    )
    jax.effects_barrier()
    # iterations t = 0..10 inside the loop (10 steps, none past max_iter), then one
    # evaluation of the final margins, then the outcome's per-sample gradients of the
    # samples not separated (engines/outcome.py), counted by running it once more
    assert traj.n_steps == 10 and traj.iterations.tolist() == list(range(11))
    loop_calls = len(calls)
    classify(model, DATA, traj, counts=False)
    jax.effects_barrier()
    assert loop_calls == 11 + 1 + (len(calls) - loop_calls)


def test_elapsed_time_counts_the_steps_taken_not_a_warm_up_chunk() -> None:
    rng = np.random.default_rng(0)
    data = gp.make_dataset(rng.standard_normal((3000, 1500)), np.tile([1.0, -1.0], 1500))
    model = linear(data.d)
    kw = dict(theta0=np.zeros(data.d), stop_when_solved=False, chunk=256)
    run(model, data, "gd", 1e-3, max_iter=1, **kw)  # compile both loop lengths first
    run(model, data, "gd", 1e-3, max_iter=256, **kw)
    one = min(run(model, data, "gd", 1e-3, max_iter=1, **kw).elapsed_s for _ in range(3))
    full = run(model, data, "gd", 1e-3, max_iter=256, **kw).elapsed_s
    # 1 step against 256: a clock that included a whole chunk would make them equal
    assert one < full / 8


# ------------------------------------- the first layer from stored X and X^T (fast path)


@pytest.mark.parametrize(
    "algorithm", ["gd", "perceptron", "normalized-gd", "normalized-perceptron"]
)
@pytest.mark.parametrize(
    "make",
    [
        lambda d: linear(d),
        lambda d: gp.tied(d),
        lambda d: gp.tied(d, householder_involution(np.arange(1.0, d + 1))),
        lambda d: gp.tied(d, swap(d, 1, 4)),
        lambda d: gp.tied(d, Involution(d, perm=np.arange(d)[::-1].copy())),
        lambda d: gp.two_layer(d, 5, "relu"),
        lambda d: gp.two_layer(d, 4, "tanh", train_second_layer=False),
        lambda d: gp.mlp(d, 3, 3, "leaky_relu"),
    ],
    ids=[
        "linear",
        "tied",
        "tied-householder",
        "tied-swap-1-4",
        "tied-reversal",
        "two-layer",
        "two-layer-fixed",
        "mlp",
    ],
)
def test_stored_transpose_path_gives_the_plain_trajectory(make, algorithm) -> None:
    rng = np.random.default_rng(5)
    data = gp.make_dataset(rng.standard_normal((30, 6)), np.tile([1.0, -1.0], 15))
    model = make(6)
    theta0 = model.initial_params(1, 1.0)
    # 20 steps: the tied model's components grow by up to 1 + eta lambda ~ 1.2 per step, so
    # rounding differences of 1e-16 stay below 1e-13 over 20 steps (over 60 they reach 1e-11)
    kw = dict(theta0=theta0, max_iter=20, stop_when_solved=False, record_error=True)
    fast = run(model, data, algorithm, 0.7, **kw)
    plain = run(model, data, algorithm, 0.7, stored_transpose=False, **kw)
    for name in plain.metrics:
        np.testing.assert_allclose(
            fast.metrics[name], plain.metrics[name], rtol=1e-12, atol=1e-13, err_msg=name
        )
    np.testing.assert_allclose(fast.final_params, plain.final_params, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("algorithm", ["gd", "perceptron"])
def test_permutation_stored_as_x_p_gives_the_same_trajectory(monkeypatch, algorithm) -> None:
    # a permutation that moves more than MOVED_COLUMNS_MAX columns is stored as X P (and its
    # transpose) instead of correcting X W^T on the moved columns: both paths agree
    rng = np.random.default_rng(6)
    data = gp.make_dataset(rng.standard_normal((30, 6)), np.tile([1.0, -1.0], 15))
    model = gp.tied(6, swap(6, 2, 5))
    kw = dict(theta0=model.initial_params(2, 1.0), max_iter=20, stop_when_solved=False)
    moved = run(model, data, algorithm, 0.7, **kw)
    monkeypatch.setattr(trajectory_module, "MOVED_COLUMNS_MAX", 0)
    stored = run(model, data, algorithm, 0.7, **kw)
    assert trajectory_module._moved_columns(model.first_layer.involution) is None
    for name in moved.metrics:
        np.testing.assert_allclose(
            stored.metrics[name], moved.metrics[name], rtol=1e-12, atol=1e-13, err_msg=name
        )
    np.testing.assert_allclose(stored.final_params, moved.final_params, rtol=1e-12, atol=1e-13)
