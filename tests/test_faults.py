"""Faults in the reproduction pipeline: what survives them and what is refused.

kill -9 of a running ``reproduce`` (workers die with it, a rerun resumes), SIGTERM (one
line, exit 143, finished tasks kept, workers stopped), many processes creating the same
fresh database, a damaged database (refused on open, moved aside with ``--force``), and a
disk that fills up (an injected write error: one line, finished tasks kept).

The experiment is a fake written to a temporary module, so that spawned workers and the
driver subprocesses can import it; each task returns the pid of the process that ran it.
"""

from __future__ import annotations

import importlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gdperceptron.cli import main
from gdperceptron.errors import GDPerceptronError
from gdperceptron.pipeline import reproduce
from gdperceptron.pipeline.cache import metadata, open_store

# the module (the package exports the function of the same name)
reproduce_module = importlib.import_module("gdperceptron.pipeline.reproduce")
MODULE = "gdp_fault_experiment"
SOURCE = """
import os, time
from gdperceptron.experiments.base import Analysis, Experiment


def tasks(quick):
    return [{"i": i, "seed": i} for i in range(int(os.environ.get("FAULT_TASKS", "6")))]


def run_task(params):
    time.sleep(float(os.environ.get("FAULT_SLEEP", "0")))
    return {"pid": os.getpid(), "i": params["i"]}


def analyze(records):
    return Analysis(reproduced=True, verdict=f"{len(records)} tasks")


def plot(records, out_dir):
    return []


EXPERIMENT = Experiment("fault", "Fault", "Tasks finish.", tasks, run_task, analyze, plot)
"""
DRIVER = """
import sys
import gdperceptron.cli.reproduce as command
from {module} import EXPERIMENT

command._load = lambda names: [EXPERIMENT]

if __name__ == "__main__":  # the guard that spawned workers need
    from gdperceptron.cli import main

    sys.exit(main(["reproduce", "--out", sys.argv[1], "--workers", sys.argv[2]]))
"""


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fault_module")
    (folder / f"{MODULE}.py").write_text(SOURCE)
    (folder / "driver.py").write_text(DRIVER.format(module=MODULE))
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop(MODULE, None)


