"""ATTRIBUTE's seeded, stratified cap on the explained examples per class (issue 18)."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from genexai import io, keys
from genexai.attribute import attribute
from genexai.cli.attribute import main
from genexai.errors import InputError
from genexai.evaluate import evaluate
from tests.helpers.evaluate import FAST

CAP_KEYS = {keys.MAX_EXPLAINED_PER_CLASS, keys.N_ELIGIBLE, keys.N_EXPLAINED}


def _correct_per_class(out: ad.AnnData, classes: list[str]) -> np.ndarray:
    labels = out.obs[keys.LABEL].astype(str)[out.obs[keys.CORRECT].to_numpy()]
    return np.array([(labels == c).sum() for c in classes])


@pytest.fixture(scope="module")
def model_and_data(attribution_model, prepared_adata):
    return attribution_model("mlp"), prepared_adata(120)


def test_a_cap_above_every_class_changes_nothing(model_and_data, tmp_path):
    model, adata = model_and_data
    plain = attribute(adata, model, n_steps=50, batch_size=16)
    capped = attribute(adata, model, n_steps=50, batch_size=16, max_explained_per_class=1000)
    np.testing.assert_array_equal(capped.X, plain.X)
    pd.testing.assert_frame_equal(capped.obs, plain.obs)
    pd.testing.assert_frame_equal(capped.var, plain.var)
    pd.testing.assert_frame_equal(capped.varm[keys.INFORMATIVE], plain.varm[keys.INFORMATIVE])
    record, plain_record = (a.uns[keys.UNS][keys.ATTRIBUTE] for a in (capped, plain))
    assert not CAP_KEYS & set(plain_record), "no cap: the paper's file, nothing added"
    assert set(record) - set(plain_record) == CAP_KEYS
    for key, value in plain_record.items():
        np.testing.assert_array_equal(record[key], value)
    classes = model.genexai["classes"]
    np.testing.assert_array_equal(record[keys.N_ELIGIBLE], _correct_per_class(plain, classes))
    np.testing.assert_array_equal(record[keys.N_EXPLAINED], record[keys.N_ELIGIBLE])
    io.write_h5ad(capped, tmp_path / "capped.h5ad")
    back = io.read_h5ad(tmp_path / "capped.h5ad").uns[keys.UNS][keys.ATTRIBUTE]
    assert back[keys.MAX_EXPLAINED_PER_CLASS] == 1000
    assert back[keys.N_ELIGIBLE].dtype == np.int64


def test_the_cap_draws_exactly_cap_correct_examples_per_larger_class(model_and_data):
    model, adata = model_and_data
    classes = model.genexai["classes"]
    plain = attribute(adata, model, method="saliency")
    eligible = _correct_per_class(plain, classes)
    cap = int(np.median(eligible))
    assert (eligible > cap).any() and (eligible <= cap).any(), "the test needs both kinds"
    out = attribute(adata, model, method="saliency", max_explained_per_class=cap, seed=3)
    labels = out.obs[keys.LABEL].astype(str)
    for c, n in zip(classes, eligible, strict=True):
        rows = labels == c
        if n > cap:  # cap of the correct rows, the misclassified left out
            assert rows.sum() == cap and out.obs[keys.CORRECT][rows].all()
        else:  # every row, as without the cap
            expected = plain.obs_names[plain.obs[keys.LABEL].astype(str) == c]
            assert list(out.obs_names[rows]) == list(expected)
    positions = plain.obs_names.get_indexer(out.obs_names)
    assert (np.diff(positions) > 0).all(), "the kept examples keep their input order"
    # Other batches, other GEMM blockings: gradients agree to float32 round-off.
    np.testing.assert_allclose(out.X, plain.X[positions], rtol=1e-5, atol=1e-6)
    # completeness_delta subtracts F(x) - F(b) from those gradients' sum with F(x) - F(b).
    pd.testing.assert_frame_equal(
        out.obs, plain.obs.iloc[positions], check_exact=False, rtol=1e-3, atol=1e-6
    )
    record = out.uns[keys.UNS][keys.ATTRIBUTE]
    assert record[keys.MAX_EXPLAINED_PER_CLASS] == cap
    np.testing.assert_array_equal(record[keys.N_ELIGIBLE], eligible)
    np.testing.assert_array_equal(record[keys.N_EXPLAINED], np.minimum(eligible, cap))


def test_the_draw_follows_the_seed_not_the_method(attribution_model, prepared_adata):
    model, adata = attribution_model("lr"), prepared_adata(150)
    draws = {
        method: attribute(adata, model, method=method, n_steps=20, max_explained_per_class=3)
        for method in ("integrated_gradients", "random", "coefficients")
    }
    names = [list(out.obs_names) for out in draws.values()]
    assert names[0] == names[1] == names[2]
    assert draws["coefficients"].uns[keys.UNS][keys.ATTRIBUTE][keys.SCOPE] == "global"
    other = attribute(adata, model, method="random", max_explained_per_class=3, seed=7)
    assert list(other.obs_names) != names[0]
    again = attribute(adata, model, method="random", max_explained_per_class=3, seed=7)
    assert list(again.obs_names) == list(other.obs_names)


def test_the_record_follows_the_studied_classes(model_and_data):
    model, adata = model_and_data
    out = attribute(
        adata, model, method="saliency", classes=["C3", "C1"], max_explained_per_class=1
    )
    record = out.uns[keys.UNS][keys.ATTRIBUTE]
    plain = attribute(adata, model, method="saliency", classes=["C3", "C1"])
    np.testing.assert_array_equal(record[keys.N_ELIGIBLE], _correct_per_class(plain, ["C3", "C1"]))
    np.testing.assert_array_equal(record[keys.N_EXPLAINED], _correct_per_class(out, ["C3", "C1"]))
    assert set(out.obs[keys.LABEL].astype(str)) <= {"C1", "C3"}


def test_a_cap_below_one_is_refused(model_and_data):
    model, adata = model_and_data
    with pytest.raises(InputError, match="max_explained_per_class: expected at least 1, found 0"):
        attribute(adata, model, max_explained_per_class=0)


def test_the_cap_counts_left_out_rows_as_done(model_and_data):
    model, adata = model_and_data
    done: list[int] = []
    attribute(adata, model, method="saliency", max_explained_per_class=2, progress=done.append)
    assert sum(done) == adata.n_obs


def test_evaluate_takes_a_capped_file(evaluation_run):
    prepared, model, _ = evaluation_run(n_obs=240)
    test = prepared[prepared.obs[keys.SPLIT] == keys.TEST]
    capped = attribute(test, model, n_steps=32, tolerance=None, max_explained_per_class=5)
    record = capped.uns[keys.UNS][keys.ATTRIBUTE]
    assert (record[keys.N_ELIGIBLE] > 5).any() and capped.n_obs < test.n_obs
    result = evaluate(prepared, model, capped, dataset="toy", seed=1, **FAST)
    assert len(result.completeness) == capped.n_obs
    counts = result.gene_scores.obs[keys.N_EXAMPLES]
    explained = dict(zip(record[keys.STUDIED_CLASSES], record[keys.N_EXPLAINED], strict=True))
    assert {c: explained[c] for c in counts.index} == counts.to_dict()
    assert result.metrics["value"].notna().all()


def test_cli_option(tmp_path: Path, model_and_data):
    from genexai import models

    _, adata = model_and_data
    genes, classes = list(adata.var_names), list(adata.obs[keys.LABEL].cat.categories)
    io.write_h5ad(adata, tmp_path / "prepared.h5ad")
    network = models.build_model("LR", n_genes=len(genes), n_classes=len(classes), seed=0)
    meta = {"genes": genes, "classes": classes, "seed": 0}
    models.save_checkpoint(tmp_path / "model.pt", network, meta=meta)
    args = ["--input", str(tmp_path / "prepared.h5ad"), "--model", str(tmp_path / "model.pt")]
    args += ["--output", str(tmp_path / "a.h5ad"), "--method", "saliency"]
    result = CliRunner().invoke(main, [*args, "--max-explained-per-class", "2"])
    assert result.exit_code == 0, result.output
    out = io.read_h5ad(tmp_path / "a.h5ad")
    assert out.uns[keys.UNS][keys.ATTRIBUTE][keys.MAX_EXPLAINED_PER_CLASS] == 2
    assert out.n_obs < int((adata.obs[keys.SPLIT] == keys.TEST).sum())
    refused = CliRunner().invoke(main, [*args, "--max-explained-per-class", "0"])
    assert refused.exit_code == 2 and "--max-explained-per-class" in refused.output
