"""genexai.attribution.gradients: saliency and input x gradient against captum's.

Compared in float64 (rtol 1e-10: the same operations, in the same order up to
the softmax module).
"""

from __future__ import annotations

import captum.attr
import pytest
import torch
from torch import nn

from genexai.attribution import METHODS
from tests.helpers.attribution import N_GENES, assert_close_to


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")
@pytest.mark.filterwarnings("ignore:Setting forward, backward hooks")
@pytest.mark.parametrize(
    ("method", "reference"),
    [
        ("saliency", lambda f, x, b, t: captum.attr.Saliency(f).attribute(x, target=t)),
        (
            "input_x_gradient",
            lambda f, x, b, t: captum.attr.InputXGradient(f).attribute(x, target=t),
        ),
    ],
)
@pytest.mark.parametrize("family", ["lr", "mlp"])
def test_gradient_methods_match_captum(method, reference, family, attribution_model, ig_batch):
    model = attribution_model(family, dtype=torch.float64)
    x, target = ig_batch()
    b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    values = METHODS[method](model).attribute(x, b, target).values
    probability = nn.Sequential(model, nn.Softmax(dim=1))
    assert_close_to(reference(probability, x, b, target), values, rtol=1e-10)
