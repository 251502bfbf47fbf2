"""The run loop: a generalized perceptron run that returns its whole trajectory
(docs/theory/setting.md, docs/theory/reduction.md).

The loop is a compiled ``lax.while_loop`` over chunks of at most ``chunk`` steps, driven
from Python so that long runs can stop early, report progress, and keep memory bounded by
recording every ``record_every``-th iteration. Iteration ``t`` records the state *before*
step ``t + 1``: loss, min margin and misclassified count of ``theta_t``, the norm of the
logistic gradient ``||grad F(theta_t)||``, ``||theta_t||``, and on request the norm of the
reduction's error term ``||xi_t||``. Records that cost a gradient pass are computed only on
recorded iterations; a chunk leaves its loop as soon as the run stops and never steps past
``max_iter``.

The iteration complexity (docs/theory/setting.md) is the first ``t`` with every margin of
``theta_t`` strictly positive (and ``theta_t`` finite).

Compilation is ahead of time (``jit(...).lower(...).compile()``), once per model function,
weight rule and array shapes, and never counted in ``elapsed_s``. The compiled functions are
cached on the model's ``apply`` object itself, held weakly: a model that is no longer used
takes its compilations with it, and two models whose ``apply`` differ never share one,
whatever their names.
"""

from __future__ import annotations

import dataclasses
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from gdperceptron._jax import float64, jax, jnp
from gdperceptron.data.alignment import aligned_empty
from gdperceptron.data.synthetic import Dataset
from gdperceptron.engines.algorithms import ALGORITHMS, Algorithm, check_step, get_algorithm
from gdperceptron.engines.losses import (
    hard_weights,
    logistic_loss,
    logistic_weights,
    per_sample_loss,
)
from gdperceptron.engines.summation import pairwise_sum, sample_block
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.protocol import Model, split_params

METRICS = ("loss", "min_margin", "n_misclassified", "grad_norm", "param_norm", "error_norm")
STOP_REASONS = ("solved", "diverged", "stalled", "max_iter", "non_finite")  # engines/outcome.py


@dataclass(frozen=True)
class Trajectory:
    """The record of one run.

    Attributes:
        iterations: recorded iteration indices ``t``, shape ``(T,)`` (every
            ``record_every``-th, plus the last state reached).
        metrics: name -> array of shape ``(T,)`` for each name in :data:`METRICS`
            (``error_norm`` only when requested).
        solved_iteration: first ``t`` with all margins ``> 0``, or ``None``.
        stop_reason: the outcome class, one of :data:`STOP_REASONS` (``"solved"``,
            ``"diverged"``, ``"stalled"``, ``"max_iter"``, ``"non_finite"``), by the criteria
            of :mod:`gdperceptron.engines.outcome`.
        n_steps: number of steps taken.
        final_params: ``theta`` at the end: shape ``(p,)``, or the pytree structure of
            ``theta0`` when the run was started from a pytree.
        final_margins: margins of ``final_params``, shape ``(n,)``.
        elapsed_s: wall time of the steps taken (compilation excluded).
        config: the options of the run.
    """

    iterations: np.ndarray
    metrics: dict[str, np.ndarray]
    solved_iteration: int | None
    stop_reason: str
    n_steps: int
    final_params: np.ndarray
    final_margins: np.ndarray
    elapsed_s: float
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.solved_iteration is not None

    @property
    def final_loss(self) -> float:
        return float(self.metrics["loss"][-1])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.metrics[name]


# ------------------------------------------------------------- the compiled loop

# apply object -> {static key -> compiled chunk}; held weakly on the apply object
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled_chunk(model: Model, key: tuple, args: tuple, build: Callable) -> Any:
    """The compiled chunk for ``model.apply`` and ``key`` (weight rule, flags, shapes),
    lowered on ``args`` and compiled ahead of time on first use."""
    per_fn = _COMPILED.get(model.apply)
    if per_fn is None:
        per_fn = {}
        _COMPILED[model.apply] = per_fn
    if key not in per_fn:
        per_fn[key] = jax.jit(build(weakref.ref(model.apply))).lower(*args).compile()
    return per_fn[key]


