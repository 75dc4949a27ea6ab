"""Tests of genexai.attribution.quadrature: captum's Gauss–Legendre rule, cached."""

from __future__ import annotations

import numpy as np
import pytest

from genexai.attribution import gauss_legendre


@pytest.mark.parametrize("n_steps", [1, 2, 7, 64, 151, 500])
def test_gauss_legendre_is_captums_rule(n_steps):
    """captum: alphas = (1 + t) / 2, step sizes = v / 2 of numpy's leggauss."""
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas, steps = gauss_legendre(n_steps)
    np.testing.assert_allclose(alphas, 0.5 * (1 + nodes), rtol=0, atol=1e-14)
    np.testing.assert_allclose(steps, 0.5 * weights, rtol=1e-6)
    assert steps.sum() == pytest.approx(1.0, abs=1e-12)


def test_gauss_legendre_is_cached_and_read_only():
    first = gauss_legendre(300)
    assert gauss_legendre(300) is first
    with pytest.raises(ValueError):
        first[0][0] = 0.0
