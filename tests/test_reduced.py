"""The exact reduced simulator (docs/theory/minimal-example.md) against the full d-dimensional run.

The independent computation is always :func:`gdperceptron.trajectory.run` on the original
data; the reduced engine must give the same solved iteration, stop reason and
misclassified counts, and the same loss / min margin / gradient norm / parameter norm at
every recorded iteration to 1e-9 relative (scale: the largest magnitude of that metric
along the full trajectory). Runs stop when solved: after separation, long runs of the tied
model are chaotic and two float64 implementations drift apart.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from reference import lambda2 as ref_lambda2

from gdperceptron import (
    GDPerceptronError,
    RunConfig,
    execute,
    gaussian,
    linear,
    make_dataset,
    minimal_example,
    mlp,
    run,
    tied,
    two_layer,
)
from gdperceptron.analysis.spectral import random_involution
from gdperceptron.cli import main
from gdperceptron.data.synthetic import minimal_example_basis, minimal_example_reduced
from gdperceptron.engines.reduced import (
    invariant_basis,
    lift,
    reduce_params,
    reduce_problem,
    run_reduced,
    run_reduced_problem,
)

RTOL = 1e-9


def _degree(model) -> int:
    """``L`` with ``|m_i(theta)| <= R ||theta||^L`` (``R = max ||x_i||``; activations with
    ``|phi(z)| <= |z|``): 1 linear, 2 tied (``|u_1| + |u_2| <= sqrt 2 ||u||`` and
    ``||u|| ||w|| <= ||theta||^2 / 2``), 2 or 1 two-layer (trained or fixed ``||u|| = 1``),
    ``depth`` for the mlp (a product of layer norms, each ``<= ||theta||``)."""
    if model.name == "two-layer":
        return 2 if model.info["train_second_layer"] else 1
    return {"linear": 1, "tied": 2, "mlp": model.info.get("depth", 0)}[model.name]


def _assert_same_run(full, red, model, data, problem=None) -> None:
    """Same stop, same counts; metrics equal to RTOL relative to their a-priori scale at
    each iteration: margins and loss (``|d softplus / dm| <= 1``) to ``R ||theta_t||^L``,
    gradient norms to ``L R ||theta_t||^(L-1)`` (the bound on ``||grad m_i||``)."""
    assert red.stop_reason == full.stop_reason
    assert red.solved_iteration == full.solved_iteration
    assert red.n_steps == full.n_steps
    np.testing.assert_array_equal(red.iterations, full.iterations)
    np.testing.assert_array_equal(red["n_misclassified"], full["n_misclassified"])
    R, L = np.max(np.linalg.norm(data.X, axis=1)), _degree(model)
    pn = full["param_norm"]
    np.testing.assert_allclose(red["param_norm"], pn, rtol=RTOL, atol=0)
    margin_scale = R * pn**L
    for key, scale in (
        ("min_margin", margin_scale),
        ("loss", margin_scale),
        ("grad_norm", L * R * pn ** (L - 1)),
    ):
        diff = np.abs(red[key] - full[key])
        assert np.all(diff <= RTOL * (np.abs(full[key]) + scale)), key
    assert red.config["engine"] == "reduced" and red.config["d"] == data.d
    if problem is not None:
        assert red.config["k"] == problem.k
        theta = lift(problem, red.final_params)
        scale = np.linalg.norm(full.final_params)
        np.testing.assert_allclose(theta, full.final_params, rtol=0, atol=RTOL * scale)
        # margins of the lifted parameters, recomputed with the d-dimensional model
        m = data.y * np.asarray(model.apply(theta, data.X))
        scale = R * np.linalg.norm(full.final_params) ** L
        np.testing.assert_allclose(m, full.final_margins, rtol=RTOL, atol=RTOL * scale)


def _compare(model, data, algorithm, step, theta0, max_iter=5000, basis=None):
    full = run(model, data, algorithm, step, theta0=theta0, max_iter=max_iter)
    problem = reduce_problem(model, data, theta0, basis=basis)
    red = run_reduced_problem(problem, algorithm, step, max_iter=max_iter)
    _assert_same_run(full, red, model, data, problem)
    return full, red, problem


# ------------------------------------------------------------ tied model, minimal example
# Each (model structure, d, n, algorithm) costs one compilation of the full engine (the
# reduced one compiles once per k): the grids vary mu, step and seed freely and choose
# the (d, algorithm) pairs.


@pytest.mark.parametrize(
    ("d", "algorithm"),
    [(3, "gd"), (10, "perceptron"), (100, "gd"), (2000, "perceptron")],
)
def test_tied_minimal_example_grid(d: int, algorithm: str) -> None:
    model = tied(d)
    solved = 0
    for mu in (0.5, 1.0, 2.0):
        data = minimal_example(d, mu)
        for c in (0.5, 1.0, 2.0):
            for seed in (0, 1):
                theta0 = model.initial_params(seed)
                full, red, problem = _compare(
                    model, data, algorithm, c / ref_lambda2(d, mu), theta0
                )
                assert problem.k == 3  # span{1_d, e_1, e_2} (d >= 3)
                solved += full.solved
    assert solved >= 12  # the grid exercises solved runs, not only max_iter ones


def test_tied_normalized_perceptron() -> None:
    """(normalized-gd is checked on the two-layer network below.)"""
    d = 100
    model = tied(d)
    for mu, seed in ((0.5, 0), (1.0, 1), (2.0, 2)):
        data = minimal_example(d, mu)
        step = 1.0 / ref_lambda2(d, mu)
        _compare(model, data, "normalized-perceptron", step, model.initial_params(seed))


@pytest.mark.parametrize(
    ("d", "kind", "algorithm"), [(3, "householder", "gd"), (10, "signed_pairs", "perceptron")]
)
def test_tied_dense_involution(d: int, kind: str, algorithm: str) -> None:
    P = random_involution(d, np.random.default_rng(d), kind)
    model = tied(d, P)
    n = 2 if d == 3 else 4
    for seed in (0, 1, 2):
        data = gaussian(n, d, 0.2, seed=seed)
        theta0 = model.initial_params(seed, 1.0)
        step = 1.0 / np.max(np.linalg.norm(data.X, axis=1))
        _, _, problem = _compare(model, data, algorithm, step, theta0, max_iter=3000)
        assert problem.k == np.linalg.matrix_rank(np.vstack([data.X, data.X @ P]))
        # P~ = Q^T P Q, independently with the dense P
        Q = problem.basis
        np.testing.assert_allclose(problem.model.info["P"].dense(), Q.T @ P @ Q, atol=1e-10)


# ------------------------------------------------------------------- linear model


@pytest.mark.parametrize(("d", "algorithm"), [(3, "gd"), (2000, "perceptron")])
def test_linear_gaussian(d: int, algorithm: str) -> None:
    model = linear(d)
    n = min(d - 1, 20)
    for seed in (0, 1):
        data = gaussian(n, d, 0.1, seed=seed)
        _, _, problem = _compare(model, data, algorithm, 1.0, np.zeros(d))
        assert problem.k == np.linalg.matrix_rank(data.X) == n
        assert problem.perp_norm == 0.0
        theta0 = model.initial_params(seed, 1.0)  # nonzero start: the remainder matters
        _, red, problem = _compare(model, data, algorithm, 1.0, theta0)
        v = theta0 - problem.basis @ (problem.basis.T @ theta0)
        np.testing.assert_allclose(problem.perp_norm, np.linalg.norm(v), rtol=1e-12)
        np.testing.assert_allclose(red["param_norm"][0], np.linalg.norm(theta0), rtol=1e-12)


def test_linear_minimal_example() -> None:
    """Omega(d) iterations of the linear model on the minimal example
    (docs/theory/minimal-example.md), step 1:
    LR+GD from 0 and the hard perceptron from a small random start. (Not mu = 2: there
    LR+GD with step 1 is ill-conditioned before separation, a 1e-16 change of v_0 moves
    ||v_t|| by 5e-5 relative and the solved iteration by one, in the full engine alone.)"""
    d = 2000
    model = linear(d)
    for mu in (0.5, 1.0):
        data = minimal_example(d, mu)
        for algorithm, theta0 in (
            ("gd", np.zeros(d)),
            ("perceptron", model.initial_params(1, 1e-2)),
        ):
            full, _, _ = _compare(model, data, algorithm, 1.0, theta0, max_iter=20_000)
            assert full.solved and full.solved_iteration > d / 4


def test_exact_ties_are_decided_by_rounding() -> None:
    """The hard perceptron from v_0 = 0 on integer data meets a margin that is exactly 0 in
    exact arithmetic (hard weight 1/2, not solved). The full engine computes it exactly
    (dyadic numbers); the reduced one has an irrational basis, so its margin there is a
    rounding error away from 0 and the two runs may part. Up to that tie they agree."""
    d = 2000
    data = minimal_example(d, 1.0)
    model = linear(d)
    full = run(model, data, "perceptron", 1.0, theta0=np.zeros(d), max_iter=20_000)
    red = run_reduced(model, data, "perceptron", 1.0, theta0=np.zeros(d), max_iter=20_000)
    ties = np.nonzero(full["min_margin"] == 0.0)[0]
    tie = int(ties[ties > 0][0])  # t = 0 is the trivial tie v_0 = 0
    R = np.max(np.linalg.norm(data.X, axis=1))
    head = slice(0, tie)
    np.testing.assert_array_equal(red["n_misclassified"][head], full["n_misclassified"][head])
    diff = np.abs(red["min_margin"][head] - full["min_margin"][head])
    assert np.all(diff <= RTOL * R * full["param_norm"][head])
    assert abs(red["min_margin"][tie]) <= RTOL * R * full["param_norm"][tie]


# ----------------------------------------------------------------------- networks


@pytest.mark.parametrize(
    ("activation", "train_second", "algorithm"),
    [("relu", True, "perceptron"), ("tanh", False, "normalized-gd")],
)
def test_two_layer(activation: str, train_second: bool, algorithm: str) -> None:
    d, n, width = 50, 10, 6
    model = two_layer(d, width, activation, train_second_layer=train_second)
    for seed in (0, 1):
        data = gaussian(n, d, 0.1, seed=seed)
        theta0 = model.initial_params(seed)
        _, _, problem = _compare(model, data, algorithm, 2.0, theta0, max_iter=2000)
        assert problem.k == n
        assert problem.model.n_params == model.n_params - width * (d - n)


def test_mlp() -> None:
    d, n = 40, 8
    data = gaussian(n, d, 0.1, seed=5)
    deep = mlp(d, width=4, depth=3, activation="tanh")
    _compare(deep, data, "gd", 1.0, deep.initial_params(3), max_iter=2000)


# ------------------------------------------------------------- basis and parameters


def test_closed_form_basis_matches_qr() -> None:
    """minimal_example_basis (closed form) against the pivoted-QR basis: the same reduced
    data as data.minimal_example_reduced, the same trajectories."""
    for d in (3, 10, 1000):
        for mu in (0.5, 2.0):
            data = minimal_example(d, mu)
            Q = minimal_example_basis(d)
            model = tied(d)
            theta0 = model.initial_params(7)
            closed = reduce_problem(model, data, theta0, basis=Q)
            np.testing.assert_allclose(
                closed.data.X, minimal_example_reduced(d, mu).X, rtol=1e-14, atol=1e-14
            )
            qr = reduce_problem(model, data, theta0)
            # same subspace: the projectors agree
            np.testing.assert_allclose(qr.basis @ qr.basis.T, Q @ Q.T, atol=1e-12 * np.sqrt(d))
            step = 1.0 / ref_lambda2(d, mu)
            a = run_reduced_problem(closed, "gd", step)
            b = run_reduced_problem(qr, "gd", step)
            assert a.solved_iteration is not None
            _assert_same_run(a, b, model, data)


def test_lift_round_trip_and_projection() -> None:
    rng = np.random.default_rng(0)
    d, n = 30, 5
    data = gaussian(n, d, 0.1, seed=1)
    models = [
        linear(d),
        tied(d),
        tied(d, random_involution(d, rng, "householder")),
        two_layer(d, 3, "tanh"),
        two_layer(d, 3, "relu", train_second_layer=False),
        mlp(d, 3, 3, "relu"),
    ]
    for model in models:
        theta0 = rng.standard_normal(model.n_params)
        problem = reduce_problem(model, data, theta0)
        Q = problem.basis
        np.testing.assert_allclose(Q.T @ Q, np.eye(problem.k), atol=1e-13)
        # lift of the reduced start is the start itself
        np.testing.assert_allclose(lift(problem, problem.theta0), theta0, atol=1e-13)
        t = rng.standard_normal(problem.model.n_params)
        np.testing.assert_allclose(reduce_params(problem, lift(problem, t)), t, atol=1e-13)
        # ||lift(t)||^2 = ||t||^2 + ||theta_perp||^2 (orthogonal decomposition)
        np.testing.assert_allclose(
            np.linalg.norm(lift(problem, t)) ** 2,
            np.linalg.norm(t) ** 2 + problem.perp_norm**2,
            rtol=1e-12,
        )
        # margins of reduced parameters on reduced data = margins of lifted ones on X
        m_red = problem.data.y * np.asarray(problem.model.apply(t, problem.data.X))
        m_full = data.y * np.asarray(model.apply(lift(problem, t), data.X))
        np.testing.assert_allclose(m_red, m_full, rtol=1e-10, atol=1e-10 * np.abs(m_full).max())
        with pytest.raises(GDPerceptronError):
            lift(problem, t[:-1])
        with pytest.raises(GDPerceptronError):
            reduce_params(problem, theta0[:-1])


def test_rank_deficient_and_padded_bases() -> None:
    """Duplicate / collinear samples: the pivoted QR drops dependent directions, and the
    degenerate one-direction case is padded (k >= 2 for the tied model)."""
    rng = np.random.default_rng(3)
    d = 2000
    base = gaussian(16, d, 0.1, seed=2)
    same = base.y[0] == base.y  # a sum of same-label rows keeps the label's sign
    j = int(np.nonzero(same[1:])[0][0]) + 1
    extra = [base.X[0], base.X[1], 2.0 * base.X[2], base.X[0] + base.X[j]]
    X = np.vstack([base.X, *extra])
    y = np.concatenate([base.y, base.y[[0, 1, 2, 0]]])
    data = make_dataset(X, y)  # n = 20 samples, rank 16
    assert invariant_basis(linear(d), data).shape == (d, 16)
    _compare(linear(d), data, "perceptron", 1.0, rng.standard_normal(d))
    # a_1 = a_2 = 1_3 and P 1 = 1: span{x_i, P x_i} is one direction
    line = make_dataset(np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]), np.array([1.0, -1.0]))
    model = tied(3)
    problem = reduce_problem(model, line, model.initial_params(0))
    assert problem.k == 2
    _compare(model, line, "gd", 0.3, model.initial_params(0))
    assert invariant_basis(linear(3), line).shape == (3, 1)


def test_bad_input() -> None:
    d = 10
    data = minimal_example(d)
    model = tied(d)
    theta0 = model.initial_params(0)
    with pytest.raises(GDPerceptronError, match="shape"):
        reduce_problem(model, data, theta0[:-1])
    with pytest.raises(GDPerceptronError, match="features"):
        reduce_problem(tied(d + 1), data, np.zeros(d + 3))
    with pytest.raises(GDPerceptronError, match="orthonormal"):
        reduce_problem(model, data, theta0, basis=2.0 * minimal_example_basis(d))
    with pytest.raises(GDPerceptronError, match="span"):
        reduce_problem(model, data, theta0, basis=np.eye(d)[:, :3])
    with pytest.raises(GDPerceptronError, match="shape"):
        reduce_problem(model, data, theta0, basis=np.eye(d + 1))
    with pytest.raises(GDPerceptronError, match="rtol"):
        invariant_basis(model, data, rtol=2.0)
    # contains every x_i but is not mapped to itself by P: Q^T P Q is no involution
    Q, _ = np.linalg.qr(np.column_stack([np.ones(d), np.eye(d)[:, 0], np.eye(d)[:, 2]]))
    with pytest.raises(GDPerceptronError, match="span"):
        reduce_problem(model, data, theta0, basis=Q)


# ------------------------------------------------------------------- runner and CLI


def test_run_reduced_lifts_only_when_asked() -> None:
    d = 100
    data, model = minimal_example(d), tied(d)
    theta0 = model.initial_params(4)
    step = 1.0 / ref_lambda2(d, 1.0)
    red = run_reduced(model, data, "gd", step, theta0=theta0)
    assert red.final_params.shape == (5,) and red.config["params"] == "reduced"
    lifted = run_reduced(model, data, "gd", step, theta0=theta0, lift_params=True)
    assert lifted.final_params.shape == (d + 2,) and lifted.config["params"] == "full"
    full = run(model, data, "gd", step, theta0=theta0)
    _assert_same_run(full, lifted, model, data)
    scale = np.linalg.norm(full.final_params)
    np.testing.assert_allclose(lifted.final_params, full.final_params, atol=RTOL * scale)


def _cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["run", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_and_execute_engines_agree(capsys: pytest.CaptureFixture[str]) -> None:
    """``gdperceptron run --engine reduced/full/auto`` (in-process) give the same run.
    (Configurations shared with the tests above reuse their compilations.)"""
    runs = (
        ("--data", "gaussian", "--d", "2000", "--n", "20", "--algorithm", "perceptron"),
        ("--data", "minimal", "--d", "2000", "--mu", "1", "--algorithm", "gd"),
    )
    for args in runs:
        args = (*args, "--model", "linear", "--step", "1", "--seed", "1")
        out = {e: _cli_json(capsys, *args, "--engine", e) for e in ("reduced", "full", "auto")}
        assert [out[e]["engine"] for e in ("reduced", "full", "auto")] == [
            "reduced",
            "full",
            "reduced",
        ]
        # the same run: iterations, steps and stop reason (the metrics are compared to
        # 1e-9 above, where their a-priori scales are known)
        same = {(out[e]["iterations"], out[e]["n_steps"], out[e]["stop_reason"]) for e in out}
        assert len(same) == 1 and out["full"]["iterations"] is not None
    # the runner's trajectory carries the engine and k (gaussian: k = n = 20; minimal
    # example: the closed-form basis span{e_1, e_2, 1_d}, k = 3)
    cfg = RunConfig(data="gaussian", model="linear", d=2000, n=20, step=1.0, seed=1)
    assert execute(cfg.replace(algorithm="perceptron")).config["k"] == 20
    cfg = RunConfig(data="minimal", model="linear", d=2000, mu=1.0, step=1.0, seed=1)
    assert execute(cfg).config["k"] == 3
    # tied model, d = 3: k = 3 = d, so auto runs the full engine
    assert _cli_json(capsys, "--d", "3")["engine"] == "full"
    # n = 10 samples in d = 2: no QR (r = n >= d), auto runs the full engine
    args = ("--data", "worst-case", "--n", "10", "--model", "linear", "--step", "1")
    assert _cli_json(capsys, *args)["engine"] == "full"
    assert _cli_json(capsys, *args, "--engine", "reduced")["engine"] == "reduced"
