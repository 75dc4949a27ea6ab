"""genexai.metrics.curves.class_curves: the per-class curves (C3) against a plain loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from genexai.metrics.curves import class_curves
from tests.helpers.metrics import MODELS, probs64, ref_order

CLASSES = ["C0", "C1", "C2"]


def ref_share(model, x, baseline, c: int, kept: set[int]) -> float:
    """% of the rows of ``x`` predicted as ``c`` when only ``kept`` genes keep their values."""
    replaced = np.array(
        [[row[g] if g in kept else baseline[g] for g in range(len(row))] for row in x]
    )
    return 100 * float(np.mean(probs64(model, replaced).argmax(axis=1) == c))


def ref_class_curves(model, x, baseline, labels, scores, *, k, n_random, seed):
    """Rows ``(curve, n_genes, value, std)`` by plain loops, class by class."""
    n_genes = x.shape[1]
    k = min(k, n_genes - 1)
    grid = [
        n for n in [*range(1, 10), *range(10, 200, 10), *range(200, n_genes, 100)] if n < n_genes
    ]
    sizes = sorted(set(grid) | {k})
    present = sorted(set(labels.tolist()))
    keep_rows, remove_rows, random_rows = [], [], []
    for c in present:
        xc = x[labels == c]
        order = ref_order(list(scores[c]), descending=True)
        name = CLASSES[c]
        for n in sizes:
            share = ref_share(model, xc, baseline, c, set(order[:n]))
            keep_rows.append((f"class_keep_best:{name}", n, share))
        for m in sizes:
            share = ref_share(model, xc, baseline, c, set(range(n_genes)) - set(order[:m]))
            remove_rows.append((f"class_remove_best:{name}", n_genes - m, share))
    rng = np.random.default_rng(seed)
    removed = [set(rng.permutation(n_genes)[:k]) for _ in range(n_random)]
    for c in present:
        xc = x[labels == c]
        draws = [ref_share(model, xc, baseline, c, set(range(n_genes)) - r) for r in removed]
        random_rows.append(
            (f"class_random_removed:{CLASSES[c]}", n_genes - k, np.mean(draws), np.std(draws))
        )
    rows = [(*r, np.nan) for r in keep_rows + remove_rows] + random_rows
    return pd.DataFrame(rows, columns=["curve", "n_genes", "value", "std"])


@pytest.mark.parametrize("kind", list(MODELS))
def test_class_curves_match_a_per_class_loop(kind, metric_model, metric_data):
    n_genes = 25
    model = metric_model(kind, n_genes, 3, seed=4)
    x, _, baseline, labels, _ = metric_data(14, n_genes, 3, seed=4)
    scores = np.abs(np.random.default_rng(1).standard_normal((3, n_genes)))
    scores[1, :6] = scores[1, 6]  # ties, broken by gene index
    calls = []
    got = class_curves(
        model,
        x,
        baseline,
        labels,
        scores,
        class_names=CLASSES,
        k=13,
        n_random=3,
        seed=5,
        batch_size=4,
        progress=calls.append,
    )
    assert sum(calls) == 2 + 3
    want = ref_class_curves(model, x, baseline, labels, scores, k=13, n_random=3, seed=5)
    assert got["n_genes"].dtype == np.int64
    pd.testing.assert_frame_equal(got, want, check_exact=False, atol=1e-9)


def test_absent_classes_are_left_out_and_k_is_clamped(metric_model, metric_data):
    model = metric_model("linear", 12, 3)
    x, _, baseline, labels, _ = metric_data(9, 12, 3, seed=0)
    rows = labels != 1
    scores = np.abs(np.random.default_rng(2).standard_normal((3, 12)))
    scores[1] = np.nan  # not read: class 1 has no example
    got = class_curves(
        model, x[rows], baseline, labels[rows], scores, class_names=CLASSES, k=50, n_random=2
    )
    assert {c.split(":")[1] for c in got["curve"]} == {"C0", "C2"}
    keep = got[got["curve"] == "class_keep_best:C0"]
    assert list(keep["n_genes"]) == [*range(1, 12)]  # the grid, and k clamped to 11
    remove = got[got["curve"] == "class_remove_best:C0"]
    assert list(remove["n_genes"]) == [*range(11, 0, -1)]
    random = got[got["curve"].str.startswith("class_random_removed")]
    assert list(random["n_genes"]) == [1, 1] and random["std"].notna().all()
    assert got["value"].between(0, 100).all()


def test_keeping_the_genes_that_decide_keeps_the_prediction(metric_model):
    """A linear model that reads gene 0 only: keeping it keeps every correct prediction."""
    model = metric_model("linear", 10, 3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 10)).astype(np.float32)
    with torch.no_grad():
        model.weight.zero_()
        model.weight[:, 0] = torch.tensor([-4.0, 0.0, 4.0])
        model.bias.copy_(torch.tensor([0.0, 1.0, 0.0]))
    labels = probs64(model, x).argmax(axis=1)
    scores = np.zeros((3, 10))
    scores[:, 0] = 1
    got = class_curves(
        model, x, np.zeros(10, np.float32), labels, scores, class_names=CLASSES, k=1, n_random=0
    )
    values = got.set_index(["curve", "n_genes"])["value"]
    for c in np.unique(labels):
        assert values[f"class_keep_best:{CLASSES[c]}", 1] == 100
    # without gene 0 every input is the baseline's, predicted C1
    assert values["class_remove_best:C0", 9] == 0 and values["class_remove_best:C1", 9] == 100
    assert not got["curve"].str.startswith("class_random_removed").any()
