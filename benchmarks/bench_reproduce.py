"""Benchmark: ``gdperceptron reproduce --quick`` into a fresh folder, the same command
again with every task cached, and a fresh folder with a warm JAX compilation cache.

Fresh processes of the command line, one run each (each takes tens of seconds). The
first run starts with an empty JAX compilation cache (the ratios' baseline); the cached
rerun must take < 5 s (analysis and figures only; figures whose records did not change
are not redrawn). Run::

    .venv/bin/python benchmarks/bench_reproduce.py [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import SRC, goal_line, machine_line


def _reproduce(out: Path, env: dict[str, str], workers: int) -> float:
    argv = [sys.executable, "-m", "gdperceptron.cli", "reproduce", "--quick", "--out", str(out)]
    argv += ["--workers", str(workers)]
    t = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"reproduce failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(machine_line())
    base = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION")}
    base["PYTHONPATH"] = SRC
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {**base, "XDG_CACHE_HOME": str(root / "cache")}
        first = _reproduce(root / "a", env, args.workers)  # also fills the compilation cache
        print(f"reproduce --quick, fresh folder, empty compilation cache: {first:.1f} s")
        rerun = _reproduce(root / "a", env, args.workers)
        print(f"reproduce --quick, every task cached: {rerun:.1f} s ({rerun / first:.3f}x)")
        print(goal_line("cached rerun", rerun, 5.0, baseline="an absolute limit", unit=" s"))
        again = _reproduce(root / "b", env, args.workers)
        print(
            f"reproduce --quick, fresh folder, warm compilation cache: {again:.1f} s "
            f"({again / first:.2f}x the run without it)"
        )


if __name__ == "__main__":
    main()
