"""Loaders for real two-class data sets.

Bundled with scikit-learn (no network): :func:`breast_cancer`, :func:`digits`.
Local image files (never downloaded): :func:`load_mnist`, :func:`load_fashion_mnist`
(IDX files) and :func:`load_cifar10` (python pickle batches). :func:`load_named` picks
one by name. Every loader returns a :class:`~gdperceptron.data.synthetic.Dataset` with labels in
{-1, +1}: ``classes[0]`` maps to -1 and ``classes[1]`` to +1.
"""

from __future__ import annotations

import gzip
import os
import pickle
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from gdperceptron.data.synthetic import Dataset, make_dataset, standardize
from gdperceptron.errors import DataFileNotFoundError, GDPerceptronError

NAMES = ("breast-cancer", "digits", "mnist", "fashion-mnist", "cifar10")
_MNIST_KINDS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_CIFAR_FILES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
_CIFAR_DIM = 3072


# --------------------------------------------------------------------------- helpers


def _check_classes(classes: Any, n_labels: int) -> tuple[int, int]:
    """Two distinct integer labels in ``range(n_labels)``."""
    try:
        pair = tuple(classes)
    except TypeError:
        pair = ()
    ok = len(pair) == 2 and all(
        isinstance(c, int | np.integer) and not isinstance(c, bool | np.bool_) for c in pair
    )
    if not ok or pair[0] == pair[1] or not all(0 <= c < n_labels for c in pair):
        raise GDPerceptronError(
            f"classes must be two distinct integer labels in 0..{n_labels - 1}, got {classes!r}"
        )
    return int(pair[0]), int(pair[1])


def _check_split(split: str) -> str:
    if split not in ("train", "test"):
        raise GDPerceptronError(f"split must be 'train' or 'test', got {split!r}")
    return split


def _standardize(X: np.ndarray) -> np.ndarray:
    """:func:`standardize`, with constant columns forced to exactly 0 (no rounding noise)."""
    Z = standardize(X)
    Z[:, np.ptp(X, axis=0) == 0] = 0.0
    return Z


