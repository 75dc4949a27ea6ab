"""genexai.metrics.openxai: OpenXAI's PGI / PGU against plain loops (anchors §1a)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from genexai.metrics import example_noise, openxai_gaps, openxai_prediction_gaps
from tests.helpers.metrics import ATOL, probs64, ref_order


def ref_openxai(model, x, a, target, *, k, sigma, n_samples, seed):
    """Per example and draw: perturb the top-k (PGI) or the rest (PGU), average |ΔF_t|."""
    n_obs, n_genes = x.shape
    noise = sigma * np.stack(
        [example_noise(seed, i, (n_samples, n_genes)).numpy() for i in range(n_obs)]
    )
    pgi, pgu = [], []
    for i in range(n_obs):
        top = set(ref_order(list(np.abs(a[i])), descending=True)[:k])
        p0 = probs64(model, x[i][None])[0, target[i]]
        sums = [0.0, 0.0]
        for s in range(n_samples):
            for which, inside in ((0, True), (1, False)):
                moved = np.array(
                    [
                        x[i, g] + noise[i, s, g] if (g in top) == inside else x[i, g]
                        for g in range(n_genes)
                    ],
                    dtype=np.float32,
                )
                sums[which] += abs(probs64(model, moved[None])[0, target[i]] - p0)
        pgi.append(sums[0] / n_samples)
        pgu.append(sums[1] / n_samples)
    return np.array(pgi), np.array(pgu)


class Forward(nn.Module):
    """``model`` without the first-linear-layer contract: forward passes only."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_openxai_gaps_match_loop(batch_size, metric_model, metric_data):
    # Forward passes on the perturbed inputs: the definition, draw for draw.
    model = metric_model("plain", 15, 4, seed=3)
    x, a, _, labels, _ = metric_data(6, 15, 4, seed=3, ties=True)
    got = openxai_gaps(
        model, x, a, labels, k=4, sigma=0.5, n_samples=3, seed=9, batch_size=batch_size
    )
    want = ref_openxai(model, x, a, labels, k=4, sigma=0.5, n_samples=3, seed=9)
    np.testing.assert_allclose(got[0], want[0], atol=ATOL)
    np.testing.assert_allclose(got[1], want[1], atol=ATOL)


@pytest.mark.parametrize("kind", ["linear", "mlp", "LR", "DiffuseMLP"])
def test_openxai_gaps_of_linear_first_layers_have_the_forward_law(kind, metric_model, metric_data):
    # The fast path draws ε Wᵀ from its law instead of ε: with many draws
    # its means must agree with forward passes. Small noise keeps ΔF about
    # linear in ε, so |ΔF| is about half-normal (coefficient of variation
    # 0.76): the relative standard error of the difference of two means of
    # 40,000 draws is 0.5 %, and the tolerance about 5 of them.
    model = metric_model(kind, 15, 4, seed=3)
    x, a, _, labels, _ = metric_data(3, 15, 4, seed=3)
    kwargs = {"k": 4, "sigma": 0.02, "n_samples": 40_000, "batch_size": 1}
    fast = openxai_gaps(model, x, a, labels, seed=9, **kwargs)
    forward = openxai_gaps(Forward(model), x, a, labels, seed=10, **kwargs)
    np.testing.assert_allclose(fast, forward, rtol=0.03)
    again = openxai_gaps(model, x, a, labels, seed=9, **{**kwargs, "batch_size": 3})
    # Gaps near 1e-7 carry float32 summation noise of about 1e-12.
    np.testing.assert_allclose(again, fast, rtol=1e-6, atol=1e-11)


def test_openxai_table_is_class_balanced_and_subsampled(metric_model, metric_data):
    model = metric_model("linear", 12, 3)
    x, a, _, labels, _ = metric_data(30, 12, 3, seed=1)
    table = openxai_prediction_gaps(
        model,
        x,
        a,
        labels,
        labels,
        class_names=["A", "B", "C"],
        k=3,
        n_samples=2,
        max_examples=30,
        seed=0,
    )
    pgi, _ = openxai_gaps(
        model, x, a, labels, k=3, n_samples=2, seed=int(np.random.default_rng(0).integers(2**63))
    )
    got = table.set_index(["metric", "variant"])["value"]
    per_class = [100 * pgi[labels == c].mean() for c in range(3)]
    np.testing.assert_allclose([got["openxai_pgi", f"local:{c}"] for c in "ABC"], per_class)
    np.testing.assert_allclose(got["openxai_pgi", "local"], np.mean(per_class))
    small = openxai_prediction_gaps(
        model,
        x,
        a,
        labels,
        labels,
        class_names=["A", "B", "C"],
        k=3,
        n_samples=2,
        max_examples=5,
        seed=0,
    )
    assert small.equals(
        openxai_prediction_gaps(
            model,
            x,
            a,
            labels,
            labels,
            class_names=["A", "B", "C"],
            k=3,
            n_samples=2,
            max_examples=5,
            seed=0,
        )
    )
    assert not small.equals(table)
