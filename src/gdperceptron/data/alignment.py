"""Data arrays on 64-byte boundaries, which the JAX CPU backend shares without a copy.

``jax.device_put`` of a C-contiguous float64 NumPy array whose buffer starts on a 64-byte
boundary makes a device array over the same memory; any other array is copied. NumPy's
own allocations start 16 bytes past one. The data sets of this package are allocated here,
so that a run holds one copy of ``X`` where it would otherwise hold two (the arrays are
read-only, so sharing their memory is safe).
"""

from __future__ import annotations

from typing import Any

import numpy as np

ALIGNMENT = 64


def is_aligned(arr: np.ndarray) -> bool:
    """Whether ``arr`` is float64, C-contiguous and starts on a 64-byte boundary."""
    return arr.dtype == np.float64 and arr.flags.c_contiguous and arr.ctypes.data % ALIGNMENT == 0


def aligned_empty(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised, writable float64 array of ``shape`` on a 64-byte boundary."""
    count = int(np.prod(shape, dtype=np.int64))
    raw = np.empty(count * 8 + ALIGNMENT, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start : start + count * 8].view(np.float64).reshape(shape)


def aligned_copy(arr: Any) -> np.ndarray:
    """``arr`` as a new float64 array on a 64-byte boundary (writable)."""
    arr = np.asarray(arr)
    out = aligned_empty(arr.shape)
    out[...] = arr
    return out
