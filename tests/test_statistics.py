"""Bootstrap intervals, against a direct NumPy resampling loop."""

import math

import numpy as np
import pytest

from gdperceptron import GDPerceptronError, bootstrap_ci, paired_speedup


def test_bootstrap_matches_an_explicit_loop():
    v = np.array([3.0, 5.0, 4.0, 10.0, 7.0])
    iv = bootstrap_ci(v, lambda a: np.median(a, axis=-1), n_boot=500, seed=4)
    rng = np.random.default_rng(4)
    idx = rng.integers(0, v.size, size=(500, v.size))
    stats = [np.median(v[row]) for row in idx]
    assert iv.value == np.median(v)
    assert (iv.low, iv.high) == tuple(np.quantile(stats, [0.025, 0.975], method="inverted_cdf"))
    assert iv.n == 5 and iv.level == 0.95


def test_paired_speedup_is_the_geometric_mean_of_ratios_and_reciprocal():
    a, b = [120.0, 80.0, 200.0, 90.0], [10.0, 20.0, 25.0, 30.0]
    iv = paired_speedup(a, b, n_boot=300, seed=1)
    assert iv.value == pytest.approx(math.exp(np.mean(np.log(np.divide(a, b)))), rel=1e-15)
    inv = paired_speedup(b, a, n_boot=300, seed=1)
    assert inv.value == pytest.approx(1 / iv.value, rel=1e-14)
    assert inv.low == pytest.approx(1 / iv.high, rel=1e-12)
    assert iv.low <= iv.value <= iv.high


def test_unsolved_runs_move_the_interval_to_the_ends():
    iv = paired_speedup([None, None, None], [10, 20, 30])
    assert iv.value == math.inf and iv.low == math.inf
    iv = paired_speedup([10, 20, 30], [None, None, None])
    assert iv.value == 0.0 and iv.high == 0.0
    assert paired_speedup([None], [None]).value == 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: bootstrap_ci([]),
        lambda: bootstrap_ci([1.0, float("nan")]),
        lambda: bootstrap_ci([1.0], n_boot=0),
        lambda: bootstrap_ci([1.0], level=1.0),
        lambda: paired_speedup([1.0, 2.0], [1.0]),
        lambda: paired_speedup([0, 2.0], [1.0, 1.0]),
    ],
)
def test_bad_input_is_one_clear_error(call):
    with pytest.raises(GDPerceptronError):
        call()
