"""genexai.evaluate: one attributions file → metrics, curves, top genes, completeness, scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse

from genexai import keys
from genexai.errors import InputError
from genexai.evaluate import evaluate, progress_total
from genexai.graph import Graph
from genexai.metrics import feature_agreement, ground_truth, normalize_rows
from genexai.metrics._common import group_means
from tests.helpers.evaluate import FAST, N_GENES


def graph_of(genes, *, seed=0):
    adjacency = scipy.sparse.random(len(genes), len(genes), density=0.1, random_state=seed)
    return Graph((adjacency + adjacency.T + scipy.sparse.eye(len(genes))).tocsr(), list(genes), 0.5)


@pytest.fixture(scope="module")
def run3(evaluation_run):
    return evaluation_run()


@pytest.fixture(scope="module")
def result3(run3):
    prepared, model, attributions = run3
    return evaluate(
        prepared,
        model,
        attributions,
        dataset="toy",
        graph=graph_of(prepared.var_names),
        seed=1,
        **FAST,
    )


def test_tables_hold_every_metric(result3):
    metrics = result3.metrics
    assert list(metrics.columns) == list(keys.METRIC_COLUMNS)
    assert metrics[["dataset", "model", "seed", "method"]].drop_duplicates().values.tolist() == [
        ["toy", "LINEAR", 0, "integrated_gradients"]
    ]
    aggregate = metrics[~metrics["variant"].str.contains(":")]
    got = set(zip(aggregate["metric"], aggregate["variant"], strict=True))
    for metric in ("pgi", "pgu", "pgu_adjusted"):
        assert {(metric, v) for v in ("local", "global_pooled", "global_per_class")} <= got
    assert {("pgr", "random"), ("openxai_pgi", "local"), ("openxai_pgu", "local")} <= got
    for suffix in ("", "_diffused"):
        for variant in ("local", "global_mean_score", "global_intersect"):
            assert ("fa", variant + suffix) in got
        for metric in ("fa_precision@10", "fa_precision@40", "fa_auroc"):
            assert (metric, "global_mean_score" + suffix) in got
    assert metrics["value"].notna().all()
    percent = metrics[metrics["metric"] != "fa_auroc"]["value"]
    assert ((percent >= 0) & (percent <= 100 + 1e-9)).all()
    per_class = metrics[metrics["variant"].str.startswith("local:")]
    assert set(per_class["variant"]) == {"local:C0", "local:C1", "local:C2"}


def test_curves_and_top_genes(result3, run3):
    curves, top = result3.curves, result3.top_genes
    assert list(curves.columns) == list(keys.CURVE_COLUMNS)
    assert {
        "keep_best",
        "remove_best",
        "random_kept",
        "pgi_local",
        "pgu_global_per_class",
        "pgr",
    } <= set(curves["curve"])
    assert curves["n_genes"].dtype == np.int64
    assert list(top.columns) == [*keys.TOP_GENES_COLUMNS, keys.INFORMATIVE]
    assert top.groupby("class")["rank"].apply(list).tolist() == [list(range(1, 8))] * 3
    attributions = run3[2]
    correct = attributions.obs[keys.CORRECT].to_numpy()
    rows = correct & (attributions.obs[keys.LABEL] == "C1").to_numpy()
    mean = normalize_rows(attributions.X[rows]).mean(axis=0)
    c1 = top[top["class"] == "C1"]
    want = np.argsort(-np.abs(mean), kind="stable")[:7]
    assert list(c1["gene"]) == list(attributions.var_names[want])
    np.testing.assert_allclose(c1["score"], mean[want], rtol=1e-5)
    informative = attributions.varm[keys.INFORMATIVE]["S1"].to_numpy()
    assert list(c1[keys.INFORMATIVE]) == list(informative[want])


def test_fa_rows_are_feature_agreement_of_the_correct_rows(result3, run3):
    _, _, attributions = run3
    correct = attributions.obs[keys.CORRECT].to_numpy()
    labels = attributions.obs[keys.LABEL].cat.codes.to_numpy(np.int64)[correct]
    truth = ground_truth(
        attributions.varm[keys.INFORMATIVE].to_numpy(),
        labels,
        n_classes=3,
        subclasses=labels,
        subclass_names=["S0", "S1", "S2"],
        class_names=["C0", "C1", "C2"],
    )
    want = feature_agreement(normalize_rows(attributions.X[correct]), truth, precision_k=(10, 100))
    got = result3.metrics
    got = got[got["metric"].str.startswith("fa") & ~got["variant"].str.contains("_diffused")]
    pd.testing.assert_frame_equal(got[["metric", "variant", "value"]].reset_index(drop=True), want)


def test_same_seed_same_tables_and_progress(run3, result3):
    prepared, model, attributions = run3
    calls = []
    again = evaluate(
        prepared,
        model,
        attributions,
        dataset="toy",
        graph=graph_of(prepared.var_names),
        seed=1,
        progress=calls.append,
        **FAST,
    )
    assert sum(calls) == progress_total(
        n_random=FAST["n_random"], curve_random=FAST["curve_random"]
    )
    pd.testing.assert_frame_equal(again.metrics, result3.metrics)
    pd.testing.assert_frame_equal(again.curves, result3.curves)
    other = evaluate(prepared, model, attributions, dataset="toy", seed=2, **FAST)
    pgr = other.metrics.set_index(["metric", "variant"])["value"]["pgr", "random"]
    assert pgr != result3.metrics.set_index(["metric", "variant"])["value"]["pgr", "random"]


def test_genes_and_rows_are_matched_by_name(run3, result3):
    prepared, model, attributions = run3
    rng = np.random.default_rng(0)
    shuffled = attributions[:, rng.permutation(N_GENES)].copy()
    baseline = attributions.uns[keys.UNS][keys.ATTRIBUTE][keys.BASELINE]
    shuffled.uns[keys.UNS][keys.ATTRIBUTE][keys.BASELINE] = pd.Series(
        baseline, index=attributions.var_names
    )[shuffled.var_names].to_numpy()
    other = prepared[rng.permutation(prepared.n_obs)][:, rng.permutation(N_GENES)].copy()
    genes = list(prepared.var_names)
    adjacency = graph_of(genes).adj
    order = rng.permutation(N_GENES)
    graph = Graph(adjacency[order][:, order], [genes[g] for g in order], 0.5)
    got = evaluate(other, model, shuffled, dataset="toy", graph=graph, seed=1, **FAST)
    pd.testing.assert_frame_equal(got.metrics, result3.metrics, atol=1e-4)
    pd.testing.assert_frame_equal(got.top_genes, result3.top_genes, atol=1e-6)
    pd.testing.assert_frame_equal(got.completeness, result3.completeness)
    np.testing.assert_allclose(got.gene_scores.X, result3.gene_scores.X, atol=1e-6)


@pytest.mark.parametrize("kind", ["mlp", "plain"])
def test_other_models_run(kind, evaluation_run):
    prepared, model, attributions = evaluation_run(kind=kind, seed=3)
    result = evaluate(prepared, model, attributions, dataset="toy", **FAST)
    assert result.metrics["value"].notna().all()
    assert result.metrics["model"].iloc[0] == kind.upper()


def test_subclass_case_relabels_fa_by_subclass(evaluation_run):
    prepared, model, attributions = evaluation_run(n_classes=2, n_sub=4, seed=5)
    result = evaluate(prepared, model, attributions, dataset="toy", **FAST)
    fa = result.metrics[result.metrics["metric"] == "fa"]
    assert set(fa["variant"].str.split(":").str[1].dropna()) <= {"S0", "S1", "S2"}
    pg = result.metrics[result.metrics["metric"] == "pgi"]
    assert set(pg["variant"].str.split(":").str[1].dropna()) <= {"C0", "C1"}
    # Both merged classes count every informative gene (the 2-class rule).
    anywhere = attributions.varm[keys.INFORMATIVE].any(axis=1)
    top = result.top_genes
    assert list(top[keys.INFORMATIVE]) == list(anywhere[top["gene"]])


def test_without_ground_truth_there_is_no_fa(evaluation_run):
    prepared, model, attributions = evaluation_run(seed=6)
    del attributions.varm[keys.INFORMATIVE]
    result = evaluate(prepared, model, attributions, dataset="toy", **FAST)
    assert not result.metrics["metric"].str.startswith("fa").any()
    assert list(result.top_genes.columns) == list(keys.TOP_GENES_COLUMNS)


def _drop_rows(run, metric_model):
    prepared, model, attributions = run
    return prepared[prepared.obs_names != attributions.obs_names[2]], model, attributions


def _other_model(run, metric_model):
    prepared, model, attributions = run
    other = metric_model("linear", N_GENES, 3, seed=99)
    other.genexai = model.genexai
    return prepared, other, attributions


def _no_baseline(run, metric_model):
    prepared, model, attributions = run
    attributions = attributions.copy()
    del attributions.uns[keys.UNS][keys.ATTRIBUTE][keys.BASELINE]
    return prepared, model, attributions


def _training_mode(run, metric_model):
    prepared, model, attributions = run
    other = metric_model("mlp", N_GENES, 3).train()
    other.genexai = model.genexai
    return prepared, other, attributions


def _gene_mismatch(run, metric_model):
    prepared, model, attributions = run
    return prepared[:, 1:], model, attributions


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(_drop_rows, "^prepared: 1 explained example", id="rows"),
        pytest.param(_other_model, "target_prob'\\] differs .* on the prepared data", id="model"),
        pytest.param(_no_baseline, "'baseline'\\] is missing", id="baseline"),
        pytest.param(_gene_mismatch, "^prepared: genes do not match", id="genes"),
        pytest.param(_training_mode, "model: expected an eval-mode model", id="train-mode"),
    ],
)
def test_mismatched_inputs_are_errors(run3, metric_model, change, message):
    prepared, model, attributions = change(run3, metric_model)
    with pytest.raises(InputError, match=message):
        evaluate(prepared, model, attributions, dataset="toy", **FAST)


def test_graph_of_other_genes_is_an_error(run3):
    prepared, model, attributions = run3
    with pytest.raises(InputError, match="graph: graph genes do not match the data"):
        evaluate(
            prepared,
            model,
            attributions,
            dataset="toy",
            graph=graph_of(prepared.var_names[1:]),
            **FAST,
        )


@pytest.mark.parametrize(
    ("option", "value"), [("gap", 0), ("gap", 41), ("n_random", -1), ("top_n", 0)]
)
def test_bad_options(run3, option, value):
    with pytest.raises(InputError, match=f"^{option}: expected"):
        evaluate(*run3, dataset="toy", **{**FAST, option: value})


# --- the tables STABILITY and REPORT read -----------------------------------


def _reference_class_means(attributions):
    """Per class, and over all, the mean of the L2-normalised correct rows (plain loops)."""
    correct = attributions.obs[keys.CORRECT].to_numpy()
    labels = attributions.obs[keys.LABEL].astype(str).to_numpy()
    rows = []
    for a in np.asarray(attributions.X, dtype=np.float64)[correct]:
        norm = np.sqrt(np.sum(a * a))
        rows.append(a / norm if norm > 0 else a)
    rows = np.array(rows)
    by_class = {c: rows[labels[correct] == c].mean(axis=0) for c in np.unique(labels[correct])}
    return by_class, rows.mean(axis=0)


def test_gene_scores_are_the_class_means(result3, run3):
    _, _, attributions = run3
    scores = result3.gene_scores
    by_class, overall = _reference_class_means(attributions)
    assert list(scores.obs_names) == sorted(by_class) == ["C0", "C1", "C2"]
    assert list(scores.var_names) == list(attributions.var_names)
    assert scores.X.dtype == np.float64
    # float32 normalisation (as the library), float64 means: a few float32 ulps
    np.testing.assert_allclose(scores.X, np.vstack(list(by_class.values())), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(scores.var[keys.OVERALL], overall, rtol=1e-6, atol=1e-7)
    correct = attributions.obs[keys.CORRECT].to_numpy()
    counts = attributions.obs[keys.LABEL][correct].value_counts()
    assert scores.obs[keys.N_EXAMPLES].to_dict() == counts.to_dict()
    assert scores.uns[keys.UNS][keys.EVALUATE] | {keys.VERSION: None} == {
        keys.DATASET: "toy",
        keys.MODEL: "LINEAR",
        keys.SEED: 0,
        keys.METHOD: "integrated_gradients",
        keys.VERSION: None,
    }
    # the scores of top_genes are the same class means
    top = result3.top_genes.iloc[0]
    assert top["score"] == scores[top["class"], top["gene"]].X.item()


def test_gene_scores_hold_exactly_the_former_stability_scores(result3, run3):
    """STABILITY used to compute its scores from the attributions with these very calls."""
    _, _, attributions = run3
    correct = attributions.obs[keys.CORRECT].to_numpy()
    a = normalize_rows(np.asarray(attributions.X)[correct])
    codes = attributions.obs[keys.LABEL].cat.codes.to_numpy(np.int64)[correct]
    present = np.unique(codes)
    former = np.vstack(
        [group_means(a, np.zeros(len(a), np.int64), 1), group_means(a, codes, 3)[present]]
    )
    scores = result3.gene_scores
    np.testing.assert_array_equal(np.vstack([scores.var[keys.OVERALL], scores.X]), former)


def test_completeness_has_every_explained_example(result3, run3):
    _, _, attributions = run3
    table = result3.completeness
    assert list(table.columns) == list(keys.COMPLETENESS_COLUMNS)
    assert list(table["example"]) == list(attributions.obs_names)
    np.testing.assert_array_equal(table["delta"], attributions.obs[keys.DELTA])
    assert table["n_steps"].dtype == "Int64"
    assert list(table["n_steps"]) == list(attributions.obs[keys.N_STEPS])
    assert table[["dataset", "model", "seed", "method"]].drop_duplicates().values.tolist() == [
        ["toy", "LINEAR", 0, "integrated_gradients"]
    ]


@pytest.mark.parametrize("missing", [keys.DELTA, keys.N_STEPS])
def test_completeness_without_recorded_values(missing, evaluation_run):
    prepared, model, attributions = evaluation_run(seed=7)
    del attributions.obs[missing]
    table = evaluate(prepared, model, attributions, dataset="toy", **FAST).completeness
    assert list(table.columns) == list(keys.COMPLETENESS_COLUMNS)
    if missing == keys.DELTA:
        assert table.empty
    else:
        assert len(table) == attributions.n_obs and table["n_steps"].isna().all()
