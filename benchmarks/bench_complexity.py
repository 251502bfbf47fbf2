"""Benchmark: the whole default complexity sweep (docs/theory/minimal-example.md).

13 log-spaced d from 10 to 10^7, 16 runs per d and model, both models. The first sweep in
a fresh process includes JIT compilation (one per model and batch shape); the following
ones reuse the compiled loops. Run:

    .venv/bin/python benchmarks/bench_complexity.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import time

from gdperceptron.analysis.complexity import DEFAULT_DS, complexity_sweep, fit_loglog_slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="sweeps after the first")
    args = parser.parse_args()
    print(f"default grid: {len(DEFAULT_DS)} values of d, {DEFAULT_DS[0]} .. {DEFAULT_DS[-1]}")
    print(f"cpus available: {len(os.sched_getaffinity(0))}, load average: {os.getloadavg()}")
    start = time.perf_counter()
    first = complexity_sweep()
    cold = time.perf_counter() - start
    print(f"sweep, compilation included: {cold:.2f} s")
    warm = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        again = complexity_sweep()
        warm.append(time.perf_counter() - start)
        assert again == first, "the sweep is not deterministic"
    if warm:
        print(
            f"sweep, compilation excluded: {min(warm):.2f} s (best of {len(warm)}), "
            f"runs: {', '.join(f'{w:.2f}' for w in warm)} s"
        )
    for model in ("linear", "tied"):
        s = first[model]
        start = time.perf_counter()
        slope, (lo, hi) = fit_loglog_slope(s["d"], s["counts"], max_iter=s["max_iter"])
        fit = time.perf_counter() - start
        print(
            f"{model}: median at d={s['d'][-1]}: {s['median'][-1]:g}; "
            f"slope {slope:.3f} [{lo:.3f}, {hi:.3f}] (fit {fit:.2f} s)"
        )


if __name__ == "__main__":
    main()