def _subsample(y: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` rows drawn with ``default_rng(seed)``, both classes kept.

    ``y`` holds ±1 labels. Each class gets about its share of ``n`` (at least one row).
    """
    total = y.shape[0]
    if n is None:
        return np.arange(total)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 2 <= n <= total:
        raise GDPerceptronError(
            f"n must be an integer with 2 <= n <= {total} (samples available), got {n!r}"
        )
    pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    n_pos = int(round(n * pos.size / total))
    n_pos = min(max(n_pos, 1, n - neg.size), pos.size, n - 1)
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [rng.choice(pos, n_pos, replace=False), rng.choice(neg, n - n_pos, replace=False)]
    )
    return np.sort(chosen)


def _two_class(
    X: np.ndarray,
    labels: np.ndarray,
    classes: tuple[int, int],
    n: int | None,
    seed: int,
    standardize_features: bool,
    name: str,
    info: dict[str, Any],
) -> Dataset:
    """Keep rows of ``classes``, map to ±1, subsample, optionally standardize."""
    mask = (labels == classes[0]) | (labels == classes[1])
    counts = [int(np.sum(labels == c)) for c in classes]
    if min(counts) == 0:
        raise GDPerceptronError(
            f"{name}: no samples of class {classes[counts.index(0)]} (counts {counts})"
        )
    y = np.where(labels[mask] == classes[1], 1.0, -1.0)
    idx = _subsample(y, n, seed)
    X, y = np.asarray(X[mask][idx], dtype=np.float64), y[idx]
    if standardize_features:
        X = _standardize(X)
    info = {**info, "classes": list(classes), "n": int(y.shape[0]), "seed": int(seed)}
    return make_dataset(X, y, name, {**info, "standardized": bool(standardize_features)})


def _find(
    data_dir: str | os.PathLike[str], subdirs: list[str], names: list[str], what: str
) -> Path:
    """First existing ``dir/name`` over the search dirs (in order), else a clear error."""
    base = Path(data_dir)
    dirs = [base] + [base / s for s in subdirs]
    for d in dirs:
        for nm in names:
            if (d / nm).is_file():
                return d / nm
    shown = names[0] + "[.gz]" if names[1:] == [names[0] + ".gz"] else names[0]
    raise DataFileNotFoundError(
        f"{what} file '{shown}' not found; looked in: {', '.join(str(d) for d in dirs)}"
    )


# --------------------------------------------------------------------------- bundled


def breast_cancer(
    *, standardize_features: bool = True, n: int | None = None, seed: int = 0
) -> Dataset:
    """Wisconsin breast cancer (569 x 30), bundled with scikit-learn.

    Malignant (target 0) -> -1, benign (target 1) -> +1. Optional subsample of ``n``
    rows (``default_rng(seed)``, both classes kept) before standardization.
    """
    from sklearn.datasets import load_breast_cancer

    X, t = load_breast_cancer(return_X_y=True)
    info = {"source": "sklearn.datasets.load_breast_cancer", "split": "all"}
    return _two_class(X, t, (0, 1), n, seed, standardize_features, "breast-cancer", info)


def digits(
    classes: tuple[int, int] = (0, 1),
    *,
    standardize_features: bool = True,
    n: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Two classes of the 8x8 digits (64 features, values 0..16), bundled with scikit-learn.

    ``classes[0]`` -> -1, ``classes[1]`` -> +1. Standardization is done after selecting
    the classes (and subsampling); constant pixel columns stay 0.
    """
    from sklearn.datasets import load_digits

    pair = _check_classes(classes, 10)
    X, t = load_digits(return_X_y=True)
    info = {"source": "sklearn.datasets.load_digits", "split": "all"}
    return _two_class(X, t, pair, n, seed, standardize_features, "digits", info)


# --------------------------------------------------------------------------- IDX (MNIST)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file of unsigned bytes (plain or ``.gz``) into a uint8 array.

    Header: two zero bytes, dtype code (0x08 = unsigned byte), number of dims, then one
    big-endian uint32 per dim. Raises :class:`GDPerceptronError` on corrupt files.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise GDPerceptronError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or raw[3] == 0:
        magic = raw[:4].hex() if len(raw) >= 4 else "(file too short)"
        raise GDPerceptronError(
            f"corrupt IDX file {path}: bad magic number {magic} "
            "(expected 0000 08 <ndim>, unsigned-byte data)"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GDPerceptronError(f"corrupt IDX file {path}: truncated header")
    dims = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    size = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != size:
        raise GDPerceptronError(
            f"corrupt IDX file {path}: dims {dims} need {size} data bytes, "
            f"found {len(raw) - header} (truncated or padded file)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(
    data_dir: str | os.PathLike[str],
    *,
    classes: tuple[int, int] = (0, 1),
    n: int | None = None,
    seed: int = 0,
    split: str = "train",
    kind: str = "mnist",
    standardize_features: bool = False,
) -> Dataset:
    """Two classes of MNIST (or Fashion-MNIST) from local IDX files.

    Files are looked for in ``data_dir``, ``data_dir/<kind>`` and ``data_dir/<kind>/raw``,
    each plain or ``.gz``. Pixels are scaled to [0, 1] and flattened (784 features for
    28x28 images). ``classes[0]`` -> -1, ``classes[1]`` -> +1; optional subsample of
    ``n`` rows with ``default_rng(seed)`` keeping both classes.

    Raises:
        DataFileNotFoundError: a file is missing (the message names it and the folders).
        GDPerceptronError: corrupt files, bad ``classes``, ``n``, ``split`` or ``kind``.
    """
    if kind not in _MNIST_KINDS:
        raise GDPerceptronError(f"kind must be one of {sorted(_MNIST_KINDS)}, got {kind!r}")
    pair = _check_classes(classes, 10)
    split = _check_split(split)
    what = _MNIST_KINDS[kind]
    subdirs = [kind, f"{kind}/raw"]
    paths = [_find(data_dir, subdirs, [f, f + ".gz"], what) for f in _IDX_FILES[split]]
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim < 2 or labels.ndim != 1 or (labels.size and labels.max() > 9):
        raise GDPerceptronError(
            f"corrupt {what} files: images need >= 2 dims (got {images.shape}), "
            f"labels 1 dim with values 0..9 (got {labels.shape})"
        )
    if images.shape[0] != labels.shape[0]:
        raise GDPerceptronError(
            f"{what} files disagree: {images.shape[0]} images vs {labels.shape[0]} labels"
        )
    X = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
    info = {"source": kind, "files": [str(p) for p in paths], "split": split}
    return _two_class(X, labels, pair, n, seed, standardize_features, kind, info)


def load_fashion_mnist(
    data_dir: str | os.PathLike[str],
    *,
    classes: tuple[int, int] = (0, 1),
    n: int | None = None,
    seed: int = 0,
    split: str = "train",
    standardize_features: bool = False,
) -> Dataset:
    """:func:`load_mnist` with ``kind="fashion-mnist"`` (same file names and format)."""
    return load_mnist(
        data_dir,
        classes=classes,
        n=n,
        seed=seed,
        split=split,
        kind="fashion-mnist",
        standardize_features=standardize_features,
    )


# --------------------------------------------------------------------------- CIFAR-10


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as exc:  # unpickling raises many kinds of errors on corrupt input
        raise GDPerceptronError(f"cannot read CIFAR-10 batch {path}: {exc}") from exc
    if not isinstance(batch, dict):
        raise GDPerceptronError(f"corrupt CIFAR-10 batch {path}: not a dict")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise GDPerceptronError(f"corrupt CIFAR-10 batch {path}: needs keys b'data', b'labels'")
    data, labels = np.asarray(data), np.asarray(labels)
    ok = (
        data.ndim == 2
        and data.shape[1] == _CIFAR_DIM
        and labels.shape == (data.shape[0],)
        and data.dtype.kind in "ui"
        and labels.dtype.kind in "ui"
        and (data.size == 0 or (data.min() >= 0 and data.max() <= 255))
        and (labels.size == 0 or (labels.min() >= 0 and labels.max() <= 9))
    )
    if not ok:
        raise GDPerceptronError(
            f"corrupt CIFAR-10 batch {path}: need integer data (N, {_CIFAR_DIM}) in 0..255 and "
            f"N labels in 0..9; got data {data.shape} {data.dtype}, labels {labels.shape}"
        )
    return data, labels


def load_cifar10(
    data_dir: str | os.PathLike[str],
    *,
    classes: tuple[int, int] = (0, 1),
    n: int | None = None,
    seed: int = 0,
    split: str = "train",
    standardize_features: bool = False,
) -> Dataset:
    """Two classes of CIFAR-10 from the local python pickle batches.

    Train: ``data_batch_1`` .. ``data_batch_5`` (concatenated in order); test:
    ``test_batch``; looked for in ``data_dir`` and ``data_dir/cifar-10-batches-py``.
    Pixels (3072 per image) are scaled to [0, 1]. Classes, ``n`` and ``seed`` as in
    :func:`load_mnist`.
    """
    pair = _check_classes(classes, 10)
    split = _check_split(split)
    paths = [_find(data_dir, ["cifar-10-batches-py"], [f], "CIFAR-10") for f in _CIFAR_FILES[split]]
    batches = [_read_cifar_batch(p) for p in paths]
    X = np.concatenate([b[0] for b in batches]).astype(np.float64) / 255.0
    labels = np.concatenate([b[1] for b in batches])
    info = {"source": "cifar10", "files": [str(p) for p in paths], "split": split}
    return _two_class(X, labels, pair, n, seed, standardize_features, "cifar10", info)


# --------------------------------------------------------------------------- dispatcher


def load_named(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    classes: tuple[int, int] | None = None,
    n: int | None = None,
    seed: int = 0,
) -> Dataset:
    """Load a data set by name: one of :data:`NAMES`.

    ``data_dir`` is required for the image sets ("mnist", "fashion-mnist", "cifar10").
    ``classes`` defaults to (0, 1); "breast-cancer" has fixed classes (malignant -1,
    benign +1) and accepts only ``None`` or (0, 1). Each loader's default
    standardization applies (bundled sets standardized, images not).
    """
    key = str(name).strip().lower().replace("_", "-")
    if key not in NAMES:
        raise GDPerceptronError(f"unknown data set {name!r}; valid names: {', '.join(NAMES)}")
    pair = (0, 1) if classes is None else classes
    if key == "breast-cancer":
        if _check_classes(pair, 2) != (0, 1):
            raise GDPerceptronError("breast-cancer has fixed classes; use classes=None or (0, 1)")
        return breast_cancer(n=n, seed=seed)
    if key == "digits":
        return digits(pair, n=n, seed=seed)
    if data_dir is None:
        raise GDPerceptronError(
            f"data set {key!r} is read from local files: pass data_dir (the folder holding them)"
        )
    if key == "cifar10":
        return load_cifar10(data_dir, classes=pair, n=n, seed=seed)
    return load_mnist(data_dir, classes=pair, n=n, seed=seed, kind=key)
