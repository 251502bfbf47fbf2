"""Loaders for real two-class data sets.

Bundled with scikit-learn (no network): :func:`breast_cancer`, :func:`digits`.
Local image files (never downloaded): :func:`load_mnist`, :func:`load_fashion_mnist`
(IDX files) and :func:`load_cifar10` (python pickle batches). :func:`load_named` picks
one by name. Every loader returns a :class:`~gdperceptron.data.synthetic.Dataset` with labels in
{-1, +1}: ``classes[0]`` maps to -1 and ``classes[1]`` to +1.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import zlib
from pathlib import Path
from typing import Any, BinaryIO

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
# The largest IDX data a loader reads (the MNIST train images are 47 MB).
IDX_MAX_BYTES = 2**31
# sha256 of the decompressed official Fashion-MNIST IDX files (same names, sizes and
# shapes as MNIST's), measured on the files of the Debian package dataset-fashion-mnist.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# Shapes of the official files (both kinds): only full-size files can be told apart.
_OFFICIAL_SHAPES = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}


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
    base = _check_dir(data_dir)
    dirs = [base] + [base / s for s in subdirs]
    for d in dirs:
        for nm in names:
            try:
                found = (d / nm).is_file()
            except OSError as err:
                raise GDPerceptronError(f"cannot look into {d}: {_reason(err)}") from None
            if found:
                if not os.access(d / nm, os.R_OK):
                    raise GDPerceptronError(f"{what} file {d / nm} is not readable (permission)")
                return d / nm
    shown = names[0] + "[.gz]" if names[1:] == [names[0] + ".gz"] else names[0]
    raise DataFileNotFoundError(
        f"{what} file '{shown}' not found; looked in: {', '.join(str(d) for d in dirs)}"
    )


def _check_dir(data_dir: Any) -> Path:
    """``data_dir`` as a path to a readable folder, or a clear error naming ``data_dir``."""
    if isinstance(data_dir, bool) or not isinstance(data_dir, str | os.PathLike):
        raise GDPerceptronError(
            f"data_dir must be a folder path (str or os.PathLike), got {type(data_dir).__name__}"
        )
    base = Path(data_dir)
    if not base.is_dir():
        raise DataFileNotFoundError(f"data_dir {str(base)!r} is not a folder")
    if not os.access(base, os.R_OK | os.X_OK):
        raise GDPerceptronError(f"data_dir {str(base)!r} is not readable (permission)")
    return base


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


def _read_exactly(f: BinaryIO, size: int, path: Path, what: str) -> bytes:
    """``size`` bytes from ``f``, refusing a short read; never more than asked for."""
    data = f.read(size)
    if len(data) != size:
        raise GDPerceptronError(
            f"corrupt IDX file {path}: {what} needs {size} bytes, found {len(data)} "
            "(truncated file)"
        )
    return data


def _idx_stream(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file of unsigned bytes (plain or ``.gz``) into a uint8 array.

    Header: two zero bytes, dtype code (0x08 = unsigned byte), number of dims, then one
    big-endian uint32 per dim. The header is read first; dims that are zero or need
    more than :data:`IDX_MAX_BYTES` are refused, and at most ``prod(dims) + 1`` bytes are
    ever decompressed (a ``.gz`` that expands to more is refused, not read to its end).
    Raises :class:`GDPerceptronError` on corrupt or unreadable files.
    """
    path = Path(path)
    try:
        with _idx_stream(path) as f:
            head = f.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] != 0x08 or head[3] == 0:
                magic = head.hex() if len(head) >= 4 else "(file too short)"
                raise GDPerceptronError(
                    f"corrupt IDX file {path}: bad magic number {magic} "
                    "(expected 0000 08 <ndim>, unsigned-byte data)"
                )
            ndim = head[3]
            raw_dims = _read_exactly(f, 4 * ndim, path, "the header")
            dims = tuple(int.from_bytes(raw_dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
            size = 1
            for n in dims:
                size *= n  # Python integers: no overflow
            if 0 in dims or size > IDX_MAX_BYTES:
                raise GDPerceptronError(
                    f"corrupt IDX file {path}: dims {dims} (need 1..{IDX_MAX_BYTES} data bytes)"
                )
            data = f.read(size + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise GDPerceptronError(f"cannot read IDX file {path}: {_reason(exc)}") from None
    if len(data) != size:
        found = "more" if len(data) > size else str(len(data))
        raise GDPerceptronError(
            f"corrupt IDX file {path}: dims {dims} need {size} data bytes, "
            f"found {found} (truncated or padded file)"
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _idx_sha256(arr: np.ndarray) -> str:
    """sha256 of the IDX file (decompressed) that holds the uint8 array ``arr``."""
    h = hashlib.sha256(bytes([0, 0, 0x08, arr.ndim]))
    h.update(b"".join(int(n).to_bytes(4, "big") for n in arr.shape))
    h.update(arr.tobytes())
    return h.hexdigest()


def _implied_kind(folder: Path) -> str | None:
    """``mnist`` / ``fashion-mnist`` when the folder (or, for ``raw``, its parent) is
    named after one of them (``MNIST``, ``FashionMNIST``, ``fashion-mnist`` ...)."""
    names = [folder.name, folder.parent.name] if folder.name.lower() == "raw" else [folder.name]
    for name in names:
        key = name.lower().replace("-", "").replace("_", "")
        if key in ("fashionmnist", "fmnist"):
            return "fashion-mnist"
        if key == "mnist":
            return "mnist"
    return None


def _check_kind(kind: str, paths: list[Path], arrays: list[np.ndarray], names: tuple) -> None:
    """Refuse files that are, or are laid out as, the other kind (MNIST vs Fashion-MNIST:
    same file names and format). Full-size files are told apart by the sha256 of the
    official Fashion-MNIST files; others by the folder they are in."""
    what = _MNIST_KINDS[kind]
    for path, arr, name in zip(paths, arrays, names, strict=True):
        folder_kind = _implied_kind(path.parent)
        if folder_kind is not None and folder_kind != kind:
            raise GDPerceptronError(
                f"{what} requested, but {path} lies in a folder named for "
                f"{_MNIST_KINDS[folder_kind]}; put the {what} files in "
                f"<data_dir>/{kind} or choose the other data set"
            )
        if arr.shape != _OFFICIAL_SHAPES[name]:
            continue
        is_fashion = _idx_sha256(arr) == FASHION_MNIST_SHA256[name]
        if is_fashion != (kind == "fashion-mnist"):
            found = "the official Fashion-MNIST file" if is_fashion else "not Fashion-MNIST's"
            raise GDPerceptronError(
                f"{what} requested, but {path} is {found} (sha256 of its contents); "
                f"keep MNIST and Fashion-MNIST in <data_dir>/mnist and <data_dir>/fashion-mnist"
            )


def load_mnist(
    data_dir: str | os.PathLike[str],
    *,
    classes: tuple[int, int] = (0, 1),
    n: int | None = None,
    seed: int = 0,
    split: str = "train",
    kind: str = "mnist",
    standardize_features: bool = True,
) -> Dataset:
    """Two classes of MNIST (or Fashion-MNIST) from local IDX files.

    Files are looked for in ``data_dir``, ``data_dir/<kind>`` and ``data_dir/<kind>/raw``,
    each plain or ``.gz``. The two kinds share file names and format, so files that lie in
    a folder named for the other kind, or full-size files whose contents are (MNIST
    requested) or are not (Fashion-MNIST requested) the official Fashion-MNIST files, are
    refused. Pixels are scaled to [0, 1] and flattened (784 features for
    28x28 images), then standardized per feature over the chosen rows by default
    (``standardize_features``; raw non-negative pixels leave ReLU units of a centred
    initialisation dead on every sample, and constant pixels become exactly 0).
    ``classes[0]`` -> -1, ``classes[1]`` -> +1; optional subsample of ``n`` rows with
    ``default_rng(seed)`` keeping both classes.

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
    _check_kind(kind, paths, [images, labels], _IDX_FILES[split])
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
    standardize_features: bool = True,
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


def _array_globals() -> dict[tuple[str, str], Any]:
    """The only globals a CIFAR-10 batch may name: NumPy's array reconstruction (under
    its NumPy 1 and 2 module names) and ``_codecs.encode`` (bytes pickled by Python 3)."""
    import codecs

    reconstruct = np.zeros(1).__reduce__()[0]
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]
    allowed: dict[tuple[str, str], Any] = {("_codecs", "encode"): codecs.encode}
    for module in ("numpy.core", "numpy._core"):
        allowed[(f"{module}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{module}.numeric", "_frombuffer")] = frombuffer
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("numpy", "dtype")] = np.dtype
    return allowed


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles plain containers, bytes, str and numbers, and NumPy arrays; any other
    global (``os.system``, ``builtins.eval``, ...) is refused before it is looked up."""

    def find_class(self, module: str, name: str) -> Any:
        found = _array_globals().get((module, name))
        if found is None:
            raise pickle.UnpicklingError(
                f"refused global {module}.{name} (a CIFAR-10 batch holds only arrays, "
                "lists, dicts, bytes and numbers)"
            )
        return found


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GDPerceptronError(f"cannot read CIFAR-10 batch {path}: {_reason(exc)}") from None
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # unpickling raises many kinds of errors on corrupt input
        raise GDPerceptronError(f"cannot read CIFAR-10 batch {path}: {exc}") from None
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
    standardize_features: bool = True,
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


# --------------------------------------------------------------------------- fingerprints


def data_files(name: str, data_dir: str | os.PathLike[str], split: str = "train") -> list[Path]:
    """The files that the loader of ``name`` reads from ``data_dir`` (image sets only;
    ``[]`` for the bundled ones), found as the loader finds them."""
    key = str(name).strip().lower().replace("_", "-")
    split = _check_split(split)
    if key == "cifar10":
        subdirs = ["cifar-10-batches-py"]
        return [_find(data_dir, subdirs, [f], "CIFAR-10") for f in _CIFAR_FILES[split]]
    if key in _MNIST_KINDS:
        subdirs = [key, f"{key}/raw"]
        what = _MNIST_KINDS[key]
        return [_find(data_dir, subdirs, [f, f + ".gz"], what) for f in _IDX_FILES[split]]
    return []


_HASHES: dict[tuple[str, int, int, int], str] = {}


def _file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, remembered per (path, size, mtime, inode)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _HASHES:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def data_fingerprint(name: str, data_dir: str | os.PathLike[str], split: str = "train") -> str:
    """sha256 over the name, size and sha256 of each file the loader of ``name`` reads:
    files replaced at the same path give another fingerprint. A missing file gives the
    fingerprint ``missing:<reason>`` (the task itself then reports the error)."""
    try:
        files = data_files(name, data_dir, split)
        parts = [f"{p.name}:{p.stat().st_size}:{_file_sha256(p)}" for p in files]
    except (GDPerceptronError, OSError) as err:
        return f"missing:{type(err).__name__}"
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# --------------------------------------------------------------------------- dispatcher


def load_named(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    classes: tuple[int, int] | None = None,
    n: int | None = None,
    seed: int = 0,
    standardize_features: bool = True,
) -> Dataset:
    """Load a data set by name: one of :data:`NAMES`.

    ``data_dir`` is required for the image sets ("mnist", "fashion-mnist", "cifar10").
    ``classes`` defaults to (0, 1); "breast-cancer" has fixed classes (malignant -1,
    benign +1) and accepts only ``None`` or (0, 1). Every set is standardized per feature
    over the chosen rows unless ``standardize_features=False`` (recorded in
    ``info["standardized"]``).
    """
    key = str(name).strip().lower().replace("_", "-")
    if key not in NAMES:
        raise GDPerceptronError(f"unknown data set {name!r}; valid names: {', '.join(NAMES)}")
    pair = (0, 1) if classes is None else classes
    if key == "breast-cancer":
        if _check_classes(pair, 2) != (0, 1):
            raise GDPerceptronError("breast-cancer has fixed classes; use classes=None or (0, 1)")
        return breast_cancer(n=n, seed=seed, standardize_features=standardize_features)
    if key == "digits":
        return digits(pair, n=n, seed=seed, standardize_features=standardize_features)
    if data_dir is None:
        raise GDPerceptronError(
            f"data set {key!r} is read from local files: pass data_dir (the folder holding them)"
        )
    if key == "cifar10":
        return load_cifar10(
            data_dir, classes=pair, n=n, seed=seed, standardize_features=standardize_features
        )
    return load_mnist(
        data_dir, classes=pair, n=n, seed=seed, kind=key, standardize_features=standardize_features
    )


DATA_DIR_ENV = "GDPERCEPTRON_DATA_DIR"
# Where Debian's dataset-* packages install data sets (dataset-fashion-mnist installs the
# official IDX files into <this>/fashion-mnist).
SYSTEM_DATA_DIR = "/usr/share/datasets"


def default_data_dir() -> str | None:
    """The folder of local data sets when none is given: ``$GDPERCEPTRON_DATA_DIR`` if set
    (even to a missing folder, so that a typo is reported, not ignored), else
    ``/usr/share/datasets`` when that folder exists, else ``None``."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return env
    return SYSTEM_DATA_DIR if Path(SYSTEM_DATA_DIR).is_dir() else None


_DISPLAY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


def local_data_note(data_dir: str | os.PathLike[str] | None) -> str:
    """One line on the local image sets in ``data_dir``: where each is found, or that it
    is not (files are located as the loaders locate them, not read).

    Example:
        >>> local_data_note(None)
        'no data folder (MNIST, Fashion-MNIST, CIFAR-10 not run)'
    """
    if data_dir is None:
        return f"no data folder ({', '.join(_DISPLAY.values())} not run)"
    found, missing = [], []
    for name, shown in _DISPLAY.items():
        try:
            files = data_files(name, data_dir)
        except (GDPerceptronError, OSError):
            missing.append(shown)
            continue
        kind = _implied_kind(files[0].parent)
        if kind is not None and kind != name:  # the other kind's folder: not this set
            missing.append(shown)
        else:
            found.append(f"{shown} in {files[0].parent}")
    text = "; ".join(found) if found else f"nothing found in {data_dir}"
    if missing:
        text += f" ({', '.join(missing)}: not found, not run)"
    return text
