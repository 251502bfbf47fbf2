"""``gdperceptron complexity`` in-process on a tiny grid: the printed and saved numbers
against direct calls of the library, the figure files, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gdperceptron.analysis.complexity import fit_loglog_slope, iterations_to_solve, tied_step
from gdperceptron.cli import main
from gdperceptron.cli.complexity import grid

ARGS = ["--d-min", "10", "--d-max", "1000", "--points", "3", "--seeds", "4", "--seed", "3"]


def test_json_output_matches_the_library(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "figs"
    rc = main(["complexity", *ARGS, "--n-boot", "300", "--c", "0.5", "--out", str(out), "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res) >= {"linear", "tied", "config", "versions"}
    ds = [10, 100, 1000]
    for model in ("linear", "tied"):
        s = res[model]
        assert s["d"] == ds
        counts = []
        for j, d in enumerate(ds):
            step = 1.0 if model == "linear" else tied_step(d, 1.0, 0.5)
            c = iterations_to_solve(model, d, seeds=4, seed=3, step=step)
            counts.append(c.tolist())
            assert [s["q25"][j], s["median"][j], s["q75"][j]] == np.percentile(
                c, [25, 50, 75]
            ).tolist()
        slope, ci = fit_loglog_slope(ds, counts, n_boot=300, seed=3)
        assert s["slope"] == slope and s["slope_ci"] == list(ci)
    assert res["config"]["c"] == 0.5 and res["config"]["seeds"] == 4
    assert "jax" in res["versions"]
    saved = json.loads((out / "complexity.json").read_text())
    assert saved == {k: v for k, v in res.items() if k != "files"}
    for ext in (".png", ".pdf"):
        assert (out / f"complexity{ext}").stat().st_size > 1000


def test_table_output_and_figure_path(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["complexity", *ARGS, "--n-boot", "50", "--out", str(tmp_path / "a.png")]) == 0
    text = capsys.readouterr().out
    for d in ("10", "100", "1000"):
        assert any(line.split("|")[0].strip() == d for line in text.splitlines())
    assert "linear: iterations ~ d^" in text and "tied: iterations ~ d^" in text
    assert {p.name for p in tmp_path.iterdir()} == {"a.json", "a.png", "a.pdf"}


def test_grid_is_log_spaced_and_deduplicated() -> None:
    assert grid(10, 10**7, 13) == [int(x) for x in np.round(10 ** np.linspace(1, 7, 13))]
    assert grid(2, 3, 10) == [2, 3]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--points", "1"], "--points"),
        (["--d-min", "1"], "d-min"),
        (["--d-min", "100", "--d-max", "10"], "d-min"),
        (["--seeds", "0"], "seeds"),
        (["--c", "-1"], "--c"),
        (["--mu", "0"], "mu"),
    ],
)
def test_bad_input_exits_2(extra, message, tmp_path: Path, capsys) -> None:
    rc = main(["complexity", *ARGS, *extra, "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("gdperceptron: error:") and message in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("extra", [["--max-iter", "0"], ["--max-iter", "20"]])
def test_no_slope_is_fitted_on_unsolved_runs(extra, tmp_path: Path, capsys) -> None:
    rc = main(["complexity", *ARGS, *extra, "--n-boot", "20", "--out", str(tmp_path), "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    for model in ("linear", "tied"):
        s = res[model]
        if sum(s["unsolved"]):
            assert s["slope"] is None and s["slope_ci"] is None
            assert "lower bounds" in s["slope_note"] and "--max-iter" in s["slope_note"]
    assert res["linear"]["slope"] is None  # 16+ steps at d = 10: never within 20
    rc = main(["complexity", *ARGS, *extra, "--n-boot", "20", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert "linear: no slope:" in text and "linear: iterations ~" not in text
