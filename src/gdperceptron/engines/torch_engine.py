"""The generalized perceptron run loop in PyTorch, for a user's ``torch.nn.Module``
(docs/theory/setting.md, docs/theory/reduction.md).

The same loop as :func:`gdperceptron.engines.trajectory.run`, step for step:

    theta_{t+1} = theta_t + eta_t * sum_i w_i(theta_t) grad m_i(theta_t),
    m_i(theta) = y_i f(x_i; theta),

with ``f(X; theta) = torch.func.functional_call(module, theta, X)`` and the weighted sum of
gradients ``J_m(theta)^T w`` computed as one ``torch.func.vjp`` (never a dense Jacobian).
The four weight and step rules are those of :mod:`gdperceptron.engines.algorithms`
(``sigma(-m)``; hard weights ``1[m < 0] + 1/2 1[m = 0]``; ``gamma / n``,
``gamma / sum_i sigma(-m_i)``, ``gamma / max(|{m_i <= 0}|, 1)``); the records, the
iteration complexity (first ``t`` with every margin of a finite ``theta_t`` positive) and
the stop reasons are those of the JAX loop, and it returns the same
:class:`~gdperceptron.engines.trajectory.Trajectory`.

Everything is float64 on the device of the module's parameters. The module is never
modified: the run works on float64 copies of its parameters (and floating buffers). The
trained parameters ``theta`` are those with ``requires_grad``; a frozen parameter
(``requires_grad=False``) is held fixed, like a buffer.
The loop runs eagerly, one step per Python iteration; for small models on a CPU,
``torch.set_num_threads(1)`` (the caller's choice: a process-wide setting) is often faster.
PyTorch is an optional dependency (``pip install 'gdperceptron[torch]'``), imported when
:func:`run` is called.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from gdperceptron.data.synthetic import Dataset, make_dataset
from gdperceptron.engines.algorithms import ALGORITHMS, Algorithm, check_step, get_algorithm
from gdperceptron.engines.trajectory import METRICS, Trajectory
from gdperceptron.errors import GDPerceptronError

_SOFT = ("gd", "normalized-gd")  # weights sigma(-m); the others use the hard weights


def _torch() -> Any:
    try:
        import torch
        import torch.func  # noqa: F401
    except ImportError:
        raise GDPerceptronError(
            "gdperceptron.torch.run needs PyTorch: pip install 'gdperceptron[torch]'"
        ) from None
    return torch


def _to_numpy(a: Any) -> np.ndarray:
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)):
        raise GDPerceptronError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if not math.isfinite(value) or int(value) != value or value < minimum:
        raise GDPerceptronError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _refuse_stateful(torch: Any, module: Any) -> None:
    """BatchNorm and dropout in training mode make ``f`` depend on more than ``theta``."""
    kinds = (torch.nn.modules.batchnorm._BatchNorm, torch.nn.modules.dropout._DropoutNd)
    found = sorted(
        {type(m).__name__ for m in module.modules() if isinstance(m, kinds) and m.training}
    )
    if found:
        raise GDPerceptronError(
            f"module has stateful layers in training mode ({', '.join(found)}): stateful "
            "layers are not supported; call module.eval() first to use them as fixed maps"
        )


def _trainable(module: Any) -> dict[str, Any]:
    """The trained parameters: name -> parameter, those with ``requires_grad``."""
    return {k: p for k, p in module.named_parameters() if p.requires_grad}


def _start(torch: Any, module: Any, theta0: Any, device: Any) -> dict[str, Any]:
    """float64 copies of the module's parameters, or of ``theta0`` (name -> array)."""
    named = _trainable(module)
    if theta0 is None:
        source = {k: p.detach() for k, p in named.items()}
    else:
        if not hasattr(theta0, "keys") or set(theta0.keys()) != set(named):
            raise GDPerceptronError(
                "theta0 must map the name of every trained parameter of the module (those "
                f"with requires_grad) to an array: expected {sorted(named)}"
            )
        source = dict(theta0)
    out = {}
    for k, p in named.items():
        value = torch.tensor(np.array(_to_numpy(source[k]), dtype=np.float64), device=device)
        if tuple(value.shape) != tuple(p.shape):
            raise GDPerceptronError(
                f"theta0[{k!r}] must have shape {tuple(p.shape)}, got {tuple(value.shape)}"
            )
        if not bool(torch.all(torch.isfinite(value))):
            raise GDPerceptronError(f"theta0[{k!r}] contains non-finite values")
        out[k] = value.clone()
    return out


