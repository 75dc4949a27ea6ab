"""genexai.evaluate on global-scope attributions (C3), and the per-class curves of every run."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.errors import InputError
from genexai.evaluate import attribution_scope, evaluate, progress_total
from genexai.metrics import normalize_rows
from genexai.metrics._common import group_means
from genexai.metrics.curves import class_curves
from tests.helpers.evaluate import FAST, N_GENES

CLASSES = ["C0", "C1", "C2"]


def as_global(attributions):
    """The attributions a global method would write: each row its target class's scores."""
    out = attributions.copy()
    rng = np.random.default_rng(11)
    scores = rng.standard_normal((len(CLASSES), N_GENES)).astype(np.float32)
    out.X = scores[out.obs[keys.TARGET].to_numpy()]
    del out.obs[keys.DELTA], out.obs[keys.N_STEPS]
    out.uns[keys.UNS][keys.ATTRIBUTE] |= {keys.METHOD: "wilcoxon", keys.SCOPE: "global"}
    return out


@pytest.fixture(scope="module")
def runs(evaluation_run):
    """The same global attributions evaluated as global and, relabelled, as local."""
    prepared, model, attributions = evaluation_run(seed=4)
    glob = as_global(attributions)
    local = glob.copy()
    local.uns[keys.UNS][keys.ATTRIBUTE][keys.SCOPE] = "local"
    calls = []
    results = {
        "global": evaluate(
            prepared, model, glob, dataset="toy", seed=1, progress=calls.append, **FAST
        ),
        "local": evaluate(prepared, model, local, dataset="toy", seed=1, **FAST),
    }
    return results, calls, (prepared, model, glob)


def test_global_scope_has_no_local_metrics(runs):
    metrics = runs[0]["global"].metrics
    variants = metrics["variant"].str.split(":").str[0]
    assert not (variants == "local").any()
    assert not metrics["metric"].str.startswith("openxai").any()
    assert not (variants == "global_intersect").any()
    got = set(zip(metrics["metric"], variants, strict=True))
    for metric in ("pgi", "pgu", "pgu_adjusted"):
        assert {(metric, "global_pooled"), (metric, "global_per_class")} <= got
    assert {
        ("pgr", "random"),
        ("fa", "global_mean_score"),
        ("fa_auroc", "global_mean_score"),
    } <= got
    assert set(metrics["method"]) == {"wilcoxon"}


def test_the_remaining_rows_are_those_of_a_local_run(runs):
    """The switches skip work; they change no number of what remains."""
    results = runs[0]
    local_metrics = results["local"].metrics
    variants = local_metrics["variant"].str.split(":").str[0]
    kept = ~(
        variants.isin(["local", "global_intersect"])
        | local_metrics["metric"].str.startswith("openxai")
    )
    pd.testing.assert_frame_equal(
        results["global"].metrics, local_metrics[kept].reset_index(drop=True), check_exact=True
    )
    local_curves = results["local"].curves
    kept = ~local_curves["curve"].isin(["pgi_local", "pgu_local"])
    pd.testing.assert_frame_equal(
        results["global"].curves, local_curves[kept].reset_index(drop=True), check_exact=True
    )


def test_global_scope_has_no_completeness_rows_and_no_warning(runs, caplog):
    assert runs[0]["global"].completeness.empty
    assert list(runs[0]["global"].completeness.columns) == list(keys.COMPLETENESS_COLUMNS)
    prepared, model, glob = runs[2]
    with caplog.at_level(logging.WARNING, logger="genexai.evaluate"):
        evaluate(prepared, model, glob, dataset="toy", **FAST)
    assert not [r for r in caplog.records if "completeness" in r.getMessage()]


def test_progress_total_is_exact_for_the_global_scope(runs):
    calls = runs[1]
    want = progress_total(
        n_random=FAST["n_random"], curve_random=FAST["curve_random"], scope="global"
    )
    assert (
        sum(calls)
        == want
        == progress_total(n_random=FAST["n_random"], curve_random=FAST["curve_random"]) - 3
    )


def test_class_curves_are_in_the_curves_table(runs):
    prepared, model, glob = runs[2]
    curves = runs[0]["global"].curves
    kinds = curves["curve"].str.split(":").str[0]
    part = curves[kinds.str.startswith("class_")]
    assert set(part["curve"]) == {
        f"{kind}:{c}"
        for kind in ("class_keep_best", "class_remove_best", "class_random_removed")
        for c in CLASSES
    }
    k = 20
    keep = part[part["curve"] == "class_keep_best:C1"]
    assert k in set(keep["n_genes"]) and keep["n_genes"].is_monotonic_increasing
    remove = part[part["curve"] == "class_remove_best:C1"]
    assert N_GENES - k in set(remove["n_genes"])
    random = part[part["curve"] == "class_random_removed:C1"]
    assert list(random["n_genes"]) == [N_GENES - k] and random["std"].notna().all()
    assert part["value"].between(0, 100).all()
    # the class curves of the class means m_c of the correctly classified rows
    correct = glob.obs[keys.CORRECT].to_numpy()
    labels = glob.obs[keys.LABEL].cat.codes.to_numpy(np.int64)[correct]
    means = group_means(normalize_rows(glob.X[correct]), labels, len(CLASSES))
    x = prepared[glob.obs_names].X[correct]
    baseline = glob.uns[keys.UNS][keys.ATTRIBUTE][keys.BASELINE]
    want = class_curves(
        model, x, baseline, labels, np.abs(means), class_names=CLASSES, k=k, n_random=0
    )
    got = part[~part["curve"].str.startswith("class_random")][list(want.columns)]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)


def test_biomarker_k_moves_the_class_points(runs):
    prepared, model, glob = runs[2]
    curves = evaluate(prepared, model, glob, dataset="toy", biomarker_k=25, **FAST).curves
    random = curves[curves["curve"].str.startswith("class_random_removed")]
    assert set(random["n_genes"]) == {N_GENES - 25}
    keep = curves[curves["curve"] == "class_keep_best:C0"]
    assert 25 in set(keep["n_genes"])


def test_scope_is_read_and_checked(runs):
    prepared, model, glob = runs[2]
    assert attribution_scope(glob) == "global"
    old = glob.copy()
    del old.uns[keys.UNS][keys.ATTRIBUTE][keys.SCOPE]
    assert attribution_scope(old) == "local"  # files written before the scope existed
    old.uns[keys.UNS][keys.ATTRIBUTE][keys.SCOPE] = "pooled"
    with pytest.raises(InputError, match=r"\['scope'\]: expected one of \['local', 'global'\]"):
        evaluate(prepared, model, old, dataset="toy", **FAST)


def test_biomarker_k_must_be_positive(runs):
    with pytest.raises(InputError, match="^biomarker_k: expected at least 1, found 0"):
        evaluate(*runs[2], dataset="toy", biomarker_k=0, **FAST)
