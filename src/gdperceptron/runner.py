"""Run a :class:`~gdperceptron.config.RunConfig` end to end and summarise the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gdperceptron.config import RunConfig, build, validate, versions
from gdperceptron.trajectory import Trajectory, run


def execute(config: RunConfig, *, progress: Callable[[int, int], None] | None = None) -> Trajectory:
    """Build the data, model and initial parameters of ``config`` and run it.

    ``config.engine`` chooses the simulation: ``full`` runs in the original ``d``
    dimensions; ``reduced`` / ``auto`` run the exact low-dimensional simulation where
    available (SPEC §5).
    """
    config = validate(config)
    problem = build(config)
    return run(
        problem.model,
        problem.data,
        config.algorithm,
        config.step,
        theta0=problem.theta0,
        max_iter=config.max_iter,
        stop_when_solved=config.stop_when_solved,
        record_error=config.record_error,
        progress=progress,
    )


def summarize(config: RunConfig, traj: Trajectory) -> dict[str, Any]:
    """A JSON-ready summary: ``iterations`` (first solved iteration or None), ``solved``,
    ``stop_reason``, ``final_loss``, ``elapsed_s`` (loop only), the resolved ``config`` and
    package ``versions``."""
    return {
        "iterations": traj.solved_iteration,
        "solved": traj.solved,
        "stop_reason": traj.stop_reason,
        "n_steps": traj.n_steps,
        "final_loss": traj.final_loss,
        "final_min_margin": float(traj.final_margins.min()),
        "elapsed_s": traj.elapsed_s,
        "engine": traj.config.get("engine", "full"),
        "config": config.to_dict(),
        "versions": versions(),
    }
