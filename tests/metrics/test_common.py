"""genexai.metrics._common: row normalisation, stable orders and target probabilities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genexai.metrics import normalize_rows, stable_order
from genexai.metrics._common import target_prob
from tests.helpers.metrics import ref_order


def test_normalize_rows():
    a = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(normalize_rows(a), [[0.6, 0.8], [0, 0], [-1, 0]])
    assert normalize_rows(a).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])  # integer-key and argsort paths
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stable_order_matches_python_sort(seed, descending, dtype):
    rng = np.random.default_rng(seed)
    values = np.round(rng.standard_normal((4, 30)), 0).astype(dtype)
    values[0, :5] = -0.0  # -0.0 and 0.0 tie
    values[1, :3] = [
        np.finfo(dtype).max,
        -np.finfo(dtype).max,
        np.finfo(dtype).tiny / 4,
    ]  # extremes, subnormal
    values[2] *= 1e-3  # not exact in binary
    got = stable_order(values, descending=descending)
    for row, want in zip(got, values, strict=True):
        assert list(row) == ref_order(list(want), descending=descending)
    for k in (1, 7, 29, 30):  # a prefix, partitioned rather than sorted, ties across its edge
        np.testing.assert_array_equal(stable_order(values, descending=descending, k=k), got[:, :k])


@pytest.mark.parametrize("scale", [1, 50, 1e4], ids=["small", "subnormal-range", "overflow-range"])
def test_target_prob_matches_softmax(scale):
    logits = scale * torch.randn(200, 7, generator=torch.Generator().manual_seed(0))
    target = torch.arange(200) % 7
    got = target_prob(logits, target)
    want = torch.softmax(logits.double(), dim=-1)[torch.arange(200), target]
    assert torch.isfinite(got).all()
    # float32 rounds z_c - z_t by up to |z| · 6e-8, which exp turns into a
    # relative error of the same size (~3e-6 for logits near 50).
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-30)
