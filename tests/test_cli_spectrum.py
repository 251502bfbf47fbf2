"""``gdperceptron spectrum``: closed forms vs an eigensolver, growth check, files, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from reference import explicit_A

from gdperceptron.cli import main


@pytest.mark.parametrize(("d", "mu"), [(7, 0.5), (40, 2.0)])
def test_json_matches_an_independent_eigensolver(d, mu, tmp_path, capsys) -> None:
    rc = main(["spectrum", "--d", str(d), "--mu", str(mu), "--steps", "30",
               "--out", str(tmp_path), "--json"])  # fmt: skip
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    a2 = -np.ones(d)
    a2[0] -= mu
    eig = np.sort(np.abs(np.linalg.eigvalsh(explicit_A(a2))))
    assert out["closed_form"]["lambda2"] == pytest.approx(eig[-1], rel=1e-12)
    assert out["closed_form"]["mu"] == pytest.approx(eig[-3], rel=1e-12)
    assert out["closed_form"]["lambda1"] == pytest.approx(np.sqrt(2 * d), rel=1e-15)
    # hard perceptron: theta_{t+1} = (I + M_t) theta_t exactly, so the defect is rounding
    assert out["max_growth_defect"] < 1e-12
    saved = json.loads((tmp_path / "spectrum.json").read_text())
    assert set(saved["components"]) == {"v1+", "v1-", "v2+", "v2-", "vmu+", "vmu-"}
    assert (tmp_path / "spectrum.png").stat().st_size > 0
    assert (tmp_path / "spectrum.pdf").stat().st_size > 0


def test_gd_defect_is_bounded_by_the_error_term(tmp_path, capsys) -> None:
    rc = main(["spectrum", "--d", "30", "--algorithm", "gd", "--steps", "40",
               "--out", str(tmp_path), "--json"])  # fmt: skip
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["max_growth_defect"] > 1e-6  # LR+GD is not the hard perceptron ...
    assert out["max_defect_minus_xi"] <= 1e-12  # ... but differs from it by at most ||xi_t||


@pytest.mark.parametrize("argv", [["--d", "5000"], ["--steps", "0"], ["--mu", "-1"]])
def test_bad_input_is_one_line(argv, tmp_path, capsys) -> None:
    assert main(["spectrum", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gdperceptron: error:")
