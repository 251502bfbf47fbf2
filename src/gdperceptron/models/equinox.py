"""Equinox models as :class:`~gdperceptron.models.protocol.Model` objects.

A thin layer over :func:`~gdperceptron.models.protocol.from_apply`: the trainable
parameters are the floating-point arrays of the module,
``params, static = eqx.partition(module, eqx.is_inexact_array)``, and

    apply(params, X) = vmap(eqx.combine(params, static))(X),

an Equinox module mapping one sample ``x`` of shape ``(d,)`` to a scalar or ``(1,)``, so
``X`` of shape ``(n, d)`` to ``(n,)``. The generalized perceptron (docs/theory/reduction.md)
trains every parameter and nothing else, so a module with state beside its parameters
(``eqx.nn.BatchNorm``, ``eqx.nn.State`` / ``StateIndex``, ``eqx.nn.Dropout`` in training
mode) is refused: its output would not be a function ``f(x; theta)`` of the parameters
alone (docs/theory/setting.md).

Equinox is an optional dependency (``pip install 'gdperceptron[equinox]'``), imported when
:func:`from_equinox` is called.
"""

from __future__ import annotations

from typing import Any

from gdperceptron._jax import jax, jnp
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model, from_apply


def _equinox() -> Any:
    try:
        import equinox as eqx
    except ImportError:
        raise GDPerceptronError(
            "from_equinox needs Equinox: pip install 'gdperceptron[equinox]'"
        ) from None
    return eqx


def _stateful_layers(module: Any, eqx: Any) -> list[str]:
    """The names of the stateful layers inside ``module`` (empty when there is none)."""
    kinds = (eqx.nn.BatchNorm, eqx.nn.Dropout, eqx.nn.StateIndex, eqx.nn.State)
    found = jax.tree_util.tree_leaves(module, is_leaf=lambda x: isinstance(x, kinds))
    out = []
    for layer in found:
        if isinstance(layer, eqx.nn.Dropout) and layer.inference:
            continue  # the identity: no random numbers drawn
        if isinstance(layer, kinds):
            out.append(type(layer).__name__)
    return sorted(set(out))


def from_equinox(module: Any, *, name: str | None = None) -> Model:
    """A :class:`Model` from an Equinox module that maps one sample ``x`` (``(d,)``) to a
    scalar or an array of shape ``(1,)``; it is vmapped over the rows of ``X``.

    The parameters are the module's inexact (floating) arrays, ``eqx.partition(module,
    eqx.is_inexact_array)[0]``, flattened to ``model.params`` (float64). Everything else
    (activation functions, integer arrays, sizes) stays fixed. ``run(..., theta0=params)``
    with that partition returns ``final_params`` in it; ``eqx.combine(final_params,
    static)`` is the trained module, and ``model.structured(theta)`` turns a flat vector
    into the partition. The module itself is never modified. Refused: ``BatchNorm``,
    ``State`` / ``StateIndex`` and ``Dropout`` unless ``inference=True``.

    Args:
        module: an ``equinox.Module``.
        name: a label (default the module's class name).

    Example:
        >>> import jax, equinox as eqx
        >>> from gdperceptron import from_equinox
        >>> model = from_equinox(eqx.nn.Linear(3, "scalar", use_bias=False, key=jax.random.key(0)))
        >>> model.n_params
        3
    """
    eqx = _equinox()
    if not isinstance(module, eqx.Module):
        raise GDPerceptronError(
            f"from_equinox needs an equinox.Module, got {type(module).__name__}"
        )
    label = name if name is not None else type(module).__name__
    what = f"equinox module {label!r}"
    stateful = _stateful_layers(module, eqx)
    if stateful:
        raise GDPerceptronError(
            f"{what} has stateful layers ({', '.join(stateful)}): stateful layers "
            "(BatchNorm, Dropout in training mode, State) are not supported"
        )
    params, static = eqx.partition(module, eqx.is_inexact_array)

    def apply(p: Any, X: Any) -> jax.Array:
        out = jnp.asarray(jax.vmap(eqx.combine(p, static))(X))
        n = X.shape[0]
        if out.shape == (n, 1):
            return out.reshape(n)
        if out.shape != (n,):
            raise GDPerceptronError(
                f"{what} must map one sample of shape (d,) to a scalar or shape (1,); "
                f"got shape {out.shape[1:]}"
            )
        return out

    info = {"framework": "equinox", "module": type(module).__name__}
    return from_apply(apply, params, name=label, info=info)


__all__ = ["from_equinox"]
