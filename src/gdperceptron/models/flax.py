"""Flax models as :class:`~gdperceptron.models.protocol.Model` objects (linen and NNX).

A thin layer over :func:`~gdperceptron.models.protocol.from_apply`: the trainable
parameters (linen: the ``"params"`` collection; NNX: the :class:`flax.nnx.Param`
variables of :func:`flax.nnx.split`) become the pytree ``params``, and

- linen: ``apply(params, X) = module.apply({"params": params}, X)``,
- NNX: ``apply(params, X) = nnx.merge(graphdef, params)(X)``,

of shapes ``(n, d) -> (n,)`` (an output ``(n, 1)`` is read as ``(n,)``). The generalized
perceptron (docs/theory/reduction.md) trains every parameter and nothing else, so a model
with state beside its parameters (BatchNorm statistics, dropout random streams, any other
linen collection or NNX variable) is refused: its output would not be a function
``f(x; theta)`` of the parameters alone (docs/theory/setting.md).

Flax is an optional dependency (``pip install 'gdperceptron[flax]'``), imported when
:func:`from_flax` is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gdperceptron._jax import jax, jnp
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model, from_apply

_STATEFUL = "stateful layers (BatchNorm, Dropout) are not supported"


def _flax() -> tuple[Any, Any, Any]:
    try:
        import flax
        from flax import linen, nnx
    except ImportError:
        raise GDPerceptronError("from_flax needs Flax: pip install 'gdperceptron[flax]'") from None
    return flax, linen, nnx


def _scalar_outputs(out: Any, n: int, what: str) -> jax.Array:
    """``out`` of shape ``(n,)`` or ``(n, 1)`` as ``(n,)``; any other shape is an error."""
    out = jnp.asarray(out)
    if out.shape == (n, 1):
        return out.reshape(n)
    if out.shape != (n,):
        raise GDPerceptronError(
            f"{what} must map X of shape (n, d) to one real output per sample, (n,) or "
            f"(n, 1); got shape {out.shape} for n = {n}"
        )
    return out


def _guarded(call: Callable[[Any, Any], Any], flax: Any, what: str) -> Callable[[Any, Any], Any]:
    """``call`` with the Flax errors of a layer that needs state or random numbers turned
    into one clear :class:`GDPerceptronError` (raised when the run traces the model)."""

    def apply(params: Any, X: Any) -> jax.Array:
        try:
            out = call(params, X)
        except flax.errors.FlaxError as err:
            first = str(err).split(" (https://")[0]
            raise GDPerceptronError(f"{what}: {_STATEFUL} ({first})") from None
        return _scalar_outputs(out, X.shape[0], what)

    return apply


def from_flax(module: Any, variables: Any = None, *, name: str | None = None) -> Model:
    """A :class:`Model` from a Flax module: linen with its ``variables``, or NNX.

    Linen: ``variables`` is what ``module.init(key, x)`` returned, a mapping with only the
    ``"params"`` collection (another collection, ``batch_stats`` for instance, is refused).
    A layer that needs random numbers at apply time (``nn.Dropout(deterministic=False)``)
    is refused when the run first evaluates the model. NNX: ``variables`` is omitted; the
    module is split with ``nnx.split(module, nnx.Param, ...)`` and any state besides its
    ``Param`` variables (``BatchStat``, the ``Rngs`` of a ``Dropout``) is refused, and so
    is a ``Dropout`` that is not ``deterministic``.

    The parameters are the pytree ``model.params`` is flattened from (float64, in
    :func:`jax.tree_util.tree_flatten` order); ``run(..., theta0=params)`` with that pytree
    returns ``final_params`` in it, and ``model.structured(theta)`` turns a flat vector back
    into it. The module itself is never modified.

    Args:
        module: a ``flax.linen.Module`` or a ``flax.nnx.Module`` mapping ``X`` of shape
            ``(n, d)`` to ``(n,)`` or ``(n, 1)``.
        variables: linen only: the module's variables.
        name: a label (default the module's class name).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from flax import linen as nn
        >>> from gdperceptron import from_flax
        >>> net = nn.Dense(1, use_bias=False)
        >>> model = from_flax(net, net.init(jax.random.key(0), jnp.ones((1, 3))))
        >>> model.n_params
        3
    """
    flax, linen, nnx = _flax()
    label = name if name is not None else type(module).__name__
    if isinstance(module, linen.Module):
        return _from_linen(module, variables, label, flax)
    if isinstance(module, nnx.Module):
        if variables is not None:
            raise GDPerceptronError(
                "from_flax: an NNX module carries its own variables; call from_flax(module)"
            )
        return _from_nnx(module, label, flax, nnx)
    raise GDPerceptronError(
        f"from_flax needs a flax.linen or flax.nnx Module, got {type(module).__name__}"
    )


def _from_linen(module: Any, variables: Any, label: str, flax: Any) -> Model:
    what = f"flax module {label!r}"
    if variables is None or not hasattr(variables, "keys"):
        raise GDPerceptronError(
            f"{what}: pass the variables returned by module.init(key, x), got "
            f"{type(variables).__name__}"
        )
    collections = sorted(str(k) for k in variables.keys())
    others = [c for c in collections if c != "params"]
    if others:
        raise GDPerceptronError(
            f"{what} has state beside its parameters (collections {', '.join(others)}): {_STATEFUL}"
        )
    if "params" not in collections:
        raise GDPerceptronError(f"{what}: variables have no 'params' collection")

    def call(params: Any, X: Any) -> Any:
        return module.apply({"params": params}, X)

    info = {"framework": "flax.linen", "module": type(module).__name__}
    return from_apply(_guarded(call, flax, what), variables["params"], name=label, info=info)


def _key_name(key: Any) -> str:
    return str(getattr(key, "key", getattr(key, "name", key)))


def _from_nnx(module: Any, label: str, flax: Any, nnx: Any) -> Model:
    what = f"flax module {label!r}"
    graphdef, params, rest = nnx.split(module, nnx.Param, ...)
    state = jax.tree_util.tree_flatten_with_path(rest)[0]
    if state:
        paths = sorted({".".join(_key_name(k) for k in path[:-1]) for path, _ in state})
        raise GDPerceptronError(
            f"{what} has state beside its Param variables (at {', '.join(paths[:5])}): {_STATEFUL}"
        )

    dropout = sorted(
        ".".join(map(str, path))
        for path, node in nnx.iter_graph(module)
        if isinstance(node, nnx.Dropout) and not node.deterministic and node.rate > 0
    )
    if dropout:
        raise GDPerceptronError(
            f"{what} has dropout that draws random numbers (at {', '.join(dropout[:5])}): "
            f"{_STATEFUL}; build it with deterministic=True"
        )

    def call(p: Any, X: Any) -> Any:
        return nnx.merge(graphdef, p)(X)

    info = {"framework": "flax.nnx", "module": type(module).__name__}
    return from_apply(_guarded(call, flax, what), params, name=label, info=info)


__all__ = ["from_flax"]
