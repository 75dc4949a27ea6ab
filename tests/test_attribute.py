"""Tests of genexai.attribute, the ATTRIBUTE step over an AnnData."""

from __future__ import annotations

import inspect

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import torch

from genexai import attribution, io, keys
from genexai.attribute import BATCH_SIZE, attribute, read_baseline
from genexai.errors import InputError
from genexai.io import split_rows
from tests.helpers.attribution import FAMILIES, N_GENES


def plain_delta(out: ad.AnnData) -> np.ndarray:
    total = out.X.astype(np.float64).sum(axis=1)
    return np.abs(total - (out.obs[keys.TARGET_PROB] - out.obs[keys.BASELINE_PROB]).to_numpy())


@pytest.mark.parametrize("family", FAMILIES)
def test_attribute_output_contract(family, attribution_model, prepared_adata):
    model = attribution_model(family)
    adata = prepared_adata()
    out = attribute(adata, model, n_steps=300, checkpoint_sha256="abc", batch_size=5)
    assert out.shape == adata.shape and out.X.dtype == np.float32
    assert list(out.obs_names) == list(adata.obs_names)
    assert list(out.var_names) == model.genexai["genes"]
    obs = out.obs
    classes = model.genexai["classes"]
    for key in (keys.LABEL, keys.PREDICTION):
        assert list(obs[key].cat.categories) == classes
    np.testing.assert_array_equal(obs[keys.LABEL].astype(str), adata.obs[keys.LABEL].astype(str))
    logits = model(torch.from_numpy(adata.X)).detach()
    prob = torch.softmax(logits, dim=1).numpy()
    np.testing.assert_array_equal(obs[keys.PREDICTION].cat.codes, prob.argmax(axis=1))
    np.testing.assert_array_equal(obs[keys.CORRECT], obs[keys.LABEL] == obs[keys.PREDICTION])
    np.testing.assert_array_equal(obs[keys.TARGET], obs[keys.LABEL].cat.codes)
    rows = np.arange(adata.n_obs)
    np.testing.assert_allclose(obs[keys.TARGET_PROB], prob[rows, obs[keys.TARGET]], rtol=1e-6)
    prob_b = torch.softmax(model(torch.zeros(1, N_GENES)), dim=1).detach().numpy()[0]
    np.testing.assert_allclose(obs[keys.BASELINE_PROB], prob_b[obs[keys.TARGET]], rtol=1e-6)
    # the recorded delta is the one computed from the stored attributions
    np.testing.assert_allclose(obs[keys.DELTA], plain_delta(out), rtol=1e-5, atol=1e-7)
    assert (obs[keys.DELTA] < 0.01).all()
    assert (obs[keys.N_STEPS] % 300 == 0).all()
    pd.testing.assert_series_equal(obs[keys.SUBCLASS], adata.obs[keys.SUBCLASS])
    pd.testing.assert_frame_equal(out.varm[keys.INFORMATIVE], adata.varm[keys.INFORMATIVE])
    uns = out.uns[keys.UNS][keys.ATTRIBUTE]
    assert uns[keys.METHOD] == "integrated_gradients" and uns[keys.BASELINE_KIND] == "zero"
    assert uns[keys.CHECKPOINT_SHA256] == "abc" and uns[keys.ARCH] == family
    assert uns[keys.STUDIED_CLASSES] == classes and uns[keys.TARGET_KIND] == "true"
    assert uns[keys.BASELINE].dtype == np.float32 and uns[keys.BASELINE].shape == (N_GENES,)


def test_attribute_writes_and_reads_back(tmp_path, prepared_adata, attribution_model):
    out = attribute(prepared_adata(), attribution_model("mlp"), n_steps=50, checkpoint_sha256="abc")
    io.write_h5ad(out, tmp_path / "a.h5ad")
    back = io.read_h5ad(tmp_path / "a.h5ad")
    np.testing.assert_array_equal(back.X, out.X)
    pd.testing.assert_frame_equal(back.obs, out.obs)


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_shap", "random", "saliency"])
def test_attribute_batching_does_not_change_results(method, attribution_model, prepared_adata):
    model, adata = attribution_model("mlp"), prepared_adata(30)
    kwargs = {"method": method, "n_steps": 64, "n_samples": 5}
    whole = attribute(adata, model, batch_size=100, **kwargs)
    if method == "gradient_shap":  # seeded per batch: same batches, same numbers
        again = attribute(adata, model, batch_size=100, **kwargs)
        np.testing.assert_array_equal(again.X, whole.X)
        return
    split = attribute(adata, model, batch_size=7, internal_batch_size=9, **kwargs)
    np.testing.assert_allclose(split.X, whole.X, rtol=1e-5, atol=1e-6 * np.abs(whole.X).max())
    pd.testing.assert_series_equal(split.obs[keys.N_STEPS], whole.obs[keys.N_STEPS])


