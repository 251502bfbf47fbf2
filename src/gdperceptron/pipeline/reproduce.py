"""The reproduction pipeline: tasks -> cache -> executor -> analysis -> figures -> report.

For each experiment, in order: ``make_tasks(quick, data_dir)`` gives the task list;
tasks already in ``results.sqlite`` are skipped (``force`` recomputes them); the others
run on the executor and each result is committed as it finishes; then ``analyze`` and
``plot`` read the saved records back from the database, never the in-memory results.
Finally ``report/index.html`` is written. The output folder::

    OUT/results.sqlite      every finished task (see :mod:`gdperceptron.pipeline.cache`)
    OUT/figures/NAME.png    and NAME.pdf, written by each experiment's ``plot`` (only when
                            the records it reads or its code changed)
    OUT/report/index.html   one section per experiment
    OUT/report/sections/    each experiment's last outcome as JSON: a run of some
                            experiments keeps the others' sections in the report

The folder holds one mode: a quick run refuses a folder of full results and the
other way round (``metadata.mode``), so that the two never mix.

A failure inside one experiment (a task, ``analyze`` or ``plot`` raising) is reported in
the summary and the report and the pipeline goes on with the next experiment; the
finished tasks stay saved, so a rerun after the fix computes only what is missing.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from gdperceptron.data.loaders import local_data_note
from gdperceptron.errors import GDPerceptronError
from gdperceptron.experiments.base import Analysis, Experiment
from gdperceptron.pipeline.cache import (
    TaskRow,
    cached_keys,
    code_version,
    delete_tasks,
    load_records,
    metadata,
    now_iso,
    open_store,
    resolve_params,
    save_task,
    task_key,
    task_seed,
    to_json,
)
from gdperceptron.pipeline.executors import Executor, check_options, make_executor
from gdperceptron.pipeline.outcomes import (
    ExperimentOutcome,
    RunInfo,
    outcome_from_dict,
    outcome_to_dict,
)
from gdperceptron.pipeline.report import summary_table, write_report

DB_NAME = "results.sqlite"
FIGURES_DIR = "figures"
SECTIONS_DIR = "report/sections"
Log = Callable[[str], None]


@dataclass(frozen=True)
class RunSummary:
    """The result of :func:`reproduce`."""

    info: RunInfo
    outcomes: tuple[ExperimentOutcome, ...]
    report: Path
    database: Path

    @property
    def ok(self) -> bool:
        """True when no experiment failed (whatever their verdicts)."""
        return all(o.error is None for o in self.outcomes)

    def table(self) -> str:
        """The terminal summary table with the verdict lines."""
        return summary_table(self.info, self.outcomes)


def _stderr(line: str) -> None:
    tqdm.write(line, file=sys.stderr)


def _figure_stems(written: Any, decisive: str) -> tuple[str, ...]:
    """Stems from what ``plot`` returned (stems or paths), decisive first, no repeats."""
    stems: list[str] = []
    for item in written or ():
        p = Path(str(item))
        stem = p.stem if p.suffix.lower() in (".png", ".pdf") else p.name
        if stem not in stems:
            stems.append(stem)
    if decisive in stems:
        stems.remove(decisive)
        stems.insert(0, decisive)
    return tuple(stems)


def data_fingerprint(params: dict) -> str | None:
    """A fingerprint of the local data files a task reads: for params that name a data set
    (``data``) read from a folder (``data_dir``), the sizes and sha256 of the files that
    its loader reads (:func:`gdperceptron.data.loaders.data_fingerprint`); else ``None``."""
    from gdperceptron.data.loaders import data_fingerprint as files_fingerprint

    name, folder = params.get("data"), params.get("data_dir")
    if not isinstance(name, str) or not isinstance(folder, str):
        return None
    return files_fingerprint(name, folder)


def _task_list(exp: Experiment, quick: bool, data_dir: str | None) -> list[tuple[str, dict]]:
    """``(key, resolved params)`` for each task, duplicates removed, in order. Tasks that
    read local files are keyed on those files' contents too (:func:`data_fingerprint`)."""
    code = code_version(exp.run_task)
    tasks: dict[str, dict] = {}
    for params in exp.make_tasks(quick, data_dir):
        resolved = resolve_params(params)
        tasks.setdefault(task_key(resolved, code, data_fingerprint(resolved)), resolved)
    return list(tasks.items())


