"""Run a :class:`~gdperceptron.engines.config.RunConfig` end to end and summarise the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from gdperceptron.engines.config import Problem, RunConfig, build, validate, versions
from gdperceptron.engines.trajectory import Trajectory, run
from gdperceptron.errors import GDPerceptronError


class Prepared(NamedTuple):
    """A built run, ready for any step (:func:`prepare`): the validated ``config``, the
    ``problem`` (data, model, start) and, when the reduced engine applies, the ``reduced``
    problem (:class:`~gdperceptron.engines.reduced.ReducedProblem`), else ``None``."""

    config: RunConfig
    problem: Problem
    reduced: Any


def prepare(config: RunConfig) -> Prepared:
    """Validate ``config``, build its problem and, when the reduced engine applies, reduce
    it (the engine choice of :func:`execute`). Holding the result keeps the model, and so
    its compiled run loop, alive across runs at other steps (:func:`run_prepared`)."""
    from gdperceptron.engines.reduced import reduce_problem

    config = validate(config)
    problem = build(config)
    d = problem.data.d
    layer = problem.model.first_layer
    spanning = problem.data.n * (2 if layer is not None and layer.involution is not None else 1)
    closed_form = problem.data.basis
    reduced = None
    if config.engine == "reduced" or (
        config.engine in ("auto", "scaled") and (closed_form is not None or spanning < d)
    ):
        basis = closed_form() if closed_form is not None else None
        reduced = reduce_problem(problem.model, problem.data, problem.theta0, basis=basis)
        if config.engine != "reduced" and reduced.k >= d:
            reduced = None
    return Prepared(config, problem, reduced)


def _run_scaled(prepared: Prepared, config: RunConfig, progress: Any) -> Trajectory:
    from gdperceptron.engines.scaled import run_scaled, run_scaled_problem

    model = prepared.problem.model
    if model.degree is None:
        raise GDPerceptronError(
            "engine: 'scaled' needs a model that declares its homogeneity degree (Model.degree)"
        )
    if config.record_error:
        raise GDPerceptronError("record_error: the scaled engine does not record ||xi_t||")
    kwargs = {
        "max_iter": config.max_iter,
        "stop_when_solved": config.stop_when_solved,
        "progress": progress,
    }
    if prepared.reduced is not None:
        return run_scaled_problem(prepared.reduced, config.algorithm, config.step, **kwargs)
    problem = prepared.problem
    return run_scaled(
        model, problem.data, config.algorithm, config.step, theta0=problem.theta0, **kwargs
    )


def run_prepared(
    prepared: Prepared, step: float | None = None, *, progress: Callable[..., None] | None = None
) -> Trajectory:
    """Run a :func:`prepare`-d configuration at ``step`` (default its own step): exactly
    what :func:`execute` does for ``config.replace(step=step)``."""
    import dataclasses

    from gdperceptron.engines.reduced import run_reduced_problem

    config = prepared.config if step is None else prepared.config.replace(step=step)
    if config.engine == "scaled":
        return _run_scaled(prepared, config, progress)
    kwargs = {
        "max_iter": config.max_iter,
        "stop_when_solved": config.stop_when_solved,
        "record_error": config.record_error,
        "progress": progress,
    }
    problem = prepared.problem
    if prepared.reduced is not None:
        traj = run_reduced_problem(prepared.reduced, config.algorithm, config.step, **kwargs)
        k, d = prepared.reduced.k, problem.data.d
        if k >= d:  # only --engine reduced gets here: auto runs the full engine then
            note = (
                f"engine 'reduced': the data span k = {k} coordinates for d = {d} features, "
                "so the reduced simulation costs as much per step as the full one (it pays "
                "when the data span fewer than d dimensions, e.g. n < d)"
            )
            traj = dataclasses.replace(traj, config={**traj.config, "note": note})
    else:
        traj = run(
            problem.model, problem.data, config.algorithm, config.step,
            theta0=problem.theta0, **kwargs,
        )  # fmt: skip
        traj = dataclasses.replace(traj, config={**traj.config, "engine": "full"})
    if (
        config.engine == "auto"
        and traj.stop_reason == "non_finite"
        and problem.model.degree is not None
        and not config.record_error
    ):
        # the plain run overflowed; a homogeneous model has an exact representation
        return _run_scaled(prepared, config, progress)
    return traj


def execute(config: RunConfig, *, progress: Callable[..., None] | None = None) -> Trajectory:
    """Build the data, model and initial parameters of ``config`` and run it.

    ``config.engine`` chooses the simulation (docs/theory/minimal-example.md,
    docs/theory/exact-simulation.md): ``full`` runs
    in the original ``d`` dimensions (:func:`gdperceptron.engines.trajectory.run`);
    ``reduced`` runs the exact ``k``-dimensional simulation
    (:func:`gdperceptron.engines.reduced.run_reduced_problem`, final parameters in reduced
    coordinates); ``scaled`` runs the exact scaled simulation of a homogeneous model
    (:func:`gdperceptron.engines.scaled.run_scaled`, in reduced coordinates where ``auto``
    would reduce); ``auto`` runs the reduced one when ``k < d``, else the full one, and
    reruns with the scaled one when that run overflows (``non_finite``) and the model
    declares its degree. When the
    data carry a closed-form basis (``Dataset.basis``: the minimal example's
    :func:`gdperceptron.data.synthetic.minimal_example_basis`, ``k = min(d, 3)``) the reduced
    engine uses it, otherwise a pivoted QR of the ``r = n`` spanning vectors (``2n`` for a
    model that reads ``x`` through an involution too, like the tied model); ``auto`` skips
    that QR and runs the full engine when ``r >= d`` (a QR costing ``O(d^2 r)`` to save at
    most a factor ``d / k`` per step). The returned trajectory's ``config["engine"]`` says
    which engine ran.
    """
    return run_prepared(prepare(config), progress=progress)


def summarize(config: RunConfig, traj: Trajectory) -> dict[str, Any]:
    """A JSON-ready summary: ``iterations`` (first solved iteration or None), ``solved``,
    ``stop_reason``, ``final_loss`` (and ``final_log_loss`` from the scaled engine),
    ``elapsed_s`` (loop only), the resolved ``config`` and package ``versions``, and a
    ``note`` when the engine asked for cannot pay on these data."""
    return {
        "iterations": traj.solved_iteration,
        "solved": traj.solved,
        "stop_reason": traj.stop_reason,
        "n_steps": traj.n_steps,
        "final_loss": traj.final_loss,
        **({"final_log_loss": float(traj["log_loss"][-1])} if "log_loss" in traj.metrics else {}),
        "final_min_margin": float(traj.final_margins.min()),
        "elapsed_s": traj.elapsed_s,
        "engine": traj.config.get("engine", "full"),
        "config": {
            **config.resolved(),
            "d": traj.config["d"],
            "n": traj.config["n"],
            **{k: traj.config[k] for k in ("standardized",) if k in traj.config},
        },
        "versions": versions(),
        **({"note": traj.config["note"]} if "note" in traj.config else {}),
    }
