"""genexai.stability: ranking stability of EVALUATE's gene scores across runs."""

from __future__ import annotations

import itertools
import zlib

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.stats

from genexai import keys
from genexai.errors import InputError
from genexai.evaluate import evaluate
from genexai.metrics import normalize_rows, pair_metrics
from genexai.metrics._common import group_means
from genexai.stability import run_scores, stability
from tests.helpers.evaluate import FAST


def gene_scores(
    model: str,
    seed: int,
    *,
    n_genes=30,
    classes=("A", "B"),
    genes=None,
    dataset="D",
    method="integrated_gradients",
) -> ad.AnnData:
    """EVALUATE's gene scores of one run: signed class means and the overall mean."""
    rng = np.random.default_rng([zlib.crc32(model.encode()), seed])
    genes = genes if genes is not None else [f"G{g}" for g in range(n_genes)]
    scores = ad.AnnData(
        X=rng.standard_normal((len(classes), len(genes))),
        obs=pd.DataFrame({keys.N_EXAMPLES: np.full(len(classes), 5)}, index=list(classes)),
        var=pd.DataFrame({keys.OVERALL: rng.standard_normal(len(genes))}, index=genes),
    )
    scores.uns[keys.UNS] = {
        keys.EVALUATE: {
            keys.DATASET: dataset,
            keys.MODEL: model,
            keys.SEED: seed,
            keys.METHOD: method,
        }
    }
    return scores


def test_run_scores_are_absolute_scores():
    scores = gene_scores("LR", 0)
    run = run_scores(scores, where="x")
    assert list(run.scores.index) == ["overall", "class:A", "class:B"]
    assert list(run.scores.columns) == list(scores.var_names)
    np.testing.assert_array_equal(run.scores.loc["overall"], np.abs(scores.var[keys.OVERALL]))
    np.testing.assert_array_equal(run.scores.loc["class:B"], np.abs(scores.X[1]))
    assert (run.dataset, run.model, run.seed) == ("D", "LR", 0)


@pytest.fixture(scope="module")
def runs3():
    return [gene_scores(m, s) for m, s in [("MLP", 1), ("LR", 1), ("LR", 0)]]


def test_stability_pairs(runs3):
    pairs = stability(runs3, top_k=(10,)).pairs
    assert list(pairs.columns) == list(keys.STABILITY_COLUMNS)
    assert set(pairs["dataset"]) == {"D"}
    assert set(pairs["metric"]) == {"jaccard@10", "spearman", "kendall"}
    assert set(pairs["variant"]) == {"overall", "class:A", "class:B", "class_mean"}
    firsts = pairs[["model_a", "seed_a", "model_b", "seed_b"]].drop_duplicates()
    assert firsts.values.tolist() == [["LR", 0, "LR", 1], ["LR", 0, "MLP", 1], ["LR", 1, "MLP", 1]]
    row = pairs.set_index(["model_a", "seed_a", "model_b", "seed_b", "metric", "variant"])["value"]
    by_run = {(r.model, r.seed): r.scores for r in (run_scores(g, where="x") for g in runs3)}
    want = scipy.stats.spearmanr(
        by_run["LR", 0].loc["class:A"], by_run["MLP", 1].loc["class:A"]
    ).statistic
    assert row["LR", 0, "MLP", 1, "spearman", "class:A"] == pytest.approx(want)
    mean = np.mean([row["LR", 0, "MLP", 1, "kendall", v] for v in ("class:A", "class:B")])
    assert row["LR", 0, "MLP", 1, "kendall", "class_mean"] == pytest.approx(mean)


def test_stability_summary_is_mean_and_std_over_pairs(runs3):
    result = stability(runs3, top_k=(10,))
    summary = result.summary
    assert list(summary.columns) == list(keys.STABILITY_SUMMARY_COLUMNS)
    group = ["dataset", "model_a", "model_b", "metric", "variant"]
    assert summary[group].values.tolist() == sorted(summary[group].values.tolist())
    assert (summary["model_a"] <= summary["model_b"]).all()
    for row in summary.itertuples(index=False):
        values = [
            p.value
            for p in result.pairs.itertuples(index=False)
            if (p.model_a, p.model_b, p.metric, p.variant)
            == (row.model_a, row.model_b, row.metric, row.variant)
        ]
        assert row.n_pairs == len(values) == (2 if row.model_b == "MLP" else 1)
        assert row.mean == pytest.approx(np.mean(values), rel=1e-12)
        assert row.std == pytest.approx(np.std(values), rel=1e-9, abs=1e-15)


