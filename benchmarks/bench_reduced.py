"""Benchmarks of the exact reduced simulator (docs/theory/minimal-example.md, last paragraph).

(1) The tied model on the minimal example at ``d = 10^6``: the full ``d``-dimensional run
(:func:`gdperceptron.run`) against the reduced run (:func:`gdperceptron.engines.reduced`) from the
same seeded start with the same step; both must stop at the same solved iteration. Reported:
the loop time of each run (compilation excluded), the reduced run including its one-off
``O(n d k)`` projection (pivoted QR, ``X Q``, ``Q^T w``), and the ratios (goal >= 1000x).

(2) The per-step time of the reduced engine at ``d = 10^7`` against ``d = 10^2``: runs of
``--steps`` steps without stopping when solved, ``--repeats`` times, median time per
step (goal: ratio <= 1.5; both reduce to the same ``k = 3`` problem and one compilation).

Usage::

    python benchmarks/bench_reduced.py            # the two benchmarks, a small table
    python benchmarks/bench_reduced.py --json     # one JSON object
    python benchmarks/bench_reduced.py --d 100000 --d-big 1000000   # a quicker smoke run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

from gdperceptron import minimal_example, run, tied
from gdperceptron.engines.reduced import reduce_problem, run_reduced_problem


def _lambda2(d: int, mu: float) -> float:
    """docs/theory/minimal-example.md Corollary: ``lambda_2 = sqrt((2 + mu)^2 + 2 (d - 2))``."""
    return float(np.sqrt((2.0 + mu) ** 2 + 2.0 * (d - 2)))


def _problem(d: int, mu: float, seed: int):
    t = time.perf_counter()
    data, model = minimal_example(d, mu), tied(d)
    theta0 = model.initial_params(seed)
    return data, model, theta0, time.perf_counter() - t


def full_vs_reduced(d: int, mu: float, c: float, algorithm: str, seed: int, repeats: int) -> dict:
    """Benchmark (1): one full run, ``repeats`` reduced runs (median), same solved iteration."""
    data, model, theta0, setup = _problem(d, mu, seed)
    step = c / _lambda2(d, mu)
    max_iter = 1_000_000
    t = time.perf_counter()
    problem = reduce_problem(model, data, theta0)
    projection = time.perf_counter() - t
    reduced = [
        run_reduced_problem(problem, algorithm, step, max_iter=max_iter) for _ in range(repeats)
    ]
    red_loop = statistics.median(r.elapsed_s for r in reduced)
    full = run(model, data, algorithm, step, theta0=theta0, max_iter=max_iter)
    its = {r.solved_iteration for r in reduced}
    if its != {full.solved_iteration} or full.solved_iteration is None:
        raise SystemExit(f"solved iterations differ: full {full.solved_iteration}, reduced {its}")
    return {
        "d": d,
        "mu": mu,
        "algorithm": algorithm,
        "step": step,
        "seed": seed,
        "k": problem.k,
        "solved_iteration": full.solved_iteration,
        "setup_s": setup,
        "full_loop_s": full.elapsed_s,
        "reduced_loop_s": red_loop,
        "projection_s": projection,
        "reduced_total_s": red_loop + projection,
        "ratio_loop": full.elapsed_s / red_loop,
        "ratio_with_projection": full.elapsed_s / (red_loop + projection),
    }


def per_step(dims: tuple[int, ...], mu: float, c: float, steps: int, repeats: int) -> dict:
    """Benchmark (2): median seconds per step of the reduced engine (LR+GD) at each ``d``;
    the repeats alternate between the dimensions so that load drifts hit them alike."""
    problems, rows = {}, {}
    for d in dims:
        data, model, theta0, setup = _problem(d, mu, 0)
        t = time.perf_counter()
        problems[d] = reduce_problem(model, data, theta0)
        projection = time.perf_counter() - t
        del data, theta0, model  # only the k-dimensional problem is needed from here on
        rows[d] = {"d": d, "k": problems[d].k, "steps": steps, "repeats": repeats}
        rows[d].update(setup_s=setup, projection_s=projection, per_step_all_s=[])
    for d in dims:  # warm-up: compile (one compilation serves every d with the same k)
        run_reduced_problem(problems[d], "gd", c / _lambda2(d, mu), max_iter=steps)
    for _ in range(repeats):
        for d in dims:
            traj = run_reduced_problem(
                problems[d], "gd", c / _lambda2(d, mu), max_iter=steps, stop_when_solved=False
            )
            if traj.n_steps != steps:
                raise SystemExit(f"d={d}: stopped after {traj.n_steps} steps ({traj.stop_reason})")
            rows[d]["per_step_all_s"].append(traj.elapsed_s / steps)
    for row in rows.values():
        row["per_step_s"] = statistics.median(row["per_step_all_s"])
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1_000_000, help="dimension of benchmark (1)")
    p.add_argument("--d-big", type=int, default=10_000_000, help="large d of benchmark (2)")
    p.add_argument("--d-small", type=int, default=100, help="small d of benchmark (2)")
    p.add_argument("--mu", type=float, default=1.0)
    p.add_argument("--c", type=float, default=1.0, help="step gamma = c / lambda_2")
    p.add_argument("--algorithm", default="perceptron", help="benchmark (1) algorithm")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=100_000, help="steps per run in (2)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--skip-full", action="store_true", help="only benchmark (2)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    out: dict = {}
    if not args.skip_full:
        out["full_vs_reduced"] = full_vs_reduced(
            args.d, args.mu, args.c, args.algorithm, args.seed, args.repeats
        )
    rows = per_step((args.d_small, args.d_big), args.mu, args.c, args.steps, args.repeats)
    small, big = rows[args.d_small], rows[args.d_big]
    out["per_step"] = {"small": small, "big": big, "ratio": big["per_step_s"] / small["per_step_s"]}
    if args.json:
        print(json.dumps(out))
        return 0
    if "full_vs_reduced" in out:
        r = out["full_vs_reduced"]
        print(
            f"(1) tied model, minimal example, d={r['d']}, {r['algorithm']}, "
            f"step={r['step']:.4g}, seed={r['seed']}: solved at t={r['solved_iteration']} "
            f"by both engines (k={r['k']})"
        )
        print(f"    {'':28s}{'seconds':>12s}")
        print(f"    {'full run (loop)':28s}{r['full_loop_s']:12.4f}")
        print(f"    {'reduced run (loop, median)':28s}{r['reduced_loop_s']:12.6f}")
        print(f"    {'one-off projection':28s}{r['projection_s']:12.4f}")
        print(f"    {'ratio, loop only':28s}{r['ratio_loop']:12.0f}x")
        print(f"    {'ratio, with projection':28s}{r['ratio_with_projection']:12.0f}x")
    s, b = out["per_step"]["small"], out["per_step"]["big"]
    print(f"(2) reduced engine, gd, {s['steps']} steps x {s['repeats']} repeats, median:")
    for row in (s, b):
        print(
            f"    d={row['d']:<10d} k={row['k']}  {row['per_step_s'] * 1e6:8.3f} us/step "
            f"(projection {row['projection_s']:.3f} s, setup {row['setup_s']:.3f} s)"
        )
    print(f"    ratio d={b['d']} / d={s['d']}: {out['per_step']['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
