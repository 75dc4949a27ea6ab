"""genexai.attribution.comparison: DeepLift, GradientSHAP and the random control.

DeepLift is compared with captum's in float64 (rtol 1e-10: the same
operations, in the same order up to the softmax module).
"""

from __future__ import annotations

import captum.attr
import numpy as np
import pytest
import torch
from torch import nn

from genexai.attribution import METHODS, N_SAMPLES, SEED, Attributions, IntegratedGradients
from genexai.errors import InputError
from tests.helpers.attribution import N_GENES, assert_close_to


def test_seeded_methods_default_to_the_seed_constant(attribution_model):
    model = attribution_model("lr")
    assert METHODS["random"](model).seed == SEED
    assert METHODS["gradient_shap"](model).seed == SEED


def test_gradient_shap_option_errors(attribution_model):
    with pytest.raises(InputError, match="n_samples: expected at least 1"):
        METHODS["gradient_shap"](attribution_model("lr"), n_samples=0)


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")
@pytest.mark.filterwarnings("ignore:Setting forward, backward hooks")
@pytest.mark.parametrize("family", ["lr", "mlp"])
def test_deeplift_matches_captum(family, attribution_model, ig_batch):
    model = attribution_model(family, dtype=torch.float64)
    x, target = ig_batch()
    b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    values = METHODS["deeplift"](model).attribute(x, b, target).values
    probability = nn.Sequential(model, nn.Softmax(dim=1))
    reference = captum.attr.DeepLift(probability).attribute(x, baselines=b[None], target=target)
    assert_close_to(reference, values, rtol=1e-10)


def test_deeplift_of_linear_logit_equals_ig(attribution_model, ig_batch):
    model = attribution_model("lr", dtype=torch.float64)
    x, target = ig_batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    deeplift = METHODS["deeplift"](model, output="logit").attribute(x, b, target).values
    ig = IntegratedGradients(model, output="logit", n_steps=5, tolerance=None).attribute(
        x, b, target
    )
    assert_close_to(ig.values, deeplift, rtol=1e-10)


def test_gradient_shap_is_seeded_and_leaves_global_rngs_alone(attribution_model, ig_batch):
    model = attribution_model("mlp", dtype=torch.float64)
    x, target = ig_batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    torch.manual_seed(123)
    np.random.seed(123)
    before = (torch.random.get_rng_state(), np.random.get_state()[1].copy())
    first = METHODS["gradient_shap"](model, n_samples=8, seed=5).attribute(x, b, target)
    assert torch.equal(torch.random.get_rng_state(), before[0])
    np.testing.assert_array_equal(np.random.get_state()[1], before[1])
    again = METHODS["gradient_shap"](model, n_samples=8, seed=5).attribute(x, b, target)
    other = METHODS["gradient_shap"](model, n_samples=8, seed=6).attribute(x, b, target)
    assert torch.equal(first.values, again.values) and not torch.equal(first.values, other.values)
    np.testing.assert_array_equal(first.n_steps, 8)
    assert METHODS["gradient_shap"](model).n_samples == N_SAMPLES


def test_random_control_is_seeded(attribution_model, ig_batch):
    model = attribution_model("lr")
    x, target = ig_batch(dtype=torch.float32)
    b = torch.zeros(N_GENES)

    def draw(seed: int) -> Attributions:
        return METHODS["random"](model, seed=seed).attribute(x, b, target)

    assert torch.equal(draw(0).values, draw(0).values)
    assert not torch.equal(draw(0).values, draw(1).values)
    assert draw(0).values.std() == pytest.approx(1.0, abs=0.1)
