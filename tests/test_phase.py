"""Phase diagrams over the step (docs/theory/diagnostics.md): the grid, the bisection at the
separation boundary, every entry against ``gdperceptron run`` for that step, the
``gamma -> inf`` limit against GD at huge steps, the command line and its figure."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gdperceptron import RunConfig, gaussian, linear, run, two_layer
from gdperceptron.analysis.phase import phase_diagram, step_grid, step_limit
from gdperceptron.cli import main
from gdperceptron.engines.scaled import run_scaled

CFG = RunConfig(data="minimal", model="tied", d=20, max_iter=1000)
GRID = "1e-2:1e2:17"


@pytest.fixture(scope="module")
def diagram():
    return phase_diagram(CFG, GRID, refine=3)


def test_step_grid() -> None:
    g = step_grid("1e-3:1e3:25")
    assert g.size == 25 and g[0] == pytest.approx(1e-3) and g[-1] == pytest.approx(1e3)
    np.testing.assert_allclose(np.diff(np.log10(g)), 0.25, rtol=1e-12)
    from gdperceptron import GDPerceptronError

    for bad in ("1e-3:1e3:24", "1:0.1:5", "a:b:c", "1:10", "1:10:2.5", "0:1:9"):
        with pytest.raises(GDPerceptronError, match="steps"):
            step_grid(bad)


def test_refinement_bisects_the_boundary(diagram) -> None:
    pd = diagram
    n = len(pd.steps)
    assert n == 17 + 3
    assert all(len(col) == n for col in (pd.outcome, pd.iterations, pd.tau, pd.engine))
    assert pd.steps == sorted(pd.steps)
    grid = step_grid(GRID)
    solved = [it is not None for s, it in zip(pd.steps, pd.iterations, strict=True) if s in grid]
    j = max(k for k in range(len(grid) - 1) if solved[k] and not solved[k + 1])
    assert solved[: j + 1] == [True] * (j + 1)  # small steps separate, large ones overflow
    lo, hi = grid[j], grid[j + 1]
    refined = [s for s, r in zip(pd.steps, pd.refined, strict=True) if r]
    assert len(refined) == 3 and all(lo < s < hi for s in refined)
    # bisection in log(gamma): the first point is the geometric mean of the bracket
    assert math.sqrt(lo * hi) in refined
    for it, out in zip(pd.iterations, pd.outcome, strict=True):
        assert (it is not None) == (out == "solved")


def test_every_entry_equals_gdperceptron_run(diagram, capsys) -> None:
    pd = diagram
    picks = [0, pd.refined.index(True), len(pd.steps) - 1]
    for k in picks:
        assert main(["run", "--data", "minimal", "--model", "tied", "--d", "20",
                     "--max-iter", "1000", "--step", repr(pd.steps[k]), "--json"]) == 0  # fmt: skip
        out = json.loads(capsys.readouterr().out)
        assert out["iterations"] == pd.iterations[k]
        assert out["stop_reason"] == pd.outcome[k]
        assert out["engine"] == pd.engine[k]


def test_cli_json_figure_and_replot(diagram, tmp_path, capsys) -> None:
    args = ["phase", "--data", "minimal", "--model", "tied", "--d", "20", "--max-iter",
            "1000", "--steps", GRID, "--refine", "3", "--out", str(tmp_path), "--json",
            "--sharpness-every", "250"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    pd = diagram
    assert out["steps"] == pd.steps and out["outcome"] == pd.outcome
    assert out["iterations"] == pd.iterations and out["tau"] == pd.tau
    assert (tmp_path / "phase.png").stat().st_size > 0
    assert json.loads((tmp_path / "phase.json").read_text()) == out
    paths = json.loads((tmp_path / "sharpness.json").read_text())
    assert 1 <= len(paths) <= 4 and (tmp_path / "sharpness.png").stat().st_size > 0
    for p in paths:  # runs that stay finite, recorded at t = 0, 250, ..., 1000
        assert p["iterations"] == [0, 250, 500, 750, 1000] and p["edge"] == 2 / p["step"]
    assert main(["phase", "--plot", str(tmp_path / "phase.json"), str(tmp_path / "phase.json"),
                 "--out", str(tmp_path / "both")]) == 0  # fmt: skip
    assert (tmp_path / "both" / "phase.png").stat().st_size > 0


def test_cli_errors(tmp_path, capsys) -> None:
    assert main(["phase", "--steps", "1e-3:1e3:10", "--out", str(tmp_path)]) == 2
    assert "quarter decade" in capsys.readouterr().err
    assert main(["phase", "--step", "1", "--out", str(tmp_path)]) == 2
    assert "--steps" in capsys.readouterr().err
    assert main(["phase", "--plot", str(tmp_path / "missing.json")]) == 2
    assert "--plot" in capsys.readouterr().err


def test_linear_limit_is_the_hard_perceptron_and_gd_at_a_huge_step() -> None:
    data = gaussian(40, 5, 0.02, seed=3)
    model, v0 = linear(5), np.zeros(5)
    lim = step_limit(model, data, "gd", v0, max_iter=5000)
    assert lim.rule == "perceptron" and lim.iterations is not None
    # from v_0 = 0 the hard perceptron's first step has every weight 1/2 = sigma(0)
    hard = run(model, data, "perceptron", 1.0, theta0=v0, max_iter=5000)
    assert hard.solved_iteration == lim.iterations
    huge = run(model, data, "gd", 1e9, theta0=v0, max_iter=5000, record_every=1)
    assert huge.solved_iteration == lim.iterations
    assert huge["n_misclassified"].tolist() == list(lim.n_misclassified)


def test_homogeneous_limit_is_gd_at_a_huge_step() -> None:
    # k = 2: the direction follows phi+ = sum_i h_i grad m_i(phi) / ||.||; GD at gamma =
    # 1e6 ... 1e15 (scaled engine, exact at that scale) misclassifies the same samples
    data = gaussian(40, 4, 0.1, seed=0)
    net = two_layer(4, 8, "relu")
    th = net.initial_params(0)
    lim = step_limit(net, data, "gd", th, max_iter=30)
    assert lim.rule == "normalized-perceptron" and len(lim.n_misclassified) == 31
    for gamma in (1e6, 1e15):
        traj = run_scaled(net, data, "gd", gamma, theta0=th, max_iter=30, record_every=1)
        assert traj["n_misclassified"].tolist() == list(lim.n_misclassified)
    assert step_limit(two_layer(4, 8, "tanh"), data, "gd", th, max_iter=30).rule is None


def test_one_compilation_for_the_whole_sweep(monkeypatch) -> None:
    # count the run loops compiled during the sweep: at most one (none when an equal model
    # function was compiled for these shapes before), not one per step
    import gdperceptron.engines.trajectory as trajectory

    compiled, original = [], trajectory._compiled_chunk

    def counting(model, key, args, build):
        if key not in trajectory._COMPILED.get(model.apply, {}):
            compiled.append(key)
        return original(model, key, args, build)

    monkeypatch.setattr(trajectory, "_compiled_chunk", counting)
    cfg = RunConfig(data="gaussian", model="linear", n=20, d=3, max_iter=200)
    pd = phase_diagram(cfg, "1e-1:1e1:9", refine=0)
    assert len(pd.steps) == 9 and all(o == "solved" for o in pd.outcome)
    assert len(compiled) <= 1


def test_refinement_where_every_large_step_separates() -> None:
    # the linear model from v_0 = 0: small steps run out of budget, large ones separate;
    # the bisection then brackets the last change of outcome on the grid
    cfg = RunConfig(data="gaussian", model="linear", n=40, d=5, margin=0.02, max_iter=60)
    pd = phase_diagram(cfg, "1e-2:1e2:17", refine=4)
    grid = step_grid("1e-2:1e2:17")
    on_grid = [it is not None for s, it in zip(pd.steps, pd.iterations, strict=True) if s in grid]
    assert on_grid[-1] and not on_grid[0]
    j = max(k for k in range(16) if on_grid[k] != on_grid[k + 1])
    refined = [(s, it) for s, it, r in zip(pd.steps, pd.iterations, pd.refined, strict=True) if r]
    assert len(refined) == 4 and all(grid[j] < s < grid[j + 1] for s, _ in refined)
