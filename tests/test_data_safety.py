"""Data files that must not run code or give silently wrong data: malicious CIFAR-10
pickles, MNIST vs Fashion-MNIST files, IDX decompression bombs, and the fingerprints that
key cached pipeline tasks on the contents of the files read."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gdperceptron.data import loaders
from gdperceptron.errors import GDPerceptronError

FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian package dataset-fashion-mnist


def _idx(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    head = bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    path.write_bytes(head + arr.astype(np.uint8).tobytes())


def _mnist(folder: Path, offset: int = 0) -> None:
    images = (np.arange(8 * 6).reshape(8, 3, 2) + offset) % 256
    _idx(folder / "train-images-idx3-ubyte", images)
    _idx(folder / "train-labels-idx1-ubyte", np.arange(8) % 2)


# ------------------------------------------------------------------- CIFAR-10 pickles


class _Payload:
    def __init__(self, call: Any, *args: Any) -> None:
        self.call, self.args = call, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.call, self.args)


@pytest.mark.parametrize(
    "payload",
    [
        lambda marker: _Payload(os.system, f"touch {marker}"),
        lambda marker: _Payload(eval, f"open({str(marker)!r}, 'w')"),
        lambda marker: _Payload(Path.touch, marker),
    ],
)
def test_a_malicious_cifar_batch_is_refused_without_running_it(tmp_path: Path, payload) -> None:
    marker = tmp_path / "ran"
    batch = {b"data": payload(marker), b"labels": [0, 1]}
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        (tmp_path / name).write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(GDPerceptronError, match="refused global"):
        loaders.load_cifar10(tmp_path, standardize_features=False)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_genuine_cifar_batches_still_load(tmp_path: Path, protocol: int) -> None:
    rng = np.random.default_rng(0)
    batches = []
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        data = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
        labels = [0, 1, 0, 1]
        batch = {b"batch_label": b"x", b"data": data, b"labels": labels, b"filenames": [b"a"] * 4}
        (tmp_path / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        batches.append(data)
    ds = loaders.load_cifar10(tmp_path, standardize_features=False)
    assert np.array_equal(ds.X, np.concatenate(batches).astype(np.float64) / 255.0)


# ------------------------------------------------------------- MNIST vs Fashion-MNIST


@pytest.mark.parametrize("folder", ["FashionMNIST/raw", "fashion-mnist", "fashion_mnist"])
def test_mnist_refuses_files_in_a_fashion_folder(tmp_path: Path, folder: str) -> None:
    _mnist(tmp_path / folder)
    with pytest.raises(GDPerceptronError, match="Fashion-MNIST"):
        loaders.load_mnist(tmp_path / folder, standardize_features=False)
    assert loaders.load_fashion_mnist(tmp_path / folder, standardize_features=False).n == 8


def test_fashion_refuses_files_in_an_mnist_folder(tmp_path: Path) -> None:
    _mnist(tmp_path / "MNIST" / "raw")
    with pytest.raises(GDPerceptronError, match="named for MNIST"):
        loaders.load_fashion_mnist(tmp_path / "MNIST" / "raw", standardize_features=False)


@pytest.mark.skipif(not FASHION.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_the_official_fashion_files_are_told_apart_from_mnist(tmp_path: Path) -> None:
    plain = tmp_path / "data"  # a neutral folder name: only the contents tell
    plain.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (plain / name).symlink_to(FASHION / name)
    with pytest.raises(GDPerceptronError, match="official Fashion-MNIST"):
        loaders.load_mnist(plain, standardize_features=False)
    assert loaders.load_fashion_mnist(plain, n=50, standardize_features=False).n == 50
    # the same shapes with other contents are not Fashion-MNIST
    images = loaders.read_idx(plain / "train-images-idx3-ubyte.gz")
    other = tmp_path / "other"
    _idx(other / "train-images-idx3-ubyte", 255 - images)
    shutil.copy(plain / "train-labels-idx1-ubyte.gz", other / "train-labels-idx1-ubyte.gz")
    with pytest.raises(GDPerceptronError, match="not Fashion-MNIST's"):
        loaders.load_fashion_mnist(other, standardize_features=False)


# --------------------------------------------------------------------------- IDX sizes


def test_a_gz_bomb_is_not_decompressed_past_the_header_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = bytes([0, 0, 8, 1]) + struct.pack(">I", 10)
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(head + bytes(10**7)))  # 10 MB of zeros, ~10 kB on disk
    asked: list[int] = []
    real_open = gzip.open

    def spy(*args: Any, **kwargs: Any) -> Any:
        fh = real_open(*args, **kwargs)
        read = fh.read

        def counted(n: int = -1) -> bytes:
            asked.append(n)
            return read(n)

        fh.read = counted
        return fh

    monkeypatch.setattr(gzip, "open", spy)
    with pytest.raises(GDPerceptronError, match="need 10 data bytes, found more"):
        loaders.read_idx(path)
    assert -1 not in asked and max(asked) == 11  # header size + 1, never the whole file


@pytest.mark.parametrize("dims", [(0, 28, 28), (60000, 0), (2**32 - 1, 2**32 - 1, 2**32 - 1)])
def test_idx_dims_that_are_zero_or_overflow_are_refused(tmp_path: Path, dims) -> None:
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims))
    with pytest.raises(GDPerceptronError, match="dims"):
        loaders.read_idx(path)


def test_an_unreadable_data_folder_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mnist(tmp_path / "d")
    # what os.access says for a folder without read permission (root would read it anyway)
    monkeypatch.setattr(loaders.os, "access", lambda path, mode: Path(path) != tmp_path / "d")
    with pytest.raises(GDPerceptronError, match="data_dir .* is not readable"):
        loaders.load_mnist(tmp_path / "d", standardize_features=False)


def test_an_unreadable_data_file_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mnist(tmp_path)
    monkeypatch.setattr(loaders.os, "access", lambda path, mode: Path(path).is_dir())
    with pytest.raises(GDPerceptronError, match="is not readable"):
        loaders.load_mnist(tmp_path, standardize_features=False)


# ------------------------------------------------------------------------ fingerprints


def test_the_fingerprint_follows_the_contents_not_the_path(tmp_path: Path) -> None:
    _mnist(tmp_path)
    first = loaders.data_fingerprint("mnist", tmp_path)
    assert loaders.data_fingerprint("mnist", tmp_path) == first
    _mnist(tmp_path, offset=1)  # same path, same size, other pixels
    second = loaders.data_fingerprint("mnist", tmp_path)
    assert second != first
    assert len(second) == 64
    assert loaders.data_fingerprint("mnist", tmp_path / "missing").startswith("missing:")


def test_task_keys_change_when_the_data_files_are_replaced(tmp_path: Path) -> None:
    from gdperceptron.experiments.base import Analysis, Experiment
    from gdperceptron.pipeline.reproduce import _task_list

    def tasks_with_data(quick: bool, data_dir: str | None) -> list[dict]:
        return [{"data": "mnist", "data_dir": data_dir, "seed": 0}, {"data": "x", "seed": 1}]

    exp = Experiment(
        "e",
        "t",
        "c",
        lambda q: [],
        lambda p: {},
        lambda r: Analysis(True, ""),
        lambda r, o: [],
        tasks_with_data,
    )
    _mnist(tmp_path)
    before = _task_list(exp, True, str(tmp_path))
    _mnist(tmp_path, offset=3)
    after = _task_list(exp, True, str(tmp_path))
    assert before[0][1] == after[0][1] and before[0][0] != after[0][0]
    assert before[1] == after[1]  # a task that reads no local files keeps its key
