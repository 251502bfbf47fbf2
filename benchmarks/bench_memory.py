"""Benchmark: peak memory (and time) of the reduced projection at d = 10^7 and of a
full-engine run, as multiples of the size of ``X``.

Each measurement is a fresh interpreter: imports and a tiny warm-up run first, then the
resident set size ``rss0``; the reported peak is ``ru_maxrss - rss0`` (Linux, bytes),
divided by ``X.nbytes``.

(1) Reduced projection of the tied model on the minimal example, ``d = 10^7`` (``X`` is
``2 x 10^7``, 153 MiB): with the closed-form basis
(:func:`gdperceptron.minimal_example_basis`, built inside the timing) against the generic
pivoted-QR basis (the baseline). Goals: <= 0.5 s and peak <= 2x the size of ``X``.

(2) Full engine: data generation plus a 10-step GD run of the linear model on Gaussian
data (``n = 12000, d = 784``, Fashion-MNIST size; and ``n = 1000, d = 50000``). The run
shares the data set's ``X`` (aligned, so the device array is no copy) and by default
stores ``X^T`` for a contiguous backward product: one more copy of ``X`` by design, so
that run holds 2x plus its compilation's heap. Goal: peak <= 2x the size of ``X`` for the
run without the stored transpose (``stored_transpose=False``). Run::

    .venv/bin/python benchmarks/bench_memory.py [--d 10000000]
"""

from __future__ import annotations

import argparse

from timing import RSS_HELPERS, fresh_python, goal_line, machine_line

PRELUDE = (
    RSS_HELPERS
    + """
import json, time
import numpy as np
import gdperceptron as gp
gp.run(gp.linear(3), gp.minimal_example(3), "gd", 1.0, theta0=np.zeros(3), max_iter=2)
"""
)

PROJECTION = (
    PRELUDE
    + """
d, closed_form = {d}, {closed_form}
data, model = gp.minimal_example(d), gp.tied(d)
theta0 = model.initial_params(0)
rss0 = rss_now()
t = time.perf_counter()
basis = gp.minimal_example_basis(d) if closed_form else None
problem = gp.reduce_problem(model, data, theta0, basis=basis)
elapsed = time.perf_counter() - t
print(json.dumps({{"s": elapsed, "peak": rss_peak() - rss0, "x": data.X.nbytes, "k": problem.k}}))
"""
)

FULL = (
    PRELUDE
    + """
n, d = {n}, {d}
rss0 = rss_now()
data = gp.gaussian(n, d, seed=0)
gen = rss_peak() - rss0
traj = gp.run(gp.linear(d), data, "gd", 1.0, theta0=np.zeros(d), max_iter=10,
              stop_when_solved=False, stored_transpose={stored})
print(json.dumps({{"gen": gen, "peak": rss_peak() - rss0, "x": data.X.nbytes}}))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=10**7, help="dimension of the projection")
    args = parser.parse_args()
    print(machine_line())
    mib = 2.0**20
    res = {}
    for closed in (True, False):
        res[closed] = fresh_python(PROJECTION.format(d=args.d, closed_form=closed))
        r = res[closed]
        what = "closed-form basis" if closed else "pivoted QR (baseline)"
        print(
            f"reduced projection d={args.d:.0e}, {what}: {r['s']:.3f} s, peak "
            f"{r['peak'] / mib:.0f} MiB = {r['peak'] / r['x']:.2f}x X ({r['x'] / mib:.0f} MiB), "
            f"k={r['k']}"
        )
    c, q = res[True], res[False]
    ratio_t, ratio_m = c["s"] / q["s"], c["peak"] / q["peak"]
    print(f"  closed form / pivoted QR: time {ratio_t:.2f}x, peak {ratio_m:.2f}x")
    print("  " + goal_line("projection time", c["s"], 0.5, baseline="an absolute limit", unit=" s"))
    print("  " + goal_line("projection peak / size of X", c["peak"] / c["x"], 2.0, baseline="X"))
    for n, d in ((12_000, 784), (1_000, 50_000)):
        for stored in (True, False):
            r = fresh_python(FULL.format(n=n, d=d, stored=stored))
            what = "stored X^T (default)" if stored else "stored_transpose=False"
            print(
                f"full engine n={n}, d={d}, {what}: peak {r['peak'] / mib:.0f} MiB = "
                f"{r['peak'] / r['x']:.2f}x X ({r['x'] / mib:.0f} MiB); data generation alone "
                f"{r['gen'] / r['x']:.2f}x"
            )
            ratio = r["peak"] / r["x"]
            if stored:  # X^T is one more copy of X by design: the goal is for the lean run
                print(f"  full-engine peak / size of X: {ratio:.2f}x (X + X^T = 2x by design)")
            else:
                print("  " + goal_line("full-engine peak / size of X", ratio, 2.0, baseline="X"))


if __name__ == "__main__":
    main()
