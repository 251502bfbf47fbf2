"""The model protocol: models built from any pytree, compile caches keyed on the model's
function (never its name), and float64 whatever the process's JAX setting.

References are independent: plain NumPy forward passes and a NumPy GD loop.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gdperceptron as gp
from gdperceptron.engines.trajectory import compiled_count
from gdperceptron.errors import GDPerceptronError

RNG = np.random.default_rng(3)
X = RNG.standard_normal((12, 5))
Y = np.where(RNG.standard_normal(12) > 0, 1.0, -1.0)
DATA = gp.make_dataset(X, Y)


def _np_loss(margins: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, -margins)))


def _same_name_models() -> tuple[gp.Model, gp.Model]:
    """Two models called "linear" of the same size whose functions differ by a factor 3."""

    def init(seed: int, scale: float) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal(5)

    a = gp.Model("linear", 5, 5, lambda th, X: X @ th, init, 1.0, {})
    b = gp.Model("linear", 5, 5, lambda th, X: 3.0 * (X @ th), init, 1.0, {})
    return a, b


# ------------------------------------------------- caches keyed on the function


def test_same_name_same_size_models_report_their_own_losses() -> None:
    a, b = _same_name_models()
    theta0 = a.initial_params(0)
    ta = gp.run(a, DATA, "gd", 0.1, theta0=theta0, max_iter=3)
    tb = gp.run(b, DATA, "gd", 0.1, theta0=theta0, max_iter=3)
    want_a, want_b = _np_loss(Y * (X @ theta0)), _np_loss(Y * 3.0 * (X @ theta0))
    assert want_a != pytest.approx(want_b, rel=1e-3)
    assert ta.metrics["loss"][0] == pytest.approx(want_a, rel=1e-14)
    assert tb.metrics["loss"][0] == pytest.approx(want_b, rel=1e-14)
    # the trajectory agrees with itself: its last recorded loss is its final margins' loss
    assert tb.final_loss == pytest.approx(_np_loss(tb.final_margins), rel=1e-14)


def test_a_custom_model_named_like_a_builtin_is_not_the_builtin() -> None:
    data = gp.minimal_example(6)
    custom = gp.Model("tied", 6, 8, lambda th, X: X @ th[2:] * th[0], None, 1.0, {})
    theta0 = np.linspace(0.1, 0.8, 8)
    builtin = gp.run(gp.tied(6), data, "gd", 0.5, theta0=theta0, max_iter=2)
    mine = gp.run(custom, data, "gd", 0.5, theta0=theta0, max_iter=2)
    want = _np_loss(data.y * (data.X @ theta0[2:]) * theta0[0])
    assert mine.metrics["loss"][0] == pytest.approx(want, rel=1e-14)
    assert builtin.metrics["loss"][0] != pytest.approx(want, rel=1e-6)


def test_reduced_engine_rebuilds_the_models_own_function() -> None:
    """A model called "linear" that declares its first layer: the reduced engine must
    rebuild *it* in k dimensions, not the built-in linear model."""

    def scaled_linear(d: int) -> gp.Model:
        layer = gp.FirstLayer(0, 1, None, lambda k, _: scaled_linear(k))
        return gp.Model(
            "linear", d, d, lambda th, X: 2.0 * (X @ th), None, 1.0, {}, degree=1, first_layer=layer
        )

    data = gp.gaussian(8, 40, 0.1, seed=1)
    theta0 = np.random.default_rng(0).standard_normal(40) * 0.1
    full = gp.run(scaled_linear(40), data, "gd", 0.3, theta0=theta0, max_iter=50)
    red = gp.run_reduced(scaled_linear(40), data, "gd", 0.3, theta0=theta0, max_iter=50)
    assert red.config["k"] == 8
    np.testing.assert_allclose(red.metrics["loss"], full.metrics["loss"], rtol=1e-10)
    assert full.metrics["loss"][0] == pytest.approx(
        _np_loss(data.y * 2.0 * (data.X @ theta0)), rel=1e-14
    )


def test_builtin_models_with_equal_options_share_one_compilation() -> None:
    a, b = gp.two_layer(5, 4), gp.two_layer(5, 4)
    assert a is not b and a.apply == b.apply
    assert gp.two_layer(5, 4, "tanh").apply != a.apply
    theta0 = a.initial_params(0)
    gp.run(a, DATA, "gd", 0.1, theta0=theta0, max_iter=2)
    n = compiled_count(a)
    gp.run(b, DATA, "gd", 0.7, theta0=theta0, max_iter=2)  # another step: no new compile
    assert compiled_count(b) == n >= 1


def test_the_cache_does_not_keep_a_dead_model_alive() -> None:
    model = gp.from_apply(lambda p, X: X @ p["w"], {"w": np.zeros(5)})
    ref = weakref.ref(model.apply)
    gp.run(model, DATA, "gd", 0.1, max_iter=2)
    assert compiled_count(model) == 1
    del model
    gc.collect()
    assert ref() is None


# ----------------------------------------------------------------- from_apply


def _net_params(seed: int, width: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "hidden": {"W": rng.standard_normal((width, 5)) / np.sqrt(5)},
        "out": rng.standard_normal(width) / np.sqrt(width),
    }


def _net_apply(p: dict, X: jax.Array) -> jax.Array:
    return jax.nn.relu(X @ p["hidden"]["W"].T) @ p["out"]


def test_pytree_model_equals_the_builtin_two_layer_network() -> None:
    params = _net_params(0)
    model = gp.from_apply(_net_apply, params, name="mine", degree=2)
    builtin = gp.two_layer(5, 4)
    flat = np.concatenate([params["hidden"]["W"].ravel(), params["out"]])  # builtin order
    ours = gp.run(model, DATA, "gd", 0.5, theta0=params, max_iter=40, stop_when_solved=False)
    ref = gp.run(builtin, DATA, "gd", 0.5, theta0=flat, max_iter=40, stop_when_solved=False)
    np.testing.assert_allclose(ours.metrics["loss"], ref.metrics["loss"], rtol=1e-13)
    # final parameters come back in the structure theta0 had
    assert set(ours.final_params) == {"hidden", "out"}
    np.testing.assert_allclose(ours.final_params["out"], ref.final_params[20:], rtol=1e-12)
    np.testing.assert_allclose(
        ours.final_params["hidden"]["W"].ravel(), ref.final_params[:20], rtol=1e-12
    )


def test_pytree_model_against_a_numpy_gd_loop() -> None:
    params = _net_params(1)
    model = gp.from_apply(_net_apply, params)
    traj = gp.run(model, DATA, "gd", 0.8, max_iter=25, stop_when_solved=False)
    W, u = params["hidden"]["W"].copy(), params["out"].copy()
    losses = []
    for _ in range(26):
        H = X @ W.T
        m = Y * (np.maximum(H, 0.0) @ u)
        losses.append(_np_loss(m))
        s = -Y / (1.0 + np.exp(m)) / len(Y)  # dF/df_i
        gu = np.maximum(H, 0.0).T @ s
        gW = ((s[:, None] * (H > 0)) * u[None, :]).T @ X
        W, u = W - 0.8 * gW, u - 0.8 * gu
    np.testing.assert_allclose(traj.metrics["loss"], losses, rtol=1e-12)


def test_theta0_flat_or_pytree_and_final_params_follow_it() -> None:
    params = _net_params(2)
    model = gp.from_apply(_net_apply, params)
    flat = model.flatten(params)
    by_tree = gp.run(model, DATA, "perceptron", 1.0, theta0=params, max_iter=5)
    by_flat = gp.run(model, DATA, "perceptron", 1.0, theta0=flat, max_iter=5)
    assert isinstance(by_flat.final_params, np.ndarray)
    np.testing.assert_array_equal(model.flatten(by_tree.final_params), by_flat.final_params)


@pytest.mark.parametrize(
    "theta0, match",
    [
        ({"hidden": {"W": np.zeros((4, 5))}}, "another structure"),
        ({"hidden": {"W": np.zeros((3, 5))}, "out": np.zeros(4)}, "another structure"),
        (np.zeros(7), r"shape \(24,\)"),
        ("abc", "string"),
        (np.full(24, np.nan), "non-finite"),
        (np.zeros(24) + 1j, "real"),
    ],
)
def test_bad_theta0_is_one_clear_error(theta0, match) -> None:
    model = gp.from_apply(_net_apply, _net_params(0))
    with pytest.raises(GDPerceptronError, match=match):
        gp.run(model, DATA, "gd", 1.0, theta0=theta0, max_iter=1)


def test_from_apply_validates_its_arguments() -> None:
    with pytest.raises(GDPerceptronError, match="apply_fn must be callable"):
        gp.from_apply(3, {"w": np.zeros(2)})
    with pytest.raises(GDPerceptronError, match="no array leaves"):
        gp.from_apply(_net_apply, {})
    with pytest.raises(GDPerceptronError, match="degree"):
        gp.from_apply(_net_apply, _net_params(0), degree=0)
    model = gp.from_apply(_net_apply, _net_params(0), d=7)
    with pytest.raises(GDPerceptronError, match="d = 7"):
        gp.run(model, DATA, "gd", 1.0, max_iter=1)
    with pytest.raises(GDPerceptronError, match="no seeded initialiser"):
        model.initial_params(0)


def test_run_refuses_what_is_not_a_model_or_a_dataset() -> None:
    with pytest.raises(GDPerceptronError, match="model must be a gdperceptron Model"):
        gp.run("linear", DATA, "gd", 1.0, theta0=np.zeros(5))
    with pytest.raises(GDPerceptronError, match="data must be a gdperceptron Dataset"):
        gp.run(gp.linear(5), (X, Y), "gd", 1.0, theta0=np.zeros(5))


# ------------------------------------------------------- float64, no global state


def test_results_are_float64_and_equal_with_x64_switched_off() -> None:
    model = gp.two_layer(5, 4)
    theta0 = model.initial_params(0)
    on = gp.run(model, DATA, "gd", 2.0, theta0=theta0, max_iter=30)
    with jax.enable_x64(False):
        off = gp.run(model, DATA, "gd", 2.0, theta0=theta0, max_iter=30)
        step = gp.perceptron_step(model, X, Y, "gd", 2.0)(theta0)
        assert jnp.ones(1).dtype == jnp.float32  # the user's setting is untouched
    assert off.final_params.dtype == np.float64 and step.dtype == np.float64
    np.testing.assert_array_equal(off.metrics["loss"], on.metrics["loss"])
    np.testing.assert_array_equal(off.final_params, on.final_params)


def test_import_changes_no_global_jax_setting() -> None:
    code = (
        "import os, jax\n"
        "before = (jax.config.jax_enable_x64, os.environ.get('JAX_PLATFORMS'))\n"
        "import gdperceptron as gp, numpy as np\n"
        "after = (jax.config.jax_enable_x64, os.environ.get('JAX_PLATFORMS'))\n"
        "assert before == after == (False, None), (before, after)\n"
        "t = gp.run(gp.linear(3), gp.minimal_example(3), 'gd', 1.0, theta0=np.zeros(3))\n"
        "assert t.final_params.dtype == np.float64 and not jax.config.jax_enable_x64\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "JAX_PLATFORMS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ------------------------------------------------------------- saved trajectories


def test_a_saved_trajectory_reads_back_with_numpy_alone(tmp_path) -> None:
    params = _net_params(4)
    model = gp.from_apply(_net_apply, params)
    traj = gp.run(model, DATA, "gd", 0.5, max_iter=7, stop_when_solved=False)
    path = gp.save_trajectory(traj, tmp_path / "run", config={"seed": 4})
    assert path.name == "run.npz"
    with np.load(path, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["iterations"], traj.iterations)
        for name, values in traj.metrics.items():
            np.testing.assert_array_equal(f[name], values)
        np.testing.assert_array_equal(f["final_params"], model.flatten(traj.final_params))
        np.testing.assert_array_equal(f["final_margins"], traj.final_margins)
    back = gp.load_saved(path)
    assert back["config"]["config"] == {"seed": 4}
    assert back["config"]["n_steps"] == traj.n_steps == 7
    with pytest.raises(GDPerceptronError, match="is a folder"):
        gp.save_trajectory(
            traj, tmp_path / "dir.npz" if (tmp_path / "dir.npz").mkdir() is None else tmp_path
        )
