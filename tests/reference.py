"""Reference computations shared by the tests, written independently of the library."""

from __future__ import annotations

import numpy as np


def explicit_A(a: np.ndarray, P: np.ndarray | None = None) -> np.ndarray:
    """``A(a) = [[0, 0, a^T], [0, 0, (Pa)^T], [a, Pa, 0]]`` of docs/theory/models.md, entry by
    entry;
    ``P`` defaults to the swap of coordinates 1 and 2."""
    d = a.size
    if P is None:
        Pa = a.copy()
        Pa[[0, 1]] = a[[1, 0]]
    else:
        Pa = np.einsum("ik,k->i", P, a)
    A = np.zeros((d + 2, d + 2))
    A[0, 2:] = A[2:, 0] = a
    A[1, 2:] = A[2:, 1] = Pa
    return A


def lambda2(d: int, mu: float) -> float:
    """docs/theory/minimal-example.md Corollary, written out: ``lambda_2 = sqrt((2 + mu)^2 + 2 (d -
    2))``."""
    return float(np.sqrt((2.0 + mu) ** 2 + 2.0 * (d - 2)))
