"""The Gaussian data set without (n, d) temporaries gives the numbers of the plain formula,
make_dataset(copy=False) takes over an aligned array without copying it, and every data
set's X is aligned so that the run's device array shares its memory."""

from __future__ import annotations

import numpy as np
import pytest

from gdperceptron import Dataset, gaussian, make_dataset
from gdperceptron._jax import jax
from gdperceptron.data.alignment import aligned_copy, is_aligned


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
    X = aligned_copy(np.arange(6.0).reshape(3, 2))
    y = np.array([1.0, -1.0, 1.0])
    copied = make_dataset(X, y)
    assert not np.shares_memory(copied.X, X) and X.flags.writeable
    owned = make_dataset(X, y, copy=False)
    assert np.shares_memory(owned.X, X) and np.array_equal(owned.X, copied.X)
    ints = make_dataset(X.astype(np.int64), y, copy=False)  # not float64: converted
    assert ints.X.dtype == np.float64 and np.array_equal(ints.X, X)


def test_data_sets_are_aligned_and_shared_by_the_device() -> None:
    y = np.array([1.0, -1.0, 1.0])
    raw = np.empty(6 * 8 + 8, dtype=np.uint8)[8:].view(np.float64).reshape(3, 2)
    raw[...] = np.arange(6.0).reshape(3, 2)
    if raw.ctypes.data % 64 == 0:  # make sure the input is not aligned by chance
        raw = np.empty(7 * 8, dtype=np.uint8)[8:].view(np.float64).reshape(3, 2)
        raw[...] = np.arange(6.0).reshape(3, 2)
    assert not is_aligned(raw)
    taken = make_dataset(raw, y, copy=False)  # not aligned: one aligned copy
    assert is_aligned(taken.X) and not np.shares_memory(taken.X, raw)
    assert np.array_equal(taken.X, raw)
    for data in (taken, gaussian(40, 9, seed=1), Dataset(raw.copy(), y)):
        assert is_aligned(data.X) and not data.X.flags.writeable
        # the run's device array is the data set's memory, not a copy of it
        assert np.shares_memory(np.asarray(jax.device_put(data.X)), data.X)
