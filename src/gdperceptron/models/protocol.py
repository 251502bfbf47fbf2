"""The model protocol: a pure ``apply(theta, X)`` over flat float64 parameters.

Every model of the package, built in or the user's, is a :class:`Model`: a pure
``apply(theta, X) -> f`` of shapes ``(p,), (n, d) -> (n,)`` plus what an engine may use
when the model declares it:

- ``degree``: ``k`` when the model is positively ``k``-homogeneous,
  ``f(x; c theta) = c^k f(x; theta)`` for every ``c > 0`` (docs/theory/exact-simulation.md);
- ``first_layer``: how the model reads its input (:class:`FirstLayer`), which is what the
  exact reduced simulation needs (docs/theory/minimal-example.md);
- ``unravel``: the structure of the user's parameters when the model was built from a
  pytree (:func:`from_apply`), so that runs accept and return parameters in that structure.

No engine looks at a model's ``name``: it is a label for configs and reports. Compiled
functions are cached on the ``apply`` object itself (see
:mod:`gdperceptron.engines.trajectory`), so two models with the same name and different
functions can never share numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdperceptron._jax import jax, jnp
from gdperceptron.errors import GDPerceptronError


@dataclass(frozen=True)
class FirstLayer:
    """How a model reads its input ``x`` (shape ``(d,)``).

    The block ``theta[offset : offset + rows * d]``, a row-major ``(rows, d)`` matrix ``W``,
    holds every parameter that touches ``x``, and ``x`` enters only through ``W x`` and,
    when ``involution`` is set, ``W P x``. Then the margins depend on each row ``w`` only
    through its projection on ``span{x_i}`` (or ``span{x_i, P x_i}``), which is what makes
    the exact reduced simulation possible.

    Attributes:
        offset: index of the block's first entry in ``theta``.
        rows: number of rows of ``W``.
        involution: ``P`` (an :class:`~gdperceptron.models.builtin.Involution`), or ``None``.
        rebuild: ``(k, P~) -> Model``: the same model with input dimension ``k`` and
            involution ``P~`` (``None`` when ``involution`` is ``None``).
        head: ``(theta (p,), H) -> f (n,)``, the model after its first layer, with
            ``H = X W^T`` of shape ``(n, rows)`` (``[X W^T, (X P) W^T]``, shape
            ``(n, 2 rows)``, with an involution): ``f(X; theta) = head(theta, H)``. When
            given, the run loop computes ``H`` itself, with a stored ``X^T`` for the backward
            product (a contiguous pass instead of a strided one); ``None`` otherwise.
            Hashable, and equal only for equal functions (it is part of a compile-cache key).
    """

    offset: int
    rows: int
    involution: Any
    rebuild: Callable[[int, Any], Model]
    head: Callable[[Any, Any], Any] | None = None


@dataclass(frozen=True, eq=False)
class Model:
    """A model ``f(x; theta)`` with flat float64 parameters ``theta`` of shape ``(p,)``.

    Attributes:
        name: a label for configs and reports (never used to choose a computation).
        d: input dimension, or ``None`` when the model accepts any (a user's ``apply``
            whose parameters do not fix it).
        n_params: ``p``, the length of ``theta``.
        apply: ``(theta (p,), X (n, d)) -> f (n,)``, pure and differentiable.
        init: ``(seed, init_scale) -> theta (p,)`` as a NumPy float64 array, or ``None``
            for a model built from given parameters (then ``params`` is the start).
        default_init_scale: the scale used when none is given.
        info: the model's options (width, activation, ...), for configs and reports.
        degree: ``k`` if ``f(x; c theta) = c^k f(x; theta)`` for all ``c > 0``, else ``None``.
        first_layer: a :class:`FirstLayer`, or ``None`` (no reduced simulation).
        unravel: ``theta (p,) -> params`` in the user's pytree structure, or ``None``.
        params: the flat parameters the model was built from (:func:`from_apply`), or
            ``None``.
        margin_matrix: ``a (d,) -> A (p, p)`` when every margin is a quadratic form
            ``m = 1/2 theta^T A(y x) theta`` (docs/theory/reduction.md), else ``None``.
    """

    name: str
    d: int | None
    n_params: int
    apply: Callable[[jax.Array, jax.Array], jax.Array]
    init: Callable[[int, float], np.ndarray] | None
    default_init_scale: float
    info: dict[str, Any] = field(default_factory=dict)
    degree: int | None = None
    first_layer: FirstLayer | None = None
    unravel: Callable[[Any], Any] | None = None
    params: np.ndarray | None = None
    margin_matrix: Callable[[np.ndarray], np.ndarray] | None = None

    def margins(self, theta: jax.Array, X: jax.Array, y: jax.Array) -> jax.Array:
        """``m_i = y_i f(x_i; theta)``, shape ``(n,)`` (docs/theory/setting.md)."""
        return y * self.apply(theta, X)

    def initial_params(self, seed: int, init_scale: float | None = None) -> np.ndarray:
        """Seeded initial parameters; ``init_scale`` defaults to ``default_init_scale``.

        A model built from given parameters has no initialiser: pass ``theta0`` to the
        run, or use ``model.params``.
        """
        if self.init is None:
            raise GDPerceptronError(
                f"model {self.name!r} was built from given parameters and has no seeded "
                "initialiser; pass theta0 (for example model.params)"
            )
        scale = self.default_init_scale if init_scale is None else float(init_scale)
        if not np.isfinite(scale) or scale < 0:
            raise GDPerceptronError(f"init_scale must be a finite number >= 0, got {scale}")
        return self.init(int(seed), scale)

    def flatten(self, params: Any) -> np.ndarray:
        """``params`` (the model's pytree structure, or already flat of shape ``(p,)``) as
        a flat float64 vector of shape ``(p,)``."""
        return flat_params(self, params)

    def structured(self, theta: Any) -> Any:
        """Flat ``theta`` of shape ``(p,)`` in the model's pytree structure (NumPy leaves);
        ``theta`` itself for a model without one."""
        theta = np.asarray(theta, dtype=np.float64)
        if self.unravel is None:
            return theta
        return jax.tree_util.tree_map(np.asarray, self.unravel(theta))


# ------------------------------------------------------------------ pytree models


@dataclass(frozen=True)
class _Layout:
    """The structure of a pytree of float arrays: ``treedef`` and each leaf's shape.
    Hashable and compared by value, so that it can be part of a cache key."""

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]

    @property
    def size(self) -> int:
        return int(sum(int(np.prod(s)) for s in self.shapes))

    def unravel(self, flat: Any) -> Any:
        """Flat ``(p,)`` -> the pytree; works on NumPy and traced JAX arrays alike."""
        leaves, offset = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            leaves.append(flat[offset : offset + size].reshape(shape))
            offset += size
        return jax.tree_util.tree_unflatten(self.treedef, leaves)


def _layout_of(params: Any, what: str) -> tuple[_Layout, list[np.ndarray]]:
    leaves, treedef = jax.tree_util.tree_flatten(params)
    if not leaves:
        raise GDPerceptronError(f"{what} has no array leaves")
    arrays = []
    for leaf in leaves:
        a = np.asarray(leaf)
        if a.dtype == object or not (
            np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)
        ):
            raise GDPerceptronError(
                f"{what} must be a pytree of real arrays, found a leaf of dtype {a.dtype}"
            )
        arrays.append(a)
    return _Layout(treedef, tuple(a.shape for a in arrays)), arrays


@dataclass(frozen=True, eq=False)
class _PytreeApply:
    """``apply(theta, X) = apply_fn(unravel(theta), X)``: a user's function over a pytree
    seen through flat parameters. Equal (and hashed alike) when the function object and
    the layout are the same, so a compile cache keyed on it is keyed on what determines
    the result."""

    fn: Callable[[Any, Any], Any]
    layout: _Layout

    def __call__(self, theta: jax.Array, X: jax.Array) -> jax.Array:
        out = self.fn(self.layout.unravel(theta), X)
        return jnp.reshape(out, (-1,)) if jnp.ndim(out) == 2 and out.shape[-1] == 1 else out

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _PytreeApply) and other.fn is self.fn and other.layout == self.layout
        )

    def __hash__(self) -> int:
        return hash((id(self.fn), self.layout))


def from_apply(
    apply_fn: Callable[[Any, Any], Any],
    params: Any,
    *,
    name: str | None = None,
    d: int | None = None,
    degree: int | None = None,
    info: dict[str, Any] | None = None,
) -> Model:
    """A :class:`Model` from a pure ``apply_fn(params, X) -> (n,)`` over any JAX pytree.

    ``params`` (dicts, lists, tuples, NamedTuples, Flax/Equinox containers of arrays) is
    flattened to one float64 vector ``theta`` of shape ``(p,)`` in
    :func:`jax.tree_util.tree_flatten` order; ``apply(theta, X) = apply_fn(unravel(theta),
    X)``. An output of shape ``(n, 1)`` is read as ``(n,)``. Runs started from this model
    accept ``theta0`` as a pytree of the same structure (or flat) and return
    ``final_params`` in the structure ``theta0`` had.

    Args:
        apply_fn: pure and differentiable in ``params``; called on traced arrays.
        params: the starting parameters (``model.params`` holds them, flattened).
        name: a label (default ``apply_fn.__name__``); it never selects a computation.
        d: the input dimension when known (checked against the data), else any.
        degree: ``k`` when ``apply_fn(c params, X) = c^k apply_fn(params, X)`` for all
            ``c > 0`` (declares the model homogeneous; not checked here).
        info: options to record in configs.

    Example:
        >>> import jax.numpy as jnp, numpy as np
        >>> from gdperceptron import from_apply
        >>> params = {"w": np.ones(3), "b": np.zeros(())}
        >>> model = from_apply(lambda p, X: X @ p["w"] + p["b"], params, name="affine")
        >>> model.n_params, model.structured(np.arange(4.0))["w"].tolist()
        (4, [1.0, 2.0, 3.0])
    """
    if not callable(apply_fn):
        raise GDPerceptronError(f"apply_fn must be callable, got {type(apply_fn).__name__}")
    layout, arrays = _layout_of(params, "params")
    if d is not None and (isinstance(d, bool) or int(d) != d or d < 1):
        raise GDPerceptronError(f"d must be an integer >= 1 or None, got {d!r}")
    if degree is not None and (isinstance(degree, bool) or int(degree) != degree or degree < 1):
        raise GDPerceptronError(f"degree must be an integer >= 1 or None, got {degree!r}")
    flat = np.concatenate([a.astype(np.float64).ravel() for a in arrays])
    if not np.all(np.isfinite(flat)):
        raise GDPerceptronError("params contain non-finite values")
    label = name if name is not None else getattr(apply_fn, "__name__", "custom")
    return Model(
        name=str(label),
        d=None if d is None else int(d),
        n_params=layout.size,
        apply=_PytreeApply(apply_fn, layout),
        init=None,
        default_init_scale=1.0,
        info=dict(info or {}),
        degree=None if degree is None else int(degree),
        first_layer=None,
        unravel=layout.unravel,
        params=flat,
    )


def _as_flat_array(params: Any) -> np.ndarray | None:
    """``params`` as a 1-D real NumPy array when it is one (array, list of numbers), else
    ``None`` (a pytree of several arrays)."""
    if isinstance(params, dict):
        return None
    try:
        raw = np.asarray(params)
    except (TypeError, ValueError):  # ragged: a tuple of differently shaped arrays
        return None
    if raw.dtype == object or raw.ndim != 1:
        return None
    return raw


def split_params(model: Model, params: Any, what: str = "theta0") -> tuple[np.ndarray, bool]:
    """``(flat, structured)``: ``params`` as a flat float64 vector of shape
    ``(model.n_params,)``, and whether it was given in the model's pytree structure.

    Accepts the flat vector itself (anything array-like of that shape) or, for a model
    built from a pytree, a pytree of the model's structure.
    """
    if isinstance(params, (str, bytes)):
        raise GDPerceptronError(f"{what} must be an array or a pytree of arrays, got a string")
    raw = _as_flat_array(params)
    structured = raw is None and model.unravel is not None
    if structured:
        layout, arrays = _layout_of(params, what)
        want = model.apply.layout if isinstance(model.apply, _PytreeApply) else None
        if want is not None and layout != want:
            raise GDPerceptronError(
                f"{what} has another structure than the model's parameters: "
                f"{layout.treedef} with shapes {list(layout.shapes)}, expected "
                f"{want.treedef} with shapes {list(want.shapes)}"
            )
        flat = np.concatenate([a.astype(np.float64).ravel() for a in arrays])
    else:
        if raw is None:
            raw = np.asarray(params, dtype=object)
        if np.iscomplexobj(raw):
            raise GDPerceptronError(f"{what} must be real, got complex values")
        try:
            flat = raw.astype(np.float64)
        except (TypeError, ValueError):
            raise GDPerceptronError(
                f"{what} must be a real array of shape ({model.n_params},)"
            ) from None
    if flat.shape != (model.n_params,):
        raise GDPerceptronError(f"{what} must have shape ({model.n_params},), got {flat.shape}")
    if not np.all(np.isfinite(flat)):
        raise GDPerceptronError(f"{what} contains non-finite values")
    return flat, structured


def flat_params(model: Model, params: Any, what: str = "theta0") -> np.ndarray:
    """``params`` (flat, or a pytree of the model's structure) as a flat float64 vector of
    shape ``(model.n_params,)`` (:func:`split_params` without the flag)."""
    return split_params(model, params, what)[0]
