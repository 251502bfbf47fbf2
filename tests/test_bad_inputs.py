"""Bad input, table-driven: every case ends in one clear line that names the option or
parameter, never a traceback or a silently wrong result.

CLI cases run in-process through ``gdperceptron.cli.main(argv)`` and must exit with
status 2 and write exactly one ``gdperceptron: error:`` line naming the option. API cases
must raise :class:`GDPerceptronError` with a one-line message naming the parameter. A few
cases run through a subprocess, and the start-up checks (``--help``, ``--version``, no JAX
import before the arguments are checked) live here too.
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gdperceptron.cli import main
from gdperceptron.errors import GDPerceptronError

BIG = str(2**63)
RUN: list[tuple[list[str], str]] = [
    (["--step", "-inf"], "--step"),
    (["--step", "inf"], "--step"),
    (["--step", "nan"], "--step"),
    (["--step", "0"], "--step"),
    (["--step", "-1"], "--step"),
    (["--step", "abc"], "--step"),
    (["--step", "1j"], "--step"),
    (["--step", ""], "--step"),
    (["--step"], "--step"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--seed", str(2**32)], "--seed"),
    (["--seed", "abc"], "--seed"),
    (["--seed", "1e20"], "--seed"),
    (["--seed", "nan"], "--seed"),
    (["--seed", "1+2j"], "--seed"),
    (["--max-iter", BIG], "--max-iter"),
    (["--max-iter", "2**63"], "--max-iter"),
    (["--max-iter", "-1"], "--max-iter"),
    (["--max-iter", "1.5"], "--max-iter"),
    (["--max-iter", "inf"], "--max-iter"),
    (["--max-iter", "1e300"], "--max-iter"),
    (["--d", "0"], "--d"),
    (["--d", "-5"], "--d"),
    (["--d", "1"], "--d"),
    (["--d", "1e10"], "--d"),
    (["--d", "abc"], "--d"),
    (["--d", "2.5"], "--d"),
    (["--mu", "-2", "--d", "2"], "--mu"),
    (["--mu", "0"], "--mu"),
    (["--mu", "nan"], "--mu"),
    (["--mu", "inf"], "--mu"),
    (["--mu", "1e200"], "--mu"),
    (["--mu", "1j"], "--mu"),
    (["--n", "5"], "--n"),
    (["--data", "loss-unreliable", "--n", "5"], "--n"),
    (["--data", "gaussian", "--n", "1"], "--n"),
    (["--data", "worst-case", "--n", "1e12"], "--n"),
    (["--data", "gaussian", "--n", "1e6", "--d", "1e6"], "--n/--d"),
    (["--data", "worst-case", "--n", "abc"], "--n"),
    (["--data", "gaussian", "--margin", "-1"], "--margin"),
    (["--data", "gaussian", "--margin", "nan"], "--margin"),
    (["--margin", "0.5"], "--margin"),
    (["--data", "digits", "--classes", "-1,2"], "--classes"),
    (["--data", "digits", "--classes", "1"], "--classes"),
    (["--data", "digits", "--classes", "a,b"], "--classes"),
    (["--data", "digits", "--classes", "3,3"], "--classes"),
    (["--data", "digits", "--classes", "1,2,3"], "--classes"),
    (["--data", "digits", "--classes", "3,12"], "--classes"),
    (["--classes", "3,5"], "--classes"),
    (["--data-dir", "/tmp"], "--data-dir"),
    (["--data", "mnist"], "--data-dir"),
    (["--data", "mnist", "--data-dir", "/nonexistent/folder"], "--data-dir"),
    (["--data", "cifar10", "--data-dir", ""], "--data-dir"),
    (["--model", "linear", "--width", "8"], "--width"),
    (["--model", "tied", "--activation", "tanh"], "--activation"),
    (["--model", "two-layer", "--depth", "4"], "--depth"),
    (["--model", "mlp", "--fixed-second-layer"], "--fixed-second-layer"),
    (["--model", "mlp", "--width", "0"], "--width"),
    (["--model", "mlp", "--width", "1e9"], "--width"),
    (["--model", "mlp", "--width", "abc"], "--width"),
    (["--model", "mlp", "--depth", "2000"], "--depth"),
    (["--model", "mlp", "--depth", "1"], "--depth"),
    (["--model", "two-layer", "--activation", "bogus"], "--activation"),
    (["--init-scale", "-1"], "--init-scale"),
    (["--init-scale", "nan"], "--init-scale"),
    (["--data", "bogus"], "--data"),
    (["--model", "bogus"], "--model"),
    (["--algorithm", "bogus"], "--algorithm"),
    (["--engine", "bogus"], "--engine"),
    (["--bogus"], "--bogus"),
]
COMPLEXITY: list[tuple[list[str], str]] = [
    (["--d-min", "1"], "--d-min"),
    (["--d-min", "100", "--d-max", "10"], "--d-min"),
    (["--d-max", "1e12"], "--d-max"),
    (["--d-max", "abc"], "--d-max"),
    (["--d-max", "100.5"], "--d-max"),
    (["--points", "1"], "--points"),
    (["--points", "1e9"], "--points"),
    (["--seeds", "0"], "--seeds"),
    (["--seeds", "1e9"], "--seeds"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--c", "-1"], "--c"),
    (["--c", "nan"], "--c"),
    (["--c", "0"], "--c"),
    (["--c", "1j"], "--c"),
    (["--linear-step", "-inf"], "--linear-step"),
    (["--linear-step", "0"], "--linear-step"),
    (["--mu", "1e-200"], "--mu"),
    (["--mu", "0"], "--mu"),
    (["--mu", "nan"], "--mu"),
    (["--mu", "1e200"], "--mu"),
    (["--mu", "-2"], "--mu"),
    (["--max-iter", "-1"], "--max-iter"),
    (["--max-iter", BIG], "--max-iter"),
    (["--max-iter", "1.5"], "--max-iter"),
    (["--n-boot", "1e9"], "--n-boot"),
    (["--n-boot", "0"], "--n-boot"),
    (["--n-boot", "1e6", "--seeds", "1000"], "--n-boot"),
    (["--out", "{file}"], "--out"),
    (["--out", "{file}/sub"], "--out"),
    (["--out", "/dev/null"], "--out"),
    (["--out", ""], "--out"),
]
SPECTRUM: list[tuple[list[str], str]] = [
    (["--d", "1"], "--d"),
    (["--d", "5000"], "--d"),
    (["--d", "abc"], "--d"),
    (["--d", "1e10"], "--d"),
    (["--mu", "0"], "--mu"),
    (["--mu", "-1"], "--mu"),
    (["--mu", "nan"], "--mu"),
    (["--mu", "1e200"], "--mu"),
    (["--c", "1e300"], "--c"),
    (["--c", "0"], "--c"),
    (["--c", "-inf"], "--c"),
    (["--steps", "0"], "--steps"),
    (["--steps", "1e9"], "--steps"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--algorithm", "bogus"], "--algorithm"),
    (["--out", "{file}"], "--out"),
    (["--out", "{file}/sub"], "--out"),
    (["--out", "/dev/null"], "--out"),
]
REPRODUCE: list[tuple[list[str], str]] = [
    (["--only", "bogus"], "--only"),
    (["--only", ""], "--only"),
    (["--only", ","], "--only"),
    (["--workers", "0"], "--workers"),
    (["--workers", "-1"], "--workers"),
    (["--workers", "abc"], "--workers"),
    (["--workers", "1e9"], "--workers"),
    (["--workers", "1.5"], "--workers"),
    (["--executor", "dask"], "--executor"),
    (["--ray-address", "auto"], "--ray-address"),
    (["--executor", "ray", "--ray-address", "auto", "--workers", "2"], "--workers"),
    (["--out", "{file}"], "--out"),
    (["--out", "{file}/sub"], "--out"),
    (["--out", "/dev/null"], "--out"),
    (["--out", ""], "--out"),
    (["--data-dir", "/nonexistent/folder"], "--data-dir"),
    (["--data-dir", "{file}"], "--data-dir"),
    (["--data-dir", ""], "--data-dir"),
    (["--bogus"], "--bogus"),
]
CLI = (
    [("run", a, m) for a, m in RUN]
    + [("complexity", a, m) for a, m in COMPLEXITY]
    + [("spectrum", a, m) for a, m in SPECTRUM]
    + [("reproduce", a, m) for a, m in REPRODUCE]
)


@pytest.mark.parametrize(("command", "argv", "named"), CLI, ids=lambda v: str(v))
def test_cli_bad_input(command: str, argv: list[str], named: str, tmp_path: Path, capsys) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    argv = [a.replace("{file}", str(a_file)) for a in argv]
    out = [] if command == "run" or "--out" in argv else ["--out", str(tmp_path / "out")]
    rc = main([command, *argv, *out])
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert rc == 2, captured
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("gdperceptron: error:") and "Traceback" not in captured.err
    assert named in lines[0], lines[0]
    assert captured.out == ""
    assert not (tmp_path / "out" / "results.sqlite").exists()


# ------------------------------------------------------------------------------ API cases


def _idx(path: Path, dims: tuple[int, ...], payload: bytes, gz: bool = False) -> Path:
    raw = bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)
    return path


def _mnist_dir(tmp: Path) -> Path:
    _idx(tmp / "train-images-idx3-ubyte", (4, 2, 2), bytes(16))
    _idx(tmp / "train-labels-idx1-ubyte", (4,), bytes([0, 1, 0, 1]))
    return tmp


class _Evil:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch {marker}",))


def _evil_cifar(tmp: Path) -> Path:
    marker = tmp / "pwned"
    payload = pickle.dumps({b"data": _Evil(), b"labels": [0]}, protocol=2)
    payload = payload.replace(b"{marker}", str(marker).encode())
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        (tmp / name).write_bytes(payload)
    return tmp


def _loaders() -> list[tuple[str, Any, str]]:
    from gdperceptron.data import loaders as L

    return [
        ("load_mnist(None)", lambda t: L.load_mnist(None), "data_dir"),
        ("load_mnist(123)", lambda t: L.load_mnist(123), "data_dir"),
        ("load_mnist(missing)", lambda t: L.load_mnist(t / "nope"), "data_dir"),
        ("load_mnist(file)", lambda t: L.load_mnist(t / "f"), "data_dir"),
        ("classes same", lambda t: L.load_mnist(_mnist_dir(t), classes=(1, 1)), "classes"),
        ("classes 10", lambda t: L.load_mnist(_mnist_dir(t), classes=(0, 10)), "classes"),
        ("classes str", lambda t: L.load_mnist(_mnist_dir(t), classes="ab"), "classes"),
        ("classes float", lambda t: L.load_mnist(_mnist_dir(t), classes=(0.5, 1)), "classes"),
        ("classes None", lambda t: L.load_mnist(_mnist_dir(t), classes=None), "classes"),
        ("n 1", lambda t: L.load_mnist(_mnist_dir(t), n=1), "n must"),
        ("n 1.5", lambda t: L.load_mnist(_mnist_dir(t), n=1.5), "n must"),
        ("n True", lambda t: L.load_mnist(_mnist_dir(t), n=True), "n must"),
        ("n 100", lambda t: L.load_mnist(_mnist_dir(t), n=100), "n must"),
        ("split", lambda t: L.load_mnist(_mnist_dir(t), split="val"), "split"),
        ("kind", lambda t: L.load_mnist(_mnist_dir(t), kind="kmnist"), "kind"),
        ("cifar None", lambda t: L.load_cifar10(None), "data_dir"),
        ("cifar missing", lambda t: L.load_cifar10(t), "data_batch_1"),
        ("cifar evil", lambda t: L.load_cifar10(_evil_cifar(t)), "refused global"),
        ("named bogus", lambda t: L.load_named("bogus"), "data set"),
        ("named mnist no dir", lambda t: L.load_named("mnist"), "data_dir"),
        ("digits same", lambda t: L.digits(classes=(0, 0)), "classes"),
        ("breast n", lambda t: L.breast_cancer(n=1), "n must"),
        ("idx missing", lambda t: L.read_idx(t / "nope"), "cannot read IDX"),
        ("idx zero dim", lambda t: L.read_idx(_idx(t / "z", (0, 28), b"")), "dims"),
        ("idx huge", lambda t: L.read_idx(_idx(t / "h", (2**32 - 1,) * 3, b"")), "dims"),
        ("idx magic", lambda t: L.read_idx(_write(t / "m", b"\x01\x02\x03\x04")), "magic"),
        ("idx short", lambda t: L.read_idx(_idx(t / "s", (4, 4), bytes(3))), "need 16"),
        ("idx long", lambda t: L.read_idx(_idx(t / "l", (2,), bytes(9))), "need 2"),
        ("idx gz bomb", lambda t: L.read_idx(_idx(t / "b", (4,), bytes(10**7), gz=True)), "need 4"),
        ("gz head", lambda t: L.read_idx(_write(t / "g.gz", gzip.compress(b"\0\0"))), "magic"),
        ("idx not gz", lambda t: L.read_idx(_write(t / "n.gz", b"plain")), "cannot read IDX"),
    ]  # fmt: skip


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _classifier() -> list[tuple[str, Any, str]]:
    from gdperceptron.estimator import GDClassifier

    X = np.array([[1.0, 2.0], [2.0, 1.0], [-1.0, -2.0], [-2.0, -1.0]])
    y = np.array([0, 0, 1, 1])

    def fit(**kw: Any) -> Any:
        return lambda t: GDClassifier(**kw).fit(X, y)

    cases = [
        ("model", {"model": "bogus"}),
        ("model", {"model": None}),
        ("algorithm", {"algorithm": 1}),
        ("step", {"step": 0}),
        ("step", {"step": -1.0}),
        ("step", {"step": float("nan")}),
        ("step", {"step": float("inf")}),
        ("step", {"step": "1"}),
        ("step", {"step": 1j}),
        ("step", {"step": True}),
        ("max_iter", {"max_iter": None}),
        ("max_iter", {"max_iter": -1}),
        ("max_iter", {"max_iter": 1.5}),
        ("max_iter", {"max_iter": float("inf")}),
        ("max_iter", {"max_iter": 2**63}),
        ("width", {"model": "two-layer", "width": 0}),
        ("width", {"model": "two-layer", "width": 1.5}),
        ("depth", {"model": "mlp", "depth": 1}),
        ("depth", {"model": "mlp", "depth": 2000}),
        ("activation", {"activation": "bogus"}),
        ("init_scale", {"init_scale": -1.0}),
        ("init_scale", {"init_scale": float("nan")}),
        ("engine", {"engine": "bogus"}),
        ("stop_when_separated", {"stop_when_separated": "yes"}),
    ]
    out = [(f"GDClassifier {k}={v}", fit(**kw), k) for k, kw in cases for v in [kw[k]]]
    out.append(("GDClassifier complex y", lambda t: GDClassifier().fit(X, y + 1j), "y must"))
    return out


def _other_api() -> list[tuple[str, Any, str]]:
    import gdperceptron as g
    from gdperceptron.analysis.complexity import default_max_iter, iterations_to_solve
    from gdperceptron.pipeline.cache import open_store

    X = np.eye(2)
    return [
        ("Dataset 0/1 labels", lambda t: g.Dataset(X, np.array([0.0, 1.0])), "labels"),
        ("Dataset 1-D X", lambda t: g.Dataset(np.ones(2), np.array([1.0, -1.0])), "X must"),
        ("Dataset nan", lambda t: g.Dataset(X * np.nan, np.array([1.0, -1.0])), "non-finite"),
        ("Dataset complex", lambda t: g.Dataset(X + 1j, np.array([1.0, -1.0])), "X must"),
        ("Dataset shapes", lambda t: g.Dataset(X, np.array([1.0, -1.0, 1.0])), "disagree"),
        ("Dataset str y", lambda t: g.Dataset(X, np.array(["a", "b"])), "y must"),
        ("Dataset empty", lambda t: g.Dataset(np.ones((0, 2)), np.ones(0)), "empty"),
        ("make_dataset complex y", lambda t: g.make_dataset(X, np.array([1j, 2j])), "complex"),
        ("solve", lambda t: iterations_to_solve("linear", 9, max_iter=2**63), "max_it"),
        ("default_max_iter mu", lambda t: default_max_iter("linear", 10, 1e-200), "mu"),
        ("boot", lambda t: g.fit_loglog_slope([2, 4], [[1] * 99] * 2, n_boot=10**6), "n_boot"),
        ("open_store folder", lambda t: open_store(t), "folder"),
    ]  # fmt: skip


API = _loaders() + _classifier() + _other_api()


@pytest.mark.parametrize(("label", "call", "named"), API, ids=[c[0] for c in API])
def test_api_bad_input(label: str, call: Any, named: str, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("a file")
    with pytest.raises(GDPerceptronError) as err:
        call(tmp_path)
    message = str(err.value)
    assert len(message.splitlines()) == 1, message
    assert named in message, message
    assert not (tmp_path / "pwned").exists()  # nothing was executed


def test_the_case_tables_are_large_enough() -> None:
    assert len(CLI) + len(API) >= 150


# ------------------------------------------------------------------- start-up, help text


def test_cli_names_agree_with_the_library() -> None:
    from gdperceptron import ACTIVATIONS, ALGORITHM_NAMES, DATA_NAMES, ENGINES, MODEL_NAMES
    from gdperceptron import __version__ as version
    from gdperceptron.cli import VERSION
    from gdperceptron.cli import _args as A
    from gdperceptron.experiments import NAMES
    from gdperceptron.pipeline.executors import EXECUTORS

    assert A.DATA_NAMES == DATA_NAMES and A.MODEL_NAMES == MODEL_NAMES
    assert A.ALGORITHM_NAMES == ALGORITHM_NAMES and A.ENGINES == ENGINES
    assert A.ACTIVATION_NAMES == tuple(ACTIVATIONS) and A.EXECUTORS == EXECUTORS
    assert A.EXPERIMENT_NAMES == NAMES and VERSION == version


def test_cli_option_tables_agree_with_the_run_configuration() -> None:
    from gdperceptron.cli import run as command
    from gdperceptron.engines import config

    library = {**config.DATA_OPTIONS, "data file": config.FILE_DATA_OPTIONS}
    for name, applies in command.DATA_OPTIONS.items():
        assert set(applies) == {k for k, v in library.items() if name in v}, name
    for name, applies in command.MODEL_OPTIONS.items():
        key = "train_second_layer" if name == "fixed_second_layer" else name
        assert set(applies) == {k for k, v in config.MODEL_OPTIONS.items() if key in v}, name
    assert command.DEFAULT_D == config.DEFAULTS["d"]
    assert command.DEFAULT_MU == config.DEFAULTS["mu"]


@pytest.mark.parametrize("command", [[], ["run"], ["complexity"], ["spectrum"], ["reproduce"]])
def test_help_has_no_markup(command: list[str], capsys) -> None:
    assert main([*command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "usage: gdperceptron" in text
    for markup in ("``", ":func:", ":class:", ":mod:", ":data:", ":meth:", ":attr:", "**"):
        assert markup not in text, (markup, text)


def _subprocess(*argv: str, importtime: bool = False) -> subprocess.CompletedProcess:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "gdperceptron.cli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["run", "--seed", "-1"], ["complexity", "--mu", "nan"]],
)
def test_start_up_imports_no_jax(argv: list[str]) -> None:
    proc = _subprocess(*argv, importtime=True)
    imported = {ln.split("|")[-1].strip() for ln in proc.stderr.splitlines() if "|" in ln}
    assert "jax" not in imported and "numpy" not in imported
    assert proc.returncode == (0 if argv[0].startswith("--") else 2)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "--seed", "-1"], "--seed"),
        (["run", "--step", "-inf"], "--step"),
        (["spectrum", "--c", "1e300"], "--c"),
        (["reproduce", "--workers", "0"], "--workers"),
    ],
)
def test_cli_bad_input_in_a_subprocess(argv: list[str], named: str) -> None:
    proc = _subprocess(*argv)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gdperceptron: error:") and named in lines[0]


def test_version() -> None:
    proc = _subprocess("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == "gdperceptron 0.1.0"


def test_the_lazy_exports_match_the_static_imports() -> None:
    import ast

    import gdperceptron

    tree = ast.parse(Path(gdperceptron.__file__).read_text())
    static = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                static.update({a.name: imp.module for a in imp.names})
    assert static == gdperceptron._WHERE
    assert set(gdperceptron.__all__) == set(static)
