"""Two-layer ReLU networks outside the built-ins, for the ablations: first-layer biases and
the mean-field output scaling (docs/theory/models.md, docs/theory/experiments.md).

Both are :func:`gdperceptron.from_apply` models over a dict of arrays, flattened in key
order ``W`` (shape ``(m, d)``, row-major), then ``b`` or nothing, then ``u`` (shape ``(m,)``):

- ``relu_bias(d, m)``: ``f(x) = sum_j u_j relu(<w_j, x> + b_j)``, ``theta = (vec W, b, u)``;
- ``relu_mean_field(d, m)``: ``f(x) = (1/m) sum_j u_j relu(<w_j, x>)``, ``theta = (vec W, u)``
  (2-homogeneous, like the built-in network, whose output has no ``1/m``).

``x`` enters only through ``W x``, so each declares its first layer (the block ``W`` at
offset 0) and the exact reduced simulation (docs/theory/minimal-example.md) applies to it as
to the built-ins. The starts are those of the built-in ``two_layer(d, m, "relu")`` with the
same seed: ``W`` and ``u`` as drawn there (``W ~ N(0, 1/d)``, ``u ~ N(0, 1/m)``), ``b = 0``
for the bias model, and ``u_mf = sqrt(m) u`` (``N(0, 1)``, the mean-field convention) for
the mean-field model; the bias model therefore starts at the very function of the built-in.

The builders are cached per ``(d, m)``: the run loop caches its compilations on the model's
``apply`` object, so one object per shape means one compilation per shape.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import numpy as np

from gdperceptron import FirstLayer, Model, from_apply, two_layer


def _relu_bias_apply(params: dict, X: jax.Array) -> jax.Array:
    """``relu(X W^T + b) u``: ``(n, d) -> (n,)``."""
    return jax.nn.relu(X @ params["W"].T + params["b"]) @ params["u"]


def _relu_mean_field_apply(params: dict, X: jax.Array) -> jax.Array:
    """``relu(X W^T) u / m``: ``(n, d) -> (n,)``."""
    return jax.nn.relu(X @ params["W"].T) @ params["u"] / params["u"].shape[0]


@functools.lru_cache(maxsize=64)
def relu_bias(d: int, m: int) -> Model:
    """``f(x) = sum_j u_j relu(<w_j, x> + b_j)``; ``theta = (vec W, b, u)``, ``p = m d + 2m``.

    Example:
        >>> import numpy as np
        >>> model = relu_bias(3, 2)
        >>> theta = np.concatenate([np.eye(2, 3).ravel(), [0.0, -5.0], [1.0, 1.0]])
        >>> float(model.apply(theta, np.array([[2.0, 7.0, 0.0]]))[0])
        4.0
    """
    template = {"W": np.zeros((m, d)), "b": np.zeros(m), "u": np.zeros(m)}
    model = from_apply(_relu_bias_apply, template, name="two-layer relu + bias", d=d,
                       info={"width": m, "activation": "relu", "bias": True})  # fmt: skip
    layer = FirstLayer(0, m, None, lambda k, _: relu_bias(k, m))
    return dataclasses.replace(model, first_layer=layer)


@functools.lru_cache(maxsize=64)
def relu_mean_field(d: int, m: int) -> Model:
    """``f(x) = (1/m) sum_j u_j relu(<w_j, x>)``; ``theta = (vec W, u)``, ``p = m d + m``;
    positively 2-homogeneous."""
    template = {"W": np.zeros((m, d)), "u": np.zeros(m)}
    model = from_apply(_relu_mean_field_apply, template, name="two-layer relu mean-field",
                       d=d, degree=2, info={"width": m, "activation": "relu",
                                            "output_scale": "1/width"})  # fmt: skip
    layer = FirstLayer(0, m, None, lambda k, _: relu_mean_field(k, m))
    return dataclasses.replace(model, first_layer=layer)


def standard_start(d: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(W (m, d), u (m,))`` of the built-in ``two_layer(d, m, "relu")`` from ``seed``."""
    theta = two_layer(d, m, "relu").initial_params(seed)
    return theta[: m * d].reshape(m, d), theta[m * d :]


def bias_start(d: int, m: int, seed: int) -> np.ndarray:
    """Flat start of :func:`relu_bias`: the built-in's ``W, u`` and ``b = 0``."""
    W, u = standard_start(d, m, seed)
    return np.concatenate([W.ravel(), np.zeros(m), u])


def mean_field_start(d: int, m: int, seed: int) -> np.ndarray:
    """Flat start of :func:`relu_mean_field`: the built-in's ``W`` and ``sqrt(m) u``."""
    W, u = standard_start(d, m, seed)
    return np.concatenate([W.ravel(), np.sqrt(m) * u])
