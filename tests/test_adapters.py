"""Flax (linen, NNX) and Equinox adapters against the generic path.

Each adapter must give the trajectory that :func:`gdperceptron.from_apply` gives with a
hand-written ``apply`` over the same parameters, and the loss at ``t = 0`` must equal an
independent NumPy forward pass. Stateful layers are refused with one clear error.
"""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import gdperceptron as gp
from gdperceptron.errors import GDPerceptronError

RNG = np.random.default_rng(11)
X = RNG.standard_normal((16, 5))
Y = np.where(X[:, 0] - 0.5 * X[:, 1] > 0, 1.0, -1.0)
DATA = gp.make_dataset(X, Y)
# the adapters do not depend on the weight rule: one soft and one hard rule suffice here
# (every rule is checked against independent references in the engine's own tests)
RULES = ("gd", "normalized-perceptron")


def _np_loss(f: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, -Y * f)))


def _np_mlp(W1, b1, W2, b2) -> np.ndarray:
    """``relu(X W1 + b1) W2 + b2`` in NumPy (kernels stored (in, out)), shape (n,)."""
    return (np.maximum(X @ np.asarray(W1, float) + np.asarray(b1, float), 0.0) @ W2 + b2).ravel()


def _same_runs(adapted: gp.Model, generic: gp.Model, rule: str, **kw) -> gp.Trajectory:
    a = gp.run(adapted, DATA, rule, 0.7, max_iter=60, **kw)
    b = gp.run(generic, DATA, rule, 0.7, max_iter=60, **kw)
    assert a.iterations.tolist() == b.iterations.tolist()
    for name in a.metrics:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name], err_msg=name)
    np.testing.assert_array_equal(a.final_params, b.final_params)
    assert (a.stop_reason, a.solved_iteration) == (b.stop_reason, b.solved_iteration)
    return a


# ------------------------------------------------------------------- flax linen


@pytest.fixture(scope="module")
def linen():
    pytest.importorskip("flax")
    from flax import linen as nn

    return nn


def _linen_mlp(nn):
    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x):
            hidden = nn.relu(nn.Dense(4)(x))  # Dense_0
            return nn.Dense(1)(hidden)  # Dense_1

    module = MLP()
    return module, module.init(jax.random.key(0), jnp.ones((1, 5)))


