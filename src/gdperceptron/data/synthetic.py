"""Data sets as validated, immutable ``(X, y)`` pairs with labels in {-1, +1}.

docs/theory/setting.md (notation), docs/theory/minimal-example.md (the minimal example),
docs/theory/predecessor.md (the predecessor's data sets).
Real data sets (bundled with scikit-learn, or local image files) are loaded in
:mod:`gdperceptron.data.loaders`, data files of your own in :mod:`gdperceptron.data.files`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdperceptron.data.alignment import aligned_copy, aligned_empty, is_aligned
from gdperceptron.data.bases import SegmentBasis
from gdperceptron.errors import GDPerceptronError


def _check_shapes(X: np.ndarray, y: np.ndarray) -> None:
    """``X`` of shape ``(n, d)`` and ``y`` of shape ``(n,)``, ``n, d >= 1``."""
    if X.ndim != 2:
        raise GDPerceptronError(f"X must be a 2-D array (n, d), got shape {X.shape}")
    if y.ndim != 1:
        raise GDPerceptronError(f"y must be a 1-D array (n,), got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise GDPerceptronError(
            f"X and y disagree on the number of samples: {X.shape[0]} rows vs {y.shape[0]} labels"
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise GDPerceptronError(f"empty data set: X has shape {X.shape}")


@dataclass(frozen=True)
class Dataset:
    """A two-class data set.

    Attributes:
        X: features, shape ``(n, d)``, float64, finite.
        y: labels, shape ``(n,)``, float64, values in {-1, +1}.
        name: short name used in configs and reports.
        info: free-form metadata (parameters that made the data).
        basis: ``() -> Q``, a closed-form orthonormal basis ``(d, k)`` of a subspace that
            contains every ``x_i`` and is mapped to itself by the swap of the first two
            coordinates, when the construction knows one (the minimal example); the exact
            reduced simulation uses it instead of a QR. ``None`` otherwise.
    """

    X: np.ndarray
    y: np.ndarray
    name: str = "custom"
    info: dict[str, Any] = field(default_factory=dict)
    basis: Callable[[], np.ndarray] | None = None

    def __post_init__(self) -> None:
        """Validate as :func:`make_dataset` does, except that the labels must already be
        exactly -1 and +1 (``make_dataset`` maps other pairs of labels). Real arrays are
        stored as read-only float64 copies."""
        X = _real_array(self.X, "X")
        y = _real_array(self.y, "y")
        _check_shapes(X, y)
        if not np.all(np.isfinite(X)):
            bad = int(np.sum(~np.isfinite(X)))
            raise GDPerceptronError(f"X contains {bad} non-finite value(s) (NaN or inf)")
        if not np.all((y == 1.0) | (y == -1.0)):
            found = np.unique(y[(y != 1.0) & (y != -1.0)])[:5].tolist()
            raise GDPerceptronError(
                f"Dataset labels y must be exactly -1 or +1, found {found}; "
                "use make_dataset to map two other labels"
            )
        if not isinstance(self.name, str):
            raise GDPerceptronError(f"name must be a str, got {type(self.name).__name__}")
        if not isinstance(self.info, dict):
            raise GDPerceptronError(f"info must be a dict, got {type(self.info).__name__}")
        for attr, arr in (("X", X), ("y", y)):
            if arr is getattr(self, attr) and arr.flags.writeable:
                arr = aligned_copy(arr)  # shared, not copied, by the run's device arrays
            arr.setflags(write=False)
            object.__setattr__(self, attr, arr)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def A(self) -> np.ndarray:
        """Signed samples ``a_i = y_i x_i``, shape ``(n, d)`` (docs/theory/setting.md)."""
        return self.y[:, None] * self.X


def _real_array(value: Any, what: str) -> np.ndarray:
    """``value`` as a float64 array; refuses non-numeric, boolean-free complex input."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise GDPerceptronError(f"{what} must be an array of real numbers ({err})") from None
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise GDPerceptronError(f"{what} must be real numbers, got dtype {arr.dtype}")
    return arr if arr.dtype == np.float64 else arr.astype(np.float64)