def _compute(
    conn: sqlite3.Connection,
    exp: Experiment,
    ex: Executor,
    todo: list[tuple[str, dict]],
    total: int,
) -> tuple[int, list[str]]:
    """Run ``todo`` (key, params) on ``ex`` and commit each result as it finishes;
    return how many were saved and the error texts of those that failed."""
    errors: list[str] = []
    computed = 0
    bar = tqdm(
        total=total,
        initial=total - len(todo),
        desc=exp.name,
        unit="task",
        disable=None,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    try:
        with contextlib.closing(ex.outcomes(exp.run_task, [p for _, p in todo])) as stream:
            for out in stream:
                key, params = todo[out.index]
                if out.error is not None:
                    errors.append(f"task {to_json(params)} failed:\n{out.error}")
                else:
                    row = TaskRow(
                        exp.name,
                        key,
                        to_json(params),
                        str(out.result),
                        task_seed(params),
                        out.versions,
                        out.started,
                        out.finished,
                        float(out.duration_s),
                    )
                    save_task(conn, row)
                    computed += 1
                bar.update(1)
    finally:
        bar.close()
    return computed, errors


def run_experiment(
    conn: sqlite3.Connection,
    exp: Experiment,
    executor: Callable[[], Executor],
    *,
    quick: bool,
    force: bool,
    data_dir: str | None,
    figures_dir: Path,
    log: Log = _stderr,
) -> ExperimentOutcome:
    """Run one experiment through cache, executor, analysis and figures (module docstring)."""
    start = time.perf_counter()
    base = {"name": exp.name, "title": exp.title, "claim": exp.claim}

    def failed(error: str, n_tasks: int = 0, computed: int = 0, cached: int = 0) -> Any:
        log(f"{exp.name}: FAILED: {error}")
        wall = time.perf_counter() - start
        return ExperimentOutcome(
            **base, n_tasks=n_tasks, n_computed=computed, n_cached=cached, wall_s=wall, error=error
        )

    try:
        tasks = _task_list(exp, quick, data_dir)
    except Exception as err:  # experiment code: reported, the pipeline goes on
        log(traceback.format_exc().rstrip())
        return failed(f"make_tasks raised {type(err).__name__}: {err}")
    keys = [k for k, _ in tasks]
    if force:
        delete_tasks(conn, exp.name, keys)
    cached = cached_keys(conn, exp.name, keys)
    todo = [(k, p) for k, p in tasks if k not in cached]
    log(f"{exp.name}: {len(tasks)} tasks, {len(cached)} cached, {len(todo)} to compute")
    computed, errors = (0, []) if not todo else _compute(conn, exp, executor(), todo, len(tasks))
    if errors:
        log(errors[0].rstrip())
        first = errors[0].strip().splitlines()[-1]
        return failed(
            f"{len(errors)} of {len(tasks)} tasks failed (the others are saved); first: {first}",
            len(tasks),
            computed,
            len(cached),
        )
    try:
        records = load_records(conn, exp.name, keys)
        analysis = exp.analyze(records)
        if not isinstance(analysis, Analysis):
            raise GDPerceptronError(f"analyze returned {type(analysis).__name__}, not Analysis")
        figures_dir.mkdir(parents=True, exist_ok=True)
        from gdperceptron.experiments.figures import plot_if_changed  # matplotlib: lazily

        written = plot_if_changed(exp.name, exp.plot, records, figures_dir)
        figures = _figure_stems(written, analysis.decisive_figure)
    except Exception as err:  # experiment code: reported, the pipeline goes on
        log(traceback.format_exc().rstrip())
        return failed(
            f"analysis or figures raised {type(err).__name__}: {err}",
            len(tasks),
            computed,
            len(cached),
        )
    wall = time.perf_counter() - start
    return ExperimentOutcome(
        **base,
        n_tasks=len(tasks),
        n_computed=computed,
        n_cached=len(cached),
        wall_s=wall,
        analysis=analysis,
        figures=figures,
    )


def reproduce(
    experiments: Sequence[Experiment],
    out_dir: str | Path = "results",
    *,
    quick: bool = False,
    force: bool = False,
    executor: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    data_dir: str | None = None,
    command: str = "",
    log: Log = _stderr,
) -> RunSummary:
    """Run ``experiments`` into ``out_dir`` and write the report (module docstring).

    Args:
        experiments: the experiments, run in this order; names must be distinct.
        out_dir: output folder (``results.sqlite``, ``figures/``, ``report/``).
        quick: the small version of every experiment.
        force: recompute the tasks of these experiments even when cached.
        executor: ``local`` or ``ray`` (:mod:`gdperceptron.pipeline.executors`).
        workers: worker processes (local) or CPUs of a new local Ray instance;
            default ``os.cpu_count()``; ``1`` runs in this process.
        ray_address: a Ray cluster to use (else ``RAY_ADDRESS``, else a local instance).
        data_dir: folder with local data sets, passed to ``make_tasks``.
        command: the command line, for the report.
        log: where progress lines go (default: standard error).

    With more than one local worker the workers are *spawned* processes, which import
    the main module again: a script that calls this must guard its entry point with
    ``if __name__ == "__main__":``. Task functions must be importable by module name.

    Raises:
        GDPerceptronError: bad options, a results file that is not ours or is damaged
            (with ``force`` a damaged one is moved aside instead), or a failed write (disk
            full, read-only file). An interrupt (``KeyboardInterrupt``, also SIGTERM in
            the CLI) propagates after the finished tasks are saved and the workers are
            stopped.
    """
    from gdperceptron.engines.config import versions

    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise GDPerceptronError(f"experiment names must be distinct, got {names}")
    check_options(executor, workers, ray_address)
    out = Path(out_dir)
    database = out / DB_NAME
    started, t0 = now_iso(), time.perf_counter()
    held: list[Executor] = []
    if executor == "ray":
        # connect (or fail: no cluster at the address) before any file is written
        held.append(make_executor(executor, workers=workers, ray_address=ray_address))
        log(f"executor: {held[0].describe()}")
    try:
        conn = open_store(database, recover=force)
        _check_mode(conn, database, quick)
        log(f"local data: {local_data_note(data_dir)}")
    except BaseException:
        for ex in held:
            ex.close()
        raise

    def get_executor() -> Executor:
        if not held:
            held.append(make_executor(executor, workers=workers, ray_address=ray_address))
            log(f"executor: {held[0].describe()}")
        return held[0]

    outcomes: list[ExperimentOutcome] = []
    try:
        for exp in experiments:
            outcome = run_experiment(
                conn,
                exp,
                get_executor,
                quick=quick,
                force=force,
                data_dir=data_dir,
                figures_dir=out / FIGURES_DIR,
                log=log,
            )
            outcome = replace(outcome, ran_at=started)
            _save_section(out, outcome)
            outcomes.append(outcome)
    finally:
        for ex in held:
            ex.close()
        conn.close()
    info = RunInfo(
        out_dir=str(out),
        quick=quick,
        force=force,
        executor=held[0].describe() if held else f"{executor} (not started: all tasks cached)",
        started=started,
        total_s=time.perf_counter() - t0,
        versions=versions(),
        command=command,
        data_dir=None if data_dir is None else str(data_dir),
        data_note=local_data_note(data_dir),
    )
    report = write_report(out, info, _with_earlier_sections(out, outcomes))
    return RunSummary(info, tuple(outcomes), report, database)


def _check_mode(conn: sqlite3.Connection, database: Path, quick: bool) -> None:
    """Record the folder's mode on first use; refuse a run of the other mode."""
    mode = "quick" if quick else "full"
    with conn:
        conn.execute("INSERT OR IGNORE INTO metadata (key, value) VALUES ('mode', ?)", (mode,))
    held = metadata(conn)["mode"]
    if held != mode:
        conn.close()
        other = "--quick " if held == "quick" else ""
        raise GDPerceptronError(
            f"{database.parent} holds {held} results; a {mode} run would mix with them: "
            f"choose another --out (quick runs default to results-quick), or run "
            f"'gdperceptron reproduce {other}--out {database.parent}'"
        )


def _save_section(out: Path, outcome: ExperimentOutcome) -> None:
    """``OUT/report/sections/NAME.json``: this outcome, written atomically."""
    folder = out / SECTIONS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{outcome.name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(outcome_to_dict(outcome), default=str), encoding="utf-8")
    tmp.replace(path)


def _with_earlier_sections(out: Path, outcomes: list[ExperimentOutcome]) -> list[ExperimentOutcome]:
    """This run's outcomes plus the saved sections of registered experiments that did not
    run this time (an unreadable section file is left out), in registry order."""
    from gdperceptron.experiments import NAMES

    ran = {o.name for o in outcomes}
    merged = list(outcomes)
    for name in NAMES:
        path = out / SECTIONS_DIR / f"{name}.json"
        if name in ran or not path.is_file():
            continue
        try:
            merged.append(outcome_from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    order = {name: i for i, name in enumerate(NAMES)}
    return sorted(merged, key=lambda o: order.get(o.name, len(order)))
