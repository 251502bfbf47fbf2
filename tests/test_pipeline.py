"""The reproduction pipeline: cache, executors, resumption, report and CLI.

The experiments here are fakes written to a temporary module (so that spawned worker
processes and subprocess drivers can import them), independent of the registry. Each
fake task appends ``<pid> <params>`` to the file named by ``FAKE_CALLS``, so the tests
count exactly which tasks were computed and where.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from gdperceptron import GDPerceptronError
from gdperceptron.cli import build_parser, main
from gdperceptron.cli.reproduce import _command, resolve_defaults
from gdperceptron.experiments.base import Experiment
from gdperceptron.pipeline import SCHEMA_ID, SCHEMA_VERSION, TASK_COLUMNS, reproduce
from gdperceptron.pipeline.cache import code_version, open_store, task_key
from gdperceptron.pipeline.executors import LocalExecutor, call_task, make_executor

FAKE_MODULE = "gdp_fake_experiment"
FAKE_SOURCE = '''
"""A fake experiment for the pipeline tests: task i returns i**2."""
import json, os, time
from gdperceptron.experiments.base import Analysis, Experiment, SubClaim, Table


def tasks(quick):
    return [{"i": i, "seed": 100 + i} for i in range(4 if quick else 10)]


def run_task(params):
    calls = os.environ.get("FAKE_CALLS")
    if calls:
        with open(calls, "a") as fh:
            fh.write(f"{os.getpid()} {json.dumps(params, sort_keys=True)}\\n")
    time.sleep(params.get("sleep", float(os.environ.get("FAKE_SLEEP", "0"))))
    if params.get("fail"):
        raise RuntimeError("task failed on purpose")
    return {"square": params["i"] ** 2, "half": params["i"] / 2}


def analyze(records):
    total = sum(r["square"] for _, r in records)
    claims = (
        SubClaim("1", "squares <add up>", "the sum is positive", "reproduced" if total > 0
                 else "not reproduced", f"sum of squares = {total} <ok>"),
        SubClaim("2", "halves are small", "every half < 1", "partly", "halves up to 4.5",
                 condition="for i < 2"),
    )  # fmt: skip
    wide = [{"i": p["i"], **{f"column {k}": k * p["i"] for k in range(10)}} for p, _ in records]
    return Analysis(
        claims=claims,
        table=[{"i": p["i"], "square": r["square"]} for p, r in records],
        tables=(Table("A wide table", wide, note="ten columns"),),
        numbers={"total": total, "ratio": 0.125},
        decisive_figure="fake_decisive",
    )


def plot(records, out_dir):
    # placeholder files: the pipeline only needs the stems and the files
    os.makedirs(out_dir, exist_ok=True)
    for stem in ("fake_other", "fake_decisive"):
        for ext in ("png", "pdf"):
            with open(os.path.join(out_dir, f"{stem}.{ext}"), "w") as fh:
                fh.write(str(len(records)))
    return ["fake_other", "fake_decisive"]


EXPERIMENT = Experiment(
    name="fake",
    title="Fake <squares> & co",
    claim="Squares of integers are <b>non-negative</b>.",
    tasks=tasks,
    run_task=run_task,
    analyze=analyze,
    plot=plot,
)
'''
DRIVER = """
import sys
from {module} import EXPERIMENT
from gdperceptron.pipeline import reproduce

if __name__ == "__main__":  # the guard that spawned workers need
    try:
        reproduce([EXPERIMENT], sys.argv[1], workers=int(sys.argv[2]), log=lambda line: None)
    except KeyboardInterrupt:
        sys.exit(130)