def make_dataset(
    X: Any,
    y: Any,
    name: str = "custom",
    info: dict[str, Any] | None = None,
    *,
    copy: bool = True,
) -> Dataset:
    """Validate ``X`` and ``y`` and return a :class:`Dataset`.

    ``y`` may hold any two distinct values; the smaller one (in sorted order) maps to -1
    and the larger to +1, unless the labels already are {-1, +1}. ``X`` is copied (the
    dataset's arrays are read-only, and ``X`` starts on a 64-byte boundary, which lets a run
    share its memory: :mod:`gdperceptron.data.alignment`); ``copy=False`` takes over an
    aligned float64 ``X`` that no one else holds, without a copy (the data generators of
    this module: one copy of the data in memory, not two).

    Raises:
        GDPerceptronError: on wrong shapes, non-finite values, or not exactly two classes.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    _check_shapes(X, y)
    if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
        raise GDPerceptronError(f"X must be real numbers, got dtype {X.dtype}")
    X = aligned_copy(X) if copy or not is_aligned(X) else X
    if not np.all(np.isfinite(X)):
        bad = int(np.sum(~np.isfinite(X)))
        raise GDPerceptronError(f"X contains {bad} non-finite value(s) (NaN or inf)")
    y_signed = labels_to_signed(y)
    X.setflags(write=False)
    y_signed.setflags(write=False)
    return Dataset(X=X, y=y_signed, name=name, info=dict(info or {}))


def labels_to_signed(y: Any) -> np.ndarray:
    """Map two-class labels to {-1., +1.} (float64). Sorted order: first class -> -1."""
    y = np.asarray(y)
    if np.iscomplexobj(y):
        raise GDPerceptronError("labels must be real numbers or text, got complex numbers")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise GDPerceptronError("labels contain NaN or inf")
    classes = np.unique(y)
    if classes.size != 2:
        raise GDPerceptronError(
            f"labels must have exactly two classes, got {classes.size}: {classes[:10].tolist()}"
        )
    if set(classes.tolist()) == {-1, 1}:
        return y.astype(np.float64)
    return np.where(y == classes[1], 1.0, -1.0)


def minimal_example(d: int, mu: float = 1.0) -> Dataset:
    """The minimal example of docs/theory/minimal-example.md.

    ``x_1 = 1_d`` with ``y_1 = +1``; ``x_2 = 1_d + mu e_1`` with ``y_2 = -1``.
    Shapes: ``X`` is ``(2, d)``.
    """
    if int(d) != d or d < 2:
        raise GDPerceptronError(f"the minimal example needs an integer d >= 2, got {d}")
    if not np.isfinite(mu) or mu <= 0:
        raise GDPerceptronError(f"mu must be a positive finite number, got {mu}")
    d = int(d)
    X = np.ones((2, d))
    X[1, 0] += mu
    data = make_dataset(X, np.array([1.0, -1.0]), "minimal", {"d": d, "mu": float(mu)})
    return dataclasses.replace(data, basis=functools.partial(minimal_example_basis, d))


def loss_unreliable() -> Dataset:
    """Predecessor Theorem 4.1 (docs/theory/predecessor.md): (1, -1) with label +1 and (-1, -4)
    with label -1."""
    X = np.array([[1.0, -1.0], [-1.0, -4.0]])
    return make_dataset(X, np.array([1.0, -1.0]), "loss-unreliable")


def worst_case(n: int) -> Dataset:
    """Predecessor Theorem 5.1 (docs/theory/predecessor.md): one sample (0.5, -1) with label +1 and
    ``n - 1`` samples (-0.5, -1) with label -1. Shapes: ``X`` is ``(n, 2)``."""
    if int(n) != n or n < 2:
        raise GDPerceptronError(f"the worst-case data set needs an integer n >= 2, got {n}")
    n = int(n)
    X = np.tile(np.array([-0.5, -1.0]), (n, 1))
    X[0] = (0.5, -1.0)
    y = -np.ones(n)
    y[0] = 1.0
    return make_dataset(X, y, "worst-case", {"n": n})


def gaussian(n: int, d: int, margin: float = 0.1, *, seed: int) -> Dataset:
    """Linearly separable Gaussian data with a chosen margin.

    Draw a unit direction ``u`` and ``x_i ~ N(0, I_d)``; label ``y_i = sign(<u, x_i>)``;
    then push every point away from the hyperplane so that ``y_i <u, x_i> >= margin``.
    The returned data are separated by ``u`` with margin at least ``margin``.
    """
    for name, value, low in (("n", n, 2), ("d", d, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)):
            raise GDPerceptronError(
                f"gaussian data: {name} must be an integer >= {low}, got {value!r}"
            )
        if not np.isfinite(value) or int(value) != value or value < low:
            raise GDPerceptronError(
                f"gaussian data: {name} must be an integer >= {low}, got {value}"
            )
    if isinstance(margin, bool) or not isinstance(margin, (int, np.integer, float, np.floating)):
        raise GDPerceptronError(f"margin must be a finite number >= 0, got {margin!r}")
    if not np.isfinite(margin) or margin < 0:
        raise GDPerceptronError(f"margin must be a finite number >= 0, got {margin}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GDPerceptronError(f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    X = rng.standard_normal(out=aligned_empty((int(n), int(d))))
    s = X @ u
    y = np.where(s >= 0, 1.0, -1.0)
    y[0], y[1] = 1.0, -1.0  # both classes always present
    push = (margin - y * s).clip(min=0.0) * y
    # only the rows that move: X_i + push_i u, no (n, d) temporary (a zero push adds +0.0,
    # which changes no entry of a Gaussian draw)
    moved = np.flatnonzero(push)
    X[moved] += push[moved, None] * u[None, :]
    return make_dataset(
        X,
        y,
        "gaussian",
        {
            "n": int(n),
            "d": int(d),
            "margin": float(margin),
            "seed": int(seed),
            "direction": u.tolist(),
        },
        copy=False,
    )


def standardize(X: np.ndarray) -> np.ndarray:
    """Centre each column and scale it to unit variance (constant columns are left at 0)."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    return (X - mean) / np.where(std > 0, std, 1.0)


