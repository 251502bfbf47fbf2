"""The reduction of docs/theory/reduction.md: one GD step on the logistic loss is a generalized
perceptron step

    θ_{t+1} = θ_t + (γ/n) Σ_i σ(-m_i) ∇m_i(θ_t),

checked with margin gradients written out by hand in NumPy for every model; the γ → ∞ limit
of the predecessor's Theorem 3.2 against an independent NumPy batch perceptron; the matrix
form of quadratic models; the error term ξ_t; and the normalized step sizes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy.special import expit

from gdperceptron import (
    error_term,
    gaussian,
    linear,
    loss_fn,
    loss_unreliable,
    make_dataset,
    mlp,
    perceptron_step,
    run,
    tied,
    two_layer,
    worst_case,
)
from gdperceptron._jax import jax, jnp
from gdperceptron.analysis.spectral import (
    householder_involution,
    structured_matrix,
    swap_involution,
)
from gdperceptron.models.builtin import Model

# ------------------------------------------- hand-written margins and their gradients

PHI = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.1 * z), lambda z: np.where(z > 0, 1.0, 0.1)),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "square": (lambda z: z * z, lambda z: 2.0 * z),
}

# A reference returns (m, G): margins (n,) and their gradients G[i] = ∇_θ m_i, (n, p).
Reference = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def ref_linear(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    A = y[:, None] * X  # ∇m_i = a_i
    return A @ theta, A


def ref_tied(P: np.ndarray) -> Reference:
    def ref(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u1, u2, w = theta[0], theta[1], theta[2:]
        A = y[:, None] * X
        PA = A @ P.T  # rows P a_i
        m = u1 * (A @ w) + u2 * (PA @ w)
        # ∂m/∂u1 = <w, a>, ∂m/∂u2 = <w, P a>, ∂m/∂w = u1 a + u2 P a  (= A(a) θ)
        G = np.column_stack([A @ w, PA @ w, u1 * A + u2 * PA])
        return m, G

    return ref


def ref_two_layer(d: int, width: int, act: str, fixed: bool = False) -> Reference:
    phi, dphi = PHI[act]

    def ref(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        W = theta[: width * d].reshape(width, d)
        u = (
            np.array([(-1.0) ** j for j in range(width)]) / np.sqrt(width)
            if fixed
            else theta[width * d :]
        )
        Z = X @ W.T  # (n, width), z_ij = <w_j, x_i>
        f = phi(Z) @ u
        # ∂f/∂W_jk = u_j φ'(z_j) x_k ;  ∂f/∂u_j = φ(z_j)
        dW = (u[None, :] * dphi(Z))[:, :, None] * X[:, None, :]
        grads = [dW.reshape(X.shape[0], -1)]
        if not fixed:
            grads.append(phi(Z))
        return y * f, y[:, None] * np.concatenate(grads, axis=1)

    return ref


def ref_mlp3(d: int, width: int, act: str) -> Reference:
    """f = uᵀ φ(W2 φ(W1 x)), backpropagation written out sample by sample."""
    phi, dphi = PHI[act]

    def ref(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k1, k2 = width * d, width * d + width * width
        W1, W2, u = theta[:k1].reshape(width, d), theta[k1:k2].reshape(width, width), theta[k2:]
        ms, gs = [], []
        for x, yi in zip(X, y, strict=True):
            z1 = W1 @ x
            h1 = phi(z1)
            z2 = W2 @ h1
            h2 = phi(z2)
            delta2 = u * dphi(z2)  # ∂f/∂z2
            delta1 = (W2.T @ delta2) * dphi(z1)  # ∂f/∂z1
            g = np.concatenate([np.outer(delta1, x).ravel(), np.outer(delta2, h1).ravel(), h2])
            ms.append(yi * (u @ h2))
            gs.append(yi * g)
        return np.array(ms), np.array(gs)

    return ref


D, WIDTH = 5, 4
P_HOUSE = householder_involution(np.random.default_rng(3).standard_normal(D))


def _cases() -> list[tuple[str, Model, Reference]]:
    cases = [
        ("linear", linear(D), ref_linear),
        ("tied-swap", tied(D), ref_tied(swap_involution(D))),
        ("tied-householder", tied(D, P_HOUSE), ref_tied(P_HOUSE)),
    ]
    for act in PHI:
        cases.append((f"two-layer-{act}", two_layer(D, WIDTH, act), ref_two_layer(D, WIDTH, act)))
        cases.append(
            (
                f"two-layer-fixed-{act}",
                two_layer(D, WIDTH, act, train_second_layer=False),
                ref_two_layer(D, WIDTH, act, fixed=True),
            )
        )
    for act in ("relu", "tanh", "square", "leaky_relu"):
        cases.append((f"mlp3-{act}", mlp(D, WIDTH, 3, act), ref_mlp3(D, WIDTH, act)))
    return cases


CASES = _cases()
IDS = [c[0] for c in CASES]


def _problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, D))
    y = np.where(rng.standard_normal(8) > 0, 1.0, -1.0)
    y[:2] = (1.0, -1.0)
    return X, y


def _close(a: np.ndarray, b: np.ndarray, scale: float, rel: float = 1e-12) -> None:
    """Entrywise |a - b| <= rel * scale (scale: the size of the vectors compared)."""
    assert np.max(np.abs(np.asarray(a) - np.asarray(b))) <= rel * scale


# ----------------------------------------------- (a) GD step = weighted perceptron step


@pytest.mark.parametrize(("name", "model", "ref"), CASES, ids=IDS)
def test_gd_step_is_a_weighted_perceptron_step(name: str, model: Model, ref: Reference) -> None:
    X, y = _problem()
    # the default scaling N(0, 1/fan-in) with init_scale 1.2 keeps every margin moderate
    theta = model.initial_params(1, 1.2)
    gamma = 0.9
    n = X.shape[0]
    m, G = ref(theta, X, y)
    # the margins really are moderate: the weights are neither 0 nor 1
    w = expit(-m)
    assert np.all((w > 1e-9) & (w < 1 - 1e-9))
    explicit = theta + gamma / n * (w @ G)  # θ + (γ/n) Σ σ(-m_i) ∇m_i, hand-written
    # jitted: one compilation each instead of many small eager ones (faster, same math)
    grad = jax.jit(jax.grad(loss_fn(model, X, y)))
    autodiff = theta - gamma * np.asarray(grad(jnp.asarray(theta)))
    library = np.asarray(jax.jit(perceptron_step(model, X, y, "gd", gamma))(jnp.asarray(theta)))
    scale = np.abs(theta).max() + gamma / n * np.abs(w) @ np.abs(G).max(axis=1)
    _close(autodiff, explicit, scale)
    _close(library, explicit, scale)
    assert np.linalg.norm(explicit - theta) > 1e-3 * scale  # the step is not trivial


HARD_CASES = [
    c
    for c in CASES
    if c[0]
    in ("linear", "tied-householder", "two-layer-relu", "two-layer-fixed-tanh", "mlp3-leaky_relu")
]


@pytest.mark.parametrize(("name", "model", "ref"), HARD_CASES, ids=[c[0] for c in HARD_CASES])
def test_hard_perceptron_step_uses_hard_weights(name: str, model: Model, ref: Reference) -> None:
    X, y = _problem(seed=4)
    theta = np.random.default_rng(2).standard_normal(model.n_params)
    gamma, n = 2.0, X.shape[0]
    m, G = ref(theta, X, y)
    h = np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0))
    explicit = theta + gamma / n * (h @ G)
    library = np.asarray(perceptron_step(model, X, y, "perceptron", gamma)(jnp.asarray(theta)))
    _close(library, explicit, np.abs(theta).max() + gamma * np.abs(G).max())


# ----------------------------------------------------- (b) predecessor Theorem 3.2


def np_batch_perceptron(A: np.ndarray, T: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """v̂_1 = (1/(2n)) Σ a_i, v̂_{t+1} = v̂_t + (1/n) Σ_{i ∈ S_t} a_i, S_t = {i : <a_i, v̂_t> <= 0}.
    Returns v̂_0 = 0, ..., v̂_T and the sets S_0 (everything), ..., S_T (boolean masks)."""
    n = A.shape[0]
    vs = [np.zeros(A.shape[1]), A.sum(axis=0) / (2 * n)]
    sets = [np.ones(n, dtype=bool)]
    for _ in range(T - 1):
        S = A @ vs[-1] <= 0
        sets.append(S)
        vs.append(vs[-1] + A[S].sum(axis=0) / n)
    sets.append(A @ vs[-1] <= 0)
    return vs, sets


DATASETS = {
    "gaussian": lambda: gaussian(12, 3, 0.05, seed=4),
    "loss-unreliable": loss_unreliable,
    "worst-case": lambda: worst_case(8),
}


@pytest.mark.parametrize("data_name", list(DATASETS))
def test_large_step_gd_tracks_the_batch_perceptron(data_name: str) -> None:
    data = DATASETS[data_name]()
    A, T = data.A, 8
    vhat, sets = np_batch_perceptron(A, T)
    # no margin of v̂_t (t >= 1) sits on the boundary, so S_t is unambiguous
    min_abs = min(np.abs(A @ v).min() for v in vhat[1:])
    assert min_abs > 1e-3
    model = linear(data.d)
    errors = []
    for gamma in (1e1, 1e2, 1e3, 1e4, 1e6):
        step = jax.jit(perceptron_step(model, data.X, data.y, "gd", gamma))
        v = jnp.zeros(data.d)
        err = 0.0
        for t in range(1, T + 1):
            v = step(v)
            vt = np.asarray(v)
            err = max(err, np.abs(vt / gamma - vhat[t]).max())
            if gamma >= 1e3:  # σ(-γ m) is within exp(-1) of h(m): same misclassified sets
                np.testing.assert_array_equal(A @ vt <= 0, sets[t])
        errors.append(err)
    errors = np.array(errors)
    # the error decreases with γ (it is ~ exp(-γ min|m̂|) until it meets rounding) ...
    floor = 1e-13 * max(np.abs(v).max() for v in vhat)
    for e_small, e_large in zip(errors[:-1], errors[1:], strict=True):
        assert e_large < e_small or e_large <= floor
    assert errors[0] > 100 * floor  # γ = 10 is visibly away from the limit ...
    assert errors[-1] <= floor  # ... and γ = 1e6 is at it


@pytest.mark.parametrize("data_name", list(DATASETS))
def test_library_perceptron_is_the_numpy_batch_perceptron(data_name: str) -> None:
    data = DATASETS[data_name]()
    A, T = data.A, 12
    vhat, sets = np_batch_perceptron(A, T)
    model = linear(data.d)
    step = jax.jit(perceptron_step(model, data.X, data.y, "perceptron", 1.0))
    v = jnp.zeros(data.d)
    # loss-unreliable and worst-case(8) have dyadic entries and n in {2, 8}: every sum is
    # exact, so the iterates are equal bit for bit; Gaussian data only up to rounding.
    exact = data_name != "gaussian"
    for t in range(1, T + 1):
        v = step(v)
        if exact:
            np.testing.assert_array_equal(np.asarray(v), vhat[t])
        else:
            np.testing.assert_allclose(np.asarray(v), vhat[t], rtol=1e-13, atol=1e-15)
    # the run loop: same solved iteration (first t with S_t empty) and misclassified counts
    first = next((t for t in range(T + 1) if not sets[t].any()), None)
    assert first is not None
    traj = run(model, data, "perceptron", 1.0, theta0=np.zeros(data.d), max_iter=T, record_every=1)
    assert traj.solved_iteration == first
    np.testing.assert_array_equal(traj["n_misclassified"], [s.sum() for s in sets[: first + 1]])
    if exact:
        np.testing.assert_array_equal(traj.final_params, vhat[first])


def test_loss_unreliable_theorem_4_1() -> None:
    # Predecessor Theorem 4.1: after one step the loss grows with γ, after two it vanishes.
    data = loss_unreliable()
    model = linear(2)
    F = loss_fn(model, data.X, data.y)
    one, two = [], []
    for gamma in (1e1, 1e2, 1e3):
        step = perceptron_step(model, data.X, data.y, "gd", gamma)
        v1 = step(jnp.zeros(2))
        one.append(float(F(v1)))
        two.append(float(F(step(v1))))
    # v_1 = γ v̂_1 = γ (0.5, 0.75) exactly (all weights 1/2): margins -0.25 γ and 3.5 γ, so
    # F(v_1) = ½ (softplus(0.25 γ) + softplus(-3.5 γ)) ~ 0.125 γ -> +∞
    g = np.array([1e1, 1e2, 1e3])
    closed = 0.5 * (np.logaddexp(0.0, 0.25 * g) + np.logaddexp(0.0, -3.5 * g))
    np.testing.assert_allclose(one, closed, rtol=1e-13)
    assert one[0] < one[1] < one[2]
    # v_2 / γ -> v̂_2 = (1, 0.25), margins 0.75 and 2: F(v_2) ~ ½ exp(-0.75 γ) -> 0
    assert two[0] > two[1] > two[2] and two[2] < 1e-100


# ---------------------------------------------------------- (c) quadratic models


@pytest.mark.parametrize("which", ["swap", "householder"])
@pytest.mark.parametrize("algorithm", ["gd", "perceptron"])
def test_tied_step_is_a_matrix_product(which: str, algorithm: str) -> None:
    rng = np.random.default_rng(8)
    d, n, gamma = 6, 7, 0.8
    P = swap_involution(d) if which == "swap" else householder_involution(rng.standard_normal(d))
    model = tied(d) if which == "swap" else tied(d, P)
    X, y = rng.standard_normal((n, d)), np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    theta = rng.standard_normal(d + 2)
    As = [structured_matrix(y[i] * X[i], P) for i in range(n)]
    m = np.array([0.5 * theta @ Ai @ theta for Ai in As])
    w = expit(-m) if algorithm == "gd" else np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0))
    M = np.eye(d + 2) + gamma / n * sum(wi * Ai for wi, Ai in zip(w, As, strict=True))
    expected = M @ theta
    got = np.asarray(perceptron_step(model, X, y, algorithm, gamma)(jnp.asarray(theta)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


# ---------------------------------------------------------------- (d) error term


@pytest.mark.parametrize(("name", "model", "ref"), CASES[:5], ids=IDS[:5])
def test_error_term_is_gd_minus_hard_step(name: str, model: Model, ref: Reference) -> None:
    X, y = _problem(seed=6)
    theta = np.random.default_rng(9).standard_normal(model.n_params)
    gamma, n = 1.3, X.shape[0]
    xi = np.asarray(error_term(model, X, y, gamma, jnp.asarray(theta)))
    gd = np.asarray(perceptron_step(model, X, y, "gd", gamma)(jnp.asarray(theta)))
    hard = np.asarray(perceptron_step(model, X, y, "perceptron", gamma)(jnp.asarray(theta)))
    m, G = ref(theta, X, y)
    h = np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0))
    explicit = gamma / n * ((expit(-m) - h) @ G)
    scale = np.abs(theta).max() + gamma * np.abs(G).max()
    _close(xi, gd - hard, scale)
    _close(xi, explicit, gamma * np.abs(G).max())


@pytest.mark.parametrize("model_name", ["linear", "tied"])
def test_error_term_vanishes_as_margins_grow(model_name: str) -> None:
    rng = np.random.default_rng(10)
    X, y = _problem(seed=10)
    model = linear(D) if model_name == "linear" else tied(D)
    ref = ref_linear if model_name == "linear" else ref_tied(swap_involution(D))
    theta0 = rng.standard_normal(model.n_params)
    gamma, n = 1.0, X.shape[0]
    norms, bounds = [], []
    for c in (1.0, 3.0, 10.0, 30.0, 100.0):
        theta = c * theta0  # margins scale like c (linear) or c^2 (tied)
        m, G = ref(theta, X, y)
        xi = np.asarray(error_term(model, X, y, gamma, jnp.asarray(theta)))
        norms.append(np.linalg.norm(xi))
        # |σ(-m) - h(m)| = σ(-|m|) for m != 0: ‖ξ‖ <= (γ/n) Σ σ(-|m_i|) ‖∇m_i‖
        bounds.append(gamma / n * expit(-np.abs(m)) @ np.linalg.norm(G, axis=1))
    norms, bounds = np.array(norms), np.array(bounds)
    assert np.all(norms <= bounds * (1 + 1e-12))
    assert np.all(np.diff(bounds[1:]) < 0)
    assert norms[0] > 1e-3 and norms[-1] < 1e-8 * norms[0]


@pytest.mark.parametrize("model_name", ["linear", "tied"])
def test_recorded_error_norm_matches_error_term(model_name: str) -> None:
    data = gaussian(10, D, 0.05, seed=2)
    model = linear(D) if model_name == "linear" else tied(D)
    theta0 = np.random.default_rng(3).standard_normal(model.n_params) * 0.3
    gamma, T = 2.0, 15
    traj = run(
        model,
        data,
        "gd",
        gamma,
        theta0=theta0,
        max_iter=T,
        stop_when_solved=False,
        record_error=True,
        record_every=1,
    )
    assert list(traj.iterations) == list(range(T + 1))
    step = jax.jit(perceptron_step(model, data.X, data.y, "gd", gamma))
    xi = jax.jit(lambda th: error_term(model, data.X, data.y, gamma, th))
    theta = jnp.asarray(theta0)
    expected = []
    for _ in range(T + 1):
        expected.append(np.linalg.norm(np.asarray(xi(theta))))
        theta = step(theta)
    np.testing.assert_allclose(traj["error_norm"], expected, rtol=1e-9, atol=1e-14)


# ------------------------------------------------------- (e) normalized step sizes


@pytest.mark.parametrize("model_name", ["linear", "tied"])
def test_normalized_steps(model_name: str) -> None:
    X, y = _problem(seed=12)
    n = X.shape[0]
    model = linear(D) if model_name == "linear" else tied(D)
    ref = ref_linear if model_name == "linear" else ref_tied(swap_involution(D))
    theta = np.random.default_rng(13).standard_normal(model.n_params)
    gamma = 0.6
    m, G = ref(theta, X, y)
    sig = expit(-m)
    h = np.where(m < 0, 1.0, np.where(m == 0, 0.5, 0.0))
    S = int(np.sum(m <= 0))
    assert 0 < S < n
    # normalized LR+GD: η = (γ/n) β_t, β_t = 1 / ((1/n) Σ σ(-m_i))
    beta = 1.0 / np.mean(sig)
    expected_gd = theta + gamma / n * beta * (sig @ G)
    # normalized hard perceptron: η = γ / |S_t|, S_t = {m_i <= 0}
    expected_hp = theta + gamma / S * (h @ G)
    scale = np.abs(theta).max() + gamma * np.abs(G).max()
    for alg, expected in (("normalized-gd", expected_gd), ("normalized-perceptron", expected_hp)):
        got = np.asarray(perceptron_step(model, X, y, alg, gamma)(jnp.asarray(theta)))
        _close(got, expected, scale)


def test_normalized_steps_from_zero_and_when_solved() -> None:
    data = gaussian(10, 3, 0.1, seed=5)
    A, n, gamma = data.A, data.n, 0.7
    model = linear(3)
    zero = jnp.zeros(3)
    # at v = 0 every margin is 0: σ = h = 1/2, Σσ = n/2 and |S| = n
    expected = {
        "gd": gamma / n * 0.5 * A.sum(axis=0),
        "perceptron": gamma / n * 0.5 * A.sum(axis=0),
        "normalized-gd": gamma / (n / 2) * 0.5 * A.sum(axis=0),
        "normalized-perceptron": gamma / n * 0.5 * A.sum(axis=0),
    }
    for alg, e in expected.items():
        got = np.asarray(perceptron_step(model, data.X, data.y, alg, gamma)(zero))
        np.testing.assert_allclose(got, e, rtol=1e-13, atol=1e-15)
    # once every margin is positive the hard rules no longer move (S_t empty)
    u = 10 * np.array(data.info["direction"])
    assert np.all(A @ u > 0)
    for alg in ("perceptron", "normalized-perceptron"):
        got = np.asarray(perceptron_step(model, data.X, data.y, alg, gamma)(jnp.asarray(u)))
        np.testing.assert_array_equal(got, u)


def test_step_from_custom_two_point_data() -> None:
    # docs/theory/reduction.md by hand on the smallest case: x = (1, 0) label +1, (0, 1) label -1,
    # v_0 = 0;
    # every weight is σ(0) = 1/2, so v_1 = (γ/2)(1/2)(a_1 + a_2) = (γ/4)(1, -1).
    data = make_dataset([[1.0, 0.0], [0.0, 1.0]], [1, -1])
    for gamma in (1.0, 8.0):
        got = np.asarray(perceptron_step(linear(2), data.X, data.y, "gd", gamma)(jnp.zeros(2)))
        np.testing.assert_array_equal(got, [gamma / 4, -gamma / 4])


@pytest.mark.parametrize(
    "algorithm", ["gd", "perceptron", "normalized-gd", "normalized-perceptron"]
)
def test_traced_step_equals_concrete_step(algorithm: str) -> None:
    """perceptron_step with the step as a traced (vmapped) argument gives the same iterate
    as with each step passed as a Python number."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((7, 4)), np.where(rng.standard_normal(7) > 0, 1.0, -1.0)
    model = two_layer(4, 3, "tanh")
    theta = model.initial_params(1)
    gammas = np.array([0.1, 2.0, 300.0])
    batched = jax.vmap(lambda g: perceptron_step(model, X, y, algorithm, g)(theta))(gammas)
    for g, got in zip(gammas, np.asarray(batched), strict=True):
        want = np.asarray(perceptron_step(model, X, y, algorithm, float(g))(theta))
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
