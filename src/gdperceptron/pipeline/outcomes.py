"""What one pipeline run produced: per-experiment outcomes and the run's header.

Shared by :mod:`gdperceptron.pipeline.reproduce`, which makes them, and
:mod:`gdperceptron.pipeline.report`, which renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gdperceptron.experiments.base import Analysis


@dataclass(frozen=True)
class ExperimentOutcome:
    """What one experiment gave in one pipeline run.

    Attributes:
        name, title, claim: from the :class:`Experiment`.
        n_tasks: tasks in this run's list; ``n_computed + n_cached`` of them finished.
        wall_s: wall time of the whole experiment (tasks, analysis, figures).
        analysis: the :class:`Analysis`, or ``None`` if the experiment failed.
        figures: figure stems written under ``figures/``, the decisive one first.
        error: why the experiment failed, or ``None``.
    """

    name: str
    title: str
    claim: str
    n_tasks: int
    n_computed: int
    n_cached: int
    wall_s: float
    analysis: Analysis | None = None
    figures: tuple[str, ...] = ()
    error: str | None = None

    @property
    def status(self) -> str:
        """``reproduced``, ``not reproduced`` or ``failed``."""
        if self.analysis is None:
            return "failed"
        return "reproduced" if self.analysis.reproduced else "not reproduced"


@dataclass(frozen=True)
class RunInfo:
    """The configuration and timing of one pipeline run (the report's header)."""

    out_dir: str
    quick: bool
    force: bool
    executor: str
    started: str
    total_s: float
    versions: dict[str, str] = field(default_factory=dict)
    command: str = ""
