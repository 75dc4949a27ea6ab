"""genexai.metrics.curves: keep-best / remove-best / random-kept against plain loops (§8)."""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import patch

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from genexai.metrics import accuracy_curves, balanced_accuracy, gene_grid, kept_predictions
from genexai.metrics._kernels import LANES
from genexai.models import first_layer
from tests.helpers.metrics import MODELS, probs64, ref_order


def ref_accuracy(model, x, baseline, labels, kept: set[int]) -> float:
    replaced = np.array(
        [[row[g] if g in kept else baseline[g] for g in range(len(row))] for row in x]
    )
    predictions = probs64(model, replaced).argmax(axis=1)
    return 100 * balanced_accuracy_score(labels, predictions)


def ref_curves(model, x, baseline, labels, scores, *, n_random, seed):
    n_genes = x.shape[1]
    grid = [
        k for k in [*range(1, 10), *range(10, 200, 10), *range(200, n_genes, 100)] if k < n_genes
    ]
    orders = [ref_order(list(s), descending=True) for s in scores]
    rows, seen = [], set()
    for k in grid:
        union = set().union(*(o[:k] for o in orders))
        if len(union) not in seen:
            seen.add(len(union))
            rows.append(("keep_best", len(union), ref_accuracy(model, x, baseline, labels, union)))
    seen = set()
    for k in grid[:-1]:
        union = set().union(*(o[:k] for o in orders))
        if len(union) not in seen and len(union) < n_genes:
            seen.add(len(union))
            kept = set(range(n_genes)) - union
            rows.append(("remove_best", len(kept), ref_accuracy(model, x, baseline, labels, kept)))
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n_random):
        perm = rng.permutation(n_genes)
        trials.append([ref_accuracy(model, x, baseline, labels, set(perm[:k])) for k in grid])
    return rows, grid, np.array(trials)


def test_gene_grid():
    assert list(gene_grid(12)) == [*range(1, 10), 10]
    grid = gene_grid(15000)
    assert list(grid[:10]) == [*range(1, 10), 10] and grid[27] == 190 and grid[28] == 200
    assert grid[-1] == 14900 and len(grid) == 9 + 19 + 148


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", [0, 1])
def test_balanced_accuracy_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, 50)
    predictions = rng.integers(0, 5, (3, 50))
    got = balanced_accuracy(labels, predictions)
    want = [100 * balanced_accuracy_score(labels, p) for p in predictions]
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("keep", [True, False], ids=["keep", "remove"])
@pytest.mark.parametrize("kind", list(MODELS))
def test_kept_predictions_match_loop(kind, keep, metric_model, metric_data):
    model = metric_model(kind, 25, 3, seed=2)
    x, a, baseline, _, _ = metric_data(7, 25, 3, seed=2)
    order = np.random.default_rng(0).permutation(25)
    sizes = np.array([1, 4, 5, 13, 24])
    got = kept_predictions(model, x, baseline, order, sizes, keep=keep, batch_size=3)
    for i, size in enumerate(sizes):
        first = set(order[:size])
        kept = first if keep else set(range(25)) - first
        replaced = np.array([[r[g] if g in kept else baseline[g] for g in range(25)] for r in x])
        np.testing.assert_array_equal(got[i], probs64(model, replaced).argmax(axis=1))


@pytest.mark.parametrize("keep", [True, False], ids=["keep", "remove"])
@pytest.mark.parametrize("arch", ["LR", "MLP", "DiffuseMLP"])
def test_genexai_models_take_the_compiled_kernel(arch, keep, metric_model, metric_data):
    # The pipeline's own models go through kept_argmax_kernel: it must agree
    # with torch's path on more examples than one block, not a multiple of it.
    model = metric_model(arch, 40, 5, seed=3)
    layer = first_layer(model)
    assert layer is not None and layer.fused
    x, _, baseline, _, _ = metric_data(LANES + 3, 40, 5, seed=3)
    order = np.random.default_rng(1).permutation(40)
    sizes = np.array([1, 2, 7, 20, 39])
    got = kept_predictions(model, x, baseline, order, sizes, keep=keep)
    with patch(
        "genexai.metrics.curves.first_layer", lambda m: replace(first_layer(m), fused=False)
    ):
        want = kept_predictions(model, x, baseline, order, sizes, keep=keep, batch_size=16)
    np.testing.assert_array_equal(got, want)
    assert len(np.unique(got)) > 1  # the genes moved some prediction


@pytest.mark.parametrize("kind", list(MODELS))
def test_accuracy_curves_match_reference(kind, metric_model, metric_data):
    n_genes, n_classes = 230, 3  # reaches the 200-gene part of the grid
    model = metric_model(kind, n_genes, n_classes, seed=4)
    x, a, baseline, labels, _ = metric_data(12, n_genes, n_classes, seed=4)
    scores = np.abs(np.random.default_rng(1).standard_normal((n_classes, n_genes)))
    calls = []
    got = accuracy_curves(
        model, x, baseline, labels, scores, n_random=2, seed=5, progress=calls.append
    )
    assert sum(calls) == 2 + 2
    rows, grid, trials = ref_curves(model, x, baseline, labels, scores, n_random=2, seed=5)
    for name in ("keep_best", "remove_best"):
        part = got[got["curve"] == name]
        want = [r for r in rows if r[0] == name]
        assert list(part["n_genes"]) == [r[1] for r in want]
        np.testing.assert_allclose(part["value"], [r[2] for r in want], atol=1e-9)
        assert part["std"].isna().all()
    rand = got[got["curve"] == "random_kept"]
    assert list(rand["n_genes"]) == grid
    np.testing.assert_allclose(rand["value"], trials.mean(axis=0), atol=1e-9)
    np.testing.assert_allclose(rand["std"], trials.std(axis=0), atol=1e-9)


def test_keeping_every_gene_gives_the_full_model_accuracy(metric_model, metric_data):
    model = metric_model("linear", 12, 2)
    x, _, baseline, _, _ = metric_data(10, 12, 2, seed=0)
    labels = probs64(model, x).argmax(axis=1)  # correctly classified by construction
    first = np.random.default_rng(0).random(12)
    scores = np.stack([first, -first])  # the top-6 of the two classes cover every gene
    got = accuracy_curves(model, x, baseline, labels, scores, n_random=0)
    keep = got[got["curve"] == "keep_best"]
    assert list(keep["n_genes"]) == [2, 4, 6, 8, 10, 12] and keep["value"].iloc[-1] == 100
    assert set(got["curve"]) == {"keep_best", "remove_best"}