"""


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("fake_module")
    (folder / f"{FAKE_MODULE}.py").write_text(FAKE_SOURCE)
    sys.path.insert(0, str(folder))  # spawned workers inherit sys.path
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop(FAKE_MODULE, None)


@pytest.fixture
def fake(fake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Experiment:
    monkeypatch.setenv("FAKE_CALLS", str(tmp_path / "calls.txt"))
    monkeypatch.delenv("FAKE_SLEEP", raising=False)
    import importlib

    return importlib.import_module(FAKE_MODULE).EXPERIMENT


def calls(tmp_path: Path) -> list[tuple[int, dict]]:
    """(pid, params) of every task computed since the file was last removed."""
    path = tmp_path / "calls.txt"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        pid, text = line.split(" ", 1)
        out.append((int(pid), json.loads(text)))
    return out


def table(db: Path) -> pd.DataFrame:
    with sqlite3.connect(db) as conn:
        return pd.read_sql("select * from tasks order by key", conn)


def quiet(line: str) -> None:
    """A log that drops progress lines."""


# ------------------------------------------------------------------------ cache


def test_rerun_hits_cache_and_force_recomputes(fake: Experiment, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = reproduce([fake], out, workers=1, log=quiet)
    assert [p["i"] for _, p in calls(tmp_path)] == list(range(10))
    assert (first.outcomes[0].n_computed, first.outcomes[0].n_cached) == (10, 0)
    assert first.ok and first.outcomes[0].status == "partly"

    second = reproduce([fake], out, workers=1, log=quiet)
    assert len(calls(tmp_path)) == 10, "a rerun must not recompute cached tasks"
    assert (second.outcomes[0].n_computed, second.outcomes[0].n_cached) == (0, 10)
    assert second.outcomes[0].analysis == first.outcomes[0].analysis
    assert "not started" in second.info.executor

    # a quick run never mixes its tasks into a folder of full results (nor the reverse)
    with pytest.raises(GDPerceptronError, match="holds full results"):
        reproduce([fake], out, quick=True, workers=1, log=quiet)
    quick = reproduce([fake], tmp_path / "quick", quick=True, workers=1, log=quiet)
    assert quick.outcomes[0].n_computed == 4 and len(calls(tmp_path)) == 14
    with pytest.raises(GDPerceptronError, match="holds quick results"):
        reproduce([fake], tmp_path / "quick", workers=1, log=quiet)

    forced = reproduce([fake], out, force=True, workers=1, log=quiet)
    assert len(calls(tmp_path)) == 24
    assert (forced.outcomes[0].n_computed, forced.outcomes[0].n_cached) == (10, 0)
    assert len(table(out / "results.sqlite")) == 10


def test_database_columns_and_metadata(fake: Experiment, tmp_path: Path) -> None:
    out = tmp_path / "out"
    reproduce([fake], out, quick=True, workers=1, log=quiet)
    df = table(out / "results.sqlite")
    assert tuple(df.columns) == TASK_COLUMNS
    assert len(df) == 4 and set(df["experiment"]) == {"fake"}
    params = [json.loads(p) for p in df["params"]]
    results = [json.loads(r) for r in df["result"]]
    assert all(
        r == {"square": p["i"] ** 2, "half": p["i"] / 2}
        for p, r in zip(params, results, strict=True)
    )
    assert sorted(df["seed"]) == [100, 101, 102, 103]
    code = code_version(fake.run_task)
    assert sorted(df["key"]) == sorted(task_key(p, code) for p in params)
    versions = json.loads(df["versions"][0])
    assert versions["gdperceptron"] == "0.1.0" and "jax" in versions
    started = pd.to_datetime(df["started"])
    finished = pd.to_datetime(df["finished"])
    assert (finished >= started).all() and (df["duration_s"] >= 0).all()
    with sqlite3.connect(out / "results.sqlite") as conn:
        meta = dict(conn.execute("select key, value from metadata").fetchall())
    assert meta["schema"] == SCHEMA_ID and meta["schema_version"] == str(SCHEMA_VERSION)


def test_editing_the_experiment_module_changes_keys(tmp_path: Path) -> None:
    module = tmp_path / "gdp_edit_probe.py"
    module.write_text("def run_task(params):\n    return {}\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import gdp_edit_probe

        before = code_version(gdp_edit_probe.run_task)
        module.write_text("def run_task(params):\n    return {'edited': True}\n")
        after = code_version(gdp_edit_probe.run_task)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("gdp_edit_probe", None)
    assert before != after and before.startswith("0.1.0+")
    assert task_key({"i": 1}, before) != task_key({"i": 1}, after)
    assert task_key({"a": 1, "b": [1, 2]}, before) == task_key({"b": (1, 2), "a": 1}, before)


def test_editing_a_helper_module_changes_keys(tmp_path: Path) -> None:
    """The key covers the modules of the experiment's package that it imports (directly,
    relatively or through each other), and no module outside the package."""
    pkg = tmp_path / "gdp_probe_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "exp.py").write_text(
        "from gdp_probe_pkg.stats import f\nimport json\n\n"
        "def run_task(params):\n    return {'x': f()}\n"
    )
    (pkg / "stats.py").write_text("from . import deep\n\ndef f():\n    return deep.g()\n")
    (pkg / "deep.py").write_text("def g():\n    return 1\n")
    (pkg / "unused.py").write_text("X = 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        from gdp_probe_pkg import exp

        versions = [code_version(exp.run_task)]
        for name, text in (
            ("deep", "def g():\n    return 2\n"),
            ("stats", "from . import deep\n\ndef f():\n    return -deep.g()\n"),
            ("unused", "X = 2\n"),
        ):
            (pkg / f"{name}.py").write_text(text)
            versions.append(code_version(exp.run_task))
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("gdp_probe_pkg")]:
            sys.modules.pop(name)
    assert len(set(versions[:3])) == 3  # the helper and the helper's helper count
    assert versions[3] == versions[2]  # a module it does not import does not


@pytest.mark.parametrize("force", [False, True])
def test_corrupt_file_is_never_reused(fake: Experiment, tmp_path: Path, force: bool) -> None:
    db = tmp_path / "results.sqlite"
    db.write_bytes(b"this is not a database at all\n" * 10)
    with pytest.raises(GDPerceptronError, match="not an SQLite file") as err:
        reproduce([fake], tmp_path, force=force, workers=1, log=quiet)
    assert str(db) in str(err.value) and "move it away" in str(err.value)
    assert db.read_bytes() == b"this is not a database at all\n" * 10
    assert calls(tmp_path) == []


@pytest.mark.parametrize("force", [False, True])
def test_foreign_sqlite_is_never_reused(fake: Experiment, tmp_path: Path, force: bool) -> None:
    db = tmp_path / "results.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table tasks (x integer)")
        conn.execute("insert into tasks values (7)")
    with pytest.raises(GDPerceptronError, match="another kind") as err:
        reproduce([fake], tmp_path, force=force, workers=1, log=quiet)
    assert str(db) in str(err.value) and "--force" in str(err.value)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select * from tasks").fetchall() == [(7,)]
        names = {r[0] for r in conn.execute("select name from sqlite_master")}
    assert names == {"tasks"}


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    open_store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("update metadata set value = '99' where key = 'schema_version'")
    with pytest.raises(GDPerceptronError, match="schema version '99'"):
        open_store(db)


def test_cli_reports_a_corrupt_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "results.sqlite").write_text("garbage")
    status = main(["reproduce", "--only", "predecessor", "--out", str(tmp_path), "--workers", "1"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("gdperceptron: error: ")
    assert str(tmp_path / "results.sqlite") in err


# -------------------------------------------------------------------- executors


def test_spawned_pool_matches_in_process_and_cancels_on_close(
    fake: Experiment, tmp_path: Path
) -> None:
    ex = LocalExecutor(workers=2)
    params = [{"i": i} for i in range(4)]
    try:
        pooled = sorted(ex.outcomes(fake.run_task, params))
        assert [o.index for o in pooled] == [0, 1, 2, 3]
        assert [o.result for o in pooled] == [call_task(fake.run_task, p)[0] for p in params]
        assert all(o.error is None for o in pooled)
        pids = [pid for pid, _ in calls(tmp_path)]
        assert len(pids) == 8 and os.getpid() not in pids[:4] and set(pids[4:]) == {os.getpid()}
        (tmp_path / "calls.txt").unlink()

        stream = ex.outcomes(fake.run_task, [{"i": i, "sleep": 1.0} for i in range(8)])
        first = next(stream)
        t0 = time.perf_counter()
        stream.close()
        assert time.perf_counter() - t0 < 5.0, "closing must not wait for the queued tasks"
    finally:
        ex.close()
    assert first.error is None and json.loads(first.result)["square"] == first.index**2
    time.sleep(1.5)  # a task that was not stopped would have logged another call by now
    assert len(calls(tmp_path)) <= 4, "queued tasks must be cancelled"


def test_failed_task_is_reported_and_the_rest_saved(fake: Experiment, tmp_path: Path) -> None:
    failing = dataclasses.replace(
        fake, tasks=lambda quick: [{"i": 1}, {"i": 2, "fail": True}, {"i": 3}]
    )
    summary = reproduce([failing], tmp_path, workers=1, log=quiet)
    (outcome,) = summary.outcomes
    assert not summary.ok and outcome.status == "failed" and outcome.analysis is None
    assert "1 of 3 tasks failed" in outcome.error and "on purpose" in outcome.error
    assert sorted(json.loads(p)["i"] for p in table(tmp_path / "results.sqlite")["params"]) == [
        1,
        3,
    ]
    assert "failed" in summary.table()
    assert "task failed on purpose" in summary.report.read_text()


def test_ray_missing_gives_install_hint(
    fake: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes "import ray" fail
    with pytest.raises(GDPerceptronError, match=re.escape("pip install gdperceptron[ray]")):
        make_executor("ray")
    with pytest.raises(GDPerceptronError, match=re.escape("pip install gdperceptron[ray]")):
        reproduce([fake], tmp_path / "out", executor="ray", log=quiet)
    assert not (tmp_path / "out").exists() and calls(tmp_path) == []


def test_bad_executor_options() -> None:
    with pytest.raises(GDPerceptronError, match="unknown executor"):
        make_executor("dask")
    with pytest.raises(GDPerceptronError, match="workers"):
        make_executor("local", workers=0)
    with pytest.raises(GDPerceptronError, match="ray executor"):
        make_executor("local", ray_address="auto")


# ------------------------------------------------------------------- resumption


def _driver(fake_dir: Path, tmp_path: Path, out: Path, workers: int, sleep: str):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(module=FAKE_MODULE))
    env = dict(os.environ, PYTHONPATH=str(fake_dir), FAKE_SLEEP=sleep)
    return subprocess.Popen([sys.executable, str(script), str(out), str(workers)], env=env)


def _wait_for_rows(db: Path, proc: subprocess.Popen, at_least: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db) as conn:
                    n = conn.execute("select count(*) from tasks").fetchone()[0]
            except sqlite3.OperationalError:
                n = 0
            if n >= at_least:
                return n
        time.sleep(0.05)
    raise AssertionError("the driver committed too few tasks in time")


def test_killed_run_resumes_without_recomputing(
    fake: Experiment, fake_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "killed"
    proc = _driver(fake_dir, tmp_path, out, workers=1, sleep="0.3")
    try:
        _wait_for_rows(out / "results.sqlite", proc, at_least=3)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    saved = {json.loads(p)["i"] for p in table(out / "results.sqlite")["params"]}
    assert 3 <= len(saved) < 10, "the kill must come after some tasks and before the end"
    (tmp_path / "calls.txt").unlink()

    resumed = reproduce([fake], out, workers=1, log=quiet)
    recomputed = sorted(p["i"] for _, p in calls(tmp_path))
    assert recomputed == sorted(set(range(10)) - saved)
    assert resumed.outcomes[0].n_cached == len(saved)

    clean = reproduce([fake], tmp_path / "clean", workers=1, log=quiet)
    cols = ["key", "params", "result", "seed"]
    assert table(out / "results.sqlite")[cols].equals(
        table(tmp_path / "clean/results.sqlite")[cols]
    )
    assert resumed.outcomes[0].analysis == clean.outcomes[0].analysis


def test_interrupted_pool_run_exits_and_resumes(
    fake: Experiment, fake_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "interrupted"
    proc = _driver(fake_dir, tmp_path, out, workers=2, sleep="0.4")
    try:
        _wait_for_rows(out / "results.sqlite", proc, at_least=1)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 130
    finally:
        proc.kill()
        proc.wait()
    n_saved = len(table(out / "results.sqlite"))
    assert 1 <= n_saved < 10
    resumed = reproduce([fake], out, workers=1, log=quiet)
    assert resumed.outcomes[0].n_cached == n_saved
    assert resumed.outcomes[0].n_computed == 10 - n_saved


# ----------------------------------------------------------------------- report


def test_report_has_every_section_figure_and_verdict(fake: Experiment, tmp_path: Path) -> None:
    other = dataclasses.replace(fake, name="fake2", title="Second fake")
    summary = reproduce([fake, other], tmp_path, quick=True, workers=1, command="cmd x")
    page = summary.report.read_text()
    assert summary.report == tmp_path / "report" / "index.html"
    for name in ("fake", "fake2"):
        assert f"<section id='{name}'>" in page
    assert "Fake &lt;squares&gt; &amp; co" in page and "<squares>" not in page
    assert "&lt;b&gt;non-negative&lt;/b&gt;" in page
    assert page.count("1. reproduced</span> squares &lt;add up&gt;") == 2
    assert page.count("sum of squares = 14 &lt;ok&gt;") == 2
    assert page.count("2. partly (for i &lt; 2)</span> halves are small") == 2
    assert page.count("Rule: every half &lt; 1") == 2
    srcs = re.findall(r"<img src='([^']+)'", page)
    assert srcs == ["../figures/fake_decisive.png", "../figures/fake_other.png"] * 2
    assert all((summary.report.parent / s).is_file() for s in srcs)
    assert all(
        (tmp_path / "figures" / f"{s}.pdf").is_file() for s in ("fake_decisive", "fake_other")
    )
    assert "<td>square</td>" not in page and "<th>square</th>" in page and "<td>9</td>" in page
    assert "&quot;total&quot;: 14" in page and "&quot;ratio&quot;: 0.125" in page  # collapsed
    # the ten-column table is split into parts of at most 8 columns, "i" repeated
    assert page.count("<th>i</th><th>column 0</th>") == 2
    assert page.count("<th>i</th><th>column 7</th><th>column 8</th><th>column 9</th>") == 2
    for text in ("quick", "local, in-process", "jax", "cmd x", "total time"):
        assert text in page
    text = summary.table()
    assert re.search(r"fake2?\s+4 \(4/0\)\s+[\d.]+ s\s+partly", text)
    assert "  1. reproduced: squares <add up> — sum of squares = 14 <ok>" in text


def test_only_keeps_the_other_sections(
    fake: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gdperceptron.experiments.NAMES", ("fake", "fake2"))
    other = dataclasses.replace(fake, name="fake2", title="Second fake")
    reproduce([fake, other], tmp_path, quick=True, workers=1, log=quiet)
    again = reproduce([other], tmp_path, quick=True, workers=1, log=quiet)
    page = again.report.read_text()
    assert [o.name for o in again.outcomes] == ["fake2"]  # only fake2 ran
    assert page.index("<section id='fake'>") < page.index("<section id='fake2'>")
    assert page.count("Kept from an earlier run") == 1
    assert "fake</a>: <span class='verdict partly'>partly</span> (earlier run)" in page


def test_saved_section_round_trips(fake: Experiment, tmp_path: Path) -> None:
    from gdperceptron.pipeline.outcomes import outcome_from_dict, outcome_to_dict

    summary = reproduce([fake], tmp_path, quick=True, workers=1, log=quiet)
    saved = json.loads((tmp_path / "report" / "sections" / "fake.json").read_text())
    back = outcome_from_dict(saved)
    assert back.earlier and back.analysis == summary.outcomes[0].analysis
    assert dataclasses.replace(back, earlier=False) == summary.outcomes[0]
    assert json.loads(json.dumps(outcome_to_dict(back))) == saved


# ------------------------------------------------------------------------- CLI


def test_data_folder_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from gdperceptron.data import loaders

    monkeypatch.setenv("GDPERCEPTRON_DATA_DIR", str(tmp_path))
    args = build_parser().parse_args(["reproduce"])
    assert resolve_defaults(args) == "GDPERCEPTRON_DATA_DIR" and args.data_dir == str(tmp_path)
    assert args.out == "results"
    monkeypatch.delenv("GDPERCEPTRON_DATA_DIR")
    monkeypatch.setattr(loaders, "SYSTEM_DATA_DIR", str(tmp_path / "absent"))
    args = build_parser().parse_args(["reproduce"])
    assert resolve_defaults(args) == "--data-dir" and args.data_dir is None
    assert loaders.local_data_note(None).startswith("no data folder")
    note = loaders.local_data_note(tmp_path)
    assert note.startswith(f"nothing found in {tmp_path}") and "Fashion-MNIST" in note


def test_missing_env_data_folder_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GDPERCEPTRON_DATA_DIR", str(tmp_path / "typo"))
    assert main(["reproduce", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GDPERCEPTRON_DATA_DIR" in err and "not a folder" in err


def test_cli_parses_every_option() -> None:
    args = build_parser().parse_args(
        [
            "reproduce",
            "--quick",
            "--out",
            "o",
            "--only",
            "spectrum,predecessor",
            "--force",
            "--executor",
            "ray",
            "--workers",
            "3",
            "--ray-address",
            "auto",
            "--data-dir",
            "d",
        ]
    )
    assert args.quick and args.force and args.out == "o" and args.data_dir == "d"
    assert args.only == ("spectrum", "predecessor")  # registry order
    assert (args.executor, args.workers, args.ray_address) == ("ray", 3, "auto")
    assert _command(args) == (
        "gdperceptron reproduce --quick --out o --only spectrum,predecessor --force "
        "--executor ray --workers 3 --ray-address auto --data-dir d"
    )
    quick = build_parser().parse_args(["reproduce", "--quick"])
    resolve_defaults(quick)
    assert quick.out == "results-quick"
    dflt = build_parser().parse_args(["reproduce"])
    assert (dflt.quick, dflt.force, dflt.out, dflt.only, dflt.executor, dflt.workers) == (
        False,
        False,
        None,  # resolved when the command runs: results, or results-quick with --quick
        None,
        "local",
        None,
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--only", "predecessor,nope"], "unknown experiment 'nope'"),
        (["--workers", "0"], "--workers"),
        (["--executor", "dask"], "invalid choice"),
    ],
)
def test_cli_bad_options_exit_2_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reproduce", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gdperceptron: error: ") and message in err


def test_cli_ray_address_needs_ray(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "--out", str(tmp_path), "--ray-address", "auto"]) == 2
    assert "--executor ray" in capsys.readouterr().err
    assert not (tmp_path / "results.sqlite").exists()


def test_cli_interrupt_says_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    pipeline = importlib.import_module("gdperceptron.pipeline.reproduce")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "reproduce", interrupted)
    assert main(["reproduce", "--only", "predecessor", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "again to resume" in err and str(tmp_path) in err


# ------------------------------------------------------------------------- Ray


def test_ray_matches_local(tmp_path: Path) -> None:
    """The same small predecessor sweep on a local Ray instance and in-process: identical
    saved results (Ray workers import gdperceptron from the environment)."""
    import ray

    from gdperceptron.experiments.predecessor import EXPERIMENT

    subset = EXPERIMENT.tasks(True)[:1] + [
        {"part": "worst_case", "n": 8, "algorithm": a, "steps": [1.0, 100.0], "max_iter": 100}
        for a in ("gd", "perceptron", "normalized-gd")
    ]
    sweep = dataclasses.replace(EXPERIMENT, tasks=lambda quick: subset)
    local = reproduce([sweep], tmp_path / "local", workers=1, log=quiet)
    on_ray = reproduce([sweep], tmp_path / "ray", executor="ray", workers=2, log=quiet)
    assert on_ray.info.executor.startswith("ray, local instance, 2 CPUs")
    assert not ray.is_initialized(), "the pipeline shuts down the Ray instance it started"
    cols = ["key", "params", "result"]
    a, b = table(tmp_path / "local/results.sqlite"), table(tmp_path / "ray/results.sqlite")
    assert len(a) == len(subset) == 4 and a[cols].equals(b[cols])
    numbers = [json.dumps(s.outcomes[0].analysis.numbers, sort_keys=True) for s in (local, on_ray)]
    assert numbers[0] == numbers[1]
