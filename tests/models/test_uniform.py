"""genexai.models._uniform: torch's CPU uniform stream, drawn by genexai."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genexai.models import build_model, cpu_dropout_draws
from genexai.models._uniform import TorchUniform


@pytest.mark.parametrize("seed", [0, 7, 2**32 + 5, 2**62 + 12345])
def test_the_draws_are_torch_rand_after_manual_seed(seed):
    # Sizes around the 624-word refill, and a dropout batch (32 x 15,000).
    shapes = [(1,), (5,), (618,), (624,), (625,), (3, 1000), (32, 15000), (7,)]
    generator = torch.Generator().manual_seed(seed)
    uniform = TorchUniform(seed)
    for shape in shapes:
        want = torch.rand(shape, generator=generator)
        got = uniform.rand(shape)
        assert got.shape == want.shape and got.dtype == torch.float32
        assert torch.equal(got, want), shape


def test_training_masks_are_the_global_generators():
    # One stream for every Dropout layer: masks drawn inside cpu_dropout_draws
    # equal those the seeded global generator gives, and the stream is gone after.
    model = build_model("LR", n_genes=50, n_classes=3, seed=0).train()
    x = torch.ones(4, 50)
    torch.manual_seed(11)
    want = [model.dropout(x) for _ in range(3)]
    with cpu_dropout_draws(model, 11):
        got = [model.dropout(x) for _ in range(3)]
    assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
    assert model.dropout.uniform is None
    kept = np.mean([(g > 0).float().mean().item() for g in got])
    assert 0.7 < kept < 0.9  # p = 0.2
