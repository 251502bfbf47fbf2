"""Models ``f(x; theta)`` with a flat float64 parameter vector ``theta`` (docs/theory/models.md).

Every model is a frozen :class:`Model`: a pure ``apply(theta, X) -> f`` of shapes
``(p,), (n, d) -> (n,)`` and a seeded ``init(seed, init_scale) -> theta``. Margins are
``m_i = y_i f(x_i; theta)``; the algorithms only ever need ``apply``.

Initialisation: every coordinate of a weight matrix with fan-in ``k`` is drawn from
``N(0, init_scale**2 / k)``; for the tied model every coordinate (``u`` included) is
``N(0, init_scale**2 / d)``, the docs/theory/minimal-example.md default with ``init_scale = 1``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdperceptron._jax import jax, jnp
from gdperceptron.errors import GDPerceptronError

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "identity": lambda z: z,
    "relu": jax.nn.relu,
    "leaky_relu": lambda z: jax.nn.leaky_relu(z, negative_slope=0.1),
    "tanh": jnp.tanh,
    "square": jnp.square,
}
MODEL_NAMES = ("linear", "tied", "two-layer", "mlp")


@dataclass(frozen=True, eq=False)
class Model:
    """A model with flat parameters.

    Attributes:
        name: one of :data:`MODEL_NAMES`.
        d: input dimension.
        n_params: length ``p`` of ``theta``.
        apply: ``(theta (p,), X (n, d)) -> f (n,)``, pure and differentiable.
        init: ``(seed, init_scale) -> theta (p,)`` as a NumPy float64 array.
        default_init_scale: the scale used when none is given.
        info: the model's options (width, activation, ...), for configs and reports.
    """

    name: str
    d: int
    n_params: int
    apply: Callable[[jax.Array, jax.Array], jax.Array]
    init: Callable[[int, float], np.ndarray]
    default_init_scale: float
    info: dict[str, Any] = field(default_factory=dict)

    def margins(self, theta: jax.Array, X: jax.Array, y: jax.Array) -> jax.Array:
        """``m_i = y_i f(x_i; theta)``, shape ``(n,)`` (docs/theory/setting.md)."""
        return y * self.apply(theta, X)

    def initial_params(self, seed: int, init_scale: float | None = None) -> np.ndarray:
        """Seeded initial parameters; ``init_scale`` defaults to ``default_init_scale``."""
        scale = self.default_init_scale if init_scale is None else float(init_scale)
        if not np.isfinite(scale) or scale < 0:
            raise GDPerceptronError(f"init_scale must be a finite number >= 0, got {scale}")
        return self.init(int(seed), scale)


def _check_dim(d: int, minimum: int = 1) -> int:
    if int(d) != d or d < minimum:
        raise GDPerceptronError(f"input dimension d must be an integer >= {minimum}, got {d}")
    return int(d)


def _check_width(width: int) -> int:
    if int(width) != width or width < 1:
        raise GDPerceptronError(f"width must be an integer >= 1, got {width}")
    return int(width)


def _activation(name: str) -> Callable[[jax.Array], jax.Array]:
    if name not in ACTIVATIONS:
        raise GDPerceptronError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]


def linear(d: int) -> Model:
    """Linear model ``f(x; v) = <v, x>``, ``theta = v`` of shape ``(d,)`` (docs/theory/models.md).

    Default initialisation ``v_0 = 0`` (init_scale 0), as in the perceptron analysis.
    """
    d = _check_dim(d)

    def apply(theta: jax.Array, X: jax.Array) -> jax.Array:
        return X @ theta

    def init(seed: int, scale: float) -> np.ndarray:
        return scale / np.sqrt(d) * np.random.default_rng(seed).standard_normal(d)

    return Model("linear", d, d, apply, init, 0.0, {})


# ---------------------------------------------------------------- involutions P


@dataclass(frozen=True, eq=False)
class Involution:
    """A symmetric orthogonal ``P`` (``P = P^T``, ``P^2 = I``), stored as a permutation of
    coordinates when it is one (so that ``d = 10^7`` costs O(d)) or as a dense matrix."""

    d: int
    perm: np.ndarray | None = None
    matrix: np.ndarray | None = None

    def apply_rows(self, X: Any) -> Any:
        """Rows of ``X`` mapped by ``P``: returns ``X P`` (= ``(P x_i)^T`` per row)."""
        if self.perm is not None:
            return X[..., self.perm]
        return X @ self.matrix

    def dense(self) -> np.ndarray:
        """``P`` as a ``(d, d)`` array."""
        if self.matrix is not None:
            return self.matrix
        return np.eye(self.d)[self.perm]


def swap(d: int, i: int = 0, j: int = 1) -> Involution:
    """The involution swapping coordinates ``i`` and ``j`` (docs/theory/models.md default: 1 and
    2)."""
    d = _check_dim(d, 2)
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise GDPerceptronError(f"swap needs two distinct coordinates in [0, {d}), got {i}, {j}")
    perm = np.arange(d)
    perm[[i, j]] = perm[[j, i]]
    return Involution(d, perm=perm)


def involution(P: Any) -> Involution:
    """Validate a dense ``(d, d)`` matrix as a symmetric orthogonal involution."""
    if isinstance(P, Involution):
        return P
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != P.shape[1]:
        raise GDPerceptronError(f"P must be a square matrix, got shape {P.shape}")
    d = P.shape[0]
    if not np.all(np.isfinite(P)):
        raise GDPerceptronError("P contains non-finite values")
    tol = 1e-10 * max(d, 1)
    if np.max(np.abs(P - P.T)) > tol or np.max(np.abs(P @ P - np.eye(d))) > tol:
        raise GDPerceptronError("P must be symmetric and orthogonal (P = P^T, P^2 = I)")
    return Involution(d, matrix=P)


def tied(d: int, P: Any = None) -> Model:
    """Tied two-layer model ``f(x; theta) = u_1 <w, x> + u_2 <w, P x>`` (docs/theory/models.md).

    ``theta = (u_1, u_2, w)``, shape ``(d + 2,)``; ``P`` a symmetric orthogonal matrix
    (default: swap of coordinates 1 and 2). Margins are ``m_i = 1/2 theta^T A(a_i) theta``.
    Initialisation: every coordinate ``N(0, init_scale**2 / d)``.
    """
    d = _check_dim(d, 2)
    inv = swap(d) if P is None else involution(P)
    if inv.d != d:
        raise GDPerceptronError(f"P has dimension {inv.d} but the model has d = {d}")

    def apply(theta: jax.Array, X: jax.Array) -> jax.Array:
        w = theta[2:]
        return theta[0] * (X @ w) + theta[1] * (inv.apply_rows(X) @ w)

    def init(seed: int, scale: float) -> np.ndarray:
        return scale / np.sqrt(d) * np.random.default_rng(seed).standard_normal(d + 2)

    return Model("tied", d, d + 2, apply, init, 1.0, {"P": inv})


# ------------------------------------------------------------ multilayer networks


def _network(
    name: str,
    shapes: list[tuple[int, ...]],
    phi: Callable,
    fixed_u: np.ndarray | None,
    d: int,
    info: dict[str, Any],
) -> Model:
    """Fully connected net ``f(x) = u^T phi(W_L ... phi(W_1 x))``; ``theta`` holds the
    flattened ``W_1, ..., W_L`` (row-major) and then ``u`` unless ``fixed_u`` is given."""
    sizes = [int(np.prod(s)) for s in shapes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    p = offsets[-1]

    def unflatten(theta: jax.Array) -> list[jax.Array]:
        return [theta[offsets[k] : offsets[k + 1]].reshape(s) for k, s in enumerate(shapes)]

    def apply(theta: jax.Array, X: jax.Array) -> jax.Array:
        layers = unflatten(theta)
        u = layers.pop() if fixed_u is None else jnp.asarray(fixed_u)
        h = X
        for W in layers:
            h = phi(h @ W.T)
        return h @ u

    def init(seed: int, scale: float) -> np.ndarray:
        rng = np.random.default_rng(seed)
        parts = [scale / np.sqrt(s[-1]) * rng.standard_normal(s).ravel() for s in shapes]
        return np.concatenate(parts)

    return Model(name, d, p, apply, init, 1.0, info)


def two_layer(
    d: int, width: int = 16, activation: str = "relu", *, train_second_layer: bool = True
) -> Model:
    """Two-layer network ``f(x; U, W) = sum_j u_j phi(<w_j, x>)`` (docs/theory/models.md).

    ``theta = (vec(W), u)`` with ``W`` of shape ``(width, d)`` row-major and ``u`` of shape
    ``(width,)``; with ``train_second_layer=False`` ``theta = vec(W)`` and ``u`` is fixed at
    ``u_j = (-1)^j / sqrt(width)``. ``phi`` in identity, relu, leaky_relu (slope 0.1),
    tanh, square.
    """
    d, m = _check_dim(d), _check_width(width)
    phi = _activation(activation)
    info = {"width": m, "activation": activation, "train_second_layer": train_second_layer}
    if train_second_layer:
        return _network("two-layer", [(m, d), (m,)], phi, None, d, info)
    fixed_u = np.where(np.arange(m) % 2 == 0, 1.0, -1.0) / np.sqrt(m)
    return _network("two-layer", [(m, d)], phi, fixed_u, d, info)


def mlp(d: int, width: int = 16, depth: int = 3, activation: str = "relu") -> Model:
    """Fully connected network of ``depth`` weight layers (docs/theory/models.md), every layer
    trained:
    ``f(x) = u^T phi(W_{L-1} ... phi(W_1 x))`` with ``L = depth``, ``W_1`` of shape
    ``(width, d)``, the others ``(width, width)``, ``u`` of shape ``(width,)``.
    ``depth = 2`` is the two-layer network.
    """
    d, m = _check_dim(d), _check_width(width)
    if int(depth) != depth or depth < 2:
        raise GDPerceptronError(f"depth must be an integer >= 2, got {depth}")
    phi = _activation(activation)
    shapes = [(m, d)] + [(m, m)] * (int(depth) - 2) + [(m,)]
    info = {"width": m, "depth": int(depth), "activation": activation}
    return _network("mlp", shapes, phi, None, d, info)


def make_model(
    name: str,
    d: int,
    *,
    width: int = 16,
    activation: str = "relu",
    depth: int = 3,
    train_second_layer: bool = True,
    P: Any = None,
) -> Model:
    """Build a model by name (one of :data:`MODEL_NAMES`)."""
    if name == "linear":
        return linear(d)
    if name == "tied":
        return tied(d, P)
    if name == "two-layer":
        return two_layer(d, width, activation, train_second_layer=train_second_layer)
    if name == "mlp":
        return mlp(d, width, depth, activation)
    raise GDPerceptronError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
