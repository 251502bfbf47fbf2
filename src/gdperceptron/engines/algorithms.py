"""Generalized perceptron algorithms: one step rule, four weight rules (docs/theory/reduction.md).

A generalized perceptron step is

    theta_{t+1} = theta_t + eta_t * sum_i w_i(theta_t) grad m_i(theta_t)

with margins ``m_i = y_i f(x_i; theta)``. ``sum_i w_i grad m_i`` is a vector-Jacobian
product ``J_m(theta)^T w``, computed with one reverse-mode pass and never forming ``J``.

| name                    | weights ``w_i``            | step ``eta_t``                       |
|-------------------------|----------------------------|--------------------------------------|
| ``gd``                  | ``sigma(-m_i)``            | ``gamma / n``                        |
| ``perceptron``          | ``1[m_i<0] + 1/2 1[m_i=0]``| ``gamma / n``                        |
| ``normalized-gd``       | ``sigma(-m_i)``            | ``gamma / sum_i sigma(-m_i)``        |
| ``normalized-perceptron``| hard, as above            | ``gamma / |S_t|``, ``S_t = {m_i<=0}``|

``gd`` is exactly gradient descent on the logistic loss with step ``gamma``
(docs/theory/reduction.md); the normalized rules are those of the predecessor paper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from gdperceptron._jax import float64, jax, jnp
from gdperceptron.engines.losses import hard_weights, logistic_loss, logistic_weights
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model

ALGORITHM_NAMES = ("gd", "perceptron", "normalized-gd", "normalized-perceptron")


class Algorithm(NamedTuple):
    """A weight rule ``w(m)`` and a step rule ``eta(m, w, gamma)``, both pure. The built-in
    step rules take ``total=``, the function that adds over samples (``jnp.sum``)."""

    name: str
    weights: Callable[[jax.Array], jax.Array]
    step_size: Callable[[jax.Array, jax.Array, float], jax.Array]


def _plain(
    margins: jax.Array, weights: jax.Array, gamma: float, total: Callable = jnp.sum
) -> jax.Array:
    # gamma / n, n the samples present: a sample left out of a run (run's sample_mask) has
    # margin +inf; with every margin finite the count is margins.shape[0]
    return gamma / jnp.sum(margins < jnp.inf)


def _normalized_gd(
    margins: jax.Array, weights: jax.Array, gamma: float, total: Callable = jnp.sum
) -> jax.Array:
    # gamma/n * beta_t with beta_t = 1 / ((1/n) sum_i sigma(-m_i)) = gamma / sum_i sigma(-m_i);
    # ``total`` adds the weights (the run loop's padding-invariant mode: pairwise)
    return gamma / total(weights)


def _normalized_perceptron(
    margins: jax.Array, weights: jax.Array, gamma: float, total: Callable = jnp.sum
) -> jax.Array:
    # eta = gamma / |S_t|; with S_t empty every weight is 0, so any finite eta gives no move.
    return gamma / jnp.maximum(jnp.sum(margins <= 0), 1)


ALGORITHMS: dict[str, Algorithm] = {
    "gd": Algorithm("gd", logistic_weights, _plain),
    "perceptron": Algorithm("perceptron", hard_weights, _plain),
    "normalized-gd": Algorithm("normalized-gd", logistic_weights, _normalized_gd),
    "normalized-perceptron": Algorithm(
        "normalized-perceptron", hard_weights, _normalized_perceptron
    ),
}


def get_algorithm(name: str) -> Algorithm:
    """The :class:`Algorithm` called ``name`` (one of :data:`ALGORITHM_NAMES`)."""
    if name not in ALGORITHMS:
        raise GDPerceptronError(
            f"unknown algorithm {name!r}; choose one of {', '.join(ALGORITHM_NAMES)}"
        )
    return ALGORITHMS[name]


def check_step(step: float) -> float:
    """A step size must be a positive finite number.

    A traced JAX value (``perceptron_step`` called inside ``jit`` / ``vmap`` with the step
    as an argument, so that one compilation serves every step) passes through unchecked:
    its value is not known until run time.
    """
    if isinstance(step, jax.core.Tracer):
        return step  # type: ignore[return-value]
    try:
        step = float(step)
    except (TypeError, ValueError):
        raise GDPerceptronError(f"step must be a number, got {step!r}") from None
    if not (step > 0 and step < float("inf")):
        raise GDPerceptronError(f"step must be a positive finite number, got {step}")
    return step


def margins_fn(model: Model, X: jax.Array, y: jax.Array) -> Callable[[jax.Array], jax.Array]:
    """``theta -> m(theta) = y * f(X; theta)``, shapes ``(p,) -> (n,)``."""
    return lambda theta: y * model.apply(theta, X)


def loss_fn(model: Model, X: jax.Array, y: jax.Array) -> Callable[[jax.Array], jax.Array]:
    """``theta -> F(theta) = (1/n) sum_i log(1 + exp(-m_i(theta)))`` (docs/theory/setting.md)."""
    m = margins_fn(model, X, y)
    return lambda theta: logistic_loss(m(theta))


def weighted_direction(
    margins: Callable[[jax.Array], jax.Array], theta: jax.Array, weights: jax.Array
) -> jax.Array:
    """``sum_i weights_i grad m_i(theta) = J_m(theta)^T weights``, shape ``(p,)``."""
    _, vjp = jax.vjp(margins, theta)
    return vjp(weights)[0]


def perceptron_step(
    model: Model, X: jax.Array, y: jax.Array, algorithm: Algorithm | str, gamma: float
) -> Callable[[jax.Array], jax.Array]:
    """The pure step map ``theta_t -> theta_{t+1}`` of a generalized perceptron
    (docs/theory/reduction.md).

    Example:
        >>> import numpy as np
        >>> from gdperceptron import linear, perceptron_step
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0])
        >>> step = perceptron_step(linear(2), X, y, "perceptron", 1.0)
        >>> np.asarray(step(np.zeros(2))).tolist()  # all weights 1/2 at the start
        [0.25, -0.25]
    """
    alg = get_algorithm(algorithm) if isinstance(algorithm, str) else algorithm
    gamma = check_step(gamma)
    margins = margins_fn(model, X, y)

    @float64
    def step(theta: jax.Array) -> jax.Array:
        m, vjp = jax.vjp(margins, theta)
        w = alg.weights(m)
        return theta + alg.step_size(m, w, gamma) * vjp(w)[0]

    return step


@float64
def error_term(
    model: Model, X: jax.Array, y: jax.Array, gamma: float, theta: jax.Array
) -> jax.Array:
    """``xi = (gamma/n) sum_i (sigma(-m_i) - h(m_i)) grad m_i(theta)``, shape ``(p,)``:
    the GD step minus the hard perceptron step from the same point (docs/theory/reduction.md)."""
    m, vjp = jax.vjp(margins_fn(model, jnp.asarray(X), jnp.asarray(y)), theta)
    return gamma / m.shape[0] * vjp(logistic_weights(m) - hard_weights(m))[0]
