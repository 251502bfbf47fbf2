"""``gdperceptron run`` with the user's own data file, model factory and saved trajectory."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

import gdperceptron as gp
from gdperceptron.cli import main

FACTORY = textwrap.dedent(
    """
    import numpy as np

    def affine(d):
        params = {"w": np.linspace(-1.0, 1.0, d), "b": np.zeros(())}
        return (lambda p, X: X @ p["w"] + p["b"]), params
    """
)


def _call(argv, capsys):
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = np.where(X @ np.array([1.0, -2.0, 0.5]) > 0, "pos", "neg")
    csv = tmp_path / "mine.csv"
    csv.write_text("\n".join(f"{a},{b},{c},{lab}" for (a, b, c), lab in zip(X, y, strict=True)))
    model = tmp_path / "mymodel.py"
    model.write_text(FACTORY)
    return csv, model


def test_run_on_a_data_file_with_a_model_factory_and_save(files, tmp_path, capsys) -> None:
    csv, model_file = files
    spec = f"{model_file}:affine"
    save = tmp_path / "out" / "traj.npz"
    argv = ["run", "--data", str(csv), "--model", spec, "--step", "2", "--json",
            "--save", str(save)]  # fmt: skip
    rc, out, err = _call(argv, capsys)
    assert rc == 0 and err == ""
    res = json.loads(out)
    assert res["saved"] == str(save)
    assert res["config"]["data"] == str(csv) and res["config"]["model"] == spec
    assert res["config"]["d"] == 3 and res["config"]["n"] == 40
    for absent in ("mu", "width", "classes", "margin"):
        assert absent not in res["config"]
    # the same run through the library
    cfg = gp.RunConfig(data=str(csv), model=spec, step=2.0)
    traj = gp.execute(cfg)
    assert res["iterations"] == traj.solved_iteration and res["final_loss"] == traj.final_loss
    with np.load(save, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["loss"], traj.metrics["loss"])
        np.testing.assert_array_equal(f["final_params"], gp.load_saved(save)["final_params"])
        assert json.loads(str(f["config"]))["config"]["model"] == spec


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--n", "10"], "--n does not apply"),
        (["--width", "4"], "--width does not apply"),
        (["--label-column", "0", "--data", "minimal"], "--label-column does not apply"),
    ],
)
def test_options_that_do_not_apply_to_files_or_factories(files, extra, match, capsys) -> None:
    csv, model_file = files
    argv = ["run", "--data", str(csv), "--model", f"{model_file}:affine", *extra]
    rc, out, err = _call(argv, capsys)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and match in err


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--data", "/no/such/file.csv"], "neither a data set"),
        (["--model", "nonsense"], "neither a model"),
        (["--model", "/no/such/file.py:f"], "does not exist"),
    ],
)
def test_bad_files_and_factories_are_one_line(argv, match, capsys) -> None:
    rc, out, err = _call(["run", *argv], capsys)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and match in err


def test_engine_reduced_says_when_it_cannot_pay(capsys) -> None:
    base = ["run", "--data", "gaussian", "--model", "linear", "--n", "20", "--engine", "reduced"]
    rc, out, _ = _call([*base, "--d", "5", "--json"], capsys)
    assert rc == 0 and "k = 5 coordinates for d = 5 features" in json.loads(out)["note"]
    rc, out, _ = _call([*base, "--d", "100", "--json"], capsys)
    assert rc == 0 and "note" not in json.loads(out)
    rc, out, _ = _call([*base, "--d", "5"], capsys)
    assert rc == 0 and "note: engine 'reduced'" in out
