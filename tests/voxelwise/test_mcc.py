"""The second largest eigenvalue by tridiagonal QL steps equals LAPACK's on a kernel's Q."""

from __future__ import annotations

import numpy as np
import pytest

from radiopipe.voxelwise.mcc import second_eigenvalue


def _kernel_q(n_levels, rng):
    """The symmetric Q of a random joint distribution over ``n_levels`` levels (PSD, its
    largest eigenvalue 1), with a zero-probability cell or two as in a sparse kernel."""
    counts = rng.integers(0, 4, size=(n_levels, n_levels)).astype(np.float64)
    counts = counts + counts.T + np.eye(n_levels)
    p = counts / counts.sum()
    p_x, p_y = p.sum(axis=1), p.sum(axis=0)
    scaled = p / np.sqrt(p_x)[:, None]
    return (scaled / p_y[None, :]) @ scaled.T


@pytest.mark.parametrize("n_levels", [2, 3, 5, 8, 13, 27])
def test_second_eigenvalue_equals_eigvalsh(n_levels):
    rng = np.random.default_rng(n_levels)
    for _ in range(20):
        q = _kernel_q(n_levels, rng)
        expected = np.linalg.eigvalsh(q)[-2]
        found = second_eigenvalue(q.copy(), n_levels, np.empty(n_levels), np.empty(n_levels))
        assert found == pytest.approx(expected, abs=1e-14)


def test_second_eigenvalue_of_a_rank_one_matrix_is_zero():
    # independent levels: Q = v v^T, eigenvalues 1, 0, 0
    v = np.sqrt(np.array([0.2, 0.3, 0.5]))
    found = second_eigenvalue(np.outer(v, v), 3, np.empty(3), np.empty(3))
    assert found == pytest.approx(0.0, abs=1e-15)
