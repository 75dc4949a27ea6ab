"""genexai.attribute with the global methods: coefficients and the classical rankings."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from genexai import io, keys
from genexai.attribute import attribute
from genexai.errors import InputError


def rankings_of(model, method="wilcoxon", *, seed=0, shuffle=True) -> ad.AnnData:
    """A RANK_GENES-like file (C1): classes x genes, classes and genes in shuffled order."""
    rng = np.random.default_rng(seed)
    classes, genes = model.genexai["classes"], model.genexai["genes"]
    rows = rng.permutation(len(classes)) if shuffle else np.arange(len(classes))
    cols = rng.permutation(len(genes)) if shuffle else np.arange(len(genes))
    scores = rng.standard_normal((len(classes), len(genes)))
    out = ad.AnnData(
        X=scores[rows][:, cols],
        obs=pd.DataFrame(index=pd.Index([classes[r] for r in rows], dtype=str)),
        var=pd.DataFrame(index=pd.Index([genes[c] for c in cols], dtype=str)),
    )
    io.step_uns(out, keys.RANK_GENES).update({keys.METHOD: method, keys.SEED: seed})
    return out, scores


@pytest.mark.parametrize("family", ["lr", "diffused_lr"])
def test_coefficients_rows_are_the_target_class_weights(family, attribution_model, prepared_adata):
    model, adata = attribution_model(family), prepared_adata()
    out = attribute(adata, model, method="coefficients", target="predicted")
    weight = model.input_weight().detach().numpy()
    np.testing.assert_allclose(out.X, weight[out.obs[keys.TARGET]], rtol=1e-6, atol=1e-7)
    assert out.X.dtype == np.float32
    uns = out.uns[keys.UNS][keys.ATTRIBUTE]
    assert uns[keys.SCOPE] == "global" and uns[keys.METHOD] == "coefficients"
    assert keys.DELTA not in out.obs and keys.N_STEPS not in out.obs
    for key in (keys.TARGET, keys.TARGET_PROB, keys.BASELINE_PROB, keys.CORRECT):
        assert key in out.obs


def test_coefficients_refuse_an_mlp(attribution_model, prepared_adata):
    with pytest.raises(InputError, match="^method: 'coefficients' .* architecture 'mlp'"):
        attribute(prepared_adata(), attribution_model("mlp"), method="coefficients")


@pytest.mark.parametrize("method", ["wilcoxon", "t_test", "mutual_info"])
def test_ranking_rows_are_the_target_class_scores(method, attribution_model, prepared_adata):
    model, adata = attribution_model("mlp"), prepared_adata()
    rankings, scores = rankings_of(model, method)
    out = attribute(adata, model, method=method, rankings=rankings)
    want = scores.astype(np.float32)[out.obs[keys.TARGET].to_numpy()]
    np.testing.assert_array_equal(out.X, want)
    uns = out.uns[keys.UNS][keys.ATTRIBUTE]
    assert uns[keys.SCOPE] == "global" and uns[keys.METHOD] == method
    assert keys.DELTA not in out.obs and keys.N_STEPS not in out.obs


def test_local_methods_are_of_the_local_scope(attribution_model, prepared_adata):
    out = attribute(prepared_adata(), attribution_model("lr"), method="saliency")
    assert out.uns[keys.UNS][keys.ATTRIBUTE][keys.SCOPE] == "local"
    assert {keys.DELTA, keys.N_STEPS} <= set(out.obs)


def _no_rankings(model):
    return {"method": "wilcoxon"}


def _method_mismatch(model):
    return {"method": "t_test", "rankings": rankings_of(model, "wilcoxon")[0]}


def _rankings_for_a_local_method(model):
    return {"method": "saliency", "rankings": rankings_of(model)[0]}


def _other_classes(model):
    rankings = rankings_of(model)[0]
    rankings.obs_names = ["X", *rankings.obs_names[1:]]
    return {"method": "wilcoxon", "rankings": rankings}


def _fewer_classes(model):
    return {"method": "wilcoxon", "rankings": rankings_of(model)[0][1:].copy()}


def _other_genes(model):
    return {"method": "wilcoxon", "rankings": rankings_of(model)[0][:, 1:].copy()}


def _not_finite(model):
    rankings = rankings_of(model)[0]
    rankings.X[0, 0] = np.nan
    return {"method": "wilcoxon", "rankings": rankings}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param(_no_rankings, "^rankings: method 'wilcoxon' needs", id="missing"),
        pytest.param(
            _method_mismatch, r"^rankings: .*\['method'\] is 'wilcoxon', expected .*'t_test'"
        ),
        pytest.param(_rankings_for_a_local_method, "^rankings: only used with", id="local"),
        pytest.param(_other_classes, r"^rankings: classes .* are not the model's", id="classes"),
        pytest.param(_fewer_classes, r"^rankings: classes .* are not the model's", id="fewer"),
        pytest.param(_other_genes, "^rankings: genes do not match", id="genes"),
        pytest.param(_not_finite, "^rankings: X holds scores that are not finite", id="nan"),
    ],
)
def test_ranking_refusals(change, match, attribution_model, prepared_adata):
    model = attribution_model("mlp")
    with pytest.raises(InputError, match=match):
        attribute(prepared_adata(), model, **change(model))
