"""What one pipeline run produced: per-experiment outcomes and the run's header.

Shared by :mod:`gdperceptron.pipeline.reproduce`, which makes them, and
:mod:`gdperceptron.pipeline.report`, which renders them. Outcomes are saved as JSON
(:func:`outcome_to_dict`, :func:`outcome_from_dict`) so that a run of some experiments
(``--only``) keeps the other experiments' sections of an earlier run in the report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gdperceptron.experiments.base import Analysis, SubClaim, Table


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
        ran_at: when the run that made this outcome started (ISO 8601, UTC).
        earlier: True for a section kept from an earlier run (not run this time).
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
    ran_at: str = ""
    earlier: bool = False

    @property
    def status(self) -> str:
        """``reproduced``, ``partly``, ``not reproduced``, ``not run`` or ``failed``."""
        if self.analysis is None:
            return "failed"
        return self.analysis.status


def outcome_to_dict(outcome: ExperimentOutcome) -> dict[str, Any]:
    """A JSON-ready dict of ``outcome`` (its analysis included)."""
    out = asdict(outcome)
    out["earlier"] = False
    return out


def outcome_from_dict(data: dict[str, Any]) -> ExperimentOutcome:
    """The outcome saved by :func:`outcome_to_dict`, marked ``earlier``."""
    a = data.get("analysis")
    analysis = None
    if a is not None:
        claims = tuple(SubClaim(**c) for c in a.get("claims", ()))
        tables = tuple(Table(**t) for t in a.get("tables", ()))
        analysis = Analysis(
            reproduced=a.get("reproduced"),
            verdict=a.get("verdict", ""),
            table=list(a.get("table", [])),
            numbers=dict(a.get("numbers", {})),
            decisive_figure=a.get("decisive_figure", ""),
            claims=claims,
            tables=tables,
        )
    fields = {k: data[k] for k in ("name", "title", "claim", "n_tasks", "n_computed",
                                   "n_cached", "wall_s")}  # fmt: skip
    return ExperimentOutcome(
        **fields,
        analysis=analysis,
        figures=tuple(data.get("figures", ())),
        error=data.get("error"),
        ran_at=data.get("ran_at", ""),
        earlier=True,
    )


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
    data_dir: str | None = None
    data_note: str = ""
