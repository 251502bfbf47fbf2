"""JAX for every module, and float64 where the package computes.

Importing the package changes no global JAX setting: it neither picks the platform nor
switches 64-bit mode on for the process. The analysis needs float64 (margins reach 1e6,
closed forms are checked to 1e-12), so every public entry point that computes runs inside
:func:`float64` — JAX's scoped ``jax.enable_x64(True)`` — whatever the user's own setting,
and returns NumPy float64 arrays. A user who switches x64 off (or on) before or after
calling us gets the same numbers. The command line, a process of its own, enables x64
globally.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import jax
import jax.numpy as jnp

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def x64() -> Iterator[None]:
    """A scope in which JAX computes in float64 (a no-op when it already does)."""
    if jax.config.jax_enable_x64:
        yield
        return
    with jax.enable_x64(True):
        yield


def float64(fn: F) -> F:
    """Run ``fn`` inside :func:`x64` (decorator for the package's entry points)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with x64():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


__all__ = ["float64", "jax", "jnp", "x64"]
