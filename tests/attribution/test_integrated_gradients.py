"""Tests of genexai.attribution.integrated_gradients against captum.

Tolerances: the fast IG path and captum apply the same quadrature but sum
in a different order, and captum rounds its step sizes to float32. In
float64 the two agree to ~1e-8 relative (1e-4 is the issue's bound, with an
absolute floor of 1e-8 x the largest score for entries that cancel to ~0).
Float32 comparisons use rtol 1e-5 where only the summation order differs.
"""

from __future__ import annotations

import captum.attr
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from genexai.attribution import N_STEPS, TOLERANCE, IntegratedGradients
from genexai.errors import InputError
from genexai.models import has_linear_input
from tests.helpers.attribution import (
    FAMILIES,
    N_CLASSES,
    N_GENES,
    assert_close_to,
    captum_ig,
    normalised_adjacency,
)

# --- fast path against captum ------------------------------------------------


@pytest.mark.parametrize("baseline", ["zero", "random"])
@pytest.mark.parametrize("logit", [False, True], ids=["probability", "logit"])
@pytest.mark.parametrize("family", FAMILIES)
def test_fast_ig_equals_captum(family, logit, baseline, attribution_model, ig_batch):
    model = attribution_model(family, dtype=torch.float64)
    x, target = ig_batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    if baseline == "random":
        b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    ig = IntegratedGradients(
        model, output="logit" if logit else "probability", n_steps=100, tolerance=None
    )
    assert ig.linear_input
    values = ig.attribute(x, b, target).values
    assert_close_to(captum_ig(model, x, b, target, 100, logit=logit), values, rtol=1e-4)


@pytest.mark.parametrize("arch", ["LR", "MLP", "DiffuseLR", "DiffuseMLP"])
def test_fast_ig_equals_captum_on_genexai_models(arch, ig_batch):
    models = pytest.importorskip("genexai.models")
    rng = np.random.default_rng(0)
    adj = normalised_adjacency(N_GENES, rng).to_dense().numpy()
    graph = sp.csr_matrix(adj) if arch.startswith("Diffuse") else None
    model = models.build_model(arch, n_genes=N_GENES, n_classes=N_CLASSES, graph=graph, seed=1)
    model = model.double().eval()
    x, target = ig_batch()
    b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    ig = IntegratedGradients(model, n_steps=100, tolerance=None)
    assert ig.linear_input
    assert_close_to(
        captum_ig(model, 3 * x, b, target, 100), ig.attribute(3 * x, b, target).values, 1e-4
    )


@pytest.mark.parametrize("family", ["lr", "mlp"])
def test_fast_ig_float32_close_to_captum(family, attribution_model, ig_batch):
    """In float32 the two summation orders differ by float32 rounding only."""
    model = attribution_model(family)
    x, target = ig_batch(dtype=torch.float32)
    b = torch.zeros(N_GENES)
    values = IntegratedGradients(model, n_steps=200, tolerance=None).attribute(x, b, target).values
    reference = captum_ig(model, x, b, target, 200)
    error = (values - reference).abs().max(dim=1).values / reference.abs().max(dim=1).values
    assert error.max() < 1e-5