def minimal_example_reduced(d: int, mu: float = 1.0) -> Dataset:
    """The minimal example written in an orthonormal basis of span{e_1, e_2, 1_d}.

    Basis (derived here, docs/theory/minimal-example.md last paragraph): ``e_1``, ``e_2`` and
    ``b = (1_d - e_1 - e_2) / sqrt(d - 2)`` (only ``e_1, e_2`` when ``d = 2``). In it
    ``x_1 = (1, 1, sqrt(d-2))`` and ``x_2 = (1 + mu, 1, sqrt(d-2))``; the swap ``P`` of the
    first two coordinates maps the span to itself and acts as the swap of the first two
    reduced coordinates. So the linear and the tied model on these ``k <= 3`` features have
    exactly the margins of the ``d``-dimensional problem, for ``w`` replaced by its
    coordinates ``Q^T w`` in this basis. Shapes: ``X`` is ``(2, min(d, 3))``.
    """
    if int(d) != d or d < 2:
        raise GDPerceptronError(f"the minimal example needs an integer d >= 2, got {d}")
    if not np.isfinite(mu) or mu <= 0:
        raise GDPerceptronError(f"mu must be a positive finite number, got {mu}")
    d = int(d)
    X = np.array([[1.0, 1.0, np.sqrt(d - 2.0)], [1.0 + mu, 1.0, np.sqrt(d - 2.0)]])
    X = X[:, : min(d, 3)]
    return make_dataset(X, np.array([1.0, -1.0]), "minimal-reduced", {"d": d, "mu": float(mu)})


def minimal_example_basis(d: int) -> SegmentBasis:
    """The basis ``Q`` of :func:`minimal_example_reduced` as columns, shape ``(d, min(d, 3))``:
    ``e_1``, ``e_2`` and ``1 / sqrt(d - 2)`` on the coordinates ``3..d``, held in closed form
    (:class:`~gdperceptron.data.bases.SegmentBasis`; ``np.asarray`` gives the dense matrix)."""
    if int(d) != d or d < 2:
        raise GDPerceptronError(f"the minimal example needs an integer d >= 2, got {d}")
    d = int(d)
    return SegmentBasis(d, ((0, 1), (1, 2), (2, d)) if d > 2 else ((0, 1), (1, 2)))
