"""The closed-form SegmentBasis against its dense matrix, and the reduced problem built from
it against the one built from the dense basis (every field, the tied model's P~ included)."""

from __future__ import annotations

import numpy as np
import pytest

import gdperceptron as gp
from gdperceptron import GDPerceptronError
from gdperceptron.data.bases import SegmentBasis
from gdperceptron.models.builtin import Involution


def test_products_equal_the_dense_matrix() -> None:
    Q = SegmentBasis(9, ((5, 9), (0, 1), (2, 4)))
    D = np.asarray(Q)
    # the dense matrix, written out: columns 1/2 on 5..8, 1 on 0, 1/sqrt(2) on 2..3
    expected = np.zeros((9, 3))
    expected[5:9, 0], expected[0, 1], expected[2:4, 2] = 0.5, 1.0, 2**-0.5
    np.testing.assert_allclose(D, expected, rtol=1e-15, atol=0)
    rng = np.random.default_rng(0)
    V, C = rng.standard_normal((4, 9)), rng.standard_normal((3, 5))
    np.testing.assert_allclose(V @ Q, V @ D, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(Q @ C, D @ C, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(Q.T @ V.T, D.T @ V.T, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(C.T @ Q.T, C.T @ D.T, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(Q.gram(), D.T @ D, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(Q.rows([0, 3, 6, 4]), D[[0, 3, 6, 4]])
    np.testing.assert_array_equal(2.0 * Q, 2.0 * D)
    residual = np.linalg.norm(V - V @ D @ D.T, axis=1)
    np.testing.assert_allclose(Q.residual_norms(V), residual, rtol=1e-13)
    assert Q.shape == (9, 3) and Q[:, 0].tolist() == D[:, 0].tolist()


@pytest.mark.parametrize("segments", [(), ((0, 3), (2, 5)), ((0, 0),), ((4, 11),)])
def test_bad_segments_are_refused(segments) -> None:
    with pytest.raises(GDPerceptronError, match="segments"):
        SegmentBasis(10, segments)


@pytest.mark.parametrize("d", [2, 3, 40, 70_000])  # 70 000 > one residual piece
@pytest.mark.parametrize("make", [gp.tied, gp.linear, lambda d: gp.two_layer(d, 3)])
def test_reduced_problem_equals_the_dense_basis_one(d, make) -> None:
    data, model = gp.minimal_example(d, mu=0.7), make(d)
    theta0 = model.initial_params(2, 1.0)
    Q = gp.minimal_example_basis(d)
    closed = gp.reduce_problem(model, data, theta0, basis=Q)
    dense = gp.reduce_problem(model, data, theta0, basis=np.asarray(Q))
    assert isinstance(closed.basis, SegmentBasis) and closed.k == dense.k
    np.testing.assert_allclose(closed.data.X, dense.data.X, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(closed.theta0, dense.theta0, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(closed.theta_perp, dense.theta_perp, rtol=0, atol=1e-15)
    assert closed.model.info == dense.model.info  # P~, for the tied model
    assert closed.residual <= 1e-14 and dense.residual <= 1e-14 * np.sqrt(d)  # rounding
    reduced = np.random.default_rng(1).standard_normal(closed.model.n_params)
    np.testing.assert_allclose(gp.lift(closed, reduced), gp.lift(dense, reduced), atol=1e-14)


def test_a_closed_form_basis_that_misses_the_data_is_refused() -> None:
    data = gp.minimal_example(8)
    wrong = SegmentBasis(8, ((0, 1), (2, 8)))  # misses e_2
    with pytest.raises(GDPerceptronError, match="does not span"):
        gp.reduce_problem(gp.linear(8), data, np.zeros(8), basis=wrong)
    # spans every x_i but not P x_i for the swap of coordinates 0 and 5
    model = gp.tied(8, Involution(8, perm=np.array([5, 1, 2, 3, 4, 0, 6, 7])))
    span = SegmentBasis(8, ((0, 1), (1, 8)))
    with pytest.raises(GDPerceptronError, match="P x_i|involution"):
        gp.reduce_problem(model, data, model.initial_params(0), basis=span)


def test_residuals_of_permuted_rows() -> None:
    Q = SegmentBasis(12, ((0, 1), (1, 2), (2, 12)))
    V = np.random.default_rng(3).standard_normal((3, 12))
    perm = np.arange(12)
    perm[[0, 7]], perm[[3, 11]] = perm[[7, 0]], perm[[11, 3]]
    moved = np.flatnonzero(perm != np.arange(12))
    VP = V[:, perm]  # rows permuted, written out
    D = np.asarray(Q)
    expected = np.linalg.norm(VP - VP @ D @ D.T, axis=1)
    np.testing.assert_allclose(Q.residual_norms(V, moved, perm[moved]), expected, rtol=1e-13)
