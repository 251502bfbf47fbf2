"""Orthonormal bases in closed form that are never stored as a dense ``(d, k)`` matrix.

A :class:`SegmentBasis` has ``k`` columns, column ``j`` equal to ``1 / sqrt(b_j - a_j)`` on
the coordinates ``a_j <= x < b_j`` and 0 elsewhere, the ranges disjoint: orthonormal by
construction. The minimal example's basis ``e_1, e_2, (1_d - e_1 - e_2) / sqrt(d - 2)``
(docs/theory/minimal-example.md) is one. Products with it cost ``O(d)`` per row and no
``(d, k)`` memory: at ``d = 10^7`` the dense matrix alone would be 1.5 times the data.

It behaves as the dense matrix ``Q`` in products (``X @ Q``, ``Q @ c``, ``Q.T @ v``,
``Q.T @ Q``), in ``np.asarray(Q)`` (which builds it), indexing and scalar products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gdperceptron.errors import GDPerceptronError

# coordinates per piece in the row-by-row residual (bounded temporaries)
CHUNK = 1 << 16


@dataclass(frozen=True)
class SegmentBasis:
    """Columns ``q_j = 1_{[a_j, b_j)} / sqrt(b_j - a_j)``, ``j < k``, in ``R^d``.

    Attributes:
        d: the dimension.
        segments: ``((a_0, b_0), ..., (a_{k-1}, b_{k-1}))``, disjoint, ``0 <= a_j < b_j <= d``.
    """

    d: int
    segments: tuple[tuple[int, int], ...]

    __array_ufunc__ = None  # NumPy defers X @ Q and 2.0 * Q to the methods below

    def __post_init__(self) -> None:
        spans = sorted(self.segments)
        if not spans or any(not 0 <= a < b <= self.d for a, b in spans):
            raise GDPerceptronError(f"segments must lie in [0, {self.d}), got {self.segments}")
        if any(b0 > a1 for (_, b0), (a1, _) in zip(spans, spans[1:], strict=False)):
            raise GDPerceptronError(f"segments must be disjoint, got {self.segments}")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.d, len(self.segments))

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    @property
    def values(self) -> np.ndarray:
        """``1 / sqrt(b_j - a_j)`` per column, shape ``(k,)``."""
        return np.array([1.0 / np.sqrt(float(b - a)) for a, b in self.segments])

    def dense(self) -> np.ndarray:
        """``Q`` as a ``(d, k)`` array."""
        Q = np.zeros(self.shape)
        for j, ((a, b), v) in enumerate(zip(self.segments, self.values, strict=True)):
            Q[a:b, j] = v
        return Q

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        Q = self.dense()
        return Q if dtype is None else Q.astype(dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        return self.dense()[key]

    def project(self, V: Any) -> np.ndarray:
        """``V Q``: shape ``(..., d) -> (..., k)``; no temporaries of size ``d``."""
        V = np.asarray(V, dtype=np.float64)
        if V.shape[-1] != self.d:
            raise GDPerceptronError(f"expected rows of length {self.d}, got shape {V.shape}")
        pairs = zip(self.segments, self.values, strict=True)
        cols = [V[..., a:b].sum(axis=-1) * v for (a, b), v in pairs]
        return np.stack(cols, axis=-1)

    def expand(self, C: Any) -> np.ndarray:
        """``C Q^T``: shape ``(..., k) -> (..., d)``."""
        C = np.asarray(C, dtype=np.float64)
        out = np.zeros((*C.shape[:-1], self.d))
        for j, ((a, b), v) in enumerate(zip(self.segments, self.values, strict=True)):
            out[..., a:b] = (C[..., j] * v)[..., None]
        return out

    def rows(self, coords: Any) -> np.ndarray:
        """The rows ``Q[coords]``, shape ``(len(coords), k)``."""
        coords = np.asarray(coords, dtype=np.int64)
        out = np.zeros((coords.size, len(self.segments)))
        for j, ((a, b), v) in enumerate(zip(self.segments, self.values, strict=True)):
            out[(coords >= a) & (coords < b), j] = v
        return out

    def gram(self) -> np.ndarray:
        """``Q^T Q`` from the closed form: ``diag(v_j^2 (b_j - a_j))``, the identity up to
        the rounding of ``v_j``."""
        lengths = np.array([b - a for a, b in self.segments], dtype=np.float64)
        return np.diag(self.values**2 * lengths)

    def residual_norms(self, rows: Any, moved: Any = None, images: Any = None) -> np.ndarray:
        """``||r_i - Q Q^T r_i||`` for each row ``r_i`` of ``rows`` (shape ``(m, d)``), in
        pieces of :data:`CHUNK` coordinates: no temporary of size ``d``. With ``moved`` and
        ``images`` (coordinate arrays), the rows are first permuted on those coordinates,
        ``r[moved] <- r[images]`` (``r P`` for a permutation ``P`` moving only ``moved``),
        without a copy of the row."""
        rows = np.asarray(rows, dtype=np.float64)
        moved = np.zeros(0, np.int64) if moved is None else np.asarray(moved, np.int64)
        images = moved if images is None else np.asarray(images, np.int64)
        order = np.argsort(moved)
        moved, images = moved[order], images[order]
        out = np.zeros(rows.shape[0])
        for i, r in enumerate(rows):
            # Q^T (r P) = Q^T r + Q[moved]^T (r[images] - r[moved])
            change = r[images] - r[moved]
            coef = (self.project(r) + change @ self.rows(moved)) * self.values
            total = 0.0
            for c0 in range(0, self.d, CHUNK):
                c1 = min(c0 + CHUNK, self.d)
                piece = r[c0:c1].copy()
                lo, hi = np.searchsorted(moved, [c0, c1])
                piece[moved[lo:hi] - c0] += change[lo:hi]
                for j, (a, b) in enumerate(self.segments):
                    s0, s1 = max(a, c0), min(b, c1)
                    if s0 < s1:
                        piece[s0 - c0 : s1 - c0] -= coef[j]
                total += float(piece @ piece)
            out[i] = np.sqrt(total)
        return out

    # ------------------------------------------------------------ as the matrix Q

    @property
    def T(self) -> _Transposed:
        return _Transposed(self)

    def __matmul__(self, other: Any) -> np.ndarray:  # Q @ C
        if isinstance(other, (SegmentBasis, _Transposed)):
            return self.dense() @ np.asarray(other)
        other = np.asarray(other, dtype=np.float64)
        return self.expand(other.T).T

    def __rmatmul__(self, other: Any) -> np.ndarray:  # V @ Q
        return self.project(other)

    def __mul__(self, other: Any) -> np.ndarray:
        return self.dense() * other

    __rmul__ = __mul__


@dataclass(frozen=True)
class _Transposed:
    """``Q^T`` of a :class:`SegmentBasis`, for products."""

    basis: SegmentBasis

    __array_ufunc__ = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.basis.shape[::-1]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        Qt = self.basis.dense().T
        return Qt if dtype is None else Qt.astype(dtype)

    def __matmul__(self, other: Any) -> np.ndarray:  # Q^T @ V
        if isinstance(other, SegmentBasis):  # the dense product: small d only
            D = other.dense()
            return (D if other == self.basis else self.basis.dense()).T @ D
        other = np.asarray(other, dtype=np.float64)
        return self.basis.project(other.T).T

    def __rmatmul__(self, other: Any) -> np.ndarray:  # C @ Q^T
        return self.basis.expand(other)
