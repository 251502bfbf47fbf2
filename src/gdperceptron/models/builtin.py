"""The built-in models, each an ordinary :class:`~gdperceptron.models.protocol.Model`
(docs/theory/models.md).

Each ``apply`` is a small frozen dataclass compared by value (:class:`LinearApply`,
:class:`TiedApply`, :class:`NetworkApply`): two models built with the same options have
equal ``apply`` objects, so a compile cache keyed on ``apply`` serves both, and models with
other options or other functions never share a compilation. The built-ins declare what
engines may use: ``degree`` (positive homogeneity) and ``first_layer`` (how ``x`` enters,
for the exact reduced simulation). Margins are ``m_i = y_i f(x_i; theta)``.

Initialisation: every coordinate of a weight matrix with fan-in ``k`` is drawn from
``N(0, init_scale**2 / k)``; for the tied model every coordinate (``u`` included) is
``N(0, init_scale**2 / d)``, the default of docs/theory/minimal-example.md with
``init_scale = 1``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdperceptron._jax import jax, jnp
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import FirstLayer, Model

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "identity": lambda z: z,
    "relu": jax.nn.relu,
    "leaky_relu": lambda z: jax.nn.leaky_relu(z, negative_slope=0.1),
    "tanh": jnp.tanh,
    "square": jnp.square,
}
# phi(c z) = c^k phi(z) for every c > 0: the degree k of each positively homogeneous activation
_ACTIVATION_DEGREE = {"identity": 1, "relu": 1, "leaky_relu": 1, "square": 2}
MODEL_NAMES = ("linear", "tied", "two-layer", "mlp")


def _check_dim(d: int, minimum: int = 1) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer, float)) or int(d) != d:
        raise GDPerceptronError(f"input dimension d must be an integer >= {minimum}, got {d!r}")
    if d < minimum:
        raise GDPerceptronError(f"input dimension d must be an integer >= {minimum}, got {d}")
    return int(d)


def _check_width(width: int) -> int:
    if isinstance(width, bool) or not isinstance(width, (int, np.integer, float)):
        raise GDPerceptronError(f"width must be an integer >= 1, got {width!r}")
    if int(width) != width or width < 1:
        raise GDPerceptronError(f"width must be an integer >= 1, got {width}")
    return int(width)


def _activation(name: str) -> Callable[[jax.Array], jax.Array]:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise GDPerceptronError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[name]


# ---------------------------------------------------------------- involutions P


@dataclass(frozen=True, eq=False)
class Involution:
    """A symmetric orthogonal ``P`` (``P = P^T``, ``P^2 = I``), stored as a permutation of
    coordinates when it is one (so that ``d = 10^7`` costs O(d)) or as a dense matrix.
    Compared and hashed by value (a digest of its entries)."""

    d: int
    perm: np.ndarray | None = None
    matrix: np.ndarray | None = None
    digest: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        h = hashlib.sha256(str(self.d).encode())
        for part in (self.perm, self.matrix):
            h.update(b"-" if part is None else np.ascontiguousarray(part).tobytes())
        object.__setattr__(self, "digest", h.hexdigest())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Involution) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

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
    """The involution swapping coordinates ``i`` and ``j`` (docs/theory/models.md default:
    the first two)."""
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


# ------------------------------------------------------------------ apply objects


@dataclass(frozen=True)
class LinearApply:
    """``f(x; v) = <v, x>``: ``(theta (d,), X (n, d)) -> X theta (n,)``."""

    def __call__(self, theta: jax.Array, X: jax.Array) -> jax.Array:
        return X @ theta


@dataclass(frozen=True)
class TiedApply:
    """``f(x; theta) = u_1 <w, x> + u_2 <w, P x>`` with ``theta = (u_1, u_2, w)``."""

    P: Involution

    def __call__(self, theta: jax.Array, X: jax.Array) -> jax.Array:
        w = theta[2:]
        return theta[0] * (X @ w) + theta[1] * (self.P.apply_rows(X) @ w)


@dataclass(frozen=True)
class NetworkApply:
    """``f(x) = u^T phi(W_L ... phi(W_1 x))``; ``theta`` holds the flattened
    ``W_1, ..., W_L`` (row-major) and then ``u``, unless ``fixed_u`` gives ``u``."""

    shapes: tuple[tuple[int, ...], ...]
    activation: str
    fixed_u: tuple[float, ...] | None = None

    def __call__(self, theta: jax.Array, X: jax.Array) -> jax.Array:
        phi = ACTIVATIONS[self.activation]
        layers, offset = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            layers.append(theta[offset : offset + size].reshape(shape))
            offset += size
        u = layers.pop() if self.fixed_u is None else jnp.asarray(self.fixed_u)
        h = X
        for W in layers:
            h = phi(h @ W.T)
        return h @ u


# ------------------------------------------------ heads: the model after its first layer


@dataclass(frozen=True)
class LinearHead:
    """``f = H[:, 0]`` with ``H = X v`` (the linear model is its first layer)."""

    def __call__(self, theta: jax.Array, H: jax.Array) -> jax.Array:
        return H[:, 0]


@dataclass(frozen=True)
class TiedHead:
    """``f = u_1 H[:, 0] + u_2 H[:, 1]`` with ``H = [X w, (X P) w]``."""

    def __call__(self, theta: jax.Array, H: jax.Array) -> jax.Array:
        return theta[0] * H[:, 0] + theta[1] * H[:, 1]


@dataclass(frozen=True)
class NetworkHead:
    """:class:`NetworkApply` after ``H = X W_1^T``: ``f = u^T phi(W_L ... phi(H))``."""

    apply: NetworkApply

    def __call__(self, theta: jax.Array, H: jax.Array) -> jax.Array:
        net = self.apply
        phi = ACTIVATIONS[net.activation]
        layers, offset = [], int(np.prod(net.shapes[0]))
        for shape in net.shapes[1:]:
            size = int(np.prod(shape))
            layers.append(theta[offset : offset + size].reshape(shape))
            offset += size
        u = layers.pop() if net.fixed_u is None else jnp.asarray(net.fixed_u)
        h = phi(H)
        for W in layers:
            h = phi(h @ W.T)
        return h @ u


# -------------------------------------------------------------------- the models


def linear(d: int) -> Model:
    """Linear model ``f(x; v) = <v, x>``, ``theta = v`` of shape ``(d,)``
    (docs/theory/models.md). 1-homogeneous.

    Default initialisation ``v_0 = 0`` (init_scale 0), as in the perceptron analysis.
    """
    d = _check_dim(d)

    def init(seed: int, scale: float) -> np.ndarray:
        return scale / np.sqrt(d) * np.random.default_rng(seed).standard_normal(d)

    layer = FirstLayer(0, 1, None, lambda k, _: linear(k), LinearHead())
    return Model("linear", d, d, LinearApply(), init, 0.0, {}, degree=1, first_layer=layer)


def tied(d: int, P: Any = None) -> Model:
    """Tied two-layer model ``f(x; theta) = u_1 <w, x> + u_2 <w, P x>``
    (docs/theory/models.md). 2-homogeneous.

    ``theta = (u_1, u_2, w)``, shape ``(d + 2,)``; ``P`` a symmetric orthogonal matrix
    (default: swap of the first two coordinates). Margins are
    ``m_i = 1/2 theta^T A(a_i) theta``. Initialisation: every coordinate
    ``N(0, init_scale**2 / d)``.
    """
    d = _check_dim(d, 2)
    inv = swap(d) if P is None else involution(P)
    if inv.d != d:
        raise GDPerceptronError(f"P has dimension {inv.d} but the model has d = {d}")

    def init(seed: int, scale: float) -> np.ndarray:
        return scale / np.sqrt(d) * np.random.default_rng(seed).standard_normal(d + 2)

    def margin_matrix(a: np.ndarray) -> np.ndarray:
        # A(a) = [[0, 0, a^T], [0, 0, (P a)^T], [a, P a, 0]]: m = 1/2 theta^T A(y x) theta
        A = np.zeros((d + 2, d + 2))
        A[0, 2:] = A[2:, 0] = a
        A[1, 2:] = A[2:, 1] = inv.apply_rows(a)
        return A

    layer = FirstLayer(2, 1, inv, lambda k, Pk: tied(k, Pk), TiedHead())
    return Model(
        "tied",
        d,
        d + 2,
        TiedApply(inv),
        init,
        1.0,
        {"P": inv},
        degree=2,
        first_layer=layer,
        margin_matrix=margin_matrix,
    )


def _network(
    name: str,
    shapes: list[tuple[int, ...]],
    activation: str,
    fixed_u: np.ndarray | None,
    d: int,
    info: dict[str, Any],
    rebuild: Callable[[int, Any], Model],
) -> Model:
    """A fully connected net (:class:`NetworkApply`) with its initialiser and declarations:
    ``degree = L`` times the activation's degree, ``L`` the number of trained weight
    layers, when the activation is positively homogeneous (no biases anywhere)."""
    _activation(activation)
    sizes = [int(np.prod(s)) for s in shapes]
    apply = NetworkApply(
        tuple(tuple(s) for s in shapes),
        activation,
        None if fixed_u is None else tuple(float(v) for v in fixed_u),
    )

    def init(seed: int, scale: float) -> np.ndarray:
        rng = np.random.default_rng(seed)
        parts = [scale / np.sqrt(s[-1]) * rng.standard_normal(s).ravel() for s in shapes]
        return np.concatenate(parts)

    # Scaling every trained matrix by c > 0 with phi(c z) = c^a phi(z): the j-th hidden
    # layer scales by c^(e_j), e_1 = a, e_j = a (1 + e_(j-1)); the output by c^(e_H + 1) when
    # u is trained, c^(e_H) when it is fixed. relu (a = 1): degree = number of trained layers.
    degree = None
    if activation in _ACTIVATION_DEGREE:
        a, e = _ACTIVATION_DEGREE[activation], 0
        for _ in range(len(shapes) - (1 if fixed_u is None else 0)):
            e = a * (1 + e)
        degree = e + (1 if fixed_u is None else 0)
    layer = FirstLayer(0, int(shapes[0][0]), None, rebuild, NetworkHead(apply))
    return Model(name, d, int(sum(sizes)), apply, init, 1.0, info, degree=degree, first_layer=layer)


def two_layer(
    d: int, width: int = 16, activation: str = "relu", *, train_second_layer: bool = True
) -> Model:
    """Two-layer network ``f(x; U, W) = sum_j u_j phi(<w_j, x>)`` (docs/theory/models.md).

    ``theta = (vec(W), u)`` with ``W`` of shape ``(width, d)`` row-major and ``u`` of shape
    ``(width,)``; with ``train_second_layer=False`` ``theta = vec(W)`` and ``u`` is fixed at
    ``u_j = (-1)^j / sqrt(width)``. ``phi`` in identity, relu, leaky_relu (slope 0.1),
    tanh, square. Degree of homogeneity: 2 (relu, leaky_relu, identity) or 3 (square) with
    ``u`` trained, 1 or 2 with ``u`` fixed; none for tanh.
    """
    d, m = _check_dim(d), _check_width(width)
    _activation(activation)
    info = {"width": m, "activation": activation, "train_second_layer": train_second_layer}

    def rebuild(k: int, _: Any) -> Model:
        return two_layer(k, m, activation, train_second_layer=train_second_layer)

    if train_second_layer:
        return _network("two-layer", [(m, d), (m,)], activation, None, d, info, rebuild)
    fixed_u = np.where(np.arange(m) % 2 == 0, 1.0, -1.0) / np.sqrt(m)
    return _network("two-layer", [(m, d)], activation, fixed_u, d, info, rebuild)


def mlp(d: int, width: int = 16, depth: int = 3, activation: str = "relu") -> Model:
    """Fully connected network of ``depth`` weight layers (docs/theory/models.md), every
    layer trained: ``f(x) = u^T phi(W_{L-1} ... phi(W_1 x))`` with ``L = depth``, ``W_1`` of
    shape ``(width, d)``, the others ``(width, width)``, ``u`` of shape ``(width,)``.
    ``depth = 2`` is the two-layer network. Degree ``depth`` for relu, leaky_relu and
    identity.
    """
    d, m = _check_dim(d), _check_width(width)
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer, float)):
        raise GDPerceptronError(f"depth must be an integer >= 2, got {depth!r}")
    if int(depth) != depth or depth < 2:
        raise GDPerceptronError(f"depth must be an integer >= 2, got {depth}")
    _activation(activation)
    shapes = [(m, d)] + [(m, m)] * (int(depth) - 2) + [(m,)]
    info = {"width": m, "depth": int(depth), "activation": activation}
    L = int(depth)
    return _network("mlp", shapes, activation, None, d, info, lambda k, _: mlp(k, m, L, activation))


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
    """Build a built-in model by name (one of :data:`MODEL_NAMES`)."""
    if name == "linear":
        return linear(d)
    if name == "tied":
        return tied(d, P)
    if name == "two-layer":
        return two_layer(d, width, activation, train_second_layer=train_second_layer)
    if name == "mlp":
        return mlp(d, width, depth, activation)
    raise GDPerceptronError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
