"""The run's progress display: a bar on a terminal, periodic lines in a log, nothing when
quiet; the numbers shown are the run's recorded metrics."""

from __future__ import annotations

import io

import numpy as np

import gdperceptron as gp
from gdperceptron.cli.progress import RunProgress


class _Log(io.StringIO):
    def isatty(self) -> bool:
        return False


def _run(progress) -> gp.Trajectory:
    data = gp.gaussian(40, 5, 0.05, seed=0)
    return gp.run(
        gp.linear(5),
        data,
        "gd",
        0.05,
        theta0=np.zeros(5),
        max_iter=40,
        stop_when_solved=False,
        chunk=8,
        progress=progress,
    )


def test_log_lines_carry_the_latest_recorded_metrics() -> None:
    log = _Log()
    traj = _run(RunProgress(40, stream=log, interval=0.0))
    lines = log.getvalue().splitlines()
    # one line after each chunk that did not end the run: t = 8, 16, 24, 32
    assert [ln.split(":")[1].strip() for ln in lines] == [f"step {t}/40" for t in (8, 16, 24, 32)]
    k = int(np.flatnonzero(traj.iterations == 31)[0])
    mis = int(traj.metrics["n_misclassified"][k])
    assert lines[-1].endswith(f"misclassified {mis}")
    assert f"loss {traj.metrics['loss'][k]:.4g}" in lines[-1]


def test_quiet_shows_nothing_and_a_long_interval_rate_limits() -> None:
    log = _Log()
    _run(RunProgress(40, stream=log, quiet=True, interval=0.0))
    assert log.getvalue() == ""
    _run(RunProgress(40, stream=log, interval=3600.0))
    assert log.getvalue() == ""
