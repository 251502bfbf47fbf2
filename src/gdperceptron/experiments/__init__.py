"""The registry of experiments that ``gdperceptron reproduce`` runs, one module each.

Each module defines ``EXPERIMENT``, an :class:`~gdperceptron.experiments.base.Experiment`.
"""

from __future__ import annotations

import importlib

from gdperceptron.errors import GDPerceptronError
from gdperceptron.experiments.base import Analysis, Experiment, Params, Record, Result

NAMES = (
    "reduction",
    "complexity",
    "spectrum",
    "oscillations",
    "acceleration",
    "predecessor",
    "ablations",
    "chaos",
)


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise GDPerceptronError(f"unknown experiment {name!r}; choose from {', '.join(NAMES)}")
    return importlib.import_module(f"gdperceptron.experiments.{name}").EXPERIMENT


def registry(names: tuple[str, ...] | list[str] = NAMES) -> dict[str, Experiment]:
    """Experiments by name, in registry order."""
    return {name: get_experiment(name) for name in names}


__all__ = [
    "NAMES",
    "Analysis",
    "Experiment",
    "Params",
    "Record",
    "Result",
    "get_experiment",
    "registry",
]
