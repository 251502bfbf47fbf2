"""Two-class data sets from files: ``.npz``, ``.npy`` pairs, ``.csv`` and LibSVM text.

:func:`load_file` reads ``X`` of shape ``(n, d)`` and labels ``y`` of shape ``(n,)`` and
returns a :class:`~gdperceptron.data.synthetic.Dataset` with labels in {-1, +1}
(docs/theory/setting.md). Labels of any kind (numbers, strings, booleans) with exactly two
distinct values are mapped in sorted order, the smaller to -1 and the larger to +1 (as
:func:`~gdperceptron.data.synthetic.make_dataset` does), and the mapping is recorded in
``Dataset.info["labels"]`` as ``{"-1": original, "+1": original}``.

Formats, chosen by the file's extension:

- ``.npz``: arrays named ``X`` and ``y``, read with ``allow_pickle=False``.
- ``.npy``: a pair of files. The path names the features file, whose name ends in ``X``
  before the extension (``X.npy``, ``train_X.npy``); the labels are the file beside it
  with that ``X`` replaced by ``y`` (``y.npy``, ``train_y.npy``). Naming the labels file
  (``y.npy``) works the same way round. Read with ``allow_pickle=False``.
- ``.csv``: comma-separated numbers, one sample per row, the label in the last column
  unless ``label_column`` (an index, negative from the end, or a header name) says which.
  A first row whose feature cells are not all numbers is a header.
- ``.svm``, ``.libsvm``, ``.svmlight``: LibSVM / svmlight text (``label index:value ...``),
  read with :func:`sklearn.datasets.load_svmlight_file` and made dense.

Every problem with a file (missing, unknown extension, missing arrays, wrong shapes,
NaN, not two classes, unparsable text, empty) is one :class:`GDPerceptronError` line that
names the file.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron.data.synthetic import Dataset, make_dataset
from gdperceptron.errors import DataFileNotFoundError, GDPerceptronError

SVMLIGHT_SUFFIXES = (".svm", ".libsvm", ".svmlight")
SUFFIXES = (".npz", ".npy", ".csv", *SVMLIGHT_SUFFIXES)


def _fail(path: Path, problem: str) -> GDPerceptronError:
    return GDPerceptronError(f"data file {path}: {problem}")


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise DataFileNotFoundError(f"data file {path}: no such file")
    if not path.is_file():
        raise _fail(path, "not a regular file")
    if path.stat().st_size == 0:
        raise _fail(path, "the file is empty")


def _load_array(path: Path, name: str) -> np.ndarray:
    """One ``.npy`` array, no pickles."""
    _check_exists(path)
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise _fail(path, f"{name} is an object array (pickled data is not loaded)") from None
        raise _fail(path, f"not a readable .npy array ({err})") from None
    except (OSError, EOFError) as err:
        raise _fail(path, f"not a readable .npy array ({err})") from None


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not zipfile.is_zipfile(path):
        raise _fail(path, "not a .npz archive (a zip of .npy arrays, as numpy.savez writes)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = sorted(archive.files)
            missing = [k for k in ("X", "y") if k not in names]
            if missing:
                raise _fail(
                    path,
                    f"missing array(s) {', '.join(missing)}; the file has "
                    f"{', '.join(names) if names else 'no arrays'} (expected X and y)",
                )
            try:
                return archive["X"], archive["y"]
            except ValueError as err:
                if "allow_pickle" in str(err):
                    raise _fail(path, "object arrays (pickled data is not loaded)") from None
                raise _fail(path, f"unreadable array ({err})") from None
    except GDPerceptronError:
        raise
    except (OSError, EOFError, zipfile.BadZipFile, ValueError) as err:
        raise _fail(path, f"not a readable .npz archive ({err})") from None


def _npy_pair(path: Path) -> tuple[Path, Path]:
    stem = path.name[: -len(".npy")]
    if stem.endswith("X"):
        return path, path.with_name(stem[:-1] + "y.npy")
    if stem.endswith("y"):
        return path.with_name(stem[:-1] + "X.npy"), path
    raise _fail(
        path,
        "a .npy data file must be the features file named ...X.npy (X.npy, train_X.npy) "
        "with its labels in ...y.npy beside it",
    )


def _read_npy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    x_path, y_path = _npy_pair(path)
    return _load_array(x_path, "X"), _load_array(y_path, "y")


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _label_index(
    path: Path, label_column: int | str | None, header: list[str] | None, k: int
) -> int:
    if label_column is None:
        return k - 1
    if isinstance(label_column, str):
        if header is None or label_column not in header:
            found = f"header {header}" if header else "no header row"
            raise _fail(path, f"label_column {label_column!r} is not a column name ({found})")
        return header.index(label_column)
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer)):
        raise GDPerceptronError(
            f"label_column must be a column index or a header name, got {label_column!r}"
        )
    if not -k <= int(label_column) < k:
        raise _fail(path, f"label_column {label_column} is out of range for {k} columns")
    return int(label_column) % k


def _read_csv(path: Path, label_column: int | str | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, newline="") as fh:
            rows = [[c.strip() for c in r] for r in csv.reader(fh) if any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error) as err:
        raise _fail(path, f"not readable as CSV text ({err})") from None
    if not rows:
        raise _fail(path, "no data rows")
    k = len(rows[0])
    if k < 2:
        raise _fail(path, f"a CSV data file needs features and a label: line 1 has {k} column")
    # a header is a first row whose feature cells are not all numbers (a column named
    # by label_column needs one)
    label = _label_index(path, label_column, rows[0], k)
    first_features = [c for j, c in enumerate(rows[0]) if j != label]
    named = isinstance(label_column, str)
    header = rows[0] if named or any(_number(c) is None for c in first_features) else None
    body = rows[1:] if header is not None else rows
    if not body:
        raise _fail(path, "no data rows (only a header)")
    X = np.empty((len(body), k - 1))
    labels = []
    start = 2 if header is not None else 1
    for i, row in enumerate(body):
        if len(row) != k:
            raise _fail(path, f"line {start + i} has {len(row)} columns, expected {k}")
        feats = [c for j, c in enumerate(row) if j != label]
        for j, cell in enumerate(feats):
            value = _number(cell)
            if value is None:
                raise _fail(path, f"line {start + i}: {cell!r} is not a number")
            X[i, j] = value
        labels.append(row[label])
    numeric = [_number(c) for c in labels]
    y = np.asarray(numeric, dtype=np.float64) if None not in numeric else np.asarray(labels)
    return X, y


def _read_svmlight(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_svmlight_file

    try:
        X, y = load_svmlight_file(str(path), dtype=np.float64)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise _fail(path, f"not readable as LibSVM/svmlight text ({err})") from None
    return np.asarray(X.toarray()), np.asarray(y)


def _signed_labels(path: Path, y: np.ndarray, n: int) -> tuple[np.ndarray, dict[str, Any]]:
    """``y`` as {-1., +1.} by sorted order, and the mapping ``{"-1": a, "+1": b}``."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise _fail(path, f"y must be a 1-D array of labels (n,), got shape {y.shape}")
    if y.shape[0] != n:
        raise _fail(path, f"X has {n} rows but y has {y.shape[0]} labels")
    if y.dtype == object or y.dtype.kind not in "biufUS":
        raise _fail(path, f"labels of dtype {y.dtype} are not supported")
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise _fail(path, f"labels contain {int(np.sum(~np.isfinite(y)))} NaN or inf value(s)")
    classes = np.unique(y)
    if classes.size != 2:
        shown = ", ".join(repr(c.item()) for c in classes[:5])
        more = ", ..." if classes.size > 5 else ""
        raise _fail(
            path, f"labels must have exactly two classes, found {classes.size}: {shown}{more}"
        )
    low, high = (c.item() for c in classes)
    if isinstance(low, bytes):
        low, high = low.decode(errors="replace"), high.decode(errors="replace")
    return np.where(y == classes[1], 1.0, -1.0), {"-1": low, "+1": high}


