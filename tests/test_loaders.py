"""Tests for gdperceptron.data.loaders, on small fake IDX / CIFAR files written here."""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from gdperceptron.data import loaders
from gdperceptron.errors import DataFileNotFoundError, GDPerceptronError

N_IMG = 20
SHAPE = (3, 2)  # tiny images


def fake_images(n: int = N_IMG, shape: tuple[int, ...] = SHAPE, offset: int = 0) -> np.ndarray:
    d = int(np.prod(shape))
    vals = (np.arange(n)[:, None] * 13 + np.arange(d)[None, :] * 37 + offset) % 256
    vals[:, -1] = 128  # one constant column
    return vals.astype(np.uint8).reshape((n, *shape))


def fake_labels(n: int = N_IMG, offset: int = 0) -> np.ndarray:
    return ((np.arange(n) + offset) % 4).astype(np.uint8)


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.tobytes()


def write_idx(path: Path, arr: np.ndarray, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(arr)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def write_mnist(folder: Path, gz: bool = False, split: str = "train", offset: int = 0) -> None:
    pre = "train" if split == "train" else "t10k"
    write_idx(folder / f"{pre}-images-idx3-ubyte", fake_images(offset=offset), gz)
    write_idx(folder / f"{pre}-labels-idx1-ubyte", fake_labels(offset=offset), gz)


def expected(images: np.ndarray, labels: np.ndarray, classes: tuple[int, int]):
    mask = (labels == classes[0]) | (labels == classes[1])
    X = images.reshape(len(labels), -1)[mask].astype(np.float64) / 255.0
    y = np.where(labels[mask] == classes[1], 1.0, -1.0)
    return X, y


# --------------------------------------------------------------------------- MNIST


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_exact_arrays(tmp_path: Path, gz: bool) -> None:
    write_mnist(tmp_path, gz=gz)
    ds = loaders.load_mnist(tmp_path, classes=(1, 2), standardize_features=False)
    X, y = expected(fake_images(), fake_labels(), (1, 2))
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    assert ds.X.shape == (10, 6) and ds.name == "mnist"
    assert ds.X.min() >= 0 and ds.X.max() <= 1
    assert ds.info["classes"] == [1, 2] and ds.info["split"] == "train"
    assert ds.info["n"] == 10 and ds.info["seed"] == 0


def test_mnist_class_order_sets_sign(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    a = loaders.load_mnist(tmp_path, classes=(1, 2), standardize_features=False)
    b = loaders.load_mnist(tmp_path, classes=(2, 1), standardize_features=False)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, -b.y)


def test_mnist_test_split_and_subfolders(tmp_path: Path) -> None:
    write_mnist(tmp_path / "mnist" / "raw", gz=True, split="test", offset=5)
    write_mnist(tmp_path / "mnist", split="train")
    ds = loaders.load_mnist(tmp_path, classes=(0, 3), split="test", standardize_features=False)
    X, y = expected(fake_images(offset=5), fake_labels(offset=5), (0, 3))
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    assert ds.info["split"] == "test"
    assert loaders.load_mnist(tmp_path, standardize_features=False).n == 10


def test_fashion_mnist_subfolder(tmp_path: Path) -> None:
    write_mnist(tmp_path / "fashion-mnist", gz=True)
    ds = loaders.load_fashion_mnist(tmp_path, classes=(3, 0), standardize_features=False)
    X, y = expected(fake_images(), fake_labels(), (3, 0))
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    assert ds.name == "fashion-mnist"
    with pytest.raises(DataFileNotFoundError):
        loaders.load_mnist(
            tmp_path, standardize_features=False
        )  # kind="mnist" does not look in fashion-mnist/


def test_mnist_subsample_deterministic(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    full = loaders.load_mnist(tmp_path, classes=(1, 2), standardize_features=False)
    a = loaders.load_mnist(tmp_path, classes=(1, 2), n=6, seed=3, standardize_features=False)
    b = loaders.load_mnist(tmp_path, classes=(1, 2), n=6, seed=3, standardize_features=False)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.n == 6 and set(a.y.tolist()) == {-1.0, 1.0}
    rows = {tuple(r) for r in full.X}
    assert all(tuple(r) in rows for r in a.X)
    others = [
        loaders.load_mnist(tmp_path, classes=(1, 2), n=6, seed=s, standardize_features=False).X
        for s in range(4, 10)
    ]
    assert any(not np.array_equal(o, a.X) for o in others)
    for seed in range(10):
        small = loaders.load_mnist(
            tmp_path, classes=(1, 2), n=2, seed=seed, standardize_features=False
        )
        assert sorted(small.y.tolist()) == [-1.0, 1.0]
    assert loaders.load_mnist(tmp_path, classes=(1, 2), n=10, standardize_features=False).n == 10


def test_mnist_standardize_option(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    ds = loaders.load_mnist(tmp_path, classes=(1, 2), standardize_features=True)
    assert np.all(np.isfinite(ds.X))
    np.testing.assert_array_equal(ds.X[:, -1], 0.0)  # constant column stays 0
    np.testing.assert_allclose(ds.X[:, :-1].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X[:, :-1].std(axis=0), 1.0)


def test_mnist_missing_file_message(tmp_path: Path) -> None:
    with pytest.raises(DataFileNotFoundError) as err:
        loaders.load_mnist(tmp_path, standardize_features=False)
    msg = str(err.value)
    assert "train-images-idx3-ubyte" in msg
    for d in (tmp_path, tmp_path / "mnist", tmp_path / "mnist" / "raw"):
        assert str(d) in msg
    assert isinstance(err.value, FileNotFoundError)
    # labels missing: the message names the labels file
    write_idx(tmp_path / "train-images-idx3-ubyte", fake_images())
    with pytest.raises(DataFileNotFoundError, match="train-labels-idx1-ubyte"):
        loaders.load_mnist(tmp_path, standardize_features=False)


def test_idx_bad_magic(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    raw = bytearray(p.read_bytes())
    raw[2] = 0x0D  # float data: not supported
    p.write_bytes(bytes(raw))
    with pytest.raises(GDPerceptronError, match="magic"):
        loaders.load_mnist(tmp_path, standardize_features=False)
    raw[2], raw[0] = 0x08, 0x12
    p.write_bytes(bytes(raw))
    with pytest.raises(GDPerceptronError, match="magic"):
        loaders.load_mnist(tmp_path, standardize_features=False)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_truncated(tmp_path: Path, gz: bool) -> None:
    write_mnist(tmp_path)
    p = tmp_path / "train-images-idx3-ubyte"
    data = p.read_bytes()[:-5]
    if gz:
        p.unlink()
        comp = gzip.compress(data)
        (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(comp[: len(comp) // 2])
    else:
        p.write_bytes(data)
    with pytest.raises(GDPerceptronError):
        loaders.load_mnist(tmp_path, standardize_features=False)
    p.write_bytes(bytes([0, 0, 8, 3, 0, 0]))  # header cut short
    with pytest.raises(GDPerceptronError, match="truncated"):
        loaders.load_mnist(tmp_path, standardize_features=False)


def test_idx_count_mismatch(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte", fake_images())
    write_idx(tmp_path / "train-labels-idx1-ubyte", fake_labels(n=N_IMG - 1))
    with pytest.raises(GDPerceptronError, match="disagree"):
        loaders.load_mnist(tmp_path, standardize_features=False)


@pytest.mark.parametrize("classes", [(1, 1), (0, 10), (-1, 2), (0,), (0, 1, 2), (0.5, 1), None])
def test_bad_classes(tmp_path: Path, classes) -> None:
    write_mnist(tmp_path)
    with pytest.raises(GDPerceptronError, match="classes"):
        loaders.load_mnist(tmp_path, classes=classes, standardize_features=False)


def test_class_without_samples(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    with pytest.raises(GDPerceptronError, match="no samples"):
        loaders.load_mnist(tmp_path, classes=(0, 7), standardize_features=False)


@pytest.mark.parametrize("n", [11, 1, 0, -3, 2.5])
def test_bad_n(tmp_path: Path, n) -> None:
    write_mnist(tmp_path)
    with pytest.raises(GDPerceptronError, match="n must be"):
        loaders.load_mnist(tmp_path, classes=(1, 2), n=n, standardize_features=False)


def test_bad_split_and_kind(tmp_path: Path) -> None:
    write_mnist(tmp_path)
    with pytest.raises(GDPerceptronError, match="split"):
        loaders.load_mnist(tmp_path, split="valid", standardize_features=False)
    with pytest.raises(GDPerceptronError, match="kind"):
        loaders.load_mnist(tmp_path, kind="kmnist", standardize_features=False)


# --------------------------------------------------------------------------- CIFAR-10

CIFAR_PER_BATCH = 4


def cifar_batch(i: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(100 + i)
    data = rng.integers(0, 256, size=(CIFAR_PER_BATCH, 3072), dtype=np.uint8)
    labels = [(i + j) % 3 for j in range(CIFAR_PER_BATCH)]
    return data, labels


def write_cifar(folder: Path, skip: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        if name == skip:
            continue
        data, labels = cifar_batch(i)
        with open(folder / name, "wb") as f:
            pickle.dump({b"batch_label": name.encode(), b"data": data, b"labels": labels}, f)


def test_cifar_train_exact(tmp_path: Path) -> None:
    write_cifar(tmp_path / "cifar-10-batches-py")
    ds = loaders.load_cifar10(tmp_path, classes=(2, 0), standardize_features=False)
    data = np.concatenate([cifar_batch(i)[0] for i in range(5)])
    labels = np.concatenate([cifar_batch(i)[1] for i in range(5)])
    X, y = expected(data, labels, (2, 0))
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    assert ds.d == 3072 and ds.name == "cifar10" and ds.info["split"] == "train"


def test_cifar_test_split_in_data_dir(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    ds = loaders.load_cifar10(tmp_path, classes=(0, 1), split="test", standardize_features=False)
    data, labels = cifar_batch(5)
    X, y = expected(data, np.array(labels), (0, 1))
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)


def test_cifar_subsample(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    a = loaders.load_cifar10(tmp_path, classes=(0, 1), n=5, seed=7, standardize_features=False)
    b = loaders.load_cifar10(tmp_path, classes=(0, 1), n=5, seed=7, standardize_features=False)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.n == 5 and set(a.y.tolist()) == {-1.0, 1.0}
    with pytest.raises(GDPerceptronError, match="n must be"):
        loaders.load_cifar10(tmp_path, classes=(0, 1), n=100, standardize_features=False)


def test_cifar_missing_batch(tmp_path: Path) -> None:
    write_cifar(tmp_path, skip="data_batch_3")
    with pytest.raises(DataFileNotFoundError) as err:
        loaders.load_cifar10(tmp_path, standardize_features=False)
    msg = str(err.value)
    assert "data_batch_3" in msg
    assert str(tmp_path) in msg and str(tmp_path / "cifar-10-batches-py") in msg


def test_cifar_corrupt(tmp_path: Path) -> None:
    write_cifar(tmp_path)
    p = tmp_path / "test_batch"
    p.write_bytes(p.read_bytes()[:50])
    with pytest.raises(GDPerceptronError, match="test_batch"):
        loaders.load_cifar10(tmp_path, split="test", standardize_features=False)
    with open(p, "wb") as f:
        pickle.dump({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(GDPerceptronError, match="corrupt"):
        loaders.load_cifar10(tmp_path, split="test", standardize_features=False)


# --------------------------------------------------------------------------- bundled


def test_breast_cancer() -> None:
    ds = loaders.breast_cancer()
    assert ds.X.shape == (569, 30) and ds.name == "breast-cancer"
    np.testing.assert_allclose(ds.X.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(ds.X.std(axis=0), 1.0)
    assert int(np.sum(ds.y == -1)) == 212 and int(np.sum(ds.y == 1)) == 357
    raw = loaders.breast_cancer(standardize_features=False)
    assert raw.X.min() >= 0 and not np.allclose(raw.X.std(axis=0), 1.0)


@pytest.mark.parametrize("pair", [(0, 1), (3, 8), (9, 4)])
def test_digits_pair(pair: tuple[int, int]) -> None:
    X_all, t = load_digits(return_X_y=True)
    ds = loaders.digits(pair)
    n_neg, n_pos = int(np.sum(t == pair[0])), int(np.sum(t == pair[1]))
    assert ds.X.shape == (n_neg + n_pos, 64)
    assert int(np.sum(ds.y == -1)) == n_neg and int(np.sum(ds.y == 1)) == n_pos
    assert np.all(np.isfinite(ds.X))
    sel = X_all[(t == pair[0]) | (t == pair[1])]
    const = np.ptp(sel, axis=0) == 0
    assert const.any()  # digits always have blank border pixels
    np.testing.assert_array_equal(ds.X[:, const], 0.0)
    np.testing.assert_allclose(ds.X[:, ~const].std(axis=0), 1.0)
    raw = loaders.digits(pair, standardize_features=False)
    np.testing.assert_array_equal(raw.X, sel)


def test_digits_bad_classes() -> None:
    with pytest.raises(GDPerceptronError, match="classes"):
        loaders.digits((2, 2))


# --------------------------------------------------------------------------- dispatcher


def test_load_named(tmp_path: Path) -> None:
    write_mnist(tmp_path / "mnist")
    write_mnist(tmp_path / "fashion-mnist", gz=True)
    write_cifar(tmp_path / "cifar-10-batches-py")
    assert loaders.load_named("breast-cancer").X.shape == (569, 30)
    assert loaders.load_named("digits", classes=(3, 8)).info["classes"] == [3, 8]
    m = loaders.load_named("mnist", data_dir=tmp_path, classes=(1, 2), n=4, seed=1)
    assert m.n == 4 and m.name == "mnist" and m.info["seed"] == 1
    assert loaders.load_named("fashion-mnist", data_dir=tmp_path).name == "fashion-mnist"
    c = loaders.load_named("cifar10", data_dir=tmp_path)
    assert c.d == 3072 and c.info["classes"] == [0, 1]


def test_load_named_errors() -> None:
    with pytest.raises(GDPerceptronError) as err:
        loaders.load_named("imagenet")
    for name in loaders.NAMES:
        assert name in str(err.value)
    for name in ("mnist", "fashion-mnist", "cifar10"):
        with pytest.raises(GDPerceptronError, match="data_dir"):
            loaders.load_named(name)
    with pytest.raises(GDPerceptronError, match="breast-cancer"):
        loaders.load_named("breast-cancer", classes=(1, 0))
