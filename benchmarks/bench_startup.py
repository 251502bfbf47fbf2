"""Benchmark: start-up of fresh processes, against ``python -c "import jax"`` in the same run.

Each command runs in a new interpreter (this checkout's sources first on the path),
``--repeats`` times, interleaved; medians. Measured: ``import gdperceptron``,
``gdperceptron --help``, an argument error, and a tiny ``run --json`` (full engine,
d = 8, 5 steps) with JAX's persistent compilation cache off and warm. Goals: ``--help``
and an argument error in < 0.5 s (they need no JAX). Run::

    .venv/bin/python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from timing import SRC, goal_line, interleaved, machine_line

CLI = [sys.executable, "-m", "gdperceptron.cli"]
TINY_RUN = [*CLI, "run", "--model", "linear", "--d", "8", "--max-iter", "5", "--engine", "full"]


def _command(argv: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)):
    def call() -> None:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        if proc.returncode not in ok:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(machine_line())
    base = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION")}
    base["PYTHONPATH"] = SRC
    cold = {**base, "GDPERCEPTRON_NO_COMPILATION_CACHE": "1"}
    with tempfile.TemporaryDirectory() as cache:
        warm = {**base, "XDG_CACHE_HOME": cache}
        _command([*TINY_RUN, "--json"], warm)()  # fill the cache
        fns = {
            "import jax": _command([sys.executable, "-c", "import jax"], base),
            "import gdperceptron": _command([sys.executable, "-c", "import gdperceptron"], base),
            "gdperceptron --help": _command([*CLI, "--help"], base),
            "argument error": _command([*CLI, "run", "--model", "nope"], base, ok=(2,)),
            "run --json, no cache": _command([*TINY_RUN, "--json"], cold),
            "run --json, warm cache": _command([*TINY_RUN, "--json"], warm),
        }
        t = time.perf_counter()
        med = interleaved(fns, args.repeats)
        total = time.perf_counter() - t
    ref = med["import jax"]
    for name, s in med.items():
        print(f"{name}: {s:.3f} s ({s / ref:.2f}x import jax)")
    for name in ("gdperceptron --help", "argument error"):
        print(goal_line(name, med[name], 0.5, baseline="an absolute limit", unit=" s"))
    print(f"(benchmark wall time {total:.1f} s)")


if __name__ == "__main__":
    main()