def compiled_count(model: Model, *, everything: bool = False) -> int:
    """How many compiled run loops (one per weight rule, flags and shapes) are cached for
    ``model.apply``; with ``everything``, also the other engines' compiled functions kept
    on it (scaled loops, per-sample gradients). For tests and tools."""
    keys = _COMPILED.get(model.apply, {})
    return len(keys) if everything else sum(1 for k in keys if k[0] in ALGORITHMS)


@jax.custom_vjp
def first_layer_products(W: jax.Array, Xs: tuple, XTs: tuple) -> jax.Array:
    """``H = [X_1 W^T, ..., X_k W^T]``, shape ``(n, k rows)``, for ``W`` of shape
    ``(rows, d)`` and inputs ``X_j`` of shape ``(n, d)``; ``XTs`` are their stored
    transposes, ``(d, n)`` each. The backward product ``dW = sum_j (X_j^T G_j)^T`` reads
    ``X_j^T`` row by row, a contiguous pass: XLA would otherwise contract the rows of the
    row-major ``X_j``, a strided pass measured up to 3x slower."""
    return jnp.concatenate([X @ W.T for X in Xs], axis=1)


def _first_fwd(W, Xs, XTs):
    return first_layer_products(W, Xs, XTs), (W.shape[0], XTs)


def _first_bwd(res, G):
    rows, XTs = res
    dW = sum((XT @ G[:, j * rows : (j + 1) * rows]).T for j, XT in enumerate(XTs))
    return dW, None, None


first_layer_products.defvjp(_first_fwd, _first_bwd)


@jax.custom_vjp
def first_row_products(w: jax.Array, Xs: tuple, XTs: tuple) -> jax.Array:
    """:func:`first_layer_products` for a single row ``w`` of shape ``(d,)`` (``H`` of shape
    ``(n, k)``): matrix-vector products only, no reshape of ``w`` that XLA would copy."""
    return jnp.stack([X @ w for X in Xs], axis=1)


def _row_fwd(w, Xs, XTs):
    return first_row_products(w, Xs, XTs), XTs


def _row_bwd(XTs, G):
    return sum(XT @ G[:, j] for j, XT in enumerate(XTs)), None, None


first_row_products.defvjp(_row_fwd, _row_bwd)


def _products(W: jax.Array, Xs: tuple, XTs: tuple) -> jax.Array:
    """``H`` of the first layer ``W``: one row ``(d,)`` or rows ``(rows, d)``."""
    return first_row_products(W, Xs, XTs) if W.ndim == 1 else first_layer_products(W, Xs, XTs)