def test_attribute_aligns_genes_by_name(attribution_model, prepared_adata):
    model, adata = attribution_model("lr"), prepared_adata()
    shuffled = adata[:, adata.var_names[::-1]].copy()
    np.testing.assert_allclose(
        attribute(shuffled, model, n_steps=50).X, attribute(adata, model, n_steps=50).X, rtol=1e-6
    )


@pytest.mark.parametrize("target", ["true", "predicted", "logit"])
def test_attribute_targets(target, attribution_model, prepared_adata):
    model, adata = attribution_model("mlp"), prepared_adata()
    out = attribute(adata, model, target=target, n_steps=200)
    logits = model(torch.from_numpy(adata.X)).detach().numpy()
    expected_target = (
        logits.argmax(axis=1) if target == "predicted" else out.obs[keys.LABEL].cat.codes
    )
    np.testing.assert_array_equal(out.obs[keys.TARGET], expected_target)
    if target == "logit":
        explained = logits[np.arange(adata.n_obs), out.obs[keys.TARGET]]
        np.testing.assert_allclose(out.obs[keys.TARGET_PROB], explained, rtol=1e-5)
    np.testing.assert_allclose(out.obs[keys.DELTA], plain_delta(out), rtol=1e-5, atol=1e-6)


def test_attribute_studied_classes_and_misclassified_kept(attribution_model, prepared_adata):
    model, adata = attribution_model("mlp"), prepared_adata(40)
    out = attribute(adata, model, classes=["C1", "C3"], n_steps=50)
    assert set(out.obs[keys.LABEL].astype(str)) == {"C1", "C3"}
    assert out.n_obs == int(adata.obs[keys.LABEL].isin(["C1", "C3"]).sum())
    assert not out.obs[keys.CORRECT].all(), "random weights: misclassified examples are kept"
    assert out.uns[keys.UNS][keys.ATTRIBUTE][keys.STUDIED_CLASSES] == ["C1", "C3"]


def test_class_mean_and_vector_baselines(attribution_model, prepared_adata):
    model, adata = attribution_model("lr"), prepared_adata()
    train = split_rows(adata, "train", where="input")
    out = attribute(
        adata, model, baseline="class_mean", baseline_class="C2", reference=train, n_steps=50
    )
    uns = out.uns[keys.UNS][keys.ATTRIBUTE]
    rows = (train.obs[keys.LABEL] == "C2").to_numpy()
    expected = train.X[rows].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(uns[keys.BASELINE], expected, rtol=1e-6)
    assert uns[keys.BASELINE_KIND] == "class_mean" and uns[keys.BASELINE_CLASS] == "C2"
    vector = attribute(adata, model, baseline=uns[keys.BASELINE], n_steps=50)
    np.testing.assert_array_equal(vector.X, out.X)
    assert vector.uns[keys.UNS][keys.ATTRIBUTE][keys.BASELINE_KIND] == "vector"


def test_linear_model_ig_is_exact(attribution_model, prepared_adata):
    """For the logit of an LR model, IG (any rule) is (x - b) * w_target."""
    model, adata = attribution_model("lr"), prepared_adata()
    out = attribute(adata, model, target="logit", n_steps=1, tolerance=None)
    w = model.linear.weight.detach().numpy()
    np.testing.assert_allclose(out.X, adata.X * w[out.obs[keys.TARGET]], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"method": "lime"}, "method: expected one of", id="method"),
        pytest.param({"target": "max"}, "target: expected one of", id="target"),
        pytest.param({"classes": ["C9"]}, "classes: 'C9' is not one of", id="classes"),
        pytest.param({"baseline": "mean"}, "baseline: expected one of", id="baseline"),
        pytest.param(
            {"baseline_class": "C1"}, "baseline_class: only used", id="class-without-mean"
        ),
        pytest.param(
            {"baseline": "class_mean", "baseline_class": "C1"}, "reference:", id="no-reference"
        ),
        pytest.param(
            {"baseline": "class_mean", "baseline_class": "X"},
            "baseline_class: expected",
            id="bad-class",
        ),
        pytest.param({"baseline": np.zeros(3)}, "baseline: expected 40 finite", id="vector-shape"),
        pytest.param({"n_steps": 0}, "n_steps: expected at least 1", id="n-steps"),
        pytest.param(
            {"n_steps": 10, "max_steps": 5}, "max_steps: expected at least 10", id="max-steps"
        ),
        pytest.param({"tolerance": -1.0}, "tolerance: expected", id="tolerance"),
        pytest.param({"batch_size": 0}, "batch_size: expected at least 1", id="batch-size"),
        pytest.param(
            {"internal_batch_size": 0}, "internal_batch_size: expected at least 1", id="points"
        ),
        pytest.param({"device": "tpu"}, "device:", id="device"),
    ],
)
def test_attribute_errors(kwargs, match, prepared_adata, attribution_model):
    with pytest.raises(InputError, match=match):
        attribute(prepared_adata(), attribution_model("lr"), **kwargs)


