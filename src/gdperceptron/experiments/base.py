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


@dataclass(frozen=True)
class Analysis:
    """The outcome of an experiment, computed from its saved records.

    Attributes:
        reproduced: the verdict: does the claim hold in the measured numbers?
        verdict: one line that states the verdict with the decisive numbers.
        table: rows (dicts with the same keys) of measured numbers for the report.
        numbers: named scalars (slopes, intervals, ratios) for the summary and tests.
        decisive_figure: file stem of the figure that decides the verdict.
    """

    reproduced: bool
    verdict: str
    table: list[dict[str, Any]] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    decisive_figure: str = ""


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