def load_file(path: str | os.PathLike[str], *, label_column: int | str | None = None) -> Dataset:
    """Read a two-class data set from ``path`` (``.npz``, ``.npy`` pair, ``.csv``,
    ``.svm`` / ``.libsvm`` / ``.svmlight``; see the module docstring for each format).

    Returns a :class:`Dataset` with ``X`` of shape ``(n, d)`` (float64) and ``y`` of shape
    ``(n,)`` in {-1, +1}: the smaller original label (sorted order) becomes -1. ``info``
    records the file, its format and the label mapping ``{"-1": a, "+1": b}``; ``name`` is
    the file's name.

    Args:
        path: the data file.
        label_column: CSV only: the label's column, an index (negative counts from the
            end) or a header name; default the last column.

    Raises:
        GDPerceptronError: one line naming the file and the problem
            (:class:`~gdperceptron.errors.DataFileNotFoundError` for a missing file).

    Example:
        >>> import numpy as np, tempfile, os
        >>> from gdperceptron import load_file
        >>> f = os.path.join(tempfile.mkdtemp(), "toy.npz")
        >>> np.savez(f, X=np.eye(2), y=np.array(["cat", "dog"]))
        >>> data = load_file(f)
        >>> data.y.tolist(), data.info["labels"]
        ([-1.0, 1.0], {'-1': 'cat', '+1': 'dog'})
    """
    if not isinstance(path, (str, os.PathLike)):
        raise GDPerceptronError(f"path must be a file path, got {type(path).__name__}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(
            path,
            f"unknown extension {path.suffix or '(none)'!r}; use one of {', '.join(SUFFIXES)}",
        )
    if label_column is not None and suffix != ".csv":
        raise _fail(path, "label_column applies to .csv files only")
    if suffix != ".npy":
        _check_exists(path)
    if suffix == ".npz":
        X, y = _read_npz(path)
        fmt = "npz"
    elif suffix == ".npy":
        X, y = _read_npy(path)
        fmt = "npy"
    elif suffix == ".csv":
        X, y = _read_csv(path, label_column)
        fmt = "csv"
    else:
        X, y = _read_svmlight(path)
        fmt = "svmlight"
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2:
        raise _fail(path, f"X must be a 2-D array (n, d), got shape {X.shape}")
    if X.dtype == object or X.dtype.kind not in "biuf":
        raise _fail(path, f"X must hold real numbers, got dtype {X.dtype}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise _fail(path, f"no samples or no features: X has shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise _fail(path, f"X contains {int(np.sum(~np.isfinite(X)))} NaN or inf value(s)")
    signed, mapping = _signed_labels(path, y, X.shape[0])
    info: dict[str, Any] = {"path": str(path), "format": fmt, "labels": mapping}
    if fmt == "csv":
        info["label_column"] = label_column
    try:
        return make_dataset(X.astype(np.float64), signed, name=path.name, info=info)
    except GDPerceptronError as err:  # defensive: every check above should come first
        raise _fail(path, str(err)) from None


__all__ = ["SUFFIXES", "load_file"]