def _linen_hand(p, X):
    h = jax.nn.relu(X @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"])
    return (h @ p["Dense_1"]["kernel"] + p["Dense_1"]["bias"])[:, 0]


@pytest.mark.parametrize("rule", RULES)
def test_linen_equals_a_hand_written_apply(linen, rule: str) -> None:
    module, variables = _linen_mlp(linen)
    model = gp.from_flax(module, variables)
    generic = gp.from_apply(_linen_hand, variables["params"])
    traj = _same_runs(model, generic, rule, stop_when_solved=False)
    p = variables["params"]
    f0 = _np_mlp(
        p["Dense_0"]["kernel"], p["Dense_0"]["bias"], p["Dense_1"]["kernel"], p["Dense_1"]["bias"]
    )
    assert traj.metrics["loss"][0] == pytest.approx(_np_loss(f0), rel=1e-13)
    np.testing.assert_array_equal(model.params, generic.params)


def test_linen_final_params_follow_the_variables_structure(linen) -> None:
    module, variables = _linen_mlp(linen)
    model = gp.from_flax(module, variables)
    traj = gp.run(model, DATA, "gd", 1.0, theta0=variables["params"], max_iter=30)
    assert set(traj.final_params) == {"Dense_0", "Dense_1"}
    assert traj.final_params["Dense_0"]["kernel"].shape == (5, 4)
    assert traj.final_params["Dense_0"]["kernel"].dtype == np.float64
    out = module.apply({"params": traj.final_params}, X)  # the trained module, as flax reads it
    np.testing.assert_allclose(Y * np.asarray(out)[:, 0], traj.final_margins, rtol=1e-12)


def test_linen_batch_stats_are_refused(linen) -> None:
    nn = linen

    class BN(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Dense(1)(nn.BatchNorm(use_running_average=True)(x))

    module = BN()
    variables = module.init(jax.random.key(0), jnp.ones((2, 5)))
    with pytest.raises(GDPerceptronError, match="batch_stats.*stateful layers"):
        gp.from_flax(module, variables)
    # without its statistics the layer fails when traced: the same clear error
    model = gp.from_flax(module, {"params": variables["params"]})
    with pytest.raises(GDPerceptronError, match="stateful layers"):
        gp.run(model, DATA, "gd", 1.0, max_iter=2)


def test_linen_dropout_needs_random_numbers_and_is_refused(linen) -> None:
    nn = linen

    def dropout_net(deterministic: bool):
        class DO(nn.Module):
            @nn.compact
            def __call__(self, x):
                return nn.Dense(1)(nn.Dropout(0.5, deterministic=deterministic)(x))

        module = DO()
        keys = {"params": jax.random.key(0), "dropout": jax.random.key(1)}
        return module, module.init(keys, jnp.ones((2, 5)))

    module, variables = dropout_net(False)
    with pytest.raises(GDPerceptronError, match=r"stateful layers.*needs PRNG"):
        gp.run(gp.from_flax(module, variables), DATA, "gd", 1.0, max_iter=2)
    module, variables = dropout_net(True)  # the identity: accepted
    traj = gp.run(gp.from_flax(module, variables), DATA, "gd", 1.0, max_iter=2)
    assert traj.n_steps == 2


def test_flax_output_must_be_one_number_per_sample(linen) -> None:
    module = linen.Dense(2)
    model = gp.from_flax(module, module.init(jax.random.key(0), jnp.ones((1, 5))))
    with pytest.raises(GDPerceptronError, match=r"one real output per sample.*\(16, 2\)"):
        gp.run(model, DATA, "gd", 1.0, max_iter=1)


def test_from_flax_validates_its_arguments(linen) -> None:
    with pytest.raises(GDPerceptronError, match="flax.linen or flax.nnx Module"):
        gp.from_flax(object(), {})
    module = linen.Dense(1)
    with pytest.raises(GDPerceptronError, match="variables returned by module.init"):
        gp.from_flax(module)
    with pytest.raises(GDPerceptronError, match="no 'params' collection"):
        gp.from_flax(module, {})


# --------------------------------------------------------------------- flax NNX


@pytest.fixture(scope="module")
def nnx():
    pytest.importorskip("flax")
    from flax import nnx

    return nnx


def _nnx_mlp(nnx):
    class MLP(nnx.Module):
        def __init__(self, rngs):
            self.l1 = nnx.Linear(5, 4, rngs=rngs)
            self.l2 = nnx.Linear(4, 1, rngs=rngs)

        def __call__(self, x):
            return self.l2(nnx.relu(self.l1(x)))

    return MLP(nnx.Rngs(0))


@pytest.mark.parametrize("rule", RULES)
def test_nnx_equals_a_hand_written_apply(nnx, rule: str) -> None:
    module = _nnx_mlp(nnx)
    arrays = {
        name: {"bias": np.asarray(layer.bias[...]), "kernel": np.asarray(layer.kernel[...])}
        for name, layer in (("l1", module.l1), ("l2", module.l2))
    }

    def hand(p, X):
        h = jax.nn.relu(X @ p["l1"]["kernel"] + p["l1"]["bias"])
        return (h @ p["l2"]["kernel"] + p["l2"]["bias"])[:, 0]

    model = gp.from_flax(module)
    traj = _same_runs(model, gp.from_apply(hand, arrays), rule, stop_when_solved=False)
    a = arrays
    f0 = _np_mlp(a["l1"]["kernel"], a["l1"]["bias"], a["l2"]["kernel"], a["l2"]["bias"])
    assert traj.metrics["loss"][0] == pytest.approx(_np_loss(f0), rel=1e-13)
    # the module is not modified by the run
    np.testing.assert_array_equal(np.asarray(module.l1.kernel[...]), arrays["l1"]["kernel"])


def test_nnx_batchnorm_and_dropout_state_are_refused(nnx) -> None:
    class BN(nnx.Module):
        def __init__(self, rngs):
            self.l1 = nnx.Linear(5, 1, rngs=rngs)
            self.bn = nnx.BatchNorm(1, rngs=rngs)

        def __call__(self, x):
            return self.bn(self.l1(x))

    class DO(nnx.Module):
        def __init__(self, rngs):
            self.l1 = nnx.Linear(5, 1, rngs=rngs)
            self.do = nnx.Dropout(0.5, rngs=rngs)

        def __call__(self, x):
            return self.do(self.l1(x))

    with pytest.raises(GDPerceptronError, match=r"state beside its Param.*bn\.mean"):
        gp.from_flax(BN(nnx.Rngs(0)))
    with pytest.raises(GDPerceptronError, match=r"state beside its Param.*do\.rngs"):
        gp.from_flax(DO(nnx.Rngs(0)))

    class Bare(nnx.Module):  # a dropout without random streams fails when called
        def __init__(self, rngs, deterministic):
            self.l1 = nnx.Linear(5, 1, rngs=rngs)
            self.do = nnx.Dropout(0.5, deterministic=deterministic)

        def __call__(self, x):
            return self.do(self.l1(x))

    with pytest.raises(GDPerceptronError, match=r"dropout that draws random numbers \(at do\)"):
        gp.from_flax(Bare(nnx.Rngs(0), False))
    assert gp.run(gp.from_flax(Bare(nnx.Rngs(0), True)), DATA, "gd", 1.0, max_iter=2).n_steps == 2
    with pytest.raises(GDPerceptronError, match="carries its own variables"):
        gp.from_flax(_nnx_mlp(nnx), {"params": {}})


# ---------------------------------------------------------------------- equinox


@pytest.fixture(scope="module")
def eqx():
    return pytest.importorskip("equinox")


@pytest.mark.parametrize("rule", RULES)
def test_equinox_equals_a_hand_written_apply(eqx, rule: str) -> None:
    module = eqx.nn.MLP(5, "scalar", 4, 1, key=jax.random.key(0))
    layers = [(np.asarray(lin.weight), np.asarray(lin.bias)) for lin in module.layers]

    def hand(p, X):  # [(W1, b1), (W2, b2)], W of shape (out, in): eqx order weight, bias
        (W1, b1), (W2, b2) = p
        return (jax.nn.relu(X @ W1.T + b1) @ W2.T + b2)[:, 0]

    model = gp.from_equinox(module)
    traj = _same_runs(model, gp.from_apply(hand, layers), rule, stop_when_solved=False)
    (W1, b1), (W2, b2) = layers
    assert traj.metrics["loss"][0] == pytest.approx(
        _np_loss(_np_mlp(W1.T, b1, W2.T, b2)), rel=1e-13
    )


def test_equinox_final_params_combine_into_the_trained_module(eqx) -> None:
    module = eqx.nn.MLP(5, "scalar", 4, 1, key=jax.random.key(1))
    params, static = eqx.partition(module, eqx.is_inexact_array)
    model = gp.from_equinox(module)
    traj = gp.run(model, DATA, "gd", 1.0, theta0=params, max_iter=40)
    trained = eqx.combine(traj.final_params, static)
    with jax.enable_x64(True):
        out = np.asarray(jax.vmap(trained)(jnp.asarray(X)))
    np.testing.assert_allclose(Y * out, traj.final_margins, rtol=1e-12)
    # the module is not modified; an output of shape (1,) per sample is read as a scalar
    np.testing.assert_array_equal(model.flatten(params), model.params)
    lin = eqx.nn.Linear(5, 1, key=jax.random.key(2))
    assert gp.run(gp.from_equinox(lin), DATA, "perceptron", 1.0, max_iter=3).n_steps == 3


def test_equinox_stateful_layers_are_refused(eqx) -> None:
    key = jax.random.key(0)
    bn_net = eqx.nn.Sequential(
        [eqx.nn.Linear(5, 4, key=key), eqx.nn.BatchNorm(4, "batch", mode="batch")]
    )
    with pytest.raises(GDPerceptronError, match=r"stateful layers \(BatchNorm\)"):
        gp.from_equinox(bn_net)
    drop = eqx.nn.Sequential([eqx.nn.Linear(5, "scalar", key=key), eqx.nn.Dropout(0.5)])
    with pytest.raises(GDPerceptronError, match=r"stateful layers \(Dropout\)"):
        gp.from_equinox(drop)
    fixed = eqx.nn.Sequential(
        [eqx.nn.Linear(5, "scalar", key=key), eqx.nn.Dropout(0.5, inference=True)]
    )
    assert gp.run(gp.from_equinox(fixed), DATA, "gd", 1.0, max_iter=2).n_steps == 2


def test_equinox_output_must_be_a_scalar_per_sample(eqx) -> None:
    model = gp.from_equinox(eqx.nn.Linear(5, 3, key=jax.random.key(0)))
    with pytest.raises(GDPerceptronError, match=r"scalar or shape \(1,\); got shape \(3,\)"):
        gp.run(model, DATA, "gd", 1.0, max_iter=1)
    with pytest.raises(GDPerceptronError, match="needs an equinox.Module"):
        gp.from_equinox(lambda x: x)


# ------------------------------------------------------------- optional imports


def test_the_package_imports_without_the_optional_frameworks() -> None:
    """Blocked imports fail: the package imports without Flax, Equinox and PyTorch (so
    importing it loads none of them), and each adapter says what to install."""
    code = (
        "import sys\n"
        "for name in ('flax', 'equinox', 'torch'):\n"
        "    sys.modules[name] = None  # as if not installed\n"
        "import gdperceptron as gp\n"
        "from gdperceptron.errors import GDPerceptronError\n"
        "import gdperceptron.torch as gpt\n"
        "for call in (lambda: gp.from_flax(None), lambda: gp.from_equinox(None),\n"
        "             lambda: gpt.run(None, [[1.0]], [1.0], 'gd', 1.0)):\n"
        "    try:\n"
        "        call()\n"
        "    except GDPerceptronError as err:\n"
        "        print(err)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "JAX_PLATFORMS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines == [
        "from_flax needs Flax: pip install 'gdperceptron[flax]'",
        "from_equinox needs Equinox: pip install 'gdperceptron[equinox]'",
        "gdperceptron.torch.run needs PyTorch: pip install 'gdperceptron[torch]'",
    ]