@pytest.fixture
def experiment(module_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FAULT_SLEEP", "0")
    monkeypatch.setenv("FAULT_TASKS", "6")
    return importlib.import_module(MODULE).EXPERIMENT


def _rows(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT key, result FROM tasks").fetchall()
        except sqlite3.OperationalError:
            return []


def _pids(db: Path) -> set[int]:
    import json

    return {json.loads(r)["pid"] for _, r in _rows(db)}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _start(module_dir: Path, out: Path, n_tasks: int, sleep: float) -> subprocess.Popen:
    env = {
        **os.environ,
        "FAULT_TASKS": str(n_tasks),
        "FAULT_SLEEP": str(sleep),
        "PYTHONPATH": os.pathsep.join([str(module_dir), *sys.path]),
    }
    return subprocess.Popen(
        [sys.executable, str(module_dir / "driver.py"), str(out), "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_rows(db: Path, proc: subprocess.Popen, at_least: int, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while len(_rows(db)) < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "no task finished in time"
        time.sleep(0.1)


def _wait_dead(pids: set[int], timeout: float = 10) -> set[int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if _alive(p)}


@pytest.mark.slow
def test_kill_9_takes_the_workers_along_and_a_rerun_resumes(
    module_dir: Path, tmp_path: Path
) -> None:
    out, n = tmp_path / "out", 24
    proc = _start(module_dir, out, n, 0.3)
    db = out / "results.sqlite"
    _wait_rows(db, proc, 4)
    workers = _pids(db)
    assert workers and proc.pid not in workers  # the tasks ran in spawned workers
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert _wait_dead(workers) == set(), "workers outlived their killed parent"
    saved = len(_rows(db))
    assert 4 <= saved < n
    again = _start(module_dir, out, n, 0.0)
    stdout, stderr = again.communicate(timeout=240)
    assert again.returncode == 0, stderr
    assert f"{n} tasks, {saved}" in stderr or f"{saved} cached" in stderr
    assert len(_rows(db)) == n


@pytest.mark.slow
def test_sigterm_keeps_finished_tasks_prints_one_line_and_exits_143(
    module_dir: Path, tmp_path: Path
) -> None:
    out, n = tmp_path / "out", 40
    proc = _start(module_dir, out, n, 0.4)
    db = out / "results.sqlite"
    _wait_rows(db, proc, 3)
    workers = _pids(db)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143
    lines = [ln for ln in stderr.splitlines() if ln.startswith("gdperceptron:")]
    assert len(lines) == 1 and "terminated" in lines[0] and "results.sqlite" in lines[0]
    assert "Traceback" not in stderr
    assert 3 <= len(_rows(db)) < n
    assert _wait_dead(workers) == set()


def test_many_concurrent_creators_of_a_fresh_database(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "results.sqlite"
    n = 48
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def create() -> None:
        barrier.wait()
        try:
            open_store(db).close()
        except BaseException as err:  # collected: every creator must succeed
            errors.append(err)

    threads = [threading.Thread(target=create) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    conn = open_store(db)
    meta = metadata(conn)
    assert meta["schema"] == "gdperceptron-results" and meta["schema_version"] == "1"
    assert conn.execute("SELECT count(*) FROM metadata").fetchone()[0] == len(meta) == 4
    conn.close()


def test_concurrent_creator_processes(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite"
    code = (
        "import sys, time; from gdperceptron.pipeline.cache import open_store; "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); open_store(sys.argv[1]).close()"
    )
    start = time.time() + 3.0
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(db), str(start)], stderr=subprocess.PIPE)
        for _ in range(8)
    ]
    errs = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errs


def _damage(db: Path) -> None:
    """Overwrite the second half of the file with noise: the header, the schema and the
    metadata (the first pages) survive; task pages do not."""
    size = db.stat().st_size
    assert size > 8 * 4096
    start = (size // 2) // 4096 * 4096
    rng = __import__("numpy").random.default_rng(0)
    with db.open("r+b") as fh:
        fh.seek(start)
        fh.write(rng.integers(0, 256, size - start, dtype="uint8").tobytes())


def test_a_damaged_database_is_refused_and_force_moves_it_aside(
    experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULT_TASKS", "200")
    reproduce([experiment], tmp_path, workers=1, log=lambda line: None)
    db = tmp_path / "results.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _damage(db)
    with pytest.raises(GDPerceptronError, match="damaged.*--force") as err:
        open_store(db)
    assert len(str(err.value).splitlines()) == 1
    summary = reproduce([experiment], tmp_path, workers=1, force=True, log=lambda line: None)
    assert summary.ok and len(_rows(db)) == 200
    moved = [p.name for p in tmp_path.glob("results.sqlite.damaged-*")]
    assert len([m for m in moved if not m.endswith(("-wal", "-shm"))]) == 1, moved


def test_cli_refuses_a_damaged_database_in_one_line(
    experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("FAULT_TASKS", "200")
    reproduce([experiment], tmp_path, workers=1, log=lambda line: None)
    db = tmp_path / "results.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _damage(db)
    import gdperceptron.cli.reproduce as command

    monkeypatch.setattr(command, "_load", lambda names: [experiment])
    capsys.readouterr()
    rc = main(["reproduce", "--out", str(tmp_path), "--workers", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.splitlines()) == 1 and "damaged" in err and "--force" in err


def test_disk_full_while_saving_keeps_the_finished_tasks(
    experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    real_save = reproduce_module.save_task
    saved = []

    def save_then_fill(conn, row):
        if len(saved) == 3:
            # what SQLite raises when the disk is full, turned into one clear error
            try:
                raise sqlite3.OperationalError("database or disk is full")
            except sqlite3.OperationalError as err:
                from gdperceptron.pipeline.cache import _write_failed

                raise _write_failed(conn, err) from None
        real_save(conn, row)
        saved.append(row.key)

    monkeypatch.setattr(reproduce_module, "save_task", save_then_fill)
    import gdperceptron.cli.reproduce as command

    monkeypatch.setattr(command, "_load", lambda names: [experiment])
    rc = main(["reproduce", "--out", str(tmp_path), "--workers", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    errors = [ln for ln in err if ln.startswith("gdperceptron: error:")]
    assert len(errors) == 1 and "disk is full" in errors[0] and "kept" in errors[0]
    assert {k for k, _ in _rows(tmp_path / "results.sqlite")} == set(saved)
    assert len(saved) == 3


def test_a_real_sqlite_write_error_becomes_one_line(tmp_path: Path) -> None:
    from gdperceptron.pipeline.cache import TaskRow, save_task

    conn = open_store(tmp_path / "results.sqlite")
    conn.execute("PRAGMA max_page_count = 1")  # the file may not grow: SQLITE_FULL
    row = TaskRow("e", "k", "{}", "x" * 100_000, 0, "{}", "a", "b", 0.0)
    with pytest.raises(GDPerceptronError, match="cannot write.*kept") as err:
        save_task(conn, row)
    assert len(str(err.value).splitlines()) == 1
    conn.close()


def test_oserror_writing_the_report_is_one_line(
    experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "report"))

    monkeypatch.setattr(reproduce_module, "write_report", no_space)
    import gdperceptron.cli.reproduce as command

    monkeypatch.setattr(command, "_load", lambda names: [experiment])
    rc = main(["reproduce", "--out", str(tmp_path), "--workers", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    errors = [ln for ln in err if ln.startswith("gdperceptron: error:")]
    assert rc == 2 and len(errors) == 1 and "No space left on device" in errors[0]
    assert len(_rows(tmp_path / "results.sqlite")) == 6  # every task was saved first


def test_force_on_a_read_only_database_is_one_line(experiment, tmp_path: Path) -> None:
    from gdperceptron.pipeline.cache import delete_tasks

    reproduce([experiment], tmp_path, workers=1, log=lambda line: None)
    conn = open_store(tmp_path / "results.sqlite")
    conn.execute("PRAGMA query_only = 1")  # writes fail as on a read-only file
    keys = [k for k, _ in _rows(tmp_path / "results.sqlite")]
    with pytest.raises(GDPerceptronError, match="cannot write.*kept") as err:
        delete_tasks(conn, "fault", keys)
    assert len(str(err.value).splitlines()) == 1
    conn.close()
    assert len(_rows(tmp_path / "results.sqlite")) == 6