def _chunk_builder(
    alg: Algorithm,
    chunk: int,
    n_rec: int,
    stop_when_solved: bool,
    record_error: bool,
    layer: tuple[Callable, int, int, int, int] | None,
    masked: bool = False,
    moved: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
    blocks: int | None = None,
) -> Callable:
    """``apply_ref -> run_chunk``: the pure chunk of at most ``chunk`` iterations. The model
    function is reached through a weak reference, alive while it is traced. With ``layer =
    (head, offset, rows, d, k)`` the margins are ``y * head(theta, H)`` with ``H`` from
    :func:`first_layer_products` over the ``k`` inputs (``arrays = (X_1..X_k, X_1^T..X_k^T)``);
    otherwise ``y * apply(theta, X)`` (``arrays = (X,)``). ``moved = (S, pi(S))``: the
    involution is a permutation ``pi`` moving only the few columns ``S``; then
    ``arrays = (X, X^T, X[:, S])`` and ``(X P) W^T`` is ``X W^T`` corrected on ``S``, so that
    both products of a step read the data once. ``masked``: the chunk also takes
    a sample mask and the number of samples kept; a left-out sample gets margin ``+inf``
    (weight 0, loss 0, never misclassified) and means divide by the number kept.
    ``blocks = B`` (padding-invariant mode, with ``masked``): ``X`` has a multiple of ``B``
    rows, and every sum over samples is a :func:`pairwise_sum` (of the per-block
    gradients, each a VJP over ``B`` rows; of the losses; of the weights), so that trailing
    left-out zero rows change no bit."""
    is_gd_weights = alg.weights is logistic_weights

    def build(apply_ref: Callable) -> Callable:
        def run_chunk(theta, t, solved_at, t_max, every, arrays, y, gamma, mask=None, kept=None):
            apply = apply_ref()
            n = kept if masked else y.shape[0]

            if layer is None:

                def margins(th):
                    return y * apply(th, arrays[0])

            elif moved is None:
                head, offset, rows, d, k = layer

                def margins(params):
                    W = params[1]
                    H = _products(W, arrays[:k], arrays[k:])
                    return y * head(_head_view(params, offset), H)

            else:
                head, offset, rows, d, _ = layer
                cols, images = moved

                def margins(params):
                    # X P W^T = X W^T + X_S (W_{pi(S)} - W_S)^T: P moves only the columns S
                    W = params[1]
                    A = _products(W, arrays[:1], arrays[1:2])
                    # static one-column slices: their transposes are pads, fused into the
                    # backward product's sum, where gathers would transpose to scatters
                    W2 = W[None, :] if W.ndim == 1 else W
                    moved_W = [
                        W2[:, i : i + 1] - W2[:, j : j + 1]
                        for i, j in zip(images, cols, strict=True)
                    ]
                    B = A + arrays[2] @ jnp.concatenate(moved_W, axis=1).T if cols else A
                    return y * head(_head_view(params, offset), jnp.concatenate([A, B], axis=1))

            total = pairwise_sum if blocks else jnp.sum

            def by_block(fn, *rows):
                # fn over blocks of B rows, one block at a time (lax.map): every block is
                # computed by the same compiled kernel, however many blocks there are
                nb = y.shape[0] // blocks
                return jax.lax.map(lambda a: fn(*a), [r.reshape(nb, blocks, -1) for r in rows])

            def blocked_margins(th):
                m = by_block(lambda Xb, yb: yb[:, 0] * apply(th, Xb), arrays[0], y)
                return m.reshape(-1)

            def blocked_vjp(th, C):
                # sum_i C_ir grad m_i for each column r of C (n, r), every step and in one
                # pass: pairwise sum over blocks of B rows of each block's VJP
                def one(Xb, yb, Cb):
                    _, vjp = jax.vjp(lambda t: yb[:, 0] * apply(t, Xb), th)
                    return jax.vmap(lambda c: vjp(c)[0])(Cb.T)

                return pairwise_sum(by_block(one, arrays[0], y, C))

            def records(m, logistic_direction, error_direction, th):
                grad = jax.tree_util.tree_map(lambda g: -g / n, logistic_direction())
                rec = [
                    total(per_sample_loss(m)) / n if masked else logistic_loss(m),
                    jnp.min(m),
                    jnp.sum(m <= 0).astype(jnp.float64),
                    _norm(grad),
                    _norm(th),
                ]
                if record_error:
                    rec.append(gamma / n * _norm(error_direction()))
                return jnp.stack(rec)

            def cond(state):
                i, stopped = state[0], state[4]
                return (i < chunk) & ~stopped

            def body(state):
                i, theta, t, solved_at, _, finite, buf, its, count = state
                if blocks:
                    m, vjp = blocked_margins(theta), None
                else:
                    m, vjp = jax.vjp(margins, theta)
                finite_theta = _all_finite(theta)
                if masked:
                    finite = jnp.all(jnp.isfinite(m) | ~mask) & finite_theta
                    m = jnp.where(mask, m, jnp.inf)
                else:
                    finite = jnp.all(jnp.isfinite(m)) & finite_theta
                solved_now = finite & jnp.all(m > 0)
                solved_at = jnp.where((solved_at < 0) & solved_now, t, solved_at)
                stop = ~finite | (t >= t_max)
                if stop_when_solved:
                    stop = stop | solved_now
                sig = logistic_weights(m)
                w = sig if is_gd_weights else alg.weights(m)
                if blocks:  # every direction of the step and the records in one pass
                    cots = [w] + ([] if is_gd_weights else [sig])
                    cots += [sig - hard_weights(m)] if record_error else []
                    G = blocked_vjp(theta, jnp.stack(cots, axis=1))
                    direction = G[0]
                    logistic_direction = (lambda: G[0]) if is_gd_weights else (lambda: G[1])
                    error_direction = lambda: G[-1]  # noqa: E731
                else:  # the records' extra VJPs only on recorded iterations
                    direction = vjp(w)[0]
                    logistic_direction = (
                        (lambda: direction) if is_gd_weights else (lambda: vjp(sig)[0])
                    )
                    error_direction = lambda: vjp(sig - hard_weights(m))[0]  # noqa: E731
                do_record = (t % every == 0) | stop
                rec = jax.lax.cond(
                    do_record,
                    lambda: records(m, logistic_direction, error_direction, theta),
                    lambda: jnp.zeros(n_rec),
                )
                # written at slot `count` either way: a slot not kept is overwritten by the
                # next record, and only the first `count` slots are read
                buf = buf.at[count].set(rec)
                its = its.at[count].set(t)
                count = count + do_record.astype(count.dtype)
                eta = alg.step_size(m, w, gamma, total=total)
                theta = jax.tree_util.tree_map(
                    lambda p, g: jnp.where(stop, p, p + eta * g), theta, direction
                )
                t = t + jnp.where(stop, 0, 1)
                return (i + 1, theta, t, solved_at, stop, finite, buf, its, count)

            if layer is not None:  # carried as (the other parameters, W): no slice of
                # theta per step, W updated in place; joined again when the chunk returns
                _, offset, rows, d = layer[:4]
                end = offset + rows * d
                block = theta[offset:end]
                theta = (
                    jnp.concatenate([theta[:offset], theta[end:]]),
                    block if rows == 1 else block.reshape(rows, d),
                )
            state = (
                jnp.asarray(0),
                theta,
                t,
                solved_at,
                jnp.asarray(False),
                jnp.asarray(True),
                jnp.zeros((chunk, n_rec)),
                jnp.full((chunk,), -1, dtype=t.dtype),
                jnp.asarray(0),
            )
            _, theta, t, solved_at, stopped, finite, buf, its, count = jax.lax.while_loop(
                cond, body, state
            )
            if layer is not None:
                rest, W = theta
                theta = jnp.concatenate([rest[:offset], W.ravel(), rest[offset:]])
            return theta, t, solved_at, stopped, finite, buf, its, count

        return run_chunk

    return build


