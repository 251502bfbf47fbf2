"""The results database: one SQLite file that caches every finished task.

``results.sqlite`` has two tables:

* ``metadata(key, value)``: written once at creation; ``schema`` is
  :data:`SCHEMA_ID` and ``schema_version`` is :data:`SCHEMA_VERSION`. A file without
  them is not ours and is never written to.
* ``tasks``: one row per finished task, primary key ``(experiment, key)``, columns
  :data:`TASK_COLUMNS`. ``params``, ``result`` and ``versions`` are JSON text; ``key``
  is :func:`task_key`, a hash of the resolved params and of the code version, so that a
  new release or an edited experiment module gives new keys (a cache miss).

Every finished task is committed on its own and the journal is in WAL mode, so a run
that is killed loses only the tasks that were still running. On open the file is
checked (SQLite header, ``PRAGMA quick_check``, our schema); a damaged file is refused
(or, with ``recover=True``, moved aside to ``<name>.damaged-<time>``), never trusted.
Creating a fresh file is one ``BEGIN IMMEDIATE`` transaction with ``IF NOT EXISTS``, so
that processes that open the same new path at once all succeed. A failed write (disk
full, read-only file) raises one clear :class:`GDPerceptronError`; what was committed
before stays. The file reads with
pandas: ``pd.read_sql("select * from tasks", sqlite3.connect(path))``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gdperceptron.errors import GDPerceptronError
from gdperceptron.experiments.base import Params, Record
from gdperceptron.experiments.sources import source_fingerprint

SCHEMA_ID = "gdperceptron-results"
SCHEMA_VERSION = 1
TASK_COLUMNS = (
    "experiment",
    "key",
    "params",
    "result",
    "seed",
    "versions",
    "started",
    "finished",
    "duration_s",
)
BUSY_TIMEOUT_S = 60.0
_CREATE = (
    "CREATE TABLE IF NOT EXISTS metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tasks ("
    " experiment TEXT NOT NULL, key TEXT NOT NULL, params TEXT NOT NULL,"
    " result TEXT NOT NULL, seed INTEGER, versions TEXT NOT NULL,"
    " started TEXT NOT NULL, finished TEXT NOT NULL, duration_s REAL NOT NULL,"
    " PRIMARY KEY (experiment, key))",
)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_WHAT_TO_DO = (
    "move it away or choose another --out folder "
    "(--force recomputes tasks but never overwrites a file that is not a gdperceptron "
    "results database)"
)


class TaskRow(NamedTuple):
    """One row of the ``tasks`` table (JSON columns as text)."""

    experiment: str
    key: str
    params: str
    result: str
    seed: int | None
    versions: str
    started: str
    finished: str
    duration_s: float


# ------------------------------------------------------------------------ JSON and keys


def _to_json_value(obj: Any) -> Any:
    """``json.dumps`` fallback: NumPy scalars and arrays become Python numbers and lists."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def to_json(obj: Any, *, what: str = "value") -> str:
    """Canonical JSON text of ``obj`` (sorted keys, compact); NumPy values are converted.

    Raises:
        GDPerceptronError: if ``obj`` holds something JSON cannot represent.
    """
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_to_json_value)
    except (TypeError, ValueError) as err:
        raise GDPerceptronError(f"the {what} is not JSON-able: {err}") from None


def resolve_params(params: Params) -> Params:
    """The params as the task function and the database see them: a JSON round trip
    (tuples become lists, NumPy scalars become numbers)."""
    if not isinstance(params, dict):
        raise GDPerceptronError(f"task params must be a dict, got {type(params).__name__}")
    return json.loads(to_json(params, what="task params"))


def code_version(run_task: Any) -> str:
    """``<gdperceptron.__version__>+<sha256 of the experiment's sources>``: the source file
    that defines ``run_task`` and every module of its package that it imports (directly or
    through each other; for the registry, the ``gdperceptron.experiments`` helpers).

    Editing the experiment module or a helper module it uses changes the version and so
    every key of its tasks.
    """
    from gdperceptron import __version__

    digest = hashlib.sha256(source_fingerprint(run_task))
    return f"{__version__}+{digest.hexdigest()[:16]}"


