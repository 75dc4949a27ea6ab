"""Tests of genexai.attribution: the base class, the registry and the methods.

The gradient methods are compared with captum's in float64 (rtol 1e-10: the
same operations, in the same order up to the softmax module).
"""

from __future__ import annotations

import inspect
from typing import get_args

import captum.attr
import numpy as np
import pytest
import torch
from attribution_models import N_CLASSES, N_GENES, assert_close_to, batch, make_model
from torch import nn

from genexai.attribution import (
    METHODS,
    N_SAMPLES,
    SEED,
    Attribution,
    Attributions,
    Completeness,
    IntegratedGradients,
    Method,
)
from genexai.errors import InputError

# --- the base class: completeness ----------------------------------------------


def test_completeness_gap_rounds_percentages():
    total = torch.tensor([0.123449, 0.5, 0.0], dtype=torch.float64)
    expected = torch.tensor([0.12, 0.48, 0.011], dtype=torch.float64)
    completeness = Completeness(total, expected)
    np.testing.assert_allclose(completeness.gap(), [0.34, 2.0, 1.1], atol=1e-9)
    np.testing.assert_allclose(completeness.delta(), [0.003449, 0.02, 0.011], atol=1e-12)


@pytest.mark.filterwarnings("ignore:Setting forward, backward hooks")
@pytest.mark.parametrize("output", ["probability", "logit"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_returned_completeness_equals_a_separate_one(method, output):
    """captum's test idea: the returned delta is the one computed by hand."""
    model = make_model("mlp", dtype=torch.float64)
    x, target = batch()
    b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    result = METHODS[method](model, output=output).attribute(x, b, target)
    forward = (lambda v: v) if output == "logit" else (lambda v: torch.softmax(v, dim=1))
    with torch.no_grad():
        f_x = forward(model(x)).gather(1, target[:, None])[:, 0]
        f_b = forward(model(b[None]))[0, target]
    np.testing.assert_array_equal(result.completeness.total, result.values.sum(dim=1))
    np.testing.assert_allclose(result.completeness.expected, f_x - f_b, rtol=1e-12, atol=1e-15)
    plain = (result.values.sum(dim=1) - (f_x - f_b)).abs()
    np.testing.assert_allclose(result.completeness.delta(), plain, rtol=1e-10, atol=1e-14)
    assert result.completeness.total.dtype == torch.float64


# --- the base class: checks before any method runs --------------------------


def _bad_batch(case: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
    x, target = batch(6, dtype=torch.float32)
    b = torch.zeros(N_GENES)
    if case == "x-1d":
        x = x[0]
    elif case == "x-int":
        x = x.long()
    elif case == "x-dtype":
        x, b = x.double(), b.double()
    elif case == "baseline-shape":
        b = b[:-1]
    elif case == "baseline-dtype":
        b = b.double()
    elif case == "target-dtype":
        target = target.int()
    elif case == "target-length":
        target = target[:-1]
    elif case == "target-high":
        target = target.clone()
        target[2] = N_CLASSES
    elif case == "target-negative":
        target = target.clone()
        target[0] = -1
    return x, b, target, {"expected": torch.zeros(5)} if case == "expected-shape" else {}


@pytest.mark.parametrize(
    ("case", "match"),
    [
        pytest.param("x-1d", r"x: expected a floating-point tensor \(n_obs, n_genes\)", id="x-1d"),
        pytest.param("x-int", "x: expected a floating-point tensor", id="x-int"),
        pytest.param("x-dtype", "x: expected the model's dtype and device", id="x-dtype"),
        pytest.param("baseline-shape", r"baseline: .* shape \(40,\)", id="baseline-shape"),
        pytest.param("baseline-dtype", "baseline: expected a torch.float32", id="baseline-dtype"),
        pytest.param("target-dtype", "target: expected a torch.int64", id="target-dtype"),
        pytest.param("target-length", r"target: .* shape \(6,\)", id="target-length"),
        pytest.param("target-high", r"target: expected class indices in \[0, 4\)", id="high"),
        pytest.param("target-negative", r"found -1\.\.", id="negative"),
        pytest.param("expected-shape", r"expected: .* shape \(6,\)", id="expected-shape"),
    ],
)
@pytest.mark.parametrize("method", sorted(METHODS))
def test_attribute_checks_the_batch(method, case, match, monkeypatch):
    explainer = METHODS[method](make_model("mlp"))

    def fail(*args, **kwargs):
        msg = "_attribute ran on an invalid batch"
        raise AssertionError(msg)

    monkeypatch.setattr(explainer, "_attribute", fail)
    x, b, target, kwargs = _bad_batch(case)
    with pytest.raises(InputError, match=match):
        explainer.attribute(x, b, target, **kwargs)


# --- each method takes its own options -----------------------------------------

OWN_OPTIONS = {
    "integrated_gradients": {"n_steps", "max_steps", "tolerance", "internal_batch_size"},
    "saliency": set(),
    "input_x_gradient": set(),
    "deeplift": set(),
    "gradient_shap": {"n_samples", "seed"},
    "random": {"seed"},
}
ALL_OPTIONS = {
    "n_steps": 5,
    "max_steps": 10,
    "tolerance": 1.0,
    "internal_batch_size": 8,
    "n_samples": 3,
    "seed": 1,
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_each_method_takes_only_its_own_options(method):
    cls = METHODS[method]
    params = set(inspect.signature(cls).parameters) - {"model", "output"}
    assert params == OWN_OPTIONS[method]
    model = make_model("lr")
    cls(model, output="logit", **{k: ALL_OPTIONS[k] for k in OWN_OPTIONS[method]})
    for option in set(ALL_OPTIONS) - OWN_OPTIONS[method]:
        with pytest.raises(TypeError, match=option):
            cls(model, **{option: ALL_OPTIONS[option]})


@pytest.mark.parametrize("method", sorted(METHODS))
def test_base_holds_only_the_shared_options(method):
    assert set(inspect.signature(Attribution).parameters) == {"model", "output"}
    with pytest.raises(InputError, match="output: expected one of"):
        METHODS[method](make_model("lr"), output="odds")


def test_seeded_methods_default_to_the_seed_constant():
    model = make_model("lr")
    assert METHODS["random"](model).seed == SEED
    assert METHODS["gradient_shap"](model).seed == SEED


def test_gradient_shap_option_errors():
    with pytest.raises(InputError, match="n_samples: expected at least 1"):
        METHODS["gradient_shap"](make_model("lr"), n_samples=0)


# --- comparison methods ------------------------------------------------------


def test_registry_matches_the_method_literal():
    assert set(METHODS) == set(get_args(Method))
    assert all(cls.name == name for name, cls in METHODS.items())


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
        (
            "deeplift",
            lambda f, x, b, t: captum.attr.DeepLift(f).attribute(x, baselines=b[None], target=t),
        ),
    ],
)
@pytest.mark.parametrize("family", ["lr", "mlp"])
def test_gradient_methods_match_captum(method, reference, family):
    model = make_model(family, dtype=torch.float64)
    x, target = batch()
    b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    values = METHODS[method](model).attribute(x, b, target).values
    probability = nn.Sequential(model, nn.Softmax(dim=1))
    assert_close_to(reference(probability, x, b, target), values, rtol=1e-10)


def test_deeplift_of_linear_logit_equals_ig():
    model = make_model("lr", dtype=torch.float64)
    x, target = batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    deeplift = METHODS["deeplift"](model, output="logit").attribute(x, b, target).values
    ig = IntegratedGradients(model, output="logit", n_steps=5, tolerance=None).attribute(
        x, b, target
    )
    assert_close_to(ig.values, deeplift, rtol=1e-10)


def test_gradient_shap_is_seeded_and_leaves_global_rngs_alone():
    model = make_model("mlp", dtype=torch.float64)
    x, target = batch()
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


def test_random_control_is_seeded():
    model = make_model("lr")
    x, target = batch(dtype=torch.float32)
    b = torch.zeros(N_GENES)

    def draw(seed: int) -> Attributions:
        return METHODS["random"](model, seed=seed).attribute(x, b, target)

    assert torch.equal(draw(0).values, draw(0).values)
    assert not torch.equal(draw(0).values, draw(1).values)
    assert draw(0).values.std() == pytest.approx(1.0, abs=0.1)
