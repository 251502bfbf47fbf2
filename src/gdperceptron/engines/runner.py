"""Run a :class:`~gdperceptron.engines.config.RunConfig` end to end and summarise the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gdperceptron.engines.config import RunConfig, build, validate, versions
from gdperceptron.engines.trajectory import Trajectory, run


def execute(config: RunConfig, *, progress: Callable[..., None] | None = None) -> Trajectory:
    """Build the data, model and initial parameters of ``config`` and run it.

    ``config.engine`` chooses the simulation (docs/theory/minimal-example.md): ``full`` runs
    in the original ``d`` dimensions (:func:`gdperceptron.engines.trajectory.run`);
    ``reduced`` runs the exact ``k``-dimensional simulation
    (:func:`gdperceptron.engines.reduced.run_reduced_problem`, final parameters in reduced
    coordinates); ``auto`` runs the reduced one when ``k < d``, else the full one. When the
    data carry a closed-form basis (``Dataset.basis``: the minimal example's
    :func:`gdperceptron.data.synthetic.minimal_example_basis`, ``k = min(d, 3)``) the reduced
    engine uses it, otherwise a pivoted QR of the ``r = n`` spanning vectors (``2n`` for a
    model that reads ``x`` through an involution too, like the tied model); ``auto`` skips
    that QR and runs the full engine when ``r >= d`` (a QR costing ``O(d^2 r)`` to save at
    most a factor ``d / k`` per step). The returned trajectory's ``config["engine"]`` says
    which engine ran.
    """
    import dataclasses

    from gdperceptron.engines.reduced import reduce_problem, run_reduced_problem

    config = validate(config)
    problem = build(config)
    d = problem.data.d
    kwargs = {
        "max_iter": config.max_iter,
        "stop_when_solved": config.stop_when_solved,
        "record_error": config.record_error,
        "progress": progress,
    }
    layer = problem.model.first_layer
    spanning = problem.data.n * (2 if layer is not None and layer.involution is not None else 1)
    closed_form = problem.data.basis
    if config.engine == "reduced" or (
        config.engine == "auto" and (closed_form is not None or spanning < d)
    ):
        basis = closed_form() if closed_form is not None else None
        reduced = reduce_problem(problem.model, problem.data, problem.theta0, basis=basis)
        if config.engine == "reduced" or reduced.k < d:
            return run_reduced_problem(reduced, config.algorithm, config.step, **kwargs)
    traj = run(
        problem.model, problem.data, config.algorithm, config.step, theta0=problem.theta0, **kwargs
    )
    return dataclasses.replace(traj, config={**traj.config, "engine": "full"})


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
        "config": {**config.resolved(), "d": traj.config["d"], "n": traj.config["n"]},
        "versions": versions(),
    }
