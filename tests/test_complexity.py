"""The complexity study (docs/theory/minimal-example.md): reduced vmapped counts against the full
d-dimensional
run and an independent NumPy loop; the log-log slope fit on data of known slope;
determinism; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from reference import explicit_A
from scipy.special import expit

from gdperceptron import GDPerceptronError, linear, minimal_example, run, tied
from gdperceptron.analysis.complexity import (
    DEFAULT_DS,
    complexity_sweep,
    default_max_iter,
    fit_loglog_slope,
    iterations_to_solve,
    lambda2,
    reduced_init,
    tied_step,
)
from gdperceptron.data.synthetic import minimal_example_basis, minimal_example_reduced

FULL_DS = (2, 57, 2000)  # k = 2 and k = 3 reduced features; each d compiles a full run


def _full_count(model, d: int, mu: float, step: float, theta0: np.ndarray) -> int:
    """First solved iteration of GD on the full d-dimensional minimal example."""
    traj = run(model, minimal_example(d, mu), "gd", step, theta0=theta0, max_iter=50 * d + 5000)
    assert traj.stop_reason == "solved"
    return traj.solved_iteration


@pytest.mark.parametrize("d", [2, 3, 10, 101])
@pytest.mark.parametrize("mu", [1.0, 2.5])
def test_lambda2_is_top_eigenvalue_of_A2(d: int, mu: float) -> None:
    a2 = -np.ones(d)
    a2[0] -= mu
    top = np.linalg.eigvalsh(explicit_A(a2))[-1]
    assert lambda2(d, mu) == pytest.approx(top, rel=1e-12)
    assert tied_step(d, mu, c=0.3) == pytest.approx(0.3 / top, rel=1e-12)


@pytest.mark.parametrize("d", FULL_DS)
def test_linear_reduced_counts_equal_full_runs(d: int) -> None:
    Q = minimal_example_basis(d)
    rng = np.random.default_rng([7, d])
    # v_0 = 0 (the default) and two random N(0, I/d) starts, projected with Q^T
    full = [np.zeros(d)] + [rng.standard_normal(d) / np.sqrt(d) for _ in range(2)]
    reduced = np.stack([Q.T @ v for v in full])
    got = iterations_to_solve("linear", d, theta0=reduced)
    want = [_full_count(linear(d), d, 1.0, 1.0, v) for v in full]
    assert got.tolist() == want
    assert got[0] == iterations_to_solve("linear", d, seeds=1)[0]  # default v_0 = 0


@pytest.mark.parametrize("d", FULL_DS)
def test_tied_reduced_counts_equal_full_runs(d: int) -> None:
    Q = minimal_example_basis(d)
    rng = np.random.default_rng([11, d])
    full = [rng.standard_normal(d + 2) / np.sqrt(d) for _ in range(4)]
    reduced = np.stack([np.concatenate([th[:2], Q.T @ th[2:]]) for th in full])
    step = tied_step(d)  # c / lambda_2 with c = 1; lambda_2 checked against eigvalsh above
    got = iterations_to_solve("tied", d, theta0=reduced)  # default step c / lambda_2, c = 1
    want = [_full_count(tied(d), d, 1.0, step, th) for th in full]
    assert got.tolist() == want


@pytest.mark.parametrize(
    ("model", "d", "mu", "step"), [("linear", 57, 2.0, 7.0), ("tied", 57, 0.5, None)]
)
def test_other_mu_and_step_match_full_runs(model: str, d: int, mu: float, step) -> None:
    Q = minimal_example_basis(d)
    rng = np.random.default_rng([3, d])
    if model == "linear":
        full, m = [rng.standard_normal(d) / np.sqrt(d)], linear(d)
        reduced = np.stack([Q.T @ full[0]])
    else:
        step = 0.5 * tied_step(d, mu)
        full, m = [rng.standard_normal(d + 2) / np.sqrt(d) for _ in range(3)], tied(d)
        reduced = np.stack([np.concatenate([th[:2], Q.T @ th[2:]]) for th in full])
    got = iterations_to_solve(model, d, mu=mu, step=step, theta0=reduced)
    assert got.tolist() == [_full_count(m, d, mu, step, th) for th in full]


def _numpy_count(model: str, d: int, theta: np.ndarray, step: float, max_iter: int) -> int:
    """An independent float64 NumPy loop of GD in the reduced coordinates
    (docs/theory/reduction.md, docs/theory/minimal-example.md)."""
    red = minimal_example_reduced(d)
    A = red.y[:, None] * red.X  # a_i = y_i x_i in the basis Q
    PA = A[:, [1, 0, 2]]
    for t in range(max_iter + 1):
        if model == "linear":
            m = A @ theta
        else:
            m = theta[0] * (A @ theta[2:]) + theta[1] * (PA @ theta[2:])
        if np.all(m > 0):
            return t
        p = expit(-m)
        if model == "linear":
            grad_sum = A.T @ p
        else:
            w = theta[2:]
            grad_sum = np.concatenate(
                [[p @ (A @ w), p @ (PA @ w)], theta[0] * A.T @ p + theta[1] * PA.T @ p]
            )
        theta = theta + step / 2 * grad_sum
    return -1


@pytest.mark.parametrize(("model", "d"), [("linear", 30_000), ("tied", 10**6)])
def test_large_d_counts_equal_independent_numpy_loop(model: str, d: int) -> None:
    theta0 = reduced_init(model, d, seeds=3, seed=5)
    step = 1.0 if model == "linear" else tied_step(d)
    got = iterations_to_solve(model, d, seeds=3, seed=5)
    max_iter = default_max_iter(model, d)
    if model == "linear":  # v_0 = 0: the three runs coincide; one NumPy run suffices
        want = [_numpy_count(model, d, theta0[0], step, max_iter)] * 3
    else:
        want = [_numpy_count(model, d, th, step, max_iter) for th in theta0]
    assert got.tolist() == want
    assert min(want) > 0


def test_reduced_init_is_the_documented_scheme() -> None:
    got = reduced_init("tied", 1000, seeds=4, seed=9)
    z = [np.random.default_rng([9, 1000, r]).standard_normal(5) for r in range(4)]
    want = 1.0 / np.sqrt(1000) * np.stack(z)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(reduced_init("linear", 1000, seeds=3, seed=9), np.zeros((3, 3)))
    assert reduced_init("tied", 2, seeds=1, seed=0).shape == (1, 4)  # k = min(d, 3) = 2


def test_identical_and_distinct_rows_are_independent_runs() -> None:
    d = 5000
    rows = reduced_init("tied", d, seeds=3, seed=1)
    batch = np.stack([rows[0], rows[1], rows[0], rows[2], rows[1]])
    got = iterations_to_solve("tied", d, theta0=batch)
    single = [int(iterations_to_solve("tied", d, theta0=r[None])[0]) for r in rows]
    assert got.tolist() == [single[0], single[1], single[0], single[2], single[1]]
    assert len(set(single)) > 1  # the random starts do give different counts


def test_budget_boundary_and_unsolved_marker() -> None:
    d = 1000
    n = int(iterations_to_solve("linear", d, seeds=1)[0])
    assert iterations_to_solve("linear", d, seeds=1, max_iter=n).tolist() == [n]
    assert iterations_to_solve("linear", d, seeds=2, max_iter=n - 1).tolist() == [-1, -1]


def test_counts_are_deterministic_and_depend_on_seed() -> None:
    a = iterations_to_solve("tied", 3000, seeds=6, seed=4)
    b = iterations_to_solve("tied", 3000, seeds=6, seed=4)
    c = iterations_to_solve("tied", 3000, seeds=6, seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sweep_summaries_and_determinism() -> None:
    ds = [10, 100, 1000]
    calls: list[tuple[int, int]] = []
    one = complexity_sweep(ds, seeds=5, seed=2, progress=lambda i, n: calls.append((i, n)))
    two = complexity_sweep(ds, seeds=5, seed=2)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    for name in ("linear", "tied"):
        for key in ("counts", "median", "q25", "q75", "unsolved", "d", "step"):
            assert one[name][key] == two[name][key]
        for j, d in enumerate(ds):
            counts = np.array(one[name]["counts"][j])
            want = iterations_to_solve(name, d, seeds=5, seed=2, step=one[name]["step"][j])
            np.testing.assert_array_equal(counts, want)
            q = np.percentile(counts, [25, 50, 75])
            assert [one[name]["q25"][j], one[name]["median"][j], one[name]["q75"][j]] == q.tolist()
    assert one["tied"]["step"] == [1 / lambda2(d) for d in ds]
    assert one["config"]["seeds"] == 5 and one["config"]["ds"] == ds
    assert len(DEFAULT_DS) >= 13 and DEFAULT_DS[0] == 10 and DEFAULT_DS[-1] == 10**7


def _synthetic(alpha: float, C: float, sigma: float, rng, S: int = 16):
    d = np.unique(np.round(np.logspace(1, 7, 13))).astype(int)
    counts = [np.round(C * dd**alpha * np.exp(sigma * rng.standard_normal(S))) for dd in d]
    return d, counts


@pytest.mark.parametrize("alpha", [0.5, 1.0, 0.75])
def test_slope_recovers_a_known_exponent(alpha: float) -> None:
    d, counts = _synthetic(alpha, 20.0, 0.5, np.random.default_rng(int(alpha * 100)))
    slope, (lo, hi) = fit_loglog_slope(d, counts, seed=1)
    medians = np.array([np.median(c) for c in counts])
    assert slope == pytest.approx(np.polyfit(np.log(d), np.log(medians + 1.0), 1)[0], rel=1e-12)
    assert lo < alpha < hi
    assert hi - lo < 0.15


def test_slope_ci_coverage_is_near_95_percent() -> None:
    rng = np.random.default_rng(2024)
    trials, covered = 300, 0
    for _ in range(trials):
        d, counts = _synthetic(0.5, 1e3, 0.8, rng)  # offset 1 negligible at C = 1000
        _, (lo, hi) = fit_loglog_slope(d, counts, n_boot=300, seed=int(rng.integers(1 << 30)))
        covered += lo < 0.5 < hi
    # a 95% interval: binomial(300, 0.95) hits have sd 3.8; accept >= mean - 4 sd
    assert covered >= trials * 0.95 - 4 * 3.8


def test_identical_counts_give_a_point_interval() -> None:
    d = [10, 100, 1000]
    slope, ci = fit_loglog_slope(d, [[19] * 4, [199] * 4, [1999] * 4])
    assert slope == pytest.approx(1.0, rel=1e-12)  # log(count + 1) = log(2 d) exactly
    assert ci == (slope, slope)


def test_unsolved_runs_raise_or_count_as_max_iter() -> None:
    d = [10, 100, 1000]
    counts = [[5, 6, 7], [50, -1, 70], [500, 600, -1]]
    with pytest.raises(GDPerceptronError, match="unsolved"):
        fit_loglog_slope(d, counts)
    filled = [[5, 6, 7], [50, 99, 70], [500, 600, 999]]
    assert fit_loglog_slope(d, counts, max_iter=[10, 99, 999]) == fit_loglog_slope(d, filled)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: iterations_to_solve("mlp", 10), "unknown model"),
        (lambda: iterations_to_solve("linear", 1), "d must be"),
        (lambda: iterations_to_solve("linear", 10.5), "d must be"),
        (lambda: iterations_to_solve("tied", 10, mu=0.0), "mu must be"),
        (lambda: iterations_to_solve("tied", 10, step=-1.0), "step must be"),
        (lambda: iterations_to_solve("tied", 10, seeds=0), "seeds must be"),
        (lambda: iterations_to_solve("tied", 10, max_iter=-1), "max_iter must be"),
        (lambda: iterations_to_solve("tied", 10, init_scale=-1.0), "init_scale"),
        (lambda: iterations_to_solve("tied", 10, theta0=np.zeros((2, 3))), "shape"),
        (lambda: iterations_to_solve("linear", 10, theta0=[[np.nan, 0, 0]]), "non-finite"),
        (lambda: complexity_sweep([10, 10]), "distinct"),
        (lambda: complexity_sweep([]), "non-empty"),
        (lambda: complexity_sweep([10], c=0.0), "step must be"),
        (lambda: fit_loglog_slope([10], [[1]]), ">= 2 values"),
        (lambda: fit_loglog_slope([10, 100], [[1]]), ">= 2 values"),
        (lambda: fit_loglog_slope([10, 10], [[1], [2]]), "not all equal"),
        (lambda: fit_loglog_slope([10, 100], [[1], [-2]]), "integers"),
        (lambda: fit_loglog_slope([10, 100], [[1], [2.5]]), "integers"),
        (lambda: fit_loglog_slope([10, 100], [[1], []]), "non-empty"),
        (lambda: fit_loglog_slope([10, 100], [[0], [2]], offset=0.0), "logarithm"),
        (lambda: fit_loglog_slope([10, 100], [[1], [2]], n_boot=0), "n_boot"),
    ],
)
def test_bad_input_raises(call, match: str) -> None:
    with pytest.raises(GDPerceptronError, match=match):
        call()


def test_the_chunked_loop_gives_the_same_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    import gdperceptron.analysis.complexity as cx

    whole = cx.iterations_to_solve("tied", 300, seeds=5, seed=2)
    lin = cx.iterations_to_solve("linear", 300, seeds=2)
    monkeypatch.setattr(cx, "PASSES_PER_CALL", 7)  # many calls, each of 7 passes
    assert np.array_equal(cx.iterations_to_solve("tied", 300, seeds=5, seed=2), whole)
    assert np.array_equal(cx.iterations_to_solve("linear", 300, seeds=2), lin)
    assert lin[0] > 7 * 5
