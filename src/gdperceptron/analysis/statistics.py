"""Percentile-bootstrap confidence intervals for small samples of runs (seeds).

:func:`bootstrap_ci` resamples the values with replacement ``n_boot`` times
(``default_rng(seed)``) and returns the statistic of the sample with the
``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles (inverted CDF: order statistics,
no interpolation, so infinite values stay exact) of the resampled statistics.
:func:`paired_speedup` applies it to per-seed ratios ``a_s / b_s`` of paired runs (the
same seed draws the data and the start for both): the statistic is the geometric mean
``exp(mean(log(a_s / b_s)))``, so a speed-up and its inverse have reciprocal intervals.
A ratio with an unsolved side is ``inf`` (the numerator never separated) or ``0`` (the
denominator never separated); the geometric mean is then computed on the log scale with
``+-inf`` kept, so any unsolved run moves the interval to the corresponding end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from gdperceptron.errors import GDPerceptronError


class Interval(NamedTuple):
    """A statistic with its bootstrap interval ``[low, high]`` at ``level``, over ``n``
    values."""

    value: float
    low: float
    high: float
    level: float
    n: int


def _geometric_mean(values: np.ndarray) -> np.ndarray:
    """Geometric mean along the last axis; ``inf``/``0`` entries give ``inf``/``0``, both
    at once ``nan``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.mean(np.log(values), axis=-1))


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray] = _geometric_mean,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """The statistic of ``values`` (shape ``(n,)``) and its percentile-bootstrap interval.

    ``statistic`` maps an array of shape ``(..., n)`` to shape ``(...)`` along the last
    axis (e.g. ``lambda v: np.median(v, axis=-1)``); the default is the geometric mean.

    Example:
        >>> iv = bootstrap_ci([2.0, 2.0, 2.0])
        >>> (iv.value, iv.low, iv.high)
        (2.0, 2.0, 2.0)
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise GDPerceptronError(f"values must be a non-empty 1-d sequence, got shape {v.shape}")
    if np.isnan(v).any():
        raise GDPerceptronError("values must not contain NaN")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise GDPerceptronError(f"n_boot must be an integer >= 1, got {n_boot!r}")
    if not 0 < level < 1:
        raise GDPerceptronError(f"level must be in (0, 1), got {level!r}")
    rng = np.random.default_rng(seed)
    draws = v[rng.integers(0, v.size, size=(n_boot, v.size))]
    stats = np.asarray(statistic(draws), dtype=np.float64)
    value = float(np.asarray(statistic(v[None, :]), dtype=np.float64).reshape(-1)[0])
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    return Interval(value, float(lo), float(hi), float(level), int(v.size))


def paired_speedup(
    baseline: Sequence[float | None],
    model: Sequence[float | None],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Geometric-mean speed-up ``baseline_s / model_s`` over paired seeds with its
    bootstrap interval; ``None`` (unsolved) counts as ``inf`` iterations.

    Example:
        >>> iv = paired_speedup([100, 200, 400], [10, 20, 40])
        >>> round(iv.value, 12), round(iv.low, 12), round(iv.high, 12)
        (10.0, 10.0, 10.0)
    """
    if len(baseline) != len(model) or not len(baseline):
        raise GDPerceptronError(
            f"baseline and model need the same non-zero number of seeds, got "
            f"{len(baseline)} and {len(model)}"
        )
    a = np.array([math.inf if x is None else float(x) for x in baseline])
    b = np.array([math.inf if x is None else float(x) for x in model])
    if np.any(a <= 0) or np.any(b <= 0):
        raise GDPerceptronError(
            "iteration counts must be positive (a run solved at t = 0 has no speed-up)"
        )
    with np.errstate(invalid="ignore"):
        ratio = a / b
    ratio[np.isinf(a) & np.isinf(b)] = 1.0  # neither separated: no evidence either way
    return bootstrap_ci(ratio, n_boot=n_boot, level=level, seed=seed)
