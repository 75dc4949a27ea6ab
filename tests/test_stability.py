"""genexai.metrics.stability: pairwise ranking stability against plain per-pair code."""

from __future__ import annotations

import zlib

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.stats
from test_prediction_gaps import ref_order

from genexai import keys
from genexai.errors import InputError
from genexai.metrics import pair_metrics, run_scores, stability


def attributions(model: str, seed: int, *, n_obs=20, n_genes=30, classes=("A", "B"), genes=None):
    rng = np.random.default_rng([zlib.crc32(model.encode()), seed])
    labels = rng.choice(len(classes), n_obs)
    adata = ad.AnnData(
        X=rng.standard_normal((n_obs, n_genes)).astype(np.float32),
        obs=pd.DataFrame(
            {
                keys.LABEL: pd.Categorical.from_codes(labels, categories=list(classes)),
                keys.CORRECT: rng.random(n_obs) < 0.8,
            },
            index=[f"s{i}" for i in range(n_obs)],
        ),
        var=pd.DataFrame(index=genes if genes is not None else [f"G{g}" for g in range(n_genes)]),
    )
    adata.uns[keys.UNS] = {keys.ATTRIBUTE: {keys.ARCH: model, keys.SEED: seed}}
    return adata


def test_run_scores_are_absolute_class_means_of_normalised_rows():
    adata = attributions("LR", 0)
    run = run_scores(adata, where="x")
    a = adata.X / np.linalg.norm(adata.X, axis=1, keepdims=True)
    correct = adata.obs[keys.CORRECT].to_numpy()
    labels = adata.obs[keys.LABEL].to_numpy()
    assert list(run.scores.index) == ["overall", "class:A", "class:B"]
    np.testing.assert_allclose(
        run.scores.loc["overall"], np.abs(a[correct].mean(axis=0)), rtol=1e-5
    )
    np.testing.assert_allclose(
        run.scores.loc["class:B"], np.abs(a[correct & (labels == "B")].mean(axis=0)), rtol=1e-5
    )
    assert (run.model, run.seed) == ("LR", 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_pair_metrics_match_per_pair_code(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random((4, 50)), 1)  # ties
    got = pair_metrics(scores, top_k=(5, 20))
    for i in range(4):
        for j in range(4):
            for k in (5, 20):
                a = set(ref_order(list(scores[i]), descending=True)[:k])
                b = set(ref_order(list(scores[j]), descending=True)[:k])
                assert got[f"jaccard@{k}"][i, j] == pytest.approx(len(a & b) / len(a | b))
            assert got["spearman"][i, j] == pytest.approx(
                scipy.stats.spearmanr(scores[i], scores[j]).statistic
            )
            assert got["kendall"][i, j] == pytest.approx(
                scipy.stats.kendalltau(scores[i], scores[j]).statistic
            )


def test_stability_table_and_summary():
    runs = [
        run_scores(attributions(m, s), where=f"{m}{s}")
        for m, s in [("MLP", 1), ("LR", 1), ("LR", 0)]
    ]
    pairs, summary = stability(runs, dataset="D", top_k=(10,))
    assert list(pairs.columns) == list(keys.STABILITY_COLUMNS)
    assert set(pairs["metric"]) == {"jaccard@10", "spearman", "kendall"}
    assert set(pairs["variant"]) == {"overall", "class:A", "class:B", "class_mean"}
    firsts = pairs[["model_a", "seed_a", "model_b", "seed_b"]].drop_duplicates()
    assert firsts.values.tolist() == [["LR", 0, "LR", 1], ["LR", 0, "MLP", 1], ["LR", 1, "MLP", 1]]
    row = pairs.set_index(["model_a", "seed_a", "model_b", "seed_b", "metric", "variant"])["value"]
    by_score = {(r.model, r.seed): r.scores for r in runs}
    want = scipy.stats.spearmanr(
        by_score["LR", 0].loc["class:A"], by_score["MLP", 1].loc["class:A"]
    ).statistic
    assert row["LR", 0, "MLP", 1, "spearman", "class:A"] == pytest.approx(want)
    mean = np.mean([row["LR", 0, "MLP", 1, "kendall", v] for v in ("class:A", "class:B")])
    assert row["LR", 0, "MLP", 1, "kendall", "class_mean"] == pytest.approx(mean)
    across = summary[
        (summary["model_a"] == "LR")
        & (summary["model_b"] == "MLP")
        & (summary["metric"] == "kendall")
        & (summary["variant"] == "overall")
    ]
    assert across["n_pairs"].item() == 2
    assert across["value"].item() == pytest.approx(
        np.mean([row["LR", s, "MLP", 1, "kendall", "overall"] for s in (0, 1)])
    )


def test_identical_runs_are_perfectly_stable():
    one = run_scores(attributions("LR", 0), where="a")
    two = run_scores(attributions("LR", 0), where="b")
    two = type(two)(model="LR", seed=1, scores=two.scores)
    pairs, _ = stability([one, two], dataset="D", top_k=(10,))
    np.testing.assert_allclose(pairs["value"], 1.0)


def test_genes_are_matched_by_name():
    adata = attributions("LR", 0)
    shuffled = adata[:, adata.var_names[::-1]].copy()
    shuffled.uns[keys.UNS][keys.ATTRIBUTE][keys.SEED] = 1
    pairs, _ = stability(
        [run_scores(adata, where="a"), run_scores(shuffled, where="b")], dataset="D", top_k=(10,)
    )
    np.testing.assert_allclose(pairs["value"], 1.0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: [attributions("LR", 0)], "at least 2", id="one"),
        pytest.param(
            lambda: [attributions("LR", 0), attributions("LR", 0)], "two files hold", id="dup"
        ),
        pytest.param(
            lambda: [attributions("LR", 0), attributions("LR", 1, n_genes=31)],
            "other genes",
            id="genes",
        ),
    ],
)
def test_stability_errors(make, message):
    with pytest.raises(InputError, match=message):
        stability([run_scores(a, where="x") for a in make()], dataset="D")


def test_missing_seed_is_an_error():
    adata = attributions("LR", 0)
    del adata.uns[keys.UNS][keys.ATTRIBUTE][keys.SEED]
    with pytest.raises(InputError, match="'seed'\\] is missing"):
        run_scores(adata, where="f.h5ad")
