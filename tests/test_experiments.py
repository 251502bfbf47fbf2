"""Every experiment of the registry at quick size (every task, then analyze and plot into a
temporary folder), checked for what the report needs; and the checks of the acceleration
experiment's core computations on tiny cases (ablations: tests/test_experiment_ablations.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from gdperceptron import (
    digits,
    linear,
    load_named,
    make_model,
    run,
)
from gdperceptron.experiments import NAMES, Analysis, get_experiment
from gdperceptron.experiments import acceleration as acc
from gdperceptron.experiments.base import VERDICTS, SubClaim, overall_status

MINE = NAMES
PLAIN = (int, float, str, bool, type(None), np.integer, np.floating)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """``name -> (experiment, records, analysis, stems, out_dir)`` of a quick run, cached."""
    cache: dict[str, tuple] = {}

    def get(name: str) -> tuple:
        if name not in cache:
            exp = get_experiment(name)
            params = [json.loads(json.dumps(p)) for p in exp.make_tasks(True, None)]
            records = [(p, json.loads(json.dumps(exp.run_task(p)))) for p in params]
            out = tmp_path_factory.mktemp(name)
            cache[name] = (exp, records, exp.analyze(records), exp.plot(records, out), out)
        return cache[name]

    return get


@pytest.mark.parametrize("name", MINE)
def test_quick_run_is_well_formed(quick, name):
    """The quick run of every experiment gives what the report renders: numbered
    sub-claims with a rule, evidence and one of the four verdicts; tables of plain cells
    (numbers or short texts, never a container's repr); JSON-able named numbers; the
    decisive figure among those written."""
    exp, records, analysis, stems, out = quick(name)
    assert exp.name == name
    assert records and all(isinstance(r, dict) for _, r in records)
    assert isinstance(analysis, Analysis) and analysis.claims
    numbers = [c.number for c in analysis.claims]
    assert len(set(numbers)) == len(numbers), numbers
    for c in analysis.claims:
        assert isinstance(c, SubClaim) and c.verdict in VERDICTS
        assert c.claim and c.criterion and c.evidence
        assert c.verdict != "partly" or c.condition
    assert analysis.status == overall_status(analysis.claims)
    assert analysis.reproduced == (analysis.status == "reproduced")
    tables = [analysis.table] if analysis.table else []
    tables += [t.rows for t in analysis.tables]
    assert tables and all(rows for rows in tables)
    for rows in tables:
        for row in rows:
            assert all(isinstance(k, str) and k for k in row)
            bad = {k: v for k, v in row.items() if not isinstance(v, PLAIN)}
            assert not bad, f"{name}: cells that are not numbers or text: {bad}"
    assert isinstance(analysis.numbers, dict) and analysis.numbers
    json.dumps(analysis.numbers)  # JSON-able
    assert analysis.decisive_figure in stems
    for stem in stems:
        for ext in ("png", "pdf"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000
    assert all(isinstance(p, dict) for p, _ in records)


# -------------------------------------------------------------------------- acceleration


def test_acceleration_counts_equal_direct_run():
    data = digits((3, 8), n=100, seed=0)
    for key, step in (("linear", 10.0), ("relu w16", 1.0)):
        got = acc.iterations_to_separate(key, data, 0, step, 500)
        spec = dict(acc.MODELS[key])
        model = make_model(spec.pop("name"), data.d, **spec)
        theta0 = np.zeros(data.d) if key == "linear" else model.initial_params(0)
        traj = run(model, data, "gd", step, theta0=theta0, max_iter=500)
        assert got["iterations"] == traj.solved_iteration is not None
    # independent NumPy LR+GD for the linear model
    A, n, v, t = data.A, data.n, np.zeros(data.d), 0
    while np.any(A @ v <= 0):
        v, t = v + 10.0 / n * expit(-(A @ v)) @ A, t + 1
    assert acc.iterations_to_separate("linear", data, 0, 10.0, 500)["iterations"] == t


def _write_idx(path: Path, array: np.ndarray) -> None:
    dims = array.shape
    header = bytes([0, 0, 8, len(dims)]) + b"".join(int(k).to_bytes(4, "big") for k in dims)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_acceleration_data_dir_tasks(tmp_path):
    skipped = [t for t in acc.tasks_with_data(True, None) if t["part"] == "skipped"]
    assert sorted(t["data"] for t in skipped) == sorted(acc.IMAGES)
    folder = tmp_path / "mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    _write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (150, 28, 28)))
    _write_idx(folder / "train-labels-idx1-ubyte", np.arange(150) % 2)
    tasks = acc.tasks_with_data(True, str(tmp_path))
    mnist = [t for t in tasks if t["data"] == "mnist"]
    assert mnist and all(t["part"] == "run" and t["data_dir"] == str(tmp_path) for t in mnist)
    assert {t["data"] for t in tasks if t["part"] == "skipped"} == {"fashion-mnist", "cifar10"}
    params = {**next(t for t in mnist if t["model"] == "linear"), "steps": [10.0]}
    result = acc.run_task(params)
    data = load_named("mnist", data_dir=str(tmp_path), classes=(0, 1), n=params["n"], seed=0)
    traj = run(linear(784), data, "gd", 10.0, theta0=np.zeros(784), max_iter=params["max_iter"])
    assert result["runs"][0]["iterations"] == traj.solved_iteration
    note = acc.run_task(next(t for t in tasks if t["part"] == "skipped"))
    assert note["skipped"] is True and note["reason"]