def test_identical_runs_are_perfectly_stable():
    one = gene_scores("LR", 0)
    two = one.copy()
    two.uns[keys.UNS][keys.EVALUATE][keys.SEED] = 1
    result = stability([one, two], top_k=(10,))
    np.testing.assert_allclose(result.pairs["value"], 1.0)
    np.testing.assert_allclose(result.summary["mean"], 1.0)


def test_genes_are_matched_by_name():
    scores = gene_scores("LR", 0)
    shuffled = scores[:, scores.var_names[::-1]].copy()
    shuffled.uns[keys.UNS][keys.EVALUATE][keys.SEED] = 1
    pairs = stability([scores, shuffled], top_k=(10,)).pairs
    np.testing.assert_allclose(pairs["value"], 1.0)


def test_scores_of_evaluate_give_the_former_stability(evaluation_run):
    """STABILITY on EVALUATE's gene scores equals STABILITY on the attributions, as it ran
    before the gene scores existed (scores recomputed here with the same calls)."""
    runs = [evaluation_run(seed=s) for s in (0, 1)]
    got = stability([evaluate(*run, dataset="toy", **FAST).gene_scores for run in runs])
    former = []
    for _, _, attributions in runs:
        correct = attributions.obs[keys.CORRECT].to_numpy()
        a = normalize_rows(np.asarray(attributions.X)[correct])
        codes = attributions.obs[keys.LABEL].cat.codes.to_numpy(np.int64)[correct]
        present = np.unique(codes)
        overall = group_means(a, np.zeros(len(a), np.int64), 1)
        former.append(np.abs(np.vstack([overall, group_means(a, codes, 3)[present]])))
    names = ["overall", "class:C0", "class:C1", "class:C2"]
    for (v, name), metric in itertools.product(
        enumerate(names), ["jaccard@10", "jaccard@40", "spearman", "kendall"]
    ):
        want = pair_metrics(np.vstack([f[v] for f in former]), top_k=(10, 100))[metric][0, 1]
        row = got.pairs[(got.pairs["metric"] == metric) & (got.pairs["variant"] == name)]
        assert row["value"].item() == want, (metric, name)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: [gene_scores("LR", 0)], "expected at least 2 runs", id="one"),
        pytest.param(
            lambda: [gene_scores("LR", 0), gene_scores("LR", 0)], "two inputs hold", id="dup"
        ),
        pytest.param(
            lambda: [gene_scores("LR", 0), gene_scores("LR", 1, n_genes=31)],
            "model 'LR' seed 1 has other genes",
            id="genes",
        ),
        pytest.param(
            lambda: [gene_scores("LR", 0), gene_scores("LR", 1, dataset="E")],
            r"expected runs of one dataset, found \['D', 'E'\]",
            id="datasets",
        ),
        pytest.param(
            lambda: [gene_scores("LR", 0), gene_scores("LR", 1, method="wilcoxon")],
            r"expected runs of one method, found \['integrated_gradients', 'wilcoxon'\]",
            id="methods",
        ),
    ],
)
def test_stability_errors(make, message):
    with pytest.raises(InputError, match=f"^gene_scores: {message}"):
        stability(make())


@pytest.mark.parametrize("key", [keys.SEED, keys.MODEL, keys.METHOD])
def test_missing_run_field_is_an_error(key):
    scores = gene_scores("LR", 0)
    del scores.uns[keys.UNS][keys.EVALUATE][key]
    with pytest.raises(InputError, match=rf"^f\.h5ad: uns\['genexai'\]\['evaluate'\]\['{key}'\]"):
        stability([scores, gene_scores("LR", 1)], where=["f.h5ad", "g.h5ad"])


def test_missing_overall_is_an_error():
    scores = gene_scores("LR", 0)
    del scores.var[keys.OVERALL]
    with pytest.raises(InputError, match=r"^x: var\['overall'\] is missing"):
        run_scores(scores, where="x")
