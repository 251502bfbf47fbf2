"""Timing helpers shared by the benchmarks: medians of interleaved repetitions, peak memory
of a fresh process, and one printed line per goal.

Every ratio is taken against a baseline measured in the same process (or the same run of
fresh processes), repetitions interleaved so that a slow phase of a shared machine hits
both sides alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def machine_line() -> str:
    """CPUs available and the load average, printed first by every benchmark."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"cpus available: {len(os.sched_getaffinity(0))}, load average: {load}"


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time (s) of each function over ``repeats`` rounds; each round calls every
    function once, the order rotated from round to round."""
    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in times.items()}


def goal_line(what: str, ratio: float, goal: float, *, baseline: str, unit: str = "x") -> str:
    """``what: ratio (goal <= goal against baseline): met/NOT met``."""
    verdict = "met" if ratio <= goal else "NOT met"
    return f"{what}: {ratio:.2f}{unit} (goal <= {goal:g}{unit} against {baseline}): {verdict}"


def fresh_python(code: str, env: dict[str, str] | None = None, timeout: float = 600) -> dict:
    """Run ``code`` in a new interpreter with this checkout's sources first on the path;
    the code prints one JSON object as its last line, returned here."""
    full = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    full.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# Prepended to code run by fresh_python to measure peak memory: resident set size now and
# the peak so far, in bytes (Linux: ru_maxrss is in KiB).
RSS_HELPERS = """
import resource
def rss_now():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
def rss_peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""