def test_model_without_contract_goes_through_captum(monkeypatch, attribution_model, ig_batch):
    model = attribution_model("opaque", dtype=torch.float64)
    assert not has_linear_input(model)
    x, target = ig_batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    calls = []
    original = captum.attr.IntegratedGradients.attribute

    def spy(self, *args, **kwargs):
        calls.append(kwargs.get("internal_batch_size"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(captum.attr.IntegratedGradients, "attribute", spy)
    ig = IntegratedGradients(model, n_steps=50, tolerance=None, internal_batch_size=100)
    assert not ig.linear_input
    values = ig.attribute(x, b, target).values
    assert calls == [100]  # one call, with the requested points per pass
    assert_close_to(captum_ig(model, x, b, target, 50), values, rtol=1e-12)


@pytest.mark.parametrize("family", ["lr", "mlp"])
def test_model_with_contract_never_calls_captum(family, monkeypatch, attribution_model, ig_batch):
    def fail(*args, **kwargs):
        msg = "captum called on the fast path"
        raise AssertionError(msg)

    monkeypatch.setattr(captum.attr.IntegratedGradients, "attribute", fail)
    x, target = ig_batch(dtype=torch.float32)
    ig = IntegratedGradients(attribution_model(family), n_steps=20, tolerance=None)
    assert ig.linear_input
    ig.attribute(x, torch.zeros(N_GENES), target)


@pytest.mark.parametrize("internal_batch_size", [1, 7, 60, 10_000])
@pytest.mark.parametrize("family", ["mlp", "opaque"])
def test_ig_chunking_does_not_change_results(
    family, internal_batch_size, attribution_model, ig_batch
):
    model = attribution_model(family, dtype=torch.float64)
    x, target = ig_batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    whole = IntegratedGradients(model, n_steps=30, tolerance=None).attribute(x, b, target)
    chunked = IntegratedGradients(
        model, n_steps=30, tolerance=None, internal_batch_size=internal_batch_size
    ).attribute(x, b, target)
    np.testing.assert_allclose(chunked.values, whole.values, rtol=1e-10, atol=1e-14)


# --- the per-example completeness rule -----------------------------------------


def test_redo_touches_only_failing_examples(monkeypatch, attribution_model, ig_batch):
    """Two nodes are too few for some examples, enough for others."""
    model = attribution_model("mlp", dtype=torch.float64)
    x, target = ig_batch(40)
    x = 3 * x
    b = torch.zeros(N_GENES, dtype=torch.float64)
    first = IntegratedGradients(model, n_steps=2, tolerance=None).attribute(x, b, target)
    failing = (first.completeness.gap() > 1.0).numpy()
    assert 0 < failing.sum() < len(x), "the test needs both passing and failing examples"

    ig = IntegratedGradients(model, n_steps=2, max_steps=40, tolerance=1.0)
    calls = []
    integrate = ig._integrate

    def spy(xs, bs, ts, *, n_steps):
        calls.append((len(xs), n_steps))
        return integrate(xs, bs, ts, n_steps=n_steps)

    monkeypatch.setattr(ig, "_integrate", spy)
    values, steps, completeness = ig.attribute(x, b, target)
    assert calls[0] == (len(x), 2)
    assert calls[1] == (failing.sum(), 4)
    assert all(later[0] <= earlier[0] for earlier, later in zip(calls[1:], calls[2:], strict=False))
    steps = steps.numpy()
    np.testing.assert_array_equal(steps[~failing], 2)
    assert (steps[failing] > 2).all()
    np.testing.assert_array_equal(values[~failing], first.values[~failing])
    for i in np.flatnonzero(failing):
        redone = integrate(x[i : i + 1], b, target[i : i + 1], n_steps=int(steps[i]))
        np.testing.assert_allclose(values[i], redone[0], rtol=1e-12, atol=1e-15)
    # the returned completeness is that of the returned values, against F(x) - F(b)
    np.testing.assert_array_equal(completeness.expected, first.completeness.expected)
    np.testing.assert_array_equal(completeness.total, values.sum(dim=1))
    assert (completeness.gap().numpy()[steps < 40] <= 1.0).all()


def test_tolerance_none_never_redoes(attribution_model, ig_batch):
    model = attribution_model("mlp", dtype=torch.float64)
    x, target = ig_batch()
    ig = IntegratedGradients(model, n_steps=2, tolerance=None)
    result = ig.attribute(3 * x, torch.zeros(N_GENES, dtype=torch.float64), target)
    np.testing.assert_array_equal(result.n_steps, 2)
    assert (result.completeness.gap() > 1.0).any(), "two nodes are too few: a redo was due"


def test_given_expected_is_used_for_the_redo(attribution_model, ig_batch):
    """The step passes F(x) - F(b) from its own forward passes: same result."""
    model = attribution_model("mlp", dtype=torch.float64)
    x, target = ig_batch(20)
    b = torch.zeros(N_GENES, dtype=torch.float64)
    ig = IntegratedGradients(model, n_steps=2, max_steps=20)
    computed = ig.attribute(3 * x, b, target)
    expected = ig.expected_total(3 * x, b, target)
    given = ig.attribute(3 * x, b, target, expected=expected)
    for field in ("values", "n_steps"):
        np.testing.assert_array_equal(getattr(given, field), getattr(computed, field))
    np.testing.assert_array_equal(given.completeness.delta(), computed.completeness.delta())


def test_defaults_are_the_module_constants(attribution_model):
    ig = IntegratedGradients(attribution_model("lr"))
    assert (ig.n_steps, ig.max_steps, ig.tolerance) == (N_STEPS, 30_000, TOLERANCE)
    assert ig.internal_batch_size is None and ig.output == "probability"


def test_the_redo_cap_follows_n_steps(attribution_model):
    """Ten times the first pass: a few rounds at any n_steps, never hundreds."""
    assert IntegratedGradients(attribution_model("lr"), n_steps=50).max_steps == 500
    assert IntegratedGradients(attribution_model("lr"), n_steps=50, max_steps=70).max_steps == 70


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"n_steps": 0}, "n_steps: expected at least 1", id="n-steps"),
        pytest.param(
            {"n_steps": 10, "max_steps": 5}, "max_steps: expected at least 10", id="max-steps"
        ),
        pytest.param({"tolerance": -1.0}, "tolerance: expected a non-negative", id="tolerance"),
        pytest.param(
            {"internal_batch_size": 0}, "internal_batch_size: expected at least 1", id="points"
        ),
        pytest.param({"output": "odds"}, "output: expected one of", id="output"),
    ],
)
def test_option_errors(kwargs, match, attribution_model):
    with pytest.raises(InputError, match=match):
        IntegratedGradients(attribution_model("lr"), **kwargs)
