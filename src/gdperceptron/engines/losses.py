"""Logistic loss and the per-sample weights of the generalized perceptron (docs/theory/setting.md,
docs/theory/reduction.md).

All functions take margins ``m_i = y_i f(x_i; theta)`` of shape ``(n,)`` and are
numerically stable for margins of any magnitude: ``log(1 + exp(-m))`` is computed as
``softplus(-m) = logaddexp(0, -m)``, never literally, and ``sigma(-m)`` as ``expit``.
"""

from __future__ import annotations

from gdperceptron._jax import jax, jnp


def logistic_loss(margins: jax.Array) -> jax.Array:
    """``F = (1/n) sum_i log(1 + exp(-m_i))`` computed as the mean of ``softplus(-m_i)``.

    Stable for |m| up to the float64 range: ``softplus(-1e6) = 0`` and
    ``softplus(1e6) = 1e6`` without overflow (docs/theory/setting.md).

    The mean: ``mean(v)`` sums before it divides, and the sum overflows when the terms
    ``v_i = softplus(-m_i)`` are near the float64 maximum ``M`` (two margins of
    ``-1e308``) although the mean ``<= max_i v_i <= M`` is representable. Where that sum
    overflows, the mean is taken as ``sum_i (v_i / n)`` instead: each ``v_i / n <= M / n``,
    so the partial sums stay below ``max_i v_i (1 + n eps)``, finite unless the terms lie
    within a factor ``1 + n eps`` of ``M``. Elsewhere the plain mean is returned, bit
    for bit.
    """
    v = jnp.logaddexp(0.0, -margins)
    mean = jnp.mean(v)
    return jnp.where(jnp.isfinite(mean), mean, jnp.sum(v / v.shape[0]))


def per_sample_loss(margins: jax.Array) -> jax.Array:
    """``log(1 + exp(-m_i))`` per sample, shape ``(n,)``."""
    return jnp.logaddexp(0.0, -margins)


def logistic_weights(margins: jax.Array) -> jax.Array:
    """LR+GD weights ``p_i = sigma(-m_i) = -d/dm log(1 + exp(-m))``, in (0, 1)
    (docs/theory/reduction.md)."""
    return jax.nn.sigmoid(-margins)


def hard_weights(margins: jax.Array) -> jax.Array:
    """Hard perceptron weights ``h(m) = 1[m < 0] + 1/2 1[m = 0]`` (docs/theory/reduction.md).

    ``h`` is the pointwise limit of ``sigma(-m / eps)`` as ``eps -> 0``.
    """
    return jnp.where(margins < 0, 1.0, jnp.where(margins == 0, 0.5, 0.0))
