"""What an experiment is: tasks, a pure task function, an analysis, and figures.

An :class:`Experiment` is a set of independent *tasks*. Each task is a JSON-able dict
of parameters (with an explicit ``seed`` where randomness enters); ``run_task(params)``
is a pure function of it that returns a JSON-able dict of results and uses only the
public API of :mod:`gdperceptron`. The pipeline stores every ``(params, result)`` pair in
SQLite as it finishes; ``analyze`` and ``plot`` then only read those saved pairs:
``analyze`` computes the numbers and the verdict, ``plot`` draws the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Params = dict[str, Any]
Result = dict[str, Any]
Record = tuple[Params, Result]


VERDICTS = ("reproduced", "partly", "not reproduced", "not run")


@dataclass(frozen=True)
class SubClaim:
    """One numbered sub-claim of an experiment, its fixed rule and its verdict.

    Attributes:
        number: its label in the experiment (``"1"``, ``"2a"``, ...).
        claim: what the paper (or its predecessor) claims, one sentence.
        criterion: the rule that decides the verdict, fixed before the numbers are seen
            (stated in the experiment module's docstring too).
        verdict: ``reproduced``, ``partly`` (holds only under ``condition``), ``not
            reproduced``, or ``not run`` (its data are missing; ``evidence`` says why).
        evidence: the decisive numbers, one line.
        condition: for ``partly``, the condition under which the claim holds.
    """

    number: str
    claim: str
    criterion: str
    verdict: str
    evidence: str
    condition: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.verdict == "partly" and not self.condition:
            raise ValueError("a 'partly' verdict needs the condition under which it holds")

    def line(self) -> str:
        """``2. partly (for gamma < 3.2): <claim> — <evidence> [rule: <criterion>]``."""
        cond = f" ({self.condition})" if self.verdict == "partly" else ""
        return (
            f"{self.number}. {self.verdict}{cond}: {self.claim} — {self.evidence} "
            f"[rule: {self.criterion}]"
        )


def overall_status(claims: tuple[SubClaim, ...] | list[SubClaim]) -> str:
    """One word for a list of sub-claims: the common verdict when they all agree (those not
    run left out when some ran), else ``partly``."""
    ran = [c.verdict for c in claims if c.verdict != "not run"]
    if not claims:
        return "not run"
    if not ran:
        return "not run"
    return ran[0] if len(set(ran)) == 1 else "partly"


@dataclass(frozen=True)
class Table:
    """A titled table for the report: ``rows`` are dicts whose keys are readable column
    names; ``key_columns`` leading columns are repeated when a wide table is split."""

    title: str
    rows: list[dict[str, Any]]
    note: str = ""
    key_columns: int = 1


@dataclass(frozen=True)
class Analysis:
    """The outcome of an experiment, computed from its saved records.

    Attributes:
        reproduced: True when every sub-claim that ran is reproduced (derived from
            ``claims`` when they are given).
        verdict: one line with the decisive numbers (derived from ``claims`` when given:
            their lines joined).
        table: rows (dicts with the same keys) of measured numbers for the report.
        numbers: named scalars (slopes, intervals, ratios) for the summary and tests.
        decisive_figure: file stem of the figure that decides the verdict.
        claims: the numbered sub-claims with their three-valued verdicts.
        tables: further titled tables for the report.
    """

    reproduced: bool | None = None
    verdict: str = ""
    table: list[dict[str, Any]] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    decisive_figure: str = ""
    claims: tuple[SubClaim, ...] = ()
    tables: tuple[Table, ...] = ()

    def __post_init__(self) -> None:
        if self.claims:
            object.__setattr__(self, "claims", tuple(self.claims))
            object.__setattr__(self, "reproduced", self.status == "reproduced")
            if not self.verdict:
                object.__setattr__(self, "verdict", "; ".join(c.line() for c in self.claims))
        elif self.reproduced is None:
            raise ValueError("an Analysis needs claims or a reproduced flag")

    @property
    def status(self) -> str:
        """``reproduced``, ``partly``, ``not reproduced`` or ``not run``."""
        if self.claims:
            return overall_status(self.claims)
        return "reproduced" if self.reproduced else "not reproduced"


def run_cell(iterations: int | None, stop_reason: str) -> int | str:
    """A table cell for one run: its iterations to separate, or why it has none
    (``diverged``, ``stalled``, ``not within budget``, ``non-finite``)."""
    if iterations is not None:
        return int(iterations)
    return {"max_iter": "not within budget", "non_finite": "non-finite"}.get(
        stop_reason, stop_reason.replace("_", " ")
    )


@dataclass(frozen=True)
class Experiment:
    """One experiment of the registry.

    Attributes:
        name: registry key (``reduction``, ``complexity``, ...).
        title: a heading for the report.
        claim: the claim of the paper (or of its predecessor) that it tests, one paragraph.
        tasks: ``quick -> [params, ...]``; ``quick=True`` gives a small version.
        run_task: ``params -> result``; pure, deterministic given ``params``.
        analyze: ``[(params, result), ...] -> Analysis``.
        plot: ``([(params, result), ...], out_dir) -> [paths of figure stems written]``;
            writes ``<stem>.png`` and ``<stem>.pdf`` for each figure.
        tasks_with_data: ``(quick, data_dir) -> [params, ...]``, used instead of
            ``tasks`` by experiments that read a local data folder (None otherwise).
    """

    name: str
    title: str
    claim: str
    tasks: Callable[[bool], list[Params]]
    run_task: Callable[[Params], Result]
    analyze: Callable[[list[Record]], Analysis]
    plot: Callable[[list[Record], Path], list[str]]
    tasks_with_data: Callable[[bool, str | None], list[Params]] | None = None

    def make_tasks(self, quick: bool, data_dir: str | None = None) -> list[Params]:
        """The task list for this run of the pipeline."""
        if self.tasks_with_data is not None:
            return self.tasks_with_data(quick, data_dir)
        return self.tasks(quick)


def complete_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows completed with ``None`` so that every row has every column, in first-seen order
    (report tables need rows with the same keys)."""
    cols: list[str] = []
    for row in rows:
        cols.extend(k for k in row if k not in cols)
    return [{c: row.get(c) for c in cols} for row in rows]
