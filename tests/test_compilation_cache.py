"""JAX's persistent compilation cache: off in library use, on for the command line, the
pipeline's workers and the estimator, with an opt-out (each check in a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")

LIBRARY_USE = """
import gdperceptron, jax
from gdperceptron import linear, minimal_example, run
run(linear(4), minimal_example(d=4), "gd", 1.0, theta0=[0.0] * 4, max_iter=3)
print(repr(jax.config.jax_compilation_cache_dir))
"""

ESTIMATOR = """
import jax, numpy as np
from gdperceptron.estimator import GDClassifier
X = np.array([[1.0, 2.0], [2.0, 1.0], [-1.0, -2.0], [-2.0, -1.0]])
GDClassifier(random_state=0).fit(X, [0, 0, 1, 1])
print(repr(jax.config.jax_compilation_cache_dir))
"""

WORKER = """
import jax
import os
from gdperceptron.pipeline.executors import _init_worker
_init_worker(os.getppid())
print(repr(jax.config.jax_compilation_cache_dir))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "GDPERCEPTRON_"))}
    env.update(PYTHONPATH=SRC, XDG_CACHE_HOME=str(tmp_path), JAX_PLATFORMS="cpu", **extra)
    return env


def _python(code: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def _cache_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "gdperceptron" / "jax"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_library_use_leaves_jax_config_alone(tmp_path: Path) -> None:
    assert _python(LIBRARY_USE, _env(tmp_path)) == "None"
    assert not (tmp_path / "gdperceptron").exists()


@pytest.mark.parametrize("code", [ESTIMATOR, WORKER], ids=["estimator", "pipeline-worker"])
def test_estimator_and_workers_enable_the_cache(tmp_path: Path, code: str) -> None:
    assert _python(code, _env(tmp_path)) == repr(str(tmp_path / "gdperceptron" / "jax"))
    off = _env(tmp_path, GDPERCEPTRON_NO_COMPILATION_CACHE="1")
    assert _python(code, off) == "None"


def _cli_run(env: dict[str, str]) -> dict:
    args = ["run", "--model", "linear", "--d", "8", "--max-iter", "5", "--engine", "full", "--json"]
    proc = subprocess.run(
        [sys.executable, "-m", "gdperceptron.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_cli_writes_the_cache_and_reuses_it_with_the_same_numbers(tmp_path: Path) -> None:
    first = _cli_run(_env(tmp_path))
    files = _cache_files(tmp_path)
    assert files, "the command line wrote no compiled program to the cache"
    second = _cli_run(_env(tmp_path))  # read back from the cache
    # the run loop is read back, not compiled and written again; small eager ops near the
    # cache's 0.05 s compile-time threshold may be written by either run, so only the loop's
    # entries are compared
    loops = {p.name for p in files if p.name.startswith("jit_run_chunk")}
    assert loops, "the run loop was not written to the cache"
    assert {p.name for p in _cache_files(tmp_path) if p.name.startswith("jit_run_chunk")} == loops
    for key in ("final_loss", "final_min_margin", "n_steps", "stop_reason"):
        assert first[key] == second[key]


def test_cli_opt_out(tmp_path: Path) -> None:
    _cli_run(_env(tmp_path, GDPERCEPTRON_NO_COMPILATION_CACHE="1"))
    assert _cache_files(tmp_path) == []


def test_a_folder_chosen_by_the_user_is_kept(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    env = _env(tmp_path, JAX_COMPILATION_CACHE_DIR=str(mine))
    assert _python(ESTIMATOR, env) == repr(str(mine))
    assert not (tmp_path / "gdperceptron").exists()
