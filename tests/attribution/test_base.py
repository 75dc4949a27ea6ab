"""genexai.attribution._base: completeness, and the checks every method runs first."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from genexai.attribution import METHODS, Attribution, Completeness
from genexai.errors import InputError
from tests.helpers.attribution import N_CLASSES, N_GENES


def family_of(method: str) -> str:
    """The MLP test model, or the LR one for ``coefficients``, which refuses an MLP."""
    return "lr" if method == "coefficients" else "mlp"


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
def test_returned_completeness_equals_a_separate_one(method, output, attribution_model, ig_batch):
    """captum's test idea: the returned delta is the one computed by hand."""
    model = attribution_model(family_of(method), dtype=torch.float64)
    x, target = ig_batch()
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


def _bad_batch(case: str, ig_batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
    x, target = ig_batch(6, dtype=torch.float32)
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
def test_attribute_checks_the_batch(
    method, case, match, monkeypatch, *, attribution_model, ig_batch
):
    explainer = METHODS[method](attribution_model(family_of(method)))

    def fail(*args, **kwargs):
        msg = "_attribute ran on an invalid batch"
        raise AssertionError(msg)

    monkeypatch.setattr(explainer, "_attribute", fail)
    x, b, target, kwargs = _bad_batch(case, ig_batch)
    with pytest.raises(InputError, match=match):
        explainer.attribute(x, b, target, **kwargs)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_base_holds_only_the_shared_options(method, attribution_model):
    assert set(inspect.signature(Attribution).parameters) == {"model", "output"}
    with pytest.raises(InputError, match="output: expected one of"):
        METHODS[method](attribution_model("lr"), output="odds")