def task_key(params: Params, code: str, data: str | None = None) -> str:
    """sha256 of the canonical JSON of ``{"params": params, "code": code}``, in hex; with
    ``data`` (a fingerprint of the data files the task reads) ``{"params", "code",
    "data"}``, so that replaced files at the same path give new keys."""
    material: dict[str, Any] = {"params": params, "code": code}
    if data is not None:
        material["data"] = data
    text = to_json(material, what="task params")
    return hashlib.sha256(text.encode()).hexdigest()


def task_seed(params: Params) -> int | None:
    """The ``seed`` entry of the params when it is an integer, else ``None``."""
    seed = params.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def now_iso() -> str:
    """The current UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


# ---------------------------------------------------------------------------- the file


def _check_header(path: Path) -> bool:
    """True when ``path`` holds data; raise if those data are not an SQLite database."""
    if path.is_dir():
        raise GDPerceptronError(f"{path} is a folder, not a results database; {_WHAT_TO_DO}")
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC:
        raise GDPerceptronError(f"{path} is not an SQLite file (corrupt or foreign); {_WHAT_TO_DO}")
    return True


def _check_schema(conn: sqlite3.Connection, path: Path) -> bool:
    """True when the database already holds our schema; False when it holds no table."""
    tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"))
    if not tables:
        return False
    meta: dict[str, str] = {}
    if "metadata" in tables:
        try:
            meta = dict(conn.execute("SELECT key, value FROM metadata").fetchall())
        except sqlite3.DatabaseError:
            meta = {}
    if meta.get("schema") != SCHEMA_ID or "tasks" not in tables:
        raise GDPerceptronError(
            f"{path} is an SQLite database of another kind (tables: {', '.join(tables)}), "
            f"not a gdperceptron results database; {_WHAT_TO_DO}"
        )
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise GDPerceptronError(
            f"{path} has results schema version {meta.get('schema_version')!r}, this "
            f"gdperceptron reads version {SCHEMA_VERSION}; {_WHAT_TO_DO}"
        )
    return True


def _damaged(conn: sqlite3.Connection) -> str | None:
    """The first problem ``PRAGMA quick_check`` finds, or ``None`` for a sound file."""
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as err:
        return str(err)
    return None if rows == ["ok"] else "; ".join(rows[:3])


def _move_aside(path: Path) -> Path:
    """Rename a damaged database (and its WAL files) to ``<name>.damaged-<time>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    path.rename(target)
    for extra in ("-wal", "-shm"):
        side = path.with_name(path.name + extra)
        if side.exists():
            side.rename(target.with_name(target.name + extra))
    return target


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def open_store(path: str | Path, *, recover: bool = False) -> sqlite3.Connection:
    """Open (or create) the results database at ``path``.

    Checks, in order: the SQLite header, ``PRAGMA quick_check``, our schema and schema
    version. With ``recover=True`` (``reproduce --force``) a file that fails the
    integrity check is moved aside (``<name>.damaged-<time>``) and a fresh one created.

    Raises:
        GDPerceptronError: when the file is not SQLite, is damaged, or is an SQLite
            database of another schema or schema version, or cannot be created; the
            message names the file and what to do.
    """
    path = Path(path)
    existed = _check_header(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise GDPerceptronError(f"cannot create the folder of {path}: {err.strerror}") from None
    try:
        conn = _connect(path)
    except sqlite3.DatabaseError as err:
        raise GDPerceptronError(f"cannot open or create {path} ({err})") from None
    try:
        problem = _damaged(conn) if existed else None
        if problem is not None:
            conn.close()
            if not recover:
                raise GDPerceptronError(
                    f"{path} is damaged (integrity check: {problem}); rerun with --force to "
                    "move it aside and start a fresh database, or move it away yourself"
                )
            _move_aside(path)
            conn = _connect(path)
        _retry_locked(lambda: _prepare(conn, path))
    except sqlite3.OperationalError as err:  # locked, read-only, I/O error, disk full
        conn.close()
        raise GDPerceptronError(
            f"cannot use {path} ({err}); check that the file and its folder are writable "
            "and that the disk has space"
        ) from None
    except sqlite3.DatabaseError as err:
        conn.close()
        raise GDPerceptronError(f"{path} cannot be read as SQLite ({err}); {_WHAT_TO_DO}") from None
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """WAL journal, then our schema (created when the file holds no table)."""
    conn.execute("PRAGMA journal_mode=WAL")
    if not _check_schema(conn, path):
        _create(conn, path)


def _retry_locked(step: Callable[[], None]) -> None:
    """Run ``step``, again while SQLite says the database is locked, up to
    :data:`BUSY_TIMEOUT_S`. Switching a fresh file to WAL takes an exclusive lock, and
    SQLite answers a concurrent switch with "locked" at once instead of waiting."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _create(conn: sqlite3.Connection, path: Path) -> None:
    """Write the schema and the metadata in one transaction. ``BEGIN IMMEDIATE`` waits
    for a concurrent creator; the schema is checked again inside the transaction, so only
    the first creator writes the metadata and the others find it."""
    from gdperceptron import __version__

    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _check_schema(conn, path):
            for statement in _CREATE:
                conn.execute(statement)
            conn.executemany(
                "INSERT OR IGNORE INTO metadata (key, value) VALUES (?, ?)",
                [
                    ("schema", SCHEMA_ID),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("created", now_iso()),
                    ("created_by", f"gdperceptron {__version__}"),
                ],
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _write_failed(conn: sqlite3.Connection, err: sqlite3.Error) -> GDPerceptronError:
    """One clear error for a failed write (disk full, read-only file or folder)."""
    try:
        name = conn.execute("PRAGMA database_list").fetchone()[2]
    except sqlite3.Error:
        name = "the results database"
    return GDPerceptronError(
        f"cannot write to {name} ({err}); the tasks saved before are kept: free disk space "
        "or make the file writable, then run the same command again"
    )


def metadata(conn: sqlite3.Connection) -> dict[str, str]:
    """The ``metadata`` table as a dict."""
    return dict(conn.execute("SELECT key, value FROM metadata").fetchall())


# ------------------------------------------------------------------------------- rows


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def cached_keys(conn: sqlite3.Connection, experiment: str, keys: Sequence[str]) -> set[str]:
    """The subset of ``keys`` that already have a row for ``experiment``."""
    found: set[str] = set()
    for part in _chunks(list(keys)):
        marks = ",".join("?" * len(part))
        rows = conn.execute(
            f"SELECT key FROM tasks WHERE experiment = ? AND key IN ({marks})",
            (experiment, *part),
        )
        found.update(r[0] for r in rows)
    return found


def delete_tasks(conn: sqlite3.Connection, experiment: str, keys: Sequence[str]) -> int:
    """Remove the rows of ``keys`` (one transaction); returns how many were removed."""
    removed = 0
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for part in _chunks(list(keys)):
                marks = ",".join("?" * len(part))
                cur = conn.execute(
                    f"DELETE FROM tasks WHERE experiment = ? AND key IN ({marks})",
                    (experiment, *part),
                )
                removed += cur.rowcount
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as err:
        raise _write_failed(conn, err) from None
    return removed


def save_task(conn: sqlite3.Connection, row: TaskRow) -> None:
    """Insert (or replace) one finished task and commit it at once."""
    marks = ",".join("?" * len(TASK_COLUMNS))
    sql = f"INSERT OR REPLACE INTO tasks ({','.join(TASK_COLUMNS)}) VALUES ({marks})"
    try:
        conn.execute(sql, row)
    except sqlite3.OperationalError as err:  # disk full, read-only file
        raise _write_failed(conn, err) from None


def load_records(conn: sqlite3.Connection, experiment: str, keys: Sequence[str]) -> list[Record]:
    """``(params, result)`` pairs read back from the database, in the order of ``keys``.

    Raises:
        GDPerceptronError: if a key has no row (the run is incomplete).
    """
    rows: dict[str, tuple[str, str]] = {}
    for part in _chunks(list(keys)):
        marks = ",".join("?" * len(part))
        cur = conn.execute(
            f"SELECT key, params, result FROM tasks WHERE experiment = ? AND key IN ({marks})",
            (experiment, *part),
        )
        rows.update((k, (p, r)) for k, p, r in cur)
    missing = [k for k in keys if k not in rows]
    if missing:
        raise GDPerceptronError(
            f"{len(missing)} task(s) of {experiment!r} have no saved result; rerun to complete"
        )
    return [(json.loads(rows[k][0]), json.loads(rows[k][1])) for k in keys]
