"""Trajectories on disk: one ``.npz`` file readable with :func:`numpy.load` alone.

The file holds ``iterations`` (``(T,)`` int64), one array per recorded metric (``(T,)``,
the names of :data:`gdperceptron.engines.trajectory.METRICS` that were recorded),
``final_params`` (the flat ``(p,)`` float64 vector; a pytree is flattened leaf by leaf in
:func:`jax.tree_util.tree_flatten` order), ``final_margins`` (``(n,)``) and ``config``, a
0-d string array with the JSON of the run's resolved configuration, stop reason, solved
iteration, step count, wall time and package versions. Nothing is pickled:
``numpy.load(path, allow_pickle=False)`` reads every array.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron._jax import jax
from gdperceptron.engines.trajectory import Trajectory
from gdperceptron.errors import GDPerceptronError


def _flat(params: Any) -> np.ndarray:
    leaves = jax.tree_util.tree_leaves(params)
    return np.concatenate([np.asarray(leaf, dtype=np.float64).ravel() for leaf in leaves])


def save_trajectory(
    traj: Trajectory, path: str | os.PathLike[str], *, config: dict[str, Any] | None = None
) -> Path:
    """Write ``traj`` to ``path`` (``.npz`` appended when missing); returns the path.

    ``config`` (default ``traj.config``) is stored as JSON together with ``stop_reason``,
    ``solved_iteration``, ``n_steps``, ``elapsed_s`` and the package ``versions``.
    """
    if not isinstance(traj, Trajectory):
        raise GDPerceptronError(f"traj must be a Trajectory, got {type(traj).__name__}")
    out = Path(path)
    if out.suffix != ".npz":
        out = out.with_name(out.name + ".npz")
    if out.is_dir():
        raise GDPerceptronError(f"cannot save the trajectory to {str(out)!r}: it is a folder")
    from gdperceptron.engines.config import versions

    meta = {
        "config": traj.config if config is None else config,
        "versions": versions(),
        "stop_reason": traj.stop_reason,
        "solved_iteration": traj.solved_iteration,
        "n_steps": traj.n_steps,
        "elapsed_s": traj.elapsed_s,
    }
    arrays = {name: np.asarray(values) for name, values in traj.metrics.items()}
    reserved = {"iterations", "final_params", "final_margins", "config"}
    if reserved & set(arrays):
        raise GDPerceptronError(f"metric names clash with {sorted(reserved & set(arrays))}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as f:
            np.savez(
                f,
                iterations=np.asarray(traj.iterations, dtype=np.int64),
                final_params=_flat(traj.final_params),
                final_margins=np.asarray(traj.final_margins, dtype=np.float64),
                config=np.asarray(json.dumps(meta, sort_keys=True, allow_nan=False)),
                **arrays,
            )
    except (OSError, ValueError) as err:
        raise GDPerceptronError(f"cannot save the trajectory to {str(out)!r}: {err}") from None
    return out


def load_saved(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The arrays of a saved trajectory, with ``config`` parsed from its JSON."""
    try:
        with np.load(path, allow_pickle=False) as f:
            out: dict[str, Any] = {k: f[k] for k in f.files}
    except (OSError, ValueError) as err:
        raise GDPerceptronError(f"cannot read the trajectory file {str(path)!r}: {err}") from None
    if "config" not in out:
        raise GDPerceptronError(f"{str(path)!r} is not a saved trajectory (no config)")
    out["config"] = json.loads(str(out["config"]))
    return out
