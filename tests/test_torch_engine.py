"""The PyTorch run loop against the JAX one: same model, same weights, same numbers.

The JAX loop (:func:`gdperceptron.run` on the built-in models) is the independent
reference: a different framework, autodiff system and compiled loop. Trajectories must
agree to 1e-12 relative, record for record, up to the solved iteration, for every weight
rule.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdperceptron as gp
from gdperceptron.errors import GDPerceptronError

torch = pytest.importorskip("torch")
gpt = pytest.importorskip("gdperceptron.torch")

DATA = gp.gaussian(40, 10, 0.1, seed=3)
RULES = gp.ALGORITHM_NAMES
# a step per rule with which the ReLU network below separates DATA in 10-100 iterations
STEPS = {"gd": 1.0, "perceptron": 1.0, "normalized-gd": 1.0, "normalized-perceptron": 0.3}
REAL_METRICS = ("loss", "min_margin", "grad_norm", "param_norm")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors on a shared machine: one intra-op thread (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _relu_net(seed: int, width: int = 16) -> tuple[torch.nn.Module, np.ndarray]:
    """A torch two-layer ReLU network and the same weights as a flat theta for
    ``gp.two_layer`` (``(vec(W), u)``, W row-major ``(width, d)``), read back from the
    torch parameters so that both hold exactly the same numbers."""
    gen = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(DATA.d, width, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(width, 1, bias=False),
    )
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.5)
    W = net[0].weight.detach().numpy().astype(np.float64)
    u = net[2].weight.detach().numpy().astype(np.float64)[0]
    return net, np.concatenate([W.ravel(), u])


def _agree(ours: gp.Trajectory, ref: gp.Trajectory) -> None:
    assert (ours.stop_reason, ours.solved_iteration, ours.n_steps) == (
        ref.stop_reason,
        ref.solved_iteration,
        ref.n_steps,
    )
    np.testing.assert_array_equal(ours.iterations, ref.iterations)
    np.testing.assert_array_equal(ours.metrics["n_misclassified"], ref.metrics["n_misclassified"])
    for name in REAL_METRICS + (("error_norm",) if "error_norm" in ref.metrics else ()):
        np.testing.assert_allclose(ours.metrics[name], ref.metrics[name], rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(ours.final_margins, ref.final_margins, rtol=1e-12)


@pytest.mark.parametrize("rule", RULES)
def test_two_layer_relu_matches_the_jax_run(rule: str) -> None:
    net, theta0 = _relu_net(0)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    ours = gpt.run(net, DATA.X, DATA.y, rule, STEPS[rule], max_iter=500)
    ref = gp.run(gp.two_layer(DATA.d, 16), DATA, rule, STEPS[rule], theta0=theta0, max_iter=500)
    assert ref.stop_reason == "solved" and ref.solved_iteration > 5  # a run worth comparing
    _agree(ours, ref)
    W, u = ours.final_params["0.weight"], ours.final_params["2.weight"]
    flat = np.concatenate([W.ravel(), u.ravel()])
    np.testing.assert_allclose(flat, ref.final_params, rtol=1e-12)
    assert W.dtype == np.float64
    # the module's own parameters are untouched (float32, same values)
    for k, v in net.state_dict().items():
        assert v.dtype == torch.float32 and torch.equal(v, before[k])


@pytest.mark.parametrize("rule", RULES)
def test_linear_model_from_zero_matches_the_jax_run(rule: str) -> None:
    """From theta = 0 every margin is exactly 0: the hard weights are 1/2 at the start."""
    net = torch.nn.Linear(DATA.d, 1, bias=False)
    zero = {"weight": np.zeros((1, DATA.d))}
    ours = gpt.run(net, DATA.X, DATA.y, rule, 1.0, theta0=zero, max_iter=500, record_error=True)
    ref = gp.run(
        gp.linear(DATA.d), DATA, rule, 1.0, theta0=np.zeros(DATA.d), max_iter=500,
        record_error=True,
    )  # fmt: skip
    assert ref.stop_reason == "solved"
    _agree(ours, ref)
    np.testing.assert_allclose(ours.final_params["weight"][0], ref.final_params, rtol=1e-12)


def test_stop_reasons_max_iter_and_non_finite_match_the_jax_run() -> None:
    net, theta0 = _relu_net(1)
    model = gp.two_layer(DATA.d, 16)
    for step, kw in ((1.0, {"max_iter": 7, "stop_when_solved": False}), (1e200, {})):
        ours = gpt.run(net, DATA.X, DATA.y, "gd", step, **kw)
        ref = gp.run(model, DATA, "gd", step, theta0=theta0, **kw)
        assert ours.stop_reason == ref.stop_reason
        assert ours.n_steps == ref.n_steps
        assert ours.iterations.tolist() == ref.iterations.tolist()
    assert ours.stop_reason == "non_finite"  # the last run: a huge step overflows


def test_theta0_progress_and_a_dataset_argument() -> None:
    net, _ = _relu_net(2)
    start = {k: v.detach().numpy() * 2.0 for k, v in net.named_parameters()}
    seen = []
    traj = gpt.run(
        net, DATA, None, "perceptron", 1.0, theta0=start, max_iter=20,
        stop_when_solved=False, progress=lambda *a: seen.append(a), progress_every=8,
    )  # fmt: skip
    assert [s[:2] for s in seen] == [(8, 20), (16, 20), (20, 20)]
    assert set(seen[-1][2]) == {"loss", "min_margin", "n_misclassified", "grad_norm", "param_norm"}
    norm0 = np.sqrt(sum(np.sum(v.astype(np.float64) ** 2) for v in start.values()))
    assert traj.metrics["param_norm"][0] == pytest.approx(norm0, rel=1e-14)


def test_a_frozen_layer_is_held_fixed() -> None:
    """``requires_grad=False`` on the second layer: the JAX two-layer model with ``u``
    fixed (``train_second_layer=False``, u_j = (-1)^j / sqrt(width)) is the reference."""
    net, theta0 = _relu_net(4)
    width = net[0].weight.shape[0]
    u = np.where(np.arange(width) % 2 == 0, 1.0, -1.0) / np.sqrt(width)
    with torch.no_grad():
        net[2].weight.copy_(torch.tensor(u[None, :], dtype=torch.float32))
    net[2].weight.requires_grad_(False)
    ours = gpt.run(net, DATA, None, "gd", 1.0, max_iter=25, stop_when_solved=False)
    model = gp.two_layer(DATA.d, width, train_second_layer=False)
    ref = gp.run(model, DATA, "gd", 1.0, theta0=theta0[: width * DATA.d], max_iter=25,
                 stop_when_solved=False)  # fmt: skip
    assert sorted(ours.final_params) == ["0.weight"]
    np.testing.assert_allclose(ours.final_params["0.weight"].ravel(), ref.final_params, rtol=1e-12)
    np.testing.assert_allclose(ours.metrics["loss"], ref.metrics["loss"], rtol=1e-12)


def test_stateful_and_malformed_modules_are_refused() -> None:
    bn = torch.nn.Sequential(torch.nn.Linear(DATA.d, 4), torch.nn.BatchNorm1d(4))
    with pytest.raises(
        GDPerceptronError, match=r"stateful layers in training mode \(BatchNorm1d\)"
    ):
        gpt.run(bn, DATA.X, DATA.y, "gd", 1.0, max_iter=2)
    drop = torch.nn.Sequential(torch.nn.Linear(DATA.d, 1), torch.nn.Dropout(0.5))
    with pytest.raises(GDPerceptronError, match=r"\(Dropout\).*module.eval\(\)"):
        gpt.run(drop, DATA.X, DATA.y, "gd", 1.0, max_iter=2)
    assert gpt.run(drop.eval(), DATA.X, DATA.y, "gd", 1.0, max_iter=2).n_steps == 2
    wide = torch.nn.Linear(DATA.d, 2)
    with pytest.raises(GDPerceptronError, match=r"\(n,\) or \(n, 1\); got \(40, 2\)"):
        gpt.run(wide, DATA.X, DATA.y, "gd", 1.0, max_iter=2)
    with pytest.raises(GDPerceptronError, match="torch.nn.Module"):
        gpt.run(lambda x: x, DATA.X, DATA.y, "gd", 1.0)
    lin = torch.nn.Linear(DATA.d, 1)
    with pytest.raises(GDPerceptronError, match="every trained parameter"):
        gpt.run(lin, DATA.X, DATA.y, "gd", 1.0, theta0={"weight": np.zeros((1, DATA.d))})
    with pytest.raises(GDPerceptronError, match=r"theta0\['bias'\] must have shape \(1,\)"):
        gpt.run(lin, DATA.X, DATA.y, "gd", 1.0, theta0={"weight": np.zeros((1, 10)), "bias": 0})
    with pytest.raises(GDPerceptronError, match="step must be a positive"):
        gpt.run(lin, DATA.X, DATA.y, "gd", -1.0)
    with pytest.raises(GDPerceptronError, match="exactly two classes"):
        gpt.run(lin, DATA.X, np.arange(DATA.n), "gd", 1.0)