def _head_view(params: tuple, offset: int) -> jax.Array:
    """The flat ``theta`` that a first-layer head reads, from ``(rest, W)``: ``W``'s block
    is zeros, which the head never reads, so XLA removes it (no array of size ``p``)."""
    rest, W = params
    return jnp.concatenate([rest[:offset], jnp.zeros(W.size, W.dtype), rest[offset:]])


def _norm(tree: Any) -> jax.Array:
    """The Euclidean norm of an array, or of a tuple of arrays taken as one vector."""
    leaves = jax.tree_util.tree_leaves(tree)
    if len(leaves) == 1:
        return jnp.linalg.norm(leaves[0])
    return jnp.sqrt(sum(jnp.sum(leaf * leaf) for leaf in leaves))


def _all_finite(tree: Any) -> jax.Array:
    return jnp.all(
        jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(tree)])
    )


# --------------------------------------------------------------------- the run


# a permutation moving at most this many coordinates is applied to W, not stored as X P
MOVED_COLUMNS_MAX = 64


def _moved_columns(inv: Any) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """``(S, pi(S))`` for an involution that permutes coordinates and moves only the few
    columns ``S``, else ``None``."""
    perm = None if inv is None else inv.perm
    if perm is None:
        return None
    cols = np.flatnonzero(perm != np.arange(perm.size))
    if cols.size > MOVED_COLUMNS_MAX:
        return None
    return tuple(int(c) for c in cols), tuple(int(c) for c in perm[cols])


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)):
        raise GDPerceptronError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if not math.isfinite(value) or int(value) != value or value < minimum:
        raise GDPerceptronError(f"{name} must be an integer >= {minimum}, got {value}")
    if value > 2**62:
        raise GDPerceptronError(f"{name} must be at most 2**62, got {value}")
    return int(value)


class RunArguments(NamedTuple):
    """The checked arguments shared by the run loops (plain and scaled)."""

    algorithm: Algorithm
    gamma: float
    theta0: np.ndarray
    structured: bool
    max_iter: int
    record_every: int | None
    chunk: int


