"""``gdperceptron run``: JSON and readable output agree with a direct library run; every bad
input ends with exit status 2 and exactly one ``gdperceptron: error:`` line on stderr."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gdperceptron.engines.config
from gdperceptron import RunConfig, execute, make_dataset
from gdperceptron.analysis.spectral import structured_matrix, swap_involution
from gdperceptron.cli import main

SCRIPT = Path(sys.executable).with_name("gdperceptron")
GAUSS = ["--data", "gaussian", "--model", "linear", "--d", "4", "--n", "30", "--margin", "0.02"]
GAUSS_CFG = {"data": "gaussian", "model": "linear", "d": 4, "n": 30, "margin": 0.02}


def _strict(text: str) -> dict:
    """Parse JSON, refusing the non-standard tokens NaN / Infinity."""

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit status, stdout, stderr)."""
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse errors exit from inside parse_args
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_error_line(rc: int, err: str) -> str:
    assert rc == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gdperceptron: error:")
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ good runs


def test_json_matches_library_run(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--json", *GAUSS, "--step", "5", "--seed", "3", "--max-iter", "400"]
    rc, out, err = call(argv, capsys)
    assert rc == 0 and err == ""
    assert len(out.strip().splitlines()) == 1
    res = _strict(out)
    for key in ("iterations", "solved", "stop_reason", "final_loss", "elapsed_s", "config"):
        assert key in res
    cfg = RunConfig(**GAUSS_CFG, step=5.0, seed=3, max_iter=400)
    traj = execute(cfg)
    assert traj.solved_iteration is not None
    assert res["iterations"] == traj.solved_iteration
    assert res["solved"] is True and res["stop_reason"] == traj.stop_reason == "solved"
    assert res["final_loss"] == traj.final_loss  # deterministic: equal bit for bit
    assert res["n_steps"] == traj.n_steps
    # the resolved config: what applies to gaussian data and the linear model, real n and d
    assert res["config"] == {**cfg.resolved(), "d": 4, "n": 30}
    assert "width" not in res["config"] and "mu" not in res["config"]
    assert isinstance(res["elapsed_s"], float) and res["elapsed_s"] >= 0


def test_default_step_of_the_tied_model_is_one_over_lambda_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    d, mu = 30, 1.0
    rc, out, _ = call(["run", "--json", "--d", str(d), "--max-iter", "3000"], capsys)
    assert rc == 0
    res = _strict(out)
    # λ₂ = largest eigenvalue of A(a_2), a_2 = -(1_d + mu e_1), by a numerical eigensolver
    a2 = -np.ones(d)
    a2[0] -= mu
    lam2 = np.linalg.eigvalsh(structured_matrix(a2, swap_involution(d))).max()
    assert res["config"]["step"] == pytest.approx(1.0 / lam2, rel=1e-12)
    assert res["config"]["model"] == "tied" and res["config"]["data"] == "minimal"
    traj = execute(RunConfig(d=d, step=res["config"]["step"], max_iter=3000))
    assert res["iterations"] == traj.solved_iteration
    assert res["solved"] == traj.solved


def test_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = call(["run", *GAUSS, "--step", "5", "--seed", "3"], capsys)
    assert rc == 0 and err == ""  # no progress bar when stderr is not a terminal
    traj = execute(RunConfig(**GAUSS_CFG, step=5.0, seed=3))
    assert f"solved: True at iteration {traj.solved_iteration}" in out
    assert "stop reason: solved" in out
    assert "data=gaussian model=linear algorithm=gd" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_not_solved_summary_and_strict_json_on_divergence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["run", "--data", "gaussian", "--model", "two-layer", "--activation", "square"]
    argv += ["--d", "5", "--n", "20", "--step", "1e6", "--no-stop", "--max-iter", "200"]
    rc, out, _ = call([*argv, "--json"], capsys)
    assert rc == 0
    res = _strict(out)  # a diverged run still prints standard JSON
    traj = execute(
        RunConfig(
            data="gaussian",
            model="two-layer",
            activation="square",
            d=5,
            n=20,
            step=1e6,
            stop_when_solved=False,
            max_iter=200,
        )
    )
    assert traj.stop_reason == res["stop_reason"] == "non_finite"
    assert not np.isfinite(traj.final_loss) and res["final_loss"] is None
    assert res["iterations"] is None and res["solved"] is False
    rc, out, _ = call(argv, capsys)
    assert rc == 0 and f"not solved after {traj.n_steps} steps" in out


def test_console_script_subprocess() -> None:
    assert SCRIPT.exists()
    argv = ["run", "--json", *GAUSS, "--step", "5", "--seed", "3", "--max-iter", "400"]
    proc = subprocess.run(
        [str(SCRIPT), *argv], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    res = _strict(proc.stdout)
    traj = execute(RunConfig(**GAUSS_CFG, step=5.0, seed=3, max_iter=400))
    assert res["iterations"] == traj.solved_iteration and res["final_loss"] == traj.final_loss
    # and a bad input in a fresh process: status 2, one line, no traceback
    proc = subprocess.run(
        [str(SCRIPT), "run", "--model", "tied", "--d", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout == ""
    assert_one_error_line(proc.returncode, proc.stderr)


# ------------------------------------------------------------------ bad inputs


BAD = {
    "unknown-data": ["run", "--data", "imagenet"],
    "unknown-model": ["run", "--model", "transformer"],
    "unknown-algorithm": ["run", "--algorithm", "adam"],
    "unknown-activation": ["run", "--activation", "gelu"],
    "step-zero": ["run", "--step", "0"],
    "step-negative": ["run", "--step", "-1"],
    "step-nan": ["run", "--step", "nan"],
    "step-inf": ["run", "--step", "inf"],
    "step-not-a-number": ["run", "--step", "fast"],
    "tied-d-1": ["run", "--model", "tied", "--d", "1"],
    "tied-gaussian-d-1": ["run", "--model", "tied", "--data", "gaussian", "--d", "1"],
    "max-iter-negative": ["run", "--max-iter", "-5"],
    "width-0": ["run", "--model", "two-layer", "--data", "gaussian", "--d", "3", "--width", "0"],
    "depth-1": ["run", "--model", "mlp", "--data", "gaussian", "--d", "3", "--depth", "1"],
    "mu-negative": ["run", "--mu", "-1"],
    "n-1": ["run", "--data", "worst-case", "--model", "linear", "--d", "2", "--n", "1"],
    "init-scale-negative": ["run", "--init-scale", "-1"],
    "same-classes": ["run", "--data", "digits", "--model", "linear", "--classes", "3,3"],
    "bad-classes": ["run", "--classes", "3"],
    "mnist-no-dir": ["run", "--data", "mnist", "--model", "linear"],
    "no-command": [],
    "unknown-command": ["train"],
    "unknown-option": ["run", "--learning-rate", "1"],
}


@pytest.mark.parametrize("argv", list(BAD.values()), ids=list(BAD))
def test_bad_input_one_line_status_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = call(argv, capsys)
    assert out == ""
    assert_one_error_line(rc, err)


def test_missing_data_file_names_file_and_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = call(["run", "--data", "mnist", "--data-dir", str(tmp_path)], capsys)
    line = assert_one_error_line(rc, err)
    assert "train-images-idx3-ubyte" in line and str(tmp_path) in line
    rc, _, err = call(["run", "--data", "mnist", "--data-dir", "/nonexistent"], capsys)
    assert "--data-dir /nonexistent: not a folder" in assert_one_error_line(rc, err)


def _idx(path: Path, arr: np.ndarray) -> None:
    arr = np.asarray(arr, dtype=np.uint8)
    head = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    path.write_bytes(head + arr.tobytes())


def test_labels_not_two_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # an MNIST folder whose labels hold class 0 only: asking for classes 0,1 must fail cleanly
    _idx(tmp_path / "train-images-idx3-ubyte", np.arange(6 * 4 * 4).reshape(6, 4, 4) % 251)
    _idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(6))
    argv = ["run", "--data", "mnist", "--model", "linear", "--data-dir", str(tmp_path)]
    rc, _, err = call(argv, capsys)
    line = assert_one_error_line(rc, err)
    assert "class 1" in line


@pytest.mark.parametrize(
    ("X", "y"),
    [
        ([[1.0, np.nan], [0.0, 1.0]], [1, -1]),  # NaN data
        ([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0, 1, 2]),  # three classes
        ([[1.0, 0.0], [0.0, 1.0]], [1, 1]),  # one class
    ],
    ids=["nan-data", "three-classes", "one-class"],
)
def test_bad_data_reaches_the_cli_as_one_line(
    X, y, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the CLI cannot name custom arrays; substitute the data factory the config uses
    monkeypatch.setattr(gdperceptron.engines.config, "make_data", lambda config: make_dataset(X, y))
    rc, _, err = call(["run", "--data", "gaussian", "--model", "linear", "--d", "2"], capsys)
    assert_one_error_line(rc, err)


# ---------------------------------------------------------- on a terminal (fake TTY)


class _FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _screen(text: str) -> list[str]:
    """What a terminal shows: '\\r' returns to column 0 and later text overwrites."""
    lines, cur, col = [], [], 0
    for ch in text:
        if ch == "\n":
            lines.append("".join(cur).rstrip())
            cur, col = [], 0
        elif ch == "\r":
            col = 0
        else:
            if col < len(cur):
                cur[col] = ch
            else:
                cur.append(ch)
            col += 1
    lines.append("".join(cur).rstrip())
    return [line for line in lines if line]


def test_progress_bar_is_cleared_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    rc = main(["run", "--data", "mnist", "--model", "linear", "--data-dir", "/nonexistent"])
    assert rc == 2
    screen = _screen(fake.getvalue())
    assert len(screen) == 1 and screen[0].startswith("gdperceptron: error:"), screen


def test_progress_bar_is_cleared_after_a_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _FakeTTY()
    monkeypatch.setattr(sys, "stderr", fake)
    rc = main(["run", *GAUSS, "--step", "5", "--seed", "3"])
    assert rc == 0
    assert _screen(fake.getvalue()) == []  # leave=False: nothing stays on the terminal
    assert "solved: True" in capsys.readouterr().out
