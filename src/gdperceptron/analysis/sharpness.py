"""Sharpness: the top eigenvalue of the Hessian of the logistic loss
(docs/theory/diagnostics.md).

``sharpness(model, data, theta) = lambda_max(grad^2 F(theta))`` by Lanczos iteration (ARPACK's
implicitly restarted Lanczos, :func:`scipy.sparse.linalg.eigsh`, ``which="LA"``) on
Hessian-vector products ``v -> grad^2 F(theta) v = d/de grad F(theta + e v)``, computed as
``jax.jvp`` of ``jax.grad`` (forward over reverse): one product costs about two gradient
passes and the dense ``(p, p)`` Hessian is never formed. The start vector is drawn from
``numpy.random.default_rng(seed)``, so the result is deterministic. Models with fewer
than three parameters (ARPACK needs ``p > 2``) use the ``p`` products with the unit
vectors and ``numpy.linalg.eigvalsh``.

The edge-of-stability convention compares the sharpness with ``2 / gamma``: GD on a
quadratic with curvature ``lambda`` is stable iff ``lambda < 2 / gamma``.
:func:`sharpness_along` records it every ``every`` iterations of a run.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gdperceptron._jax import float64, jax, jnp
from gdperceptron.analysis.diagnostics import params_along
from gdperceptron.data.synthetic import Dataset
from gdperceptron.engines.algorithms import loss_fn
from gdperceptron.engines.trajectory import _check_int
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model, split_params


def _hvp(model: Model, data: Dataset):
    """``(theta, v) -> grad^2 F(theta) v``, both of shape ``(p,)``, compiled once."""
    X, y = jnp.asarray(data.X, dtype=jnp.float64), jnp.asarray(data.y, dtype=jnp.float64)
    grad = jax.grad(loss_fn(model, X, y))
    return jax.jit(lambda theta, v: jax.jvp(grad, (theta,), (v,))[1])


def _top_eigenvalue(hvp, theta: jax.Array, p: int, seed: int, tol: float) -> float:
    from scipy.sparse.linalg import LinearOperator, eigsh

    def matvec(v: np.ndarray) -> np.ndarray:
        return np.asarray(hvp(theta, jnp.asarray(np.ravel(v), dtype=jnp.float64)))

    if p <= 2:
        H = np.column_stack([matvec(e) for e in np.eye(p)])
        return float(np.linalg.eigvalsh(0.5 * (H + H.T))[-1])
    v0 = np.random.default_rng(seed).standard_normal(p)
    op = LinearOperator((p, p), matvec=matvec, dtype=np.float64)
    vals = eigsh(op, k=1, which="LA", v0=v0, tol=tol, return_eigenvectors=False,
                 ncv=min(p, 20), maxiter=100 * p)  # fmt: skip
    return float(vals[0])


@float64
def sharpness(model: Model, data: Dataset, theta: Any, *, seed: int = 0, tol: float = 0.0) -> float:
    """The top eigenvalue ``lambda_max`` of the Hessian of
    ``F(theta) = (1/n) sum_i log(1 + exp(-m_i(theta)))`` at ``theta`` (shape ``(p,)``), by
    Lanczos on Hessian-vector products (module docstring). ``tol`` is ARPACK's relative
    tolerance (0: machine precision); ``seed`` draws the start vector.

    Example:
        >>> import numpy as np
        >>> from gdperceptron import linear, make_dataset
        >>> data = make_dataset(np.eye(3), np.array([1.0, -1.0, 1.0]))
        >>> round(sharpness(linear(3), data, np.zeros(3)), 12)  # (1/n) sigma'(0) ||x||^2
        0.083333333333
    """
    flat, _ = split_params(model, theta, "theta")
    if not np.all(np.isfinite(flat)):
        raise GDPerceptronError("theta contains non-finite values")
    if not tol >= 0:
        raise GDPerceptronError(f"tol must be >= 0, got {tol}")
    return _top_eigenvalue(_hvp(model, data), jnp.asarray(flat), flat.size, int(seed), tol)


class SharpnessPath(NamedTuple):
    """Sharpness along a run: ``iterations`` (shape ``(T,)``), ``sharpness`` (``(T,)``), the
    run's ``step`` and the edge of stability ``2 / step``."""

    iterations: np.ndarray
    sharpness: np.ndarray
    step: float
    edge: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready lists and numbers."""
        return {"iterations": self.iterations.tolist(), "sharpness": self.sharpness.tolist(),
                "step": self.step, "edge": self.edge}  # fmt: skip


@float64
def sharpness_along(
    model: Model,
    data: Dataset,
    algorithm: str,
    step: float,
    *,
    theta0: Any,
    max_iter: int,
    every: int = 10,
    seed: int = 0,
) -> SharpnessPath:
    """The sharpness at ``theta_t`` for ``t = 0, every, 2 every, ... <= max_iter`` of the
    run of ``algorithm`` at ``step`` from ``theta0``
    (:func:`gdperceptron.analysis.diagnostics.params_along`: the run loop's step map), with
    one compiled Hessian-vector product for every iterate."""
    every = _check_int(every, "every", 1)
    its, params = params_along(model, data, algorithm, step, theta0=theta0, max_iter=max_iter,
                               every=every)  # fmt: skip
    if not np.all(np.isfinite(params)):
        raise GDPerceptronError("the run leaves the float64 range before max_iter")
    hvp = _hvp(model, data)
    values = [_top_eigenvalue(hvp, jnp.asarray(th), th.size, int(seed), 0.0) for th in params]
    return SharpnessPath(its, np.asarray(values), float(step), 2.0 / float(step))


def sharpness_paths(
    model: Model,
    data: Dataset,
    algorithm: str,
    steps: Any,
    *,
    theta0: Any,
    max_iter: int,
    every: int,
    seed: int = 0,
) -> list[SharpnessPath]:
    """:func:`sharpness_along` at each of ``steps`` from the same start; a step whose run
    leaves the float64 range before ``max_iter`` is left out (its sharpness is not finite)."""
    out = []
    for step in steps:
        try:
            out.append(sharpness_along(model, data, algorithm, float(step), theta0=theta0,
                                       max_iter=max_iter, every=every, seed=seed))  # fmt: skip
        except GDPerceptronError as err:
            if "float64 range" not in str(err):
                raise
    return out
