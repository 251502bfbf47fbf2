"""JAX's persistent compilation cache, switched on by the command line, the reproduction
pipeline's workers and :class:`gdperceptron.estimator.GDClassifier` (never by importing the
package or by :func:`gdperceptron.run`).

A compiled run loop is written to disk the first time it is built and read back by later
processes, so a second ``gdperceptron run`` or a cross-validation search in a new
interpreter skips XLA compilation. Compiled code depends only on the traced program and
the JAX/XLA versions, which JAX puts in the cache key: the numbers are the same with and
without the cache, bit for bit.

Folder: ``path`` when given, else ``$XDG_CACHE_HOME/gdperceptron/jax``, else
``~/.cache/gdperceptron/jax``. Opt out with ``GDPERCEPTRON_NO_COMPILATION_CACHE=1``. A
folder the user already gave JAX (``JAX_COMPILATION_CACHE_DIR`` or
``jax.config.update("jax_compilation_cache_dir", ...)``) is kept.

The cache is trusted code: do not point it at a folder that others can write to.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

OPT_OUT_ENV = "GDPERCEPTRON_NO_COMPILATION_CACHE"
# Compilations faster than this are not written (JAX's default is 1 s, which skips almost
# every run loop on the CPU: those compile in 0.1-0.5 s, paid again by every process).
MIN_COMPILE_TIME_S = 0.05

_DIR_ENV = "JAX_COMPILATION_CACHE_DIR"
_MIN_TIME_ENV = "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gdperceptron/jax``, or ``~/.cache/gdperceptron/jax`` when
    ``XDG_CACHE_HOME`` is unset or empty."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gdperceptron" / "jax"


def opted_out() -> bool:
    """Whether ``GDPERCEPTRON_NO_COMPILATION_CACHE`` is set to anything but ``""``/``0``."""
    return os.environ.get(OPT_OUT_ENV, "").strip() not in ("", "0")


def enable_persistent_cache(path: str | Path | None = None) -> Path | None:
    """Point JAX's persistent compilation cache at ``path`` (default
    :func:`default_cache_dir`) and return the folder in use, or ``None`` when opted out
    or the folder cannot be created (the cache only saves time; nothing fails without it).

    Before JAX is imported this only sets JAX's own environment variables (cheap: the
    command line calls it before it knows whether JAX is needed, and spawned workers
    inherit it); afterwards it updates ``jax.config``. A cache folder already chosen by
    the user is left as it is.

    Example:
        >>> import tempfile
        >>> from gdperceptron.engines.compilation_cache import enable_persistent_cache
        >>> folder = enable_persistent_cache(tempfile.mkdtemp())  # doctest: +SKIP
    """
    if opted_out():
        return None
    jax = sys.modules.get("jax")
    chosen = os.environ.get(_DIR_ENV) if jax is None else jax.config.jax_compilation_cache_dir
    if chosen:
        return Path(chosen)
    folder = Path(path) if path is not None else default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if jax is None:
        os.environ[_DIR_ENV] = str(folder)
        os.environ.setdefault(_MIN_TIME_ENV, str(MIN_COMPILE_TIME_S))
    else:
        jax.config.update("jax_compilation_cache_dir", str(folder))
        if _MIN_TIME_ENV not in os.environ:
            jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_TIME_S)
    return folder