def run(
    module: Any,
    X: Any,
    y: Any,
    algorithm: str | Algorithm,
    step: float,
    *,
    theta0: dict[str, Any] | None = None,
    max_iter: int = 10_000,
    stop_when_solved: bool = True,
    record_error: bool = False,
    record_every: int | None = None,
    progress: Callable[..., None] | None = None,
    progress_every: int = 256,
) -> Trajectory:
    """Run a generalized perceptron on a ``torch.nn.Module`` and return its
    :class:`~gdperceptron.engines.trajectory.Trajectory`.

    Args:
        module: maps ``X`` of shape ``(n, d)`` to ``(n,)`` or ``(n, 1)``; its parameters
            with ``requires_grad`` (``module.named_parameters()``) are ``theta``, the
            others are held fixed. Never modified.
        X: features ``(n, d)``, array or tensor; or a :class:`Dataset` (then ``y=None``).
        y: two-class labels ``(n,)`` (mapped to {-1, +1} as
            :func:`~gdperceptron.data.synthetic.make_dataset` does).
        algorithm: a name in ``ALGORITHM_NAMES`` or one of ``ALGORITHMS``.
        step: ``gamma > 0`` (docs/theory/reduction.md table).
        theta0: parameter name -> initial value; default the module's own parameters.
        max_iter: largest number of steps.
        stop_when_solved: stop at the first iteration with all margins positive.
        record_error: also record ``||xi_t||``, the norm of the reduction's error term.
        record_every: record every k-th iteration; default ``ceil(max_iter / 20000)``.
        progress: called every ``progress_every`` steps and at the end as
            ``progress(steps_done, max_iter, latest)``, ``latest`` the last records.
        progress_every: steps between two ``progress`` calls.

    Returns:
        A Trajectory whose ``final_params`` maps each parameter name to a float64 NumPy
        array of the parameter's shape.

    Example:
        >>> import numpy as np, torch
        >>> import gdperceptron.torch as gpt
        >>> net = torch.nn.Linear(2, 1, bias=False)
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0])
        >>> gpt.run(net, X, y, "perceptron", 1.0, max_iter=100).stop_reason
        'solved'
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise GDPerceptronError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    _refuse_stateful(torch, module)
    if not _trainable(module):
        raise GDPerceptronError("module has no parameters to train (none with requires_grad)")
    if isinstance(X, Dataset):
        if y is not None:
            raise GDPerceptronError("y must be None when X is a Dataset (it has its labels)")
        data = X
    else:
        data = make_dataset(_to_numpy(X), _to_numpy(y))
    alg = get_algorithm(algorithm) if isinstance(algorithm, str) else algorithm
    if not isinstance(alg, Algorithm) or ALGORITHMS.get(alg.name) is not alg:
        raise GDPerceptronError("custom algorithms are not supported by gdperceptron.torch.run")
    gamma = check_step(step)
    max_iter = _check_int(max_iter, "max_iter", 0)
    every = (
        _check_int(record_every, "record_every", 1)
        if record_every is not None
        else max(1, math.ceil(max_iter / 20_000))
    )
    progress_every = _check_int(progress_every, "progress_every", 1)
    device = next(iter(_trainable(module).values())).device
    theta = _start(torch, module, theta0, device)
    frozen = [(k, p) for k, p in module.named_parameters() if not p.requires_grad]
    buffers = {
        k: b.detach().to(torch.float64) if b.is_floating_point() else b.detach()
        for k, b in [*module.named_buffers(), *frozen]
    }
    f64 = torch.float64
    Xt = torch.tensor(np.array(data.X), dtype=f64, device=device)
    yt = torch.tensor(np.array(data.y), dtype=f64, device=device)
    n = data.n

    def margins(th: dict[str, Any]) -> Any:
        out = torch.func.functional_call(module, (th, buffers), (Xt,))
        if tuple(out.shape) == (n, 1):
            out = out.reshape(n)
        if tuple(out.shape) != (n,):
            raise GDPerceptronError(
                f"module must map X of shape (n, d) to (n,) or (n, 1); got {tuple(out.shape)}"
            )
        return yt * out

    def hard(m: Any) -> Any:
        return torch.where(m < 0, 1.0, torch.where(m == 0, 0.5, 0.0)).to(f64)

    def norm(tree: dict[str, Any]) -> float:
        return float(torch.sqrt(sum(torch.sum(v * v) for v in tree.values())))

    soft = alg.name in _SOFT
    names = METRICS if record_error else METRICS[:-1]
    iterations: list[int] = []
    rows: list[list[float]] = []
    t, solved_at, finite = 0, -1, True
    start = time.perf_counter()
    while True:
        m, vjp = torch.func.vjp(margins, theta)
        finite = bool(torch.all(torch.isfinite(m))) and all(
            bool(torch.all(torch.isfinite(v))) for v in theta.values()
        )
        solved_now = finite and bool(torch.all(m > 0))
        if solved_at < 0 and solved_now:
            solved_at = t
        stop = (not finite) or t >= max_iter or (stop_when_solved and solved_now)
        sig = torch.sigmoid(-m)
        w = sig if soft else hard(m)
        direction = vjp(w)[0]
        if t % every == 0 or stop:
            # the logistic gradient -J^T sigma / n: the direction itself under soft weights
            grad = {k: -v / n for k, v in (direction if soft else vjp(sig)[0]).items()}
            rec = [
                float(torch.mean(torch.logaddexp(torch.zeros_like(m), -m))),
                float(torch.min(m)),
                float(torch.sum(m <= 0)),
                norm(grad),
                norm(theta),
            ]
            if record_error:
                rec.append(gamma / n * norm(vjp(sig - hard(m))[0]))
            iterations.append(t)
            rows.append(rec)
        if stop:
            break
        if alg.name == "gd" or alg.name == "perceptron":
            eta = gamma / n
        elif alg.name == "normalized-gd":
            eta = gamma / torch.sum(w)
        else:
            eta = gamma / torch.clamp(torch.sum(m <= 0), min=1).to(f64)
        theta = {k: theta[k] + eta * direction[k] for k in theta}
        t += 1
        if progress is not None and t % progress_every == 0:
            progress(t, max_iter, dict(zip(names, rows[-1], strict=True)))
    elapsed = time.perf_counter() - start
    if progress is not None:
        progress(t, max_iter, dict(zip(names, rows[-1], strict=True)))
    if not finite:
        stop_reason = "non_finite"
    elif stop_when_solved and solved_at >= 0:
        stop_reason = "solved"
    else:
        stop_reason = "max_iter"
    table = np.asarray(rows, dtype=np.float64)
    metrics = {name: table[:, k] for k, name in enumerate(names)}
    metrics["n_misclassified"] = metrics["n_misclassified"].astype(np.int64)
    return Trajectory(
        iterations=np.asarray(iterations, dtype=np.int64),
        metrics=metrics,
        solved_iteration=solved_at if solved_at >= 0 else None,
        stop_reason=stop_reason,
        n_steps=t,
        final_params={k: v.detach().cpu().numpy() for k, v in theta.items()},
        final_margins=m.detach().cpu().numpy().astype(np.float64),
        elapsed_s=elapsed,
        config={
            "model": type(module).__name__,
            "engine": "torch",
            "device": str(device),
            "algorithm": alg.name,
            "step": gamma,
            "max_iter": max_iter,
            "stop_when_solved": stop_when_solved,
            "record_every": every,
            "n": n,
            "d": data.d,
        },
    )
