"""The exact reduced simulator: the same run in an O(n)-dimensional coordinate system
(docs/theory/minimal-example.md).

Every model of the package sees its input only through its first layer: ``<v, x>`` for the
linear model, ``<w, x>`` and ``<w, P x>`` for the tied model, ``W_1 x`` for the two-layer
and deeper networks. Let ``Q`` (shape ``(d, k)``, orthonormal columns) span a subspace
``S`` that contains every ``x_i`` and, for the tied model, is mapped to itself by ``P``
(``S = span{x_i, P x_i}``). Write a first-layer row as ``w = Q w~ + w_perp`` with
``w~ = Q^T w`` and ``w_perp`` orthogonal to ``S``. Then

- ``<w, x_i> = <w~, Q^T x_i>`` and, since ``P Q = Q P~`` with ``P~ = Q^T P Q``,
  ``<w, P x_i> = <w~, P~ Q^T x_i>``: the margins depend on ``w`` only through ``w~``, and
  the ``d``-dimensional model on ``X`` equals the same model on the reduced data
  ``X Q`` (shape ``(n, k)``) with involution ``P~`` (shape ``(k, k)``);
- every margin gradient with respect to ``w`` lies in ``S`` (it is a combination of the
  ``x_i`` and ``P x_i``), so ``w_perp`` never moves and the GD / perceptron step on ``w~``
  is exactly the reduced model's step.

Hence the whole trajectory (margins, loss, misclassified sets, ``||grad F||`` and the
error term ``||xi_t||``, which are invariant under the orthonormal change of
coordinates) is the trajectory of the reduced problem, at a per-step cost independent of
``d``; ``||theta_t||^2 = ||theta~_t||^2 + ||theta_perp||^2`` and the full parameters are
``w_t = Q w~_t + w_perp``. The one-off cost is the ``O(n d k)`` projection.

The basis is a Householder QR with column pivoting (rank-revealing; LAPACK ``dgeqp3`` via
:func:`scipy.linalg.qr`) of the vectors ``x_i`` (linear and networks) or
``x_i + P x_i, x_i - P x_i`` (tied model: these span the same space as ``x_i, P x_i`` and
are eigenvectors of ``P`` with eigenvalues ``+1`` and ``-1``, so that ``P~`` is the
diagonal matrix of signs up to rounding; it is then snapped to it exactly). Columns whose
``|R_jj|`` is below ``rtol * |R_00|`` are dropped. Pivoting is what makes dropping safe:
an unpivoted QR of a rank-deficient matrix fills dependent columns with arbitrary
directions that later columns are orthogonalised against.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg

from gdperceptron.data.bases import SegmentBasis
from gdperceptron.data.synthetic import Dataset, make_dataset
from gdperceptron.engines.trajectory import Trajectory, run
from gdperceptron.errors import GDPerceptronError
from gdperceptron.models.builtin import Involution, involution
from gdperceptron.models.protocol import Model

RTOL = 1e-10  # relative rank tolerance on |R_jj| / |R_00|; also the basis-check tolerance


class ReducedProblem(NamedTuple):
    """A ``d``-dimensional run written in ``k`` coordinates (docs/theory/minimal-example.md).

    Attributes:
        model: the same kind of model with input dimension ``k`` (``P~ = Q^T P Q`` for
            the tied model).
        data: reduced data ``X Q``, shape ``(n, k)``, the same labels.
        theta0: reduced initial parameters, shape ``(p~,)``: first-layer rows ``Q^T w``.
        basis: ``Q``, shape ``(d, k)``, orthonormal columns spanning an invariant subspace
            that contains every ``x_i``: an array, or a closed-form
            :class:`~gdperceptron.data.bases.SegmentBasis` (the minimal example's), which
            multiplies as the array does without storing it.
        theta_perp: shape ``(p,)``: the constant orthogonal remainder ``w - Q Q^T w`` of the
            first-layer rows of ``theta0``, zero elsewhere.
        perp_norm: ``||theta_perp||``.
        k: the reduced dimension.
        full_model: the original model (dimension ``d``).
        residual: ``max_i ||x_i - Q Q^T x_i|| / ||x_i||``, the representation error.
    """

    model: Model
    data: Dataset
    theta0: np.ndarray
    basis: np.ndarray | SegmentBasis
    theta_perp: np.ndarray
    perp_norm: float
    k: int
    full_model: Model
    residual: float


def _first_layer(model: Model) -> tuple[int, int]:
    """``(offset, rows)``: the first-layer block of ``theta`` is
    ``theta[offset : offset + rows * d]``, a row-major ``(rows, d)`` matrix (the model's
    :class:`~gdperceptron.models.protocol.FirstLayer` declaration)."""
    if model.first_layer is None:
        raise GDPerceptronError(
            f"no reduced simulation for model {model.name!r}: it does not declare how it "
            "reads its input (Model.first_layer)"
        )
    return model.first_layer.offset, model.first_layer.rows


def _involution(model: Model) -> Involution | None:
    """``P`` when the model reads ``x`` through ``W x`` and ``W P x``, else ``None``."""
    return None if model.first_layer is None else model.first_layer.involution


def _same_model(model: Model, k: int, P: Involution | None) -> Model:
    """The same model with input dimension ``k`` (and involution ``P~``)."""
    return model.first_layer.rebuild(k, P)


def _apply_rows(model: Model, X: np.ndarray) -> np.ndarray:
    """``X P`` for NumPy rows ``X`` (``(..., d)``), as ``Involution.apply_rows``; a
    permutation goes through ``np.take``, several times faster than fancy indexing at
    ``d = 10^6``."""
    P = _involution(model)
    if P.perm is not None:
        return np.take(X, P.perm, axis=-1)
    return P.apply_rows(X)


def _spanning_rows(model: Model, X: np.ndarray) -> np.ndarray:
    """Rows whose span is the invariant subspace: ``x_i`` (shape ``(n, d)``) or, for the tied
    model, ``x_i + P x_i`` then ``x_i - P x_i`` (shape ``(2n, d)``). A fresh C-ordered array,
    so that its transpose is the Fortran-ordered ``(d, r)`` matrix LAPACK overwrites."""
    if _involution(model) is None:
        return np.array(X, dtype=np.float64)
    n = X.shape[0]
    XP = _apply_rows(model, X)
    V = np.empty((2 * n, X.shape[1]))
    np.add(X, XP, out=V[:n])
    np.subtract(X, XP, out=V[n:])
    return V


def _pad(model: Model, Q: np.ndarray, k_min: int) -> np.ndarray:
    """Complete ``Q`` to ``k_min`` columns (degenerate data only: the reduced model needs
    ``k >= 1``, the tied model ``k >= 2``). For the tied model the added directions are
    eigenvectors ``e_j +- P e_j`` of ``P`` (orthogonalised against ``Q``, they stay
    eigenvectors because the projection on an invariant subspace commutes with ``P``)."""
    d = Q.shape[0]
    cols = [Q[:, j] for j in range(Q.shape[1])]
    for j in range(d):
        e = np.zeros(d)
        e[j] = 1.0
        cands = [e]
        if _involution(model) is not None:
            Pe = _apply_rows(model, e)
            cands = [e + Pe, e - Pe]
        for v in cands:
            for q in cols:
                v = v - (q @ v) * q
            nv = np.linalg.norm(v)
            if nv > 0.5 and len(cols) < k_min:
                cols.append(v / nv)
        if len(cols) >= k_min:
            break
    return np.stack(cols, axis=1)


def invariant_basis(model: Model, data: Dataset, *, rtol: float = RTOL) -> np.ndarray:
    """Orthonormal basis ``Q`` (shape ``(d, k)``) of ``span{x_i}`` (linear, two-layer, mlp)
    or ``span{x_i, P x_i}`` (tied) by pivoted Householder QR of the spanning vectors, with
    relative rank tolerance ``rtol``: columns with ``|R_jj| <= rtol |R_00|`` are dropped.
    For the tied model the columns are eigenvectors of ``P``, eigenvalue ``+1`` first.
    Cost ``O(d n^2)`` time and ``O(d n)`` memory, once (docs/theory/minimal-example.md)."""
    _first_layer(model)
    if model.d != data.d:
        raise GDPerceptronError(f"model expects d = {model.d} features, data have {data.d}")
    if not 0.0 <= rtol < 1.0:
        raise GDPerceptronError(f"rtol must be in [0, 1), got {rtol}")
    V = _spanning_rows(model, data.X).T  # (d, r) in Fortran order: LAPACK works in place
    n_plus = V.shape[1] // 2  # tied model: columns < n_plus are eigenvectors of P for +1
    Q, R, piv = scipy.linalg.qr(V, mode="economic", pivoting=True, overwrite_a=True)
    del V
    diag = np.abs(np.diag(R))
    k = int(np.sum(diag > rtol * diag[0])) if diag[0] > 0 else 0
    Q = np.array(Q[:, :k], order="F")
    tied_p = _involution(model) is not None
    k_min = 2 if tied_p else 1
    if k < k_min:
        Q = _pad(model, Q, k_min)
    if tied_p:
        # Q_j is pivot column piv[j] minus its projection on Q_0..Q_{j-1}, all eigenvectors
        # of P (orthogonal eigenspaces), so Q_j has its pivot column's eigenvalue
        if k < k_min:
            signs = np.einsum("ik,ki->k", Q, _apply_rows(model, Q.T))
        else:
            signs = np.where(piv[:k] < n_plus, 1.0, -1.0)
        Q = np.array(Q[:, np.argsort(-signs, kind="stable")], order="F")
    return Q


def _reduced_involution(model: Model, Q: np.ndarray) -> Involution:
    """``P~ = Q^T P Q`` (shape ``(k, k)``), computed as ``(Q^T P) Q`` with ``P`` applied to
    rows; snapped to the nearest matrix with entries in {-1, 0, 1} when it is within
    ``RTOL`` of it and that matrix is an involution (in exact arithmetic always the case for
    :func:`invariant_basis` and for :func:`gdperceptron.data.synthetic.minimal_example_basis`)."""
    return _snapped_involution(_apply_rows(model, Q.T) @ Q)


def _snapped_involution(Pt: np.ndarray) -> Involution:
    """:func:`_reduced_involution`'s snapping and validation of ``P~ = Q^T P Q``."""
    Pt = 0.5 * (Pt + Pt.T)
    k = Pt.shape[0]
    R = np.rint(Pt) + 0.0  # + 0.0 turns -0.0 into 0.0 (the compile cache keys on bytes)
    if np.max(np.abs(Pt - R)) <= RTOL and np.array_equal(R @ R, np.eye(k)):
        if np.all(R >= 0):  # a permutation: O(k) per application
            return Involution(k, perm=np.argmax(R, axis=0))
        return Involution(k, matrix=R)
    try:
        return involution(Pt)
    except GDPerceptronError:
        raise GDPerceptronError(
            "the basis does not span a subspace that P maps to itself (Q^T P Q is not an "
            "involution)"
        ) from None


def _check_basis(model: Model, data: Dataset, Q: Any, rtol: float) -> np.ndarray:
    """Validate a given basis: shape ``(d, k)``, orthonormal columns, and every spanning
    vector (``x_i``; ``x_i +- P x_i`` for the tied model) inside its span, both within
    ``10 max(rtol, 1e-12)`` relative. Cost ``O(d k (n + k))``."""
    Q = np.asarray(Q, dtype=np.float64)
    d = data.d
    if Q.ndim != 2 or Q.shape[0] != d or not 1 <= Q.shape[1] <= d:
        raise GDPerceptronError(f"basis must have shape (d, k) with d = {d}, got {Q.shape}")
    if not np.all(np.isfinite(Q)):
        raise GDPerceptronError("basis contains non-finite values")
    k, tol = Q.shape[1], 10.0 * max(rtol, 1e-12)
    if np.max(np.abs(Q.T @ Q - np.eye(k))) > tol:
        raise GDPerceptronError("basis columns must be orthonormal")
    if _involution(model) is not None and k < 2:
        raise GDPerceptronError("a model with an involution needs a basis with at least 2 columns")
    rows = _spanning_rows(model, data.X)
    norms = np.linalg.norm(rows, axis=1)
    res = np.linalg.norm(rows - (rows @ Q) @ Q.T, axis=1)
    if np.any(res > tol * norms):
        what = "x_i and P x_i" if _involution(model) is not None else "x_i"
        raise GDPerceptronError(f"basis does not span every {what} (relative residual > rtol)")
    return Q


def _layer_slices(model: Model) -> tuple[int, int, int]:
    offset, rows = _first_layer(model)
    return offset, rows, offset + rows * model.d


def reduce_problem(
    model: Model, data: Dataset, theta0: Any, *, basis: Any = None, rtol: float = RTOL
) -> ReducedProblem:
    """Write the run of ``model`` on ``data`` from ``theta0`` in ``k`` coordinates
    (docs/theory/minimal-example.md).

    The first-layer rows ``w`` (shape ``(d,)`` each) of ``theta0`` become ``Q^T w`` (shape
    ``(k,)``); their remainder ``w - Q Q^T w`` is kept in ``theta_perp``; the data become
    ``X Q``; for the tied model ``P`` becomes ``P~ = Q^T P Q``. Other parameters (``u`` of
    the tied model, deeper layers, second layer) are unchanged.

    Args:
        model: any model that declares its first layer (``model.first_layer``: the
            built-in linear, tied, two-layer and mlp models do), ``model.d == data.d``.
        data: ``(n, d)`` data.
        theta0: initial parameters, shape ``(model.n_params,)``.
        basis: optional ``(d, k)`` orthonormal basis of a ``P``-invariant subspace that
            contains every ``x_i`` (e.g. :func:`gdperceptron.data.synthetic.minimal_example_basis`),
            validated; default :func:`invariant_basis`.
        rtol: relative rank and validation tolerance.

    Example:
        >>> from gdperceptron import minimal_example, tied
        >>> data, model = minimal_example(d=1000), tied(1000)
        >>> rp = reduce_problem(model, data, model.initial_params(0))
        >>> rp.k, rp.data.X.shape, rp.model.n_params
        (3, (2, 3), 5)
    """
    offset, rows, end = _layer_slices(model)
    if model.d != data.d:
        raise GDPerceptronError(f"model expects d = {model.d} features, data have {data.d}")
    theta0 = np.asarray(theta0, dtype=np.float64)
    if theta0.shape != (model.n_params,):
        raise GDPerceptronError(f"theta0 must have shape ({model.n_params},), got {theta0.shape}")
    if not np.all(np.isfinite(theta0)):
        raise GDPerceptronError("theta0 contains non-finite values")
    if isinstance(basis, SegmentBasis) and _segment_path(model, basis):
        return _reduce_with_segments(model, data, theta0, basis, rtol)
    if basis is None:
        Q = invariant_basis(model, data, rtol=rtol)
    else:
        Q = _check_basis(model, data, basis, rtol)
    d, k = Q.shape
    P = _reduced_involution(model, Q) if _involution(model) is not None else None
    XQ = data.X @ Q
    norms = np.linalg.norm(data.X, axis=1)
    residual = np.linalg.norm(data.X - XQ @ Q.T, axis=1) / np.where(norms > 0, norms, 1.0)
    W = theta0[offset:end].reshape(rows, d)
    Wt = W @ Q
    theta_perp = np.zeros_like(theta0)
    theta_perp[offset:end] = (W - Wt @ Q.T).ravel()
    return _reduced(model, data, theta0, Q, P, XQ, Wt, theta_perp, float(residual.max()))


def _reduced(
    model: Model,
    data: Dataset,
    theta0: np.ndarray,
    Q: Any,
    P: Involution | None,
    XQ: np.ndarray,
    Wt: np.ndarray,
    theta_perp: np.ndarray,
    residual: float,
) -> ReducedProblem:
    """The :class:`ReducedProblem` of its computed parts (``Wt = W Q``, the reduced rows)."""
    offset, _, end = _layer_slices(model)
    d, k = Q.shape
    return ReducedProblem(
        model=_same_model(model, k, P),
        data=make_dataset(XQ, data.y, f"{data.name}-reduced", {**data.info, "d": d, "k": k}),
        theta0=np.concatenate([theta0[:offset], Wt.ravel(), theta0[end:]]),
        basis=Q,
        theta_perp=theta_perp,
        perp_norm=float(np.linalg.norm(theta_perp)),
        k=k,
        full_model=model,
        residual=residual,
    )


def _segment_path(model: Model, Q: SegmentBasis) -> bool:
    """Whether :func:`_reduce_with_segments` applies: no involution, or a permutation
    (a dense ``P`` goes through the dense basis)."""
    P = _involution(model)
    return P is None or P.perm is not None


def _reduce_with_segments(
    model: Model, data: Dataset, theta0: np.ndarray, Q: SegmentBasis, rtol: float
) -> ReducedProblem:
    """:func:`reduce_problem` with a closed-form :class:`SegmentBasis`, in ``O(n d)`` time
    and ``O(p)`` memory (the remainder ``theta_perp``): the basis is orthonormal by
    construction, so only its span is validated, row by row; ``P~ = Q^T P Q`` comes from
    the coordinates that ``P`` moves, ``Q^T P Q = Q^T Q + Q[S]^T (Q[pi(S)] - Q[S])``."""
    d, k = Q.shape
    if d != data.d:
        raise GDPerceptronError(f"basis must have shape (d, k) with d = {data.d}, got {Q.shape}")
    P = _involution(model)
    if P is not None and k < 2:
        raise GDPerceptronError("a model with an involution needs a basis with at least 2 columns")
    tol = 10.0 * max(rtol, 1e-12)
    X = data.X
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))  # no (n, d) temporary
    res = Q.residual_norms(X)
    if np.any(res > tol * norms):
        raise GDPerceptronError("basis does not span every x_i (relative residual > rtol)")
    Pt = None
    if P is not None:
        moved = np.flatnonzero(P.perm != np.arange(d))
        rows = Q.rows(moved)
        Pt = Q.gram() + rows.T @ (Q.rows(P.perm[moved]) - rows)
        # P x_i = x_i except on the moved coordinates (||P x_i|| = ||x_i||)
        if np.any(Q.residual_norms(X, moved, P.perm[moved]) > tol * norms):
            raise GDPerceptronError(
                "basis does not span every x_i and P x_i (relative residual > rtol)"
            )
        Pt = _snapped_involution(Pt)
    offset, rows_w, end = _layer_slices(model)
    W = theta0[offset:end].reshape(rows_w, d)
    Wt = Q.project(W)
    theta_perp = np.zeros_like(theta0)
    perp = theta_perp[offset:end].reshape(rows_w, d)
    perp[...] = W
    for j, ((a, b), v) in enumerate(zip(Q.segments, Q.values, strict=True)):
        perp[:, a:b] -= (Wt[:, j] * v)[:, None]
    residual = float(np.max(res / np.where(norms > 0, norms, 1.0)))
    return _reduced(model, data, theta0, Q, Pt, Q.project(X), Wt, theta_perp, residual)