def check_run_arguments(
    model: Any,
    data: Any,
    algorithm: Any,
    step: Any,
    theta0: Any,
    max_iter: Any,
    record_every: Any,
    chunk: Any,
    who: str,
) -> RunArguments:
    """Check a run's arguments, one line naming the parameter on bad input; ``theta0``
    flat (``structured``: it was given in the model's pytree structure), ``model.params``
    when ``None``."""
    if not isinstance(model, Model):
        raise GDPerceptronError(
            f"model must be a gdperceptron Model (see from_apply), got {type(model).__name__}"
        )
    if not isinstance(data, Dataset):
        raise GDPerceptronError(
            f"data must be a gdperceptron Dataset (see make_dataset), got {type(data).__name__}"
        )
    alg = get_algorithm(algorithm) if isinstance(algorithm, str) else algorithm
    if not isinstance(alg, Algorithm) or ALGORITHMS.get(alg.name) is not alg:
        raise GDPerceptronError(
            f"custom algorithms are not supported by {who}; "
            "use perceptron_step for a custom weight rule"
        )
    gamma = check_step(step)
    if model.d is not None and model.d != data.d:
        raise GDPerceptronError(f"model expects d = {model.d} features, data have {data.d}")
    max_iter = _check_int(max_iter, "max_iter", 0)
    if record_every is not None:
        record_every = _check_int(record_every, "record_every", 1)
    # chunk = 0 would run zero steps per call and never reach a stop: an endless loop
    chunk = _check_int(chunk, "chunk", 1)
    if theta0 is None:
        if model.params is None:
            raise GDPerceptronError("theta0 is required (the model has no given parameters)")
        theta0 = model.params
    flat0, structured = split_params(model, theta0)
    return RunArguments(alg, gamma, flat0, structured, max_iter, record_every, chunk)


