"""Sharpness (docs/theory/diagnostics.md): Lanczos on Hessian-vector products against
``numpy.linalg.eigvalsh`` of the dense ``jax.hessian`` on small models, the closed form of
the linear model, determinism, and the record along a run."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from gdperceptron import (
    GDPerceptronError,
    gaussian,
    linear,
    loss_fn,
    make_dataset,
    minimal_example,
    tied,
    two_layer,
)
from gdperceptron._jax import jax, jnp
from gdperceptron.analysis.sharpness import sharpness, sharpness_along, sharpness_paths


def dense_top(model, data, theta) -> float:
    H = np.asarray(jax.hessian(loss_fn(model, jnp.asarray(data.X), jnp.asarray(data.y)))(
        jnp.asarray(theta)))  # fmt: skip
    return float(np.linalg.eigvalsh(0.5 * (H + H.T))[-1])


def _cases():
    data = gaussian(25, 4, seed=0)
    yield "linear", linear(4), data, np.random.default_rng(0).standard_normal(4)
    yield "tied", tied(6), minimal_example(6), tied(6).initial_params(1)
    net = two_layer(4, 5, "tanh")
    yield "two-layer-tanh", net, data, net.initial_params(2)
    relu = two_layer(4, 5, "relu")
    yield "two-layer-relu", relu, data, relu.initial_params(3)
    yield "linear-d2", linear(2), gaussian(10, 2, seed=1), np.array([0.3, -0.2])


CASES = list(_cases())


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_sharpness_equals_dense_eigvalsh(case) -> None:
    _, model, data, theta = case
    got = sharpness(model, data, theta)
    want = dense_top(model, data, theta)
    assert got == pytest.approx(want, rel=1e-8, abs=1e-12)
    assert sharpness(model, data, theta) == got  # deterministic: seeded start vector


def test_linear_closed_form() -> None:
    # F = (1/n) sum log(1 + e^{-<v, a_i>}): grad^2 F = (1/n) sum s_i (1 - s_i) a_i a_i^T
    data = gaussian(30, 5, seed=2)
    v = np.random.default_rng(1).standard_normal(5)
    s = expit(data.A @ v)
    H = (data.A.T * (s * (1 - s))) @ data.A / data.n
    assert sharpness(linear(5), data, v) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-10)


def test_sharpness_along_a_run() -> None:
    data = gaussian(25, 4, seed=0)
    model = linear(4)
    path = sharpness_along(model, data, "gd", 2.0, theta0=np.zeros(4), max_iter=40, every=10)
    assert path.iterations.tolist() == [0, 10, 20, 30, 40] and path.edge == 1.0
    # at v = 0 every weight is sigma'(0) = 1/4: grad^2 F = (1/(4n)) A^T A
    H0 = data.A.T @ data.A / (4 * data.n)
    assert path.sharpness[0] == pytest.approx(np.linalg.eigvalsh(H0)[-1], rel=1e-10)
    assert np.all(np.diff(path.sharpness) < 0)  # margins grow: the curvature decays


def test_bad_input() -> None:
    data = make_dataset(np.eye(3), np.array([1.0, -1.0, 1.0]))
    with pytest.raises(GDPerceptronError, match="theta"):
        sharpness(linear(3), data, np.array([np.nan, 0.0, 0.0]))
    with pytest.raises(GDPerceptronError, match="theta"):
        sharpness(linear(3), data, np.zeros(4))


def test_sharpness_paths_leave_out_runs_that_overflow() -> None:
    # the tied model on the minimal example: step 0.1 separates, step 100 overflows
    model, data = tied(20), minimal_example(20)
    th = model.initial_params(0)
    paths = sharpness_paths(model, data, "gd", [0.1, 100.0], theta0=th, max_iter=400, every=100)
    assert [p.step for p in paths] == [0.1]
    one = sharpness_along(model, data, "gd", 0.1, theta0=th, max_iter=400, every=100)
    np.testing.assert_array_equal(paths[0].sharpness, one.sharpness)
    assert paths[0].sharpness[0] == pytest.approx(dense_top(model, data, th), rel=1e-8)
