"""Models (docs/theory/models.md): forward passes against hand-written NumPy, margin Jacobians
(jax.jacrev)
against central finite differences of the NumPy forward pass, seeded initialisation,
the tied model's quadratic form ``m_i = ½ θᵀ A(a_i) θ``, and input validation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gdperceptron import (
    ACTIVATIONS,
    GDPerceptronError,
    make_model,
    margins_fn,
    mlp,
    tied,
    two_layer,
)
from gdperceptron._jax import jax, jnp
from gdperceptron.analysis.spectral import (
    householder_involution,
    structured_matrix,
    swap_involution,
)
from gdperceptron.models.builtin import Model, linear

# ----------------------------------------------------------- NumPy reference models

NP_ACT: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.1 * z),  # slope 0.1 (models.two_layer)
    "tanh": np.tanh,
    "square": lambda z: z * z,
}


def np_linear(theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    return np.array([sum(theta[j] * x[j] for j in range(x.size)) for x in X])


def np_tied(P: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``f(x) = u_1 <w, x> + u_2 <w, P x>`` with an explicit dense P."""

    def f(theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        u1, u2, w = theta[0], theta[1], theta[2:]
        return np.array([u1 * np.dot(w, x) + u2 * np.dot(w, P @ x) for x in X])

    return f


def np_net(
    d: int, width: int, depth: int, act: str, fixed_u: bool = False
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``f(x) = u^T phi(W_{L-1} ... phi(W_1 x))``; theta = (vec W_1, ..., vec W_{L-1}, u),
    row-major; a fixed u is ``(+1, -1, +1, ...) / sqrt(width)``."""
    phi = NP_ACT[act]
    shapes = [(width, d)] + [(width, width)] * (depth - 2)

    def f(theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        Ws, k = [], 0
        for r, c in shapes:
            Ws.append(theta[k : k + r * c].reshape(r, c))
            k += r * c
        if fixed_u:
            u = np.array([(-1.0) ** j for j in range(width)]) / np.sqrt(width)
            assert k == theta.size
        else:
            u = theta[k:]
            assert u.size == width
        out = []
        for x in X:
            h = x
            for W in Ws:
                h = phi(W @ h)
            out.append(float(u @ h))
        return np.array(out)

    return f


D = 4
WIDTH = 5
P_HOUSE = householder_involution(np.random.default_rng(7).standard_normal(D))


def _cases() -> list[tuple[str, Callable[[], Model], Callable]]:
    cases: list[tuple[str, Callable[[], Model], Callable]] = [
        ("linear", lambda: linear(D), np_linear),
        ("tied-swap", lambda: tied(D), np_tied(swap_involution(D))),
        ("tied-householder", lambda: tied(D, P_HOUSE), np_tied(P_HOUSE)),
    ]
    for act in ACTIVATIONS:
        cases.append(
            (
                f"two-layer-{act}",
                lambda act=act: two_layer(D, WIDTH, act),
                np_net(D, WIDTH, 2, act),
            )
        )
        cases.append(
            (
                f"two-layer-fixed-{act}",
                lambda act=act: two_layer(D, WIDTH, act, train_second_layer=False),
                np_net(D, WIDTH, 2, act, fixed_u=True),
            )
        )
    for depth in (3, 4):
        for act in ("relu", "tanh", "square"):
            cases.append(
                (
                    f"mlp{depth}-{act}",
                    lambda depth=depth, act=act: mlp(D, WIDTH, depth, act),
                    np_net(D, WIDTH, depth, act),
                )
            )
    return cases


CASES = _cases()
IDS = [c[0] for c in CASES]


def _data(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    return X, y


@pytest.mark.parametrize(("name", "build", "ref"), CASES, ids=IDS)
def test_apply_matches_numpy_forward(name: str, build: Callable, ref: Callable) -> None:
    model = build()
    X, _ = _data()
    theta = np.random.default_rng(1).standard_normal(model.n_params)
    got = np.asarray(model.apply(jnp.asarray(theta), jnp.asarray(X)))
    assert got.shape == (X.shape[0],) and got.dtype == np.float64
    np.testing.assert_allclose(got, ref(theta, X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "build", "ref"), CASES, ids=IDS)
def test_margin_jacobian_matches_finite_differences(
    name: str, build: Callable, ref: Callable
) -> None:
    model = build()
    X, y = _data(seed=2)
    theta = 0.7 * np.random.default_rng(3).standard_normal(model.n_params)
    J = np.asarray(jax.jacrev(margins_fn(model, jnp.asarray(X), jnp.asarray(y)))(theta))
    assert J.shape == (X.shape[0], model.n_params)
    # central differences of the NumPy margins y * f: error O(h^2 |f'''|) + O(eps |f| / h);
    # h = 1e-5 gives ~1e-10. ReLU kinks: a pre-activation within h of 0 has probability
    # ~1e-5 per unit for Gaussian data and weights, and these seeds avoid them.
    h = 1e-5
    fd = np.empty_like(J)
    for j in range(model.n_params):
        e = np.zeros(model.n_params)
        e[j] = h
        fd[:, j] = y * (ref(theta + e, X) - ref(theta - e, X)) / (2 * h)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8 * (1 + np.abs(fd).max()))


# ----------------------------------------------------------------- initialisation


@pytest.mark.parametrize(("name", "build", "ref"), CASES, ids=IDS)
def test_init_is_seeded_and_zero_scale_gives_zeros(
    name: str, build: Callable, ref: Callable
) -> None:
    model = build()
    a, b = model.initial_params(11, 1.0), model.initial_params(11, 1.0)
    assert a.shape == (model.n_params,) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.initial_params(12, 1.0))
    # the scale multiplies the same draw
    np.testing.assert_allclose(model.initial_params(11, 2.5), 2.5 * a, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(model.initial_params(11, 0.0), np.zeros(model.n_params))
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(GDPerceptronError):
            model.initial_params(0, bad)


def _check_normal(sample: np.ndarray, sd: float) -> None:
    """Sample mean and standard deviation of N(0, sd^2) draws: the standard errors are
    sd / sqrt(N) and about sd / sqrt(2N); allow 5 standard errors."""
    N = sample.size
    assert abs(sample.mean()) <= 5 * sd / np.sqrt(N)
    assert abs(sample.std() / sd - 1) <= 5 / np.sqrt(2 * N)


def test_init_scale_linear_and_tied() -> None:
    d, scale = 20_000, 1.7
    assert np.array_equal(linear(d).initial_params(0), np.zeros(d))  # default v_0 = 0
    _check_normal(linear(d).initial_params(0, scale), scale / np.sqrt(d))
    # tied: every coordinate (u included) N(0, scale^2 / d); default scale 1
    # (docs/theory/minimal-example.md)
    model = tied(d)
    _check_normal(model.initial_params(1, scale), scale / np.sqrt(d))
    _check_normal(model.initial_params(1), 1 / np.sqrt(d))


def test_init_scale_networks() -> None:
    # each weight matrix with fan-in k has coordinates N(0, scale^2 / k)
    d, m, scale, seeds = 120, 90, 0.8, range(40)
    two = two_layer(d, m, "tanh")
    draws = np.stack([two.initial_params(s, scale) for s in seeds])
    _check_normal(draws[:, : m * d], scale / np.sqrt(d))
    _check_normal(draws[:, m * d :], scale / np.sqrt(m))
    deep = mlp(d, m, 4, "relu")
    draws = np.stack([deep.initial_params(s, scale) for s in seeds[:5]])
    k = [0, m * d, m * d + m * m, m * d + 2 * m * m, m * d + 2 * m * m + m]
    assert deep.n_params == k[-1]
    _check_normal(draws[:, k[0] : k[1]], scale / np.sqrt(d))
    _check_normal(draws[:, k[1] : k[2]], scale / np.sqrt(m))
    _check_normal(draws[:, k[2] : k[3]], scale / np.sqrt(m))
    _check_normal(
        np.stack([deep.initial_params(s, scale)[k[3] :] for s in seeds]), scale / np.sqrt(m)
    )


# ---------------------------------------------------------- tied model: ½ θᵀ A θ


@pytest.mark.parametrize("which", ["swap", "householder", "householder-large"])
def test_tied_margins_are_quadratic_forms(which: str) -> None:
    rng = np.random.default_rng(5)
    d = 9 if which != "householder-large" else 40
    P = swap_involution(d) if which == "swap" else householder_involution(rng.standard_normal(d))
    model = tied(d) if which == "swap" else tied(d, P)
    if which == "swap":
        np.testing.assert_array_equal(model.info["P"].dense(), P)  # default P swaps 1 and 2
    X = rng.standard_normal((7, d))
    y = np.array([1.0, -1, 1, 1, -1, -1, 1])
    theta = rng.standard_normal(d + 2)
    m = np.asarray(margins_fn(model, jnp.asarray(X), jnp.asarray(y))(theta))
    quad = np.array([0.5 * theta @ structured_matrix(y[i] * X[i], P) @ theta for i in range(7)])
    np.testing.assert_allclose(m, quad, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------- bad inputs


def test_bad_inputs_raise() -> None:
    rng = np.random.default_rng(0)
    bad_calls: list[Callable[[], object]] = [
        lambda: make_model("resnet", 3),
        lambda: two_layer(3, 4, "sigmoid"),
        lambda: mlp(3, 4, 3, "gelu"),
        lambda: make_model("two-layer", 3, activation="softmax"),
        lambda: tied(1),
        lambda: make_model("tied", 1),
        lambda: linear(0),
        lambda: linear(2.5),
        lambda: two_layer(3, 0),
        lambda: mlp(3, 0),
        lambda: mlp(3, 4, 1),
        lambda: mlp(3, 4, 0),
        # not an involution: a random matrix, a non-symmetric rotation, a scaled reflection
        lambda: tied(3, rng.standard_normal((3, 3))),
        lambda: tied(2, np.array([[0.0, -1.0], [1.0, 0.0]])),
        lambda: tied(3, 2 * householder_involution(np.ones(3))),
        # P of the wrong size or shape, or not finite
        lambda: tied(3, swap_involution(4)),
        lambda: tied(4, swap_involution(3)),
        lambda: tied(3, np.eye(3)[:2]),
        lambda: tied(3, np.full((3, 3), np.nan)),
    ]
    for call in bad_calls:
        with pytest.raises(GDPerceptronError):
            call()


def test_valid_involutions_accepted() -> None:
    # the identity and -I are (trivial) involutions; a signed swap too
    for P in (np.eye(3), -np.eye(3), np.array([[0.0, -1, 0], [-1, 0, 0], [0, 0, 1]])):
        model = tied(3, P)
        theta = np.arange(1.0, 6.0)
        X = np.array([[1.0, 2.0, 3.0]])
        expected = theta[0] * X[0] @ theta[2:] + theta[1] * (P @ X[0]) @ theta[2:]
        assert float(model.apply(jnp.asarray(theta), jnp.asarray(X))[0]) == pytest.approx(
            expected, rel=1e-14
        )