def _padded_to_blocks(
    data: Dataset, mask: np.ndarray | None, block: int
) -> tuple[Dataset, np.ndarray]:
    """``data`` with zero rows (label +1) appended up to a multiple of ``block`` rows, and
    the mask of the rows kept (all the original ones when ``mask`` is ``None``)."""
    n = data.n
    rows = -(-n // block) * block
    keep = np.ones(n, dtype=bool) if mask is None else mask
    if rows == n:
        return data, keep
    X = aligned_empty((rows, data.d))
    X[:n], X[n:] = data.X, 0.0
    y = np.ones(rows)
    y[:n] = data.y
    X.setflags(write=False)  # read-only: the Dataset takes the arrays without a copy
    y.setflags(write=False)
    padded = dataclasses.replace(data, X=X, y=y)
    return padded, np.concatenate([keep, np.zeros(rows - n, dtype=bool)])


def _check_mask(sample_mask: Any, n: int) -> np.ndarray:
    mask = np.asarray(sample_mask)
    if mask.dtype != np.bool_ or mask.shape != (n,):
        raise GDPerceptronError(
            f"sample_mask must be booleans of shape ({n},), got {mask.dtype} {mask.shape}"
        )
    if not mask.any():
        raise GDPerceptronError("sample_mask must keep at least one sample")
    return mask


def run_record(
    model: Model,
    alg: Algorithm,
    gamma: float,
    max_iter: int,
    stop_when_solved: bool,
    every: int,
    n: int,
    d: int,
    standardized: bool | None = None,
) -> dict[str, Any]:
    """The options every run loop records in ``Trajectory.config`` (``standardized`` only
    for data whose loader records whether it standardized the features)."""
    extra = {} if standardized is None else {"standardized": bool(standardized)}
    return {
        "model": model.name,
        "algorithm": alg.name,
        "step": gamma,
        "max_iter": max_iter,
        "stop_when_solved": stop_when_solved,
        "record_every": every,
        "n": n,
        "d": d,
        **extra,
    }


@float64
def run(
    model: Model,
    data: Dataset,
    algorithm: str | Algorithm,
    step: float,
    *,
    theta0: Any = None,
    max_iter: int = 10_000,
    stop_when_solved: bool = True,
    record_error: bool = False,
    record_every: int | None = None,
    chunk: int = 256,
    progress: Callable[..., None] | None = None,
    stored_transpose: bool = True,
    sample_mask: Any = None,
    padding_invariant: bool = False,
) -> Trajectory:
    """Run a generalized perceptron from ``theta0`` and return its :class:`Trajectory`.

    Args:
        model: the model (docs/theory/models.md); ``model.d``, when set, must equal
            ``data.d``.
        data: the data set; labels in {-1, +1}.
        algorithm: a name in ``ALGORITHM_NAMES`` or an :class:`Algorithm`.
        step: ``gamma > 0`` (docs/theory/reduction.md table).
        theta0: initial parameters: the flat vector of shape ``(model.n_params,)`` or, for
            a model built from a pytree, a pytree of that structure. Default:
            ``model.params`` for a model built from given parameters.
        max_iter: largest number of steps.
        stop_when_solved: stop at the first iteration with all margins positive.
        record_error: also record ``||xi_t||``, the norm of the reduction's error term.
        record_every: record every k-th iteration; default ``ceil(max_iter / 20000)``.
        chunk: largest number of iterations per compiled call (between two calls the loop
            returns to Python: progress, interruption).
        progress: called after each chunk as ``progress(steps_done, max_iter, latest)``,
            ``latest`` the dict of the last recorded metrics.
        stored_transpose: for a model that declares its first layer's head
            (:class:`~gdperceptron.models.protocol.FirstLayer`), compute the first layer
            from stored copies of ``X`` and ``X^T`` (and ``X P``, ``(X P)^T`` with an
            involution): one more copy of the data in memory for a contiguous backward
            product. ``False`` evaluates ``model.apply`` as given; both give the same
            trajectory up to rounding.
        sample_mask: optional booleans, shape ``(n,)``: the run on the samples where it is
            ``True`` only, ``n_kept = sum(sample_mask)`` of them (the loss and the plain
            step divide by ``n_kept``; ``final_margins`` has shape ``(n_kept,)``). The left
            out rows keep the arrays' shapes, so one compilation serves every mask: the
            estimator pads data with zero rows to a few sizes this way. The numbers are
            those of the run on ``data[sample_mask]`` up to the order in which sums over
            samples are added (the left-out rows must be finite).
        padding_invariant: add every sum over samples in an order that trailing left-out
            zero rows do not change (:mod:`gdperceptron.engines.summation`: blocks of up to 64
            rows, each a VJP of its own, added pairwise; ``model.apply`` as given). Then
            ``data`` padded with zero rows, left out by ``sample_mask``, gives bit for bit
            the trajectory of the run on the rows kept: the estimator's folds share one
            compilation this way. The numbers differ from the default order by rounding.

    Example:
        >>> from gdperceptron import minimal_example, linear, run
        >>> data = minimal_example(d=10)
        >>> traj = run(linear(10), data, "perceptron", 1.0, theta0=[0.0] * 10)
        >>> traj.stop_reason, traj.solved_iteration is not None
        ('solved', True)
    """
    args = check_run_arguments(
        model, data, algorithm, step, theta0, max_iter, record_every, chunk, "run()"
    )
    alg, gamma, flat0, structured, max_iter, record_every, chunk = args
    every = record_every if record_every is not None else max(1, math.ceil(max_iter / 20_000))
    if not isinstance(padding_invariant, bool | np.bool_):
        raise GDPerceptronError(
            f"padding_invariant must be True or False, got {padding_invariant!r}"
        )
    mask = None if sample_mask is None else _check_mask(sample_mask, data.n)
    kept = data if mask is None else dataclasses.replace(data, X=data.X[mask], y=data.y[mask])
    n_kept = kept.n
    blocks = sample_block(data.d) if padding_invariant else None
    if blocks:  # rows padded to a multiple of the block, the padding left out by the mask
        data, mask = _padded_to_blocks(data, mask, blocks)
    y = jnp.asarray(data.y, dtype=jnp.float64)
    layer = model.first_layer
    fast = bool(stored_transpose and layer is not None and layer.head is not None and model.d)
    fast = fast and not blocks
    moved = None
    if fast:
        # the first layer's inputs X (and X P) and their transposes, each (n, d) / (d, n):
        # one more copy of the data, for a contiguous backward product. X itself is not
        # copied when it is aligned (data/alignment.py), as every Dataset's X is
        inputs = [np.asarray(data.X, dtype=np.float64)]
        moved = _moved_columns(layer.involution)
        if layer.involution is not None and moved is None:
            inputs.append(np.asarray(layer.involution.apply_rows(inputs[0]), dtype=np.float64))
        on_device = tuple(jax.device_put(a) for a in inputs)  # shares an aligned X
        arrays = on_device + tuple(jnp.transpose(a) for a in on_device)  # row-major X^T
        if moved is not None:  # X P read as X plus its few moved columns
            arrays += (jnp.asarray(inputs[0][:, list(moved[0])]),)
        del inputs
        spec = (layer.head, layer.offset, layer.rows, model.d, len(on_device))
    else:
        arrays, spec = (jax.device_put(np.asarray(data.X, dtype=np.float64)),), None
    X = arrays[0]
    names = METRICS if record_error else METRICS[:-1]
    # one compiled length for every budget: the loop itself stops at max_iter, so a short
    # run executes only its own steps, and runs of other budgets share the compilation
    length = chunk
    theta = jnp.asarray(flat0)
    t, solved_at = jnp.asarray(0), jnp.asarray(-1)
    t_max, every_j, g = jnp.asarray(max_iter), jnp.asarray(every), jnp.asarray(gamma)
    args = (theta, t, solved_at, t_max, every_j, arrays, y, g)
    if mask is not None:
        args += (jnp.asarray(mask), jnp.asarray(float(mask.sum())))
    key = (
        alg.name,
        length,
        bool(stop_when_solved),
        bool(record_error),
        None if spec is None else spec[:4],
        moved,
        blocks,
        tuple((a.shape, str(a.dtype)) for a in jax.tree_util.tree_leaves(args)),
    )
    build = _chunk_builder(
        alg,
        length,
        len(names),
        bool(stop_when_solved),
        bool(record_error),
        spec,
        mask is not None,
        moved,
        blocks,
    )
    fn = _compiled_chunk(model, key, args, build)

    iters: list[np.ndarray] = []
    recs: list[np.ndarray] = []
    # the data's transfer (and the stored transposes) are dispatched asynchronously: wait
    # for them here, or the clock of the first chunk would include them
    jax.block_until_ready(args)
    start = time.perf_counter()
    while True:
        theta, t, solved_at, stopped, finite, buf, its, count = fn(theta, t, solved_at, *args[3:])
        c = int(count)  # waits for the chunk: the clock measures the steps, not a dispatch
        iters.append(np.asarray(its)[:c])
        recs.append(np.asarray(buf)[:c])
        if bool(stopped):
            break
        if progress is not None and c:
            progress(int(t), max_iter, dict(zip(names, recs[-1][-1].tolist(), strict=True)))
    elapsed = time.perf_counter() - start
    steps = int(t)
    iterations = np.concatenate(iters).astype(np.int64)
    table = np.concatenate(recs)
    if progress is not None:
        progress(steps, max_iter, dict(zip(names, table[-1].tolist(), strict=True)))
    metrics = {name: table[:, k] for k, name in enumerate(names)}
    metrics["n_misclassified"] = metrics["n_misclassified"].astype(np.int64)
    final = np.asarray(theta)
    if blocks:  # block by block, as in the loop: the same bits whatever the padding
        rows = X.reshape(X.shape[0] // blocks, blocks, X.shape[1])
        f_end = jax.lax.map(lambda Xb: model.apply(jnp.asarray(final), Xb), rows).reshape(-1)
    else:
        f_end = model.apply(jnp.asarray(final), X)
    margins_end = np.asarray(y * f_end, dtype=np.float64)
    s = int(solved_at)
    traj = Trajectory(
        iterations=iterations,
        metrics=metrics,
        solved_iteration=s if s >= 0 else None,
        stop_reason="max_iter",
        n_steps=steps,
        final_params=model.structured(final) if structured else final,
        final_margins=margins_end if mask is None else margins_end[mask],
        elapsed_s=elapsed,
        config=run_record(
            model,
            alg,
            gamma,
            max_iter,
            stop_when_solved,
            every,
            n_kept,
            data.d,
            data.info.get("standardized"),
        ),  # fmt: skip
    )
    from gdperceptron.engines.outcome import classify  # the outcome module reads Trajectory

    outcome = classify(model, kept, traj, finite=bool(finite), counts=False, params=final)
    return dataclasses.replace(traj, stop_reason=outcome.name)
