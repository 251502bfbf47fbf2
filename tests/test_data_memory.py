"""The Gaussian data set without (n, d) temporaries gives the numbers of the plain formula,
and make_dataset(copy=False) takes over an array without copying it."""

from __future__ import annotations

import numpy as np
import pytest

from gdperceptron import gaussian, make_dataset


@pytest.mark.parametrize(("n", "d", "margin", "seed"), [(50, 7, 0.1, 0), (300, 40, 0.5, 3)])
def test_gaussian_equals_the_plain_formula(n: int, d: int, margin: float, seed: int) -> None:
    rng = np.random.default_rng(seed)  # the plain formula, with its (n, d) temporary
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    X = rng.standard_normal((n, d))
    s = X @ u
    y = np.where(s >= 0, 1.0, -1.0)
    y[0], y[1] = 1.0, -1.0
    X += ((margin - y * s).clip(min=0.0) * y)[:, None] * u[None, :]
    data = gaussian(n, d, margin, seed=seed)
    assert np.array_equal(data.X, X) and np.array_equal(data.y, y)
    assert np.all(data.y * (data.X @ u) >= margin - 1e-12)
    assert not data.X.flags.writeable


def test_make_dataset_copies_unless_told() -> None:
    X = np.arange(6.0).reshape(3, 2)
    y = np.array([1.0, -1.0, 1.0])
    copied = make_dataset(X, y)
    assert not np.shares_memory(copied.X, X) and X.flags.writeable
    owned = make_dataset(X, y, copy=False)
    assert np.shares_memory(owned.X, X) and np.array_equal(owned.X, copied.X)
    ints = make_dataset(X.astype(np.int64), y, copy=False)  # not float64: converted
    assert ints.X.dtype == np.float64 and np.array_equal(ints.X, X)
