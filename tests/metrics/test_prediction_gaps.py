"""genexai.metrics.prediction_gaps: fast paths against plain loops (§6, anchors §1a)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from genexai.metrics import gap_curves, normalize_rows, prediction_gaps, stable_order
from genexai.metrics._kernels import LANES
from genexai.metrics.prediction_gaps import _gap_curves
from genexai.models import first_layer
from tests.helpers.metrics import ATOL, MODELS, probs64, ref_order


def ref_gap_curve(model, x, baseline, target, order, *, gap) -> np.ndarray:
    n_genes = len(x)
    steps = []
    p0 = probs64(model, x[None])[0, target]
    for j in range(1, n_genes // gap + 1):
        replaced = x.copy()
        for g in order[: gap * j]:
            replaced[g] = baseline[g]
        steps.append(max(p0 - probs64(model, replaced[None])[0, target], 0.0))
    return np.array(steps)


def ref_pg(model, x, baseline, target, order, *, gap) -> float:
    return gap / len(x) * ref_gap_curve(model, x, baseline, target, order, gap=gap).sum()


def ref_class_mean(values: dict[int, list[float]]) -> float:
    return 100 * float(np.mean([np.mean(v) for v in values.values()]))


@pytest.mark.parametrize("gap", [1, 4, 7])
@pytest.mark.parametrize("shared", [True, False], ids=["shared", "local"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_gap_curves_match_loop(kind, shared, gap, metric_model, metric_data):
    n_obs, n_genes, n_classes = 5, 23, 3
    model = metric_model(kind, n_genes, n_classes, seed=gap)
    x, a, baseline, labels, _ = metric_data(n_obs, n_genes, n_classes, seed=gap, ties=True)
    order = (
        stable_order(a.sum(axis=0), descending=True)
        if shared
        else stable_order(a, descending=False)
    )
    got = gap_curves(model, x, baseline, labels, order, gap=gap, batch_size=2)
    assert got.shape == (n_obs, n_genes // gap) and got.dtype == np.float32
    for i in range(n_obs):
        o = order if shared else order[i]
        want = ref_gap_curve(model, x[i], baseline, labels[i], list(o), gap=gap)
        np.testing.assert_allclose(got[i], want, atol=ATOL)


@pytest.mark.parametrize("kind", ["linear", "plain"])
def test_gap_curves_do_not_depend_on_batch_size(kind, metric_model, metric_data):
    model = metric_model(kind, 30, 4)
    x, a, baseline, labels, _ = metric_data(9, 30, 4, seed=3)
    order = stable_order(a, descending=True)
    one = gap_curves(model, x, baseline, labels, order, gap=3, batch_size=1)
    many = gap_curves(model, x, baseline, labels, order, gap=3, batch_size=64)
    np.testing.assert_allclose(one, many, atol=1e-6)


def test_gap_is_zero_when_the_baseline_is_the_input(metric_model, metric_data):
    model = metric_model("mlp", 20, 3)
    x, a, _, labels, _ = metric_data(4, 20, 3, seed=5)
    got = gap_curves(model, x, x[0], labels, stable_order(a, descending=True), gap=2)
    np.testing.assert_allclose(got[0], 0, atol=ATOL)


def reference_table(model, x, a, baseline, labels, *, correct, gap, n_random, seed):
    """Every PG row by plain loops: orders, replacement, per-class means."""
    n_obs, n_genes = x.shape
    a = normalize_rows(a).astype(np.float64)  # checked in test_common.py
    good = [i for i in range(n_obs) if correct[i]]
    classes = sorted({int(labels[i]) for i in good})
    f_base = probs64(model, baseline[None])[0]
    table = {}
    for metric, descending in (("pgi", True), ("pgu", False)):
        pooled = ref_order(a.sum(axis=0), descending=descending)
        per_class_orders = {
            c: ref_order(a[[i for i in good if labels[i] == c]].sum(axis=0), descending=descending)
            for c in classes
        }
        for variant in ("local", "global_pooled", "global_per_class"):
            by_class = {c: [] for c in classes}
            for i in good:
                c = int(labels[i])
                order = {
                    "local": ref_order(a[i], descending=descending),
                    "global_pooled": pooled,
                    "global_per_class": per_class_orders[c],
                }[variant]
                by_class[c].append(ref_pg(model, x[i], baseline, c, order, gap=gap))
            table[metric, variant] = ref_class_mean(by_class)
            if metric == "pgu":
                table["pgu_adjusted", variant] = float(
                    np.mean([100 * np.mean(by_class[c]) / (1 - f_base[c]) for c in classes])
                )
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_random):
        order = list(rng.permutation(n_genes))
        by_class = {c: [] for c in classes}
        for i in good:
            by_class[int(labels[i])].append(
                ref_pg(model, x[i], baseline, int(labels[i]), order, gap=gap)
            )
        trials.append(ref_class_mean(by_class))
    table["pgr", "random"] = float(np.mean(trials))
    return table


@pytest.mark.parametrize("kind", list(MODELS))
def test_prediction_gaps_match_reference(kind, metric_model, metric_data):
    n_obs, n_genes, n_classes, gap = 14, 22, 3, 4
    model = metric_model(kind, n_genes, n_classes, seed=1)
    # Continuous attributions: sums over examples would break exact ties
    # differently depending on the summation order.
    x, a, baseline, labels, correct = metric_data(n_obs, n_genes, n_classes, seed=7)
    calls = []
    metrics, curves = prediction_gaps(
        model,
        x,
        a,
        baseline,
        labels,
        labels=labels,
        correct=correct,
        class_names=["A", "B", "C"],
        gap=gap,
        n_random=3,
        seed=11,
        batch_size=4,
        progress=calls.append,
    )
    assert sum(calls) == 6 + 3
    want = reference_table(
        model, x, a, baseline, labels, correct=correct, gap=gap, n_random=3, seed=11
    )
    got = metrics.set_index(["metric", "variant"])["value"]
    for key, value in want.items():
        # values are percentages: 100 × the probability-unit tolerance;
        # adjusted PGU divides by 1 − F_c(b), which can be small, so its
        # error grows with it: compare it relatively.
        rtol = 1e-4 if key[0] == "pgu_adjusted" else 0
        np.testing.assert_allclose(got[key], value, atol=100 * ATOL, rtol=rtol, err_msg=str(key))
    per_class = got.loc["pgi"].filter(like="local:")
    assert list(per_class.index) == ["local:A", "local:B", "local:C"]
    np.testing.assert_allclose(per_class.mean(), got["pgi", "local"])
    # The area under each mean gap curve is its PG.
    for (metric, variant), value in want.items():
        if metric == "pgu_adjusted":
            continue
        name = "pgr" if metric == "pgr" else f"{metric}_{variant}"
        curve = curves[curves["curve"] == name]
        assert list(curve["n_genes"]) == list(range(gap, n_genes + 1, gap))
        np.testing.assert_allclose(gap / n_genes * curve["value"].sum(), value, atol=100 * ATOL)


def test_prediction_gaps_are_seeded(metric_model, metric_data):
    model = metric_model("linear", 20, 2)
    x, a, baseline, labels, correct = metric_data(8, 20, 2, seed=2)
    args = (model, x, a, baseline, labels)
    kwargs = {
        "labels": labels,
        "correct": correct,
        "class_names": ["A", "B"],
        "gap": 2,
        "n_random": 4,
    }
    first, _ = prediction_gaps(*args, **kwargs, seed=3)
    again, _ = prediction_gaps(*args, **kwargs, seed=3)
    other, _ = prediction_gaps(*args, **kwargs, seed=4)
    assert first.equals(again)
    pgr = first["metric"] == "pgr"
    assert not np.allclose(first.loc[pgr, "value"], other.loc[pgr, "value"])
    assert first.loc[~pgr].equals(other.loc[~pgr])
    none, curves = prediction_gaps(*args, **{**kwargs, "n_random": 0})
    assert none.equals(first.loc[~pgr].reset_index(drop=True))
    assert "pgr" not in set(curves["curve"])


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "local"])
@pytest.mark.parametrize("arch", ["LR", "MLP", "DiffuseMLP"])
def test_genexai_models_take_the_compiled_kernel(arch, shared, metric_model, metric_data):
    # The kernels must be what runs for the pipeline's own models, and agree
    # with torch's fast path on the same orders; more examples than one block
    # of the shared-order kernel, and not a multiple of it.
    n_obs = LANES + 3
    model = metric_model(arch, 40, 5, seed=2)
    layer = first_layer(model)
    assert layer is not None and layer.fused
    x, a, baseline, labels, _ = metric_data(n_obs, 40, 5, seed=2)
    order = stable_order(a.sum(axis=0) if shared else a, descending=True)
    got = gap_curves(model, x, baseline, labels, order, gap=3)
    torch_path = dataclasses.replace(layer, fused=False)
    with torch.no_grad():
        want = _gap_curves(model, torch_path, x, baseline, labels, order=order, gap=3, batch_size=4)
    np.testing.assert_allclose(got, want, atol=ATOL)
