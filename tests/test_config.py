"""Run configurations tell the truth: only the options that apply, the real dimensions of
the data, custom models recorded as given; an option that does not apply is an error."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import gdperceptron as gp
from gdperceptron.engines.runner import summarize
from gdperceptron.errors import GDPerceptronError


def test_resolved_config_records_only_what_applies_and_the_real_d() -> None:
    cfg = gp.RunConfig(data="digits", model="linear", classes=(3, 8), step=1.0, max_iter=50)
    traj = gp.execute(cfg)
    res = summarize(cfg, traj)["config"]
    data = gp.digits((3, 8))
    assert res["d"] == data.d == 64 and res["n"] == data.n
    assert res["classes"] == [3, 8]
    for absent in ("mu", "margin", "width", "activation", "depth", "data_dir", "label_column"):
        assert absent not in res
    two = gp.RunConfig(data="minimal", model="two-layer", d=7, step=1.0).resolved()
    assert (two["d"], two["mu"], two["width"], two["activation"]) == (7, 1.0, 16, "relu")
    assert "classes" not in two and "depth" not in two and "n" not in two


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"data": "digits", "d": 10}, "option d does not apply to data 'digits'"),
        ({"data": "loss-unreliable", "n": 5}, "option n does not apply"),
        ({"data": "minimal", "margin": 0.2}, "option margin does not apply"),
        ({"data": "gaussian", "classes": (0, 1)}, "option classes does not apply"),
        ({"model": "linear", "width": 8}, "option width does not apply to model 'linear'"),
        ({"model": "two-layer", "depth": 4}, "option depth does not apply"),
        ({"model": "mlp", "train_second_layer": False}, "option train_second_layer"),
        ({"model": "tied", "activation": "tanh"}, "option activation does not apply"),
        ({"model": "nonsense"}, "unknown model 'nonsense'"),
        ({"data": "minimal", "label_column": 0}, "option label_column does not apply"),
    ],
)
def test_an_option_that_does_not_apply_is_an_error(changes, match) -> None:
    with pytest.raises(GDPerceptronError, match=match):
        gp.RunConfig().replace(**changes)


FACTORIES = textwrap.dedent(
    """
    import jax.numpy as jnp
    import numpy as np
    import gdperceptron as gp

    def pair(d):
        params = {"w": np.linspace(-1.0, 1.0, d)}
        return (lambda p, X: X @ p["w"]), params

    def model(d):
        return gp.two_layer(d, 3, "tanh")

    def wrong(d):
        return 42

    def broken(d):
        raise ValueError("no such layer")
    """
)


@pytest.fixture()
def factory_file(tmp_path):
    path = tmp_path / "my_models.py"
    path.write_text(FACTORIES)
    return path


def test_a_custom_model_from_a_file_runs_and_is_recorded_as_given(factory_file) -> None:
    spec = f"{factory_file}:pair"
    cfg = gp.RunConfig(data="gaussian", model=spec, d=6, n=20, step=1.0, max_iter=30)
    traj = gp.execute(cfg)
    data = gp.gaussian(20, 6, 0.1, seed=0)
    w = np.linspace(-1.0, 1.0, 6)
    assert traj.metrics["loss"][0] == pytest.approx(
        float(np.mean(np.logaddexp(0.0, -data.y * (data.X @ w)))), rel=1e-14
    )
    res = summarize(cfg, traj)["config"]
    assert res["model"] == spec and "width" not in res and "init_scale" in res
    # a factory that returns a Model gets its seeded initialiser
    cfg2 = gp.RunConfig(data="gaussian", model=f"{factory_file}:model", d=6, n=20, seed=4)
    want = gp.two_layer(6, 3, "tanh").initial_params(4)
    np.testing.assert_array_equal(gp.build(cfg2).theta0, want)


@pytest.mark.parametrize(
    "suffix, match",
    [
        (":wrong", "must return a Model or \\(apply_fn, params\\)"),
        (":broken", "failed for d = 6: ValueError: no such layer"),
        (":absent", "has no callable 'absent'"),
    ],
)
def test_bad_factories_are_one_clear_error(factory_file, suffix, match) -> None:
    cfg = gp.RunConfig(data="gaussian", model=f"{factory_file}{suffix}", d=6, n=20)
    with pytest.raises(GDPerceptronError, match=match):
        gp.build(cfg)


def test_missing_files_and_modules_are_one_clear_error(tmp_path) -> None:
    with pytest.raises(GDPerceptronError, match="does not exist"):
        gp.build(gp.RunConfig(model=f"{tmp_path}/none.py:f"))
    with pytest.raises(GDPerceptronError, match="cannot be imported"):
        gp.build(gp.RunConfig(model="no_such_package_xyz.models:f"))
    with pytest.raises(GDPerceptronError, match="init_scale does not apply"):
        (tmp_path / "m.py").write_text(FACTORIES)
        gp.build(gp.RunConfig(data="gaussian", d=6, model=f"{tmp_path}/m.py:pair", init_scale=2))


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"d": "100"}, "d must be an integer >= 1, got '100'"),
        ({"seed": 1.5}, "seed must be an integer >= 0"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"max_iter": float("inf")}, "max_iter must be an integer"),
        ({"mu": float("nan")}, "mu must be a positive finite number"),
        ({"data": "gaussian", "margin": -0.1}, "margin must be a finite number >= 0"),
        ({"model": "mlp", "depth": 2000}, "depth must be at most 64"),
        ({"model": "two-layer", "width": 0}, "width must be an integer >= 1"),
        ({"stop_when_solved": "yes"}, "stop_when_solved must be True or False"),
        ({"init_scale": 1j}, "init_scale must be a finite number >= 0"),
    ],
)
def test_field_values_are_checked(changes, match) -> None:
    with pytest.raises(GDPerceptronError, match=match):
        gp.RunConfig().replace(**changes)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 10, "d": 3, "seed": None}, "seed must be an integer"),
        ({"n": "10", "d": 3, "seed": 0}, "n must be an integer"),
        ({"n": 10, "d": 3, "margin": float("nan"), "seed": 0}, "margin must be a finite"),
    ],
)
def test_gaussian_arguments_are_checked(kwargs, match) -> None:
    with pytest.raises(GDPerceptronError, match=match):
        gp.gaussian(**kwargs)