def lift(problem: ReducedProblem, theta_reduced: Any) -> np.ndarray:
    """Full parameters from reduced ones: first-layer rows ``w = Q w~ + w_perp``, the other
    parameters copied. Shapes ``(p~,) -> (p,)``; ``O(p)`` memory
    (docs/theory/minimal-example.md)."""
    theta_reduced = np.asarray(theta_reduced, dtype=np.float64)
    if theta_reduced.shape != (problem.model.n_params,):
        raise GDPerceptronError(
            f"reduced parameters must have shape ({problem.model.n_params},), "
            f"got {theta_reduced.shape}"
        )
    offset, rows, end = _layer_slices(problem.full_model)
    k = problem.k
    theta = problem.theta_perp.copy()
    theta[:offset] = theta_reduced[:offset]
    Wt = theta_reduced[offset : offset + rows * k].reshape(rows, k)
    theta[offset:end] += (Wt @ problem.basis.T).ravel()
    theta[end:] = theta_reduced[offset + rows * k :]
    return theta


def reduce_params(problem: ReducedProblem, theta: Any) -> np.ndarray:
    """Reduced coordinates of full parameters: first-layer rows ``w -> Q^T w``, the rest
    copied. Shapes ``(p,) -> (p~,)``. ``reduce_params(pr, lift(pr, t)) == t``."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (problem.full_model.n_params,):
        raise GDPerceptronError(
            f"parameters must have shape ({problem.full_model.n_params},), got {theta.shape}"
        )
    offset, rows, end = _layer_slices(problem.full_model)
    Wt = theta[offset:end].reshape(rows, -1) @ problem.basis
    return np.concatenate([theta[:offset], Wt.ravel(), theta[end:]])


def run_reduced_problem(
    problem: ReducedProblem,
    algorithm: str,
    step: float,
    *,
    lift_params: bool = False,
    **run_kwargs: Any,
) -> Trajectory:
    """Run :func:`gdperceptron.engines.trajectory.run` on a :class:`ReducedProblem` and express the
    result in the full problem's terms (docs/theory/minimal-example.md).

    Loss, margins, misclassified counts, ``||grad F||`` and ``||xi_t||`` are those of the
    full run (invariant under the orthonormal change of coordinates); ``param_norm`` is
    fixed up to ``sqrt(||theta~_t||^2 + ||theta_perp||^2)``. ``final_params`` stay in
    reduced coordinates (shape ``(p~,)``; ``config["params"] == "reduced"``) unless
    ``lift_params=True``, which allocates the ``(p,)`` full vector (80 MB at ``d = 10^7``).
    ``config`` gets ``engine="reduced"``, ``k`` and the full ``d``; ``elapsed_s`` is the loop.
    """
    traj = run(problem.model, problem.data, algorithm, step, theta0=problem.theta0, **run_kwargs)
    metrics = dict(traj.metrics)
    metrics["param_norm"] = np.hypot(metrics["param_norm"], problem.perp_norm)
    final = lift(problem, traj.final_params) if lift_params else traj.final_params
    config = {
        **traj.config,
        "d": problem.full_model.d,
        "engine": "reduced",
        "k": problem.k,
        "params": "full" if lift_params else "reduced",
    }
    return dataclasses.replace(traj, metrics=metrics, final_params=final, config=config)


def run_reduced(
    model: Model,
    data: Dataset,
    algorithm: str,
    step: float,
    *,
    theta0: Any,
    lift_params: bool = False,
    basis: Any = None,
    rtol: float = RTOL,
    **run_kwargs: Any,
) -> Trajectory:
    """The run of :func:`gdperceptron.engines.trajectory.run` computed exactly in ``k``
    coordinates: :func:`reduce_problem` then :func:`run_reduced_problem`
    (docs/theory/minimal-example.md). Same arguments as ``run`` plus ``lift_params`` (return
    full final parameters), ``basis`` and ``rtol``.

    Example:
        >>> import numpy as np
        >>> from gdperceptron import minimal_example, tied
        >>> d = 10_000
        >>> model, data = tied(d), minimal_example(d)
        >>> lam2 = np.sqrt(9.0 + 2 * (d - 2))
        >>> traj = run_reduced(model, data, "gd", 1 / lam2, theta0=model.initial_params(0))
        >>> traj.stop_reason, traj.config["engine"], traj.config["k"]
        ('solved', 'reduced', 3)
    """
    problem = reduce_problem(model, data, theta0, basis=basis, rtol=rtol)
    return run_reduced_problem(problem, algorithm, step, lift_params=lift_params, **run_kwargs)