def test_attribute_input_errors(attribution_model, prepared_adata):
    model, adata = attribution_model("lr"), prepared_adata()
    with pytest.raises(InputError, match="genes do not match"):
        attribute(adata[:, 1:].copy(), model)
    relabelled = adata.copy()
    relabelled.obs[keys.LABEL] = pd.Categorical(["X"] * adata.n_obs)
    with pytest.raises(InputError, match="label 'X' is not one of the model's classes"):
        attribute(relabelled, model)
    with pytest.raises(InputError, match="no example of the studied classes"):
        attribute(adata[adata.obs[keys.LABEL] == "C0"].copy(), model, classes=["C1"])
    model.genexai = {}
    with pytest.raises(InputError, match="model: expected genexai metadata"):
        attribute(adata, model)


def test_defaults_are_the_methods_constants():
    defaults = {k: p.default for k, p in inspect.signature(attribute).parameters.items()}
    assert defaults["n_steps"] == attribution.N_STEPS
    assert defaults["max_steps"] is None  # IntegratedGradients: 10 x n_steps
    assert defaults["tolerance"] == attribution.TOLERANCE
    assert defaults["n_samples"] == attribution.N_SAMPLES
    assert defaults["seed"] == attribution.SEED
    assert defaults["batch_size"] == BATCH_SIZE
    for name, cls in attribution.METHODS.items():  # the constructors say the same
        for option, param in inspect.signature(cls).parameters.items():
            if option in defaults and param.default is not inspect.Parameter.empty:
                assert param.default == defaults[option], (name, option)


def test_attribute_reuses_its_forward_passes(monkeypatch, attribution_model, prepared_adata):
    """F(x) and F(b) come from the step's passes: the method never redoes them."""
    model, adata = attribution_model("mlp"), prepared_adata()

    def fail(*args, **kwargs):
        msg = "the method recomputed F(x) - F(b)"
        raise AssertionError(msg)

    expected = attribute(adata, model, n_steps=20, max_steps=200, batch_size=7)
    monkeypatch.setattr(attribution.Attribution, "expected_total", fail)
    out = attribute(adata, model, n_steps=20, max_steps=200, batch_size=7)
    np.testing.assert_array_equal(out.X, expected.X)
    pd.testing.assert_frame_equal(out.obs, expected.obs)


@pytest.mark.parametrize("method", ["saliency", "random"])
def test_unused_options_are_not_passed(method, attribution_model, prepared_adata):
    """A method gets only its own options: the IG-only ones are ignored."""
    model, adata = attribution_model("lr"), prepared_adata()
    plain = attribute(adata, model, method=method)
    other = attribute(adata, model, method=method, n_steps=7, tolerance=None, n_samples=2)
    np.testing.assert_array_equal(other.X, plain.X)


# --- files ---------------------------------------------------------------------


def test_read_baseline_files(tmp_path):
    genes = [f"G{g}" for g in range(5)]
    vec = np.arange(5, dtype=np.float32)
    np.save(tmp_path / "b.npy", vec)
    np.testing.assert_array_equal(read_baseline(tmp_path / "b.npy", genes), vec)
    pd.DataFrame([vec[::-1]], columns=genes[::-1]).to_csv(tmp_path / "b.tsv", sep="\t", index=False)
    np.testing.assert_array_equal(read_baseline(tmp_path / "b.tsv", genes), vec)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        pytest.param("b.npy", np.zeros(4), r"expected a baseline of shape \(5,\)", id="npy-shape"),
        pytest.param("b.npy", np.array([0, 1, 2, 3, np.nan]), "finite", id="npy-nan"),
        pytest.param(
            "b.tsv",
            "G0\tG1\tG2\tG3\tG4\n1\t2\t3\t4\t5\n1\t2\t3\t4\t5\n",
            "found 2 rows",
            id="tsv-rows",
        ),
        pytest.param(
            "b.tsv", "G0\tG1\tG2\tG3\tGX\n1\t2\t3\t4\t5\n", "genes do not match", id="tsv-genes"
        ),
        pytest.param(
            "b.tsv",
            "G0\tG1\tG2\tG3\tG4\n1\t2\tx\t4\t5\n",
            "not a tab-separated table of numbers",
            id="tsv-text",
        ),
        pytest.param("b.txt", "1 2 3", "must end in .npy or .tsv", id="suffix"),
    ],
)
def test_read_baseline_errors(tmp_path, name, content, match):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    else:
        np.save(path, content)
    with pytest.raises(InputError, match=match):
        read_baseline(path, [f"G{g}" for g in range(5)])
