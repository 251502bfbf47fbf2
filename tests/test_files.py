"""Data files: every format gives back the arrays that were written, labels map to +-1 in
sorted order (as make_dataset maps them) with the mapping recorded, and every bad file is
one GDPerceptronError line that names the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

import gdperceptron as gp
from gdperceptron.errors import DataFileNotFoundError, GDPerceptronError

RNG = np.random.default_rng(5)
X = np.round(RNG.standard_normal((9, 3)), 6)
LABELS = np.array([7, 2, 2, 7, 7, 2, 7, 2, 2])  # 2 -> -1, 7 -> +1
SIGNED = np.where(LABELS == 7, 1.0, -1.0)


def _check(data: gp.Dataset, X_want: np.ndarray, y_want: np.ndarray, labels: dict) -> None:
    np.testing.assert_array_equal(data.X, X_want)
    np.testing.assert_array_equal(data.y, y_want)
    assert data.X.dtype == data.y.dtype == np.float64
    assert data.info["labels"] == labels


# ----------------------------------------------------------------------- formats


def test_npz(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    np.savez(path, X=X, y=LABELS)
    data = gp.load_file(path)
    _check(data, X, SIGNED, {"-1": 2, "+1": 7})
    assert data.info["format"] == "npz" and data.name == "set.npz"
    # the same mapping as make_dataset's
    np.testing.assert_array_equal(data.y, gp.make_dataset(X, LABELS).y)


def test_npz_with_string_and_signed_labels(tmp_path: Path) -> None:
    words = np.where(LABELS == 7, "malignant", "benign")
    np.savez(tmp_path / "w.npz", X=X, y=words)
    _check(gp.load_file(tmp_path / "w.npz"), X, SIGNED, {"-1": "benign", "+1": "malignant"})
    np.savez(tmp_path / "s.npz", X=X, y=SIGNED)
    _check(gp.load_file(tmp_path / "s.npz"), X, SIGNED, {"-1": -1.0, "+1": 1.0})
    np.savez(tmp_path / "b.npz", X=X, y=(LABELS == 7)[:, None])  # a column of booleans
    _check(gp.load_file(tmp_path / "b.npz"), X, SIGNED, {"-1": False, "+1": True})


@pytest.mark.parametrize("prefix", ["", "train_"])
def test_npy_pairs(tmp_path: Path, prefix: str) -> None:
    np.save(tmp_path / f"{prefix}X.npy", X)
    np.save(tmp_path / f"{prefix}y.npy", LABELS)
    for name in (f"{prefix}X.npy", f"{prefix}y.npy"):  # either file of the pair
        data = gp.load_file(str(tmp_path / name))
        _check(data, X, SIGNED, {"-1": 2, "+1": 7})
        assert data.info["format"] == "npy"


def _write_csv(path: Path, rows: list[list], header: list[str] | None = None) -> Path:
    lines = [",".join(header)] if header else []
    lines += [",".join(str(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_last_column_header_and_label_column(tmp_path: Path) -> None:
    rows = [[*map(repr, x.tolist()), lab] for x, lab in zip(X, LABELS, strict=True)]
    _check(gp.load_file(_write_csv(tmp_path / "a.csv", rows)), X, SIGNED, {"-1": 2.0, "+1": 7.0})
    path = _write_csv(tmp_path / "h.csv", rows, header=["f1", "f2", "f3", "class"])
    _check(gp.load_file(path), X, SIGNED, {"-1": 2.0, "+1": 7.0})
    # the label first, given by index and by name; string labels in sorted order
    words = np.where(LABELS == 7, "M", "B")
    first = [[w, *map(repr, x.tolist())] for x, w in zip(X, words, strict=True)]
    path = _write_csv(tmp_path / "f.csv", first, header=["diagnosis", "f1", "f2", "f3"])
    for column in (0, -4, "diagnosis"):
        data = gp.load_file(path, label_column=column)
        _check(data, X, SIGNED, {"-1": "B", "+1": "M"})
        assert data.info["label_column"] == column
    no_header = _write_csv(tmp_path / "g.csv", first)
    _check(gp.load_file(no_header, label_column=0), X, SIGNED, {"-1": "B", "+1": "M"})


def test_svmlight(tmp_path: Path) -> None:
    Xs = X.copy()
    Xs[Xs < 0] = 0.0  # sparse rows, as in real svmlight files
    path = tmp_path / "set.svm"
    dump_svmlight_file(Xs, LABELS, str(path))
    _check(gp.load_file(path), Xs, SIGNED, {"-1": 2.0, "+1": 7.0})
    assert gp.load_file(path).info["format"] == "svmlight"


# --------------------------------------------------------------------- bad files


def _bad_files(tmp: Path) -> list[tuple[Path, str, dict]]:
    cases: list[tuple[Path, str, dict]] = []

    def npz(name: str, **arrays) -> Path:
        np.savez(tmp / name, **arrays)
        return tmp / name

    cases.append((tmp / "missing.npz", "no such file", {}))
    (tmp / "data.parquet").write_text("x")
    cases.append((tmp / "data.parquet", "unknown extension '.parquet'", {}))
    (tmp / "empty.csv").write_text("")
    cases.append((tmp / "empty.csv", "the file is empty", {}))
    (tmp / "empty.npz").write_bytes(b"")
    cases.append((tmp / "empty.npz", "the file is empty", {}))
    (tmp / "garbage.npz").write_bytes(b"not a zip archive")
    cases.append((tmp / "garbage.npz", "not a .npz archive", {}))
    cases.append((npz("noy.npz", X=X), "missing array\\(s\\) y; the file has X", {}))
    cases.append((npz("flat.npz", X=X.ravel(), y=LABELS), r"X must be a 2-D array", {}))
    cases.append((npz("short.npz", X=X, y=LABELS[:-1]), "X has 9 rows but y has 8", {}))
    cases.append((npz("ywide.npz", X=X, y=np.ones((9, 2))), r"y must be a 1-D", {}))
    nan = X.copy()
    nan[1, 2] = np.nan
    cases.append((npz("nan.npz", X=nan, y=LABELS), "X contains 1 NaN or inf", {}))
    ynan = LABELS.astype(float)
    ynan[0] = np.nan
    cases.append((npz("ynan.npz", X=X, y=ynan), "labels contain 1 NaN", {}))
    cases.append((npz("one.npz", X=X, y=np.ones(9)), "exactly two classes, found 1: 1.0", {}))
    cases.append((npz("three.npz", X=X, y=np.arange(9) % 3), "found 3: 0, 1, 2", {}))
    cases.append((npz("obj.npz", X=X, y=np.array([{}] * 9, dtype=object)), "pickled", {}))
    np.save(tmp / "features.npy", X)
    cases.append((tmp / "features.npy", r"named \.\.\.X\.npy", {}))
    np.save(tmp / "lonely_X.npy", X)
    cases.append((tmp / "lonely_y.npy", "no such file", {}))
    rows = "1.0,2.0,a\n3.0,oops,b\n"
    (tmp / "text.csv").write_text(rows)
    cases.append((tmp / "text.csv", "line 2: 'oops' is not a number", {}))
    (tmp / "ragged.csv").write_text("1,2,0\n3,1\n")
    cases.append((tmp / "ragged.csv", "line 2 has 2 columns, expected 3", {}))
    (tmp / "onecol.csv").write_text("1\n2\n")
    cases.append((tmp / "onecol.csv", "needs features and a label", {}))
    (tmp / "header.csv").write_text("a,b,label\n")
    cases.append((tmp / "header.csv", "only a header", {}))
    (tmp / "named.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    cases.append((tmp / "named.csv", "'kind' is not a column name", {"label_column": "kind"}))
    cases.append((tmp / "named.csv", "out of range for 3 columns", {"label_column": 5}))
    cases.append(
        (npz("lc.npz", X=X, y=LABELS), "label_column applies to .csv", {"label_column": 0})
    )
    (tmp / "bad.svm").write_text("1 x:y z\n")
    cases.append((tmp / "bad.svm", "not readable as LibSVM", {}))
    return cases


def test_every_bad_file_is_one_clear_line(tmp_path: Path) -> None:
    for path, match, kwargs in _bad_files(tmp_path):
        with pytest.raises(GDPerceptronError, match=match) as info:
            gp.load_file(path, **kwargs)
        message = str(info.value)
        assert "\n" not in message and str(path) in message, message
        # no traceback of another exception behind it
        err = info.value
        assert err.__suppress_context__ or err.__context__ is None, path.name


def test_missing_file_is_a_data_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileNotFoundError, match="no such file"):
        gp.load_file(tmp_path / "nothing.csv")
    with pytest.raises(GDPerceptronError, match="path must be a file path"):
        gp.load_file(3)
    with pytest.raises(GDPerceptronError, match="label_column must be a column index"):
        _write_csv(tmp_path / "x.csv", [[1, 0], [2, 1]])
        gp.load_file(tmp_path / "x.csv", label_column=1.5)
