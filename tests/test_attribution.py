"""Tests of genexai.attribution against captum and plain re-implementations.

Tolerances: the fast IG path and captum apply the same quadrature but sum
in a different order, and captum rounds its step sizes to float32. In
float64 the two agree to ~1e-8 relative (1e-4 is the issue's bound, with an
absolute floor of 1e-8 x the largest score for entries that cancel to ~0).
Float32 comparisons use rtol 1e-5 where only the summation order differs.
"""

from __future__ import annotations

import hashlib

import anndata as ad
import captum.attr
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from torch import nn

from genexai import keys
from genexai.attribution import (
    METHODS,
    Attributions,
    IntegratedGradients,
    Method,
    attribute,
    completeness_gap,
    gauss_legendre,
    read_baseline,
)
from genexai.errors import InputError
from genexai.io import split_rows
from genexai.models import file_sha256, has_linear_input

N_GENES, N_HIDDEN, N_CLASSES = 40, 6, 4
FAMILIES = ["lr", "mlp", "diffused_lr", "diffused_mlp"]


# --- small models with (or without) the first-linear-layer contract ---------


class LinearModel(nn.Module):
    """LR-like: one linear layer, identity head."""

    def __init__(self, n_genes: int, n_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_genes, n_classes)

    def input_weight(self) -> torch.Tensor:
        return self.linear.weight

    def input_bias(self) -> torch.Tensor:
        return self.linear.bias

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.linear(x))


class MLPModel(LinearModel):
    """MLP-like: Linear -> BatchNorm (eval, non-trivial statistics) -> ReLU -> Linear."""

    def __init__(self, n_genes: int, n_classes: int) -> None:
        super().__init__(n_genes, N_HIDDEN)
        self.bn = nn.BatchNorm1d(N_HIDDEN)
        self.relu = nn.ReLU()
        self.out = nn.Linear(N_HIDDEN, n_classes)

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.relu(self.bn(z)))


class DiffusedModel(nn.Module):
    """x -> x Â -> inner model; Â sparse symmetric, folded into the weight."""

    def __init__(self, inner: LinearModel, adj: torch.Tensor) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("adj", adj)

    def input_weight(self) -> torch.Tensor:
        return torch.sparse.mm(self.adj, self.inner.input_weight().T).T

    def input_bias(self) -> torch.Tensor:
        return self.inner.input_bias()

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self.inner.head(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(torch.sparse.mm(self.adj, x.T).T)


class OpaqueModel(nn.Module):
    """No contract: the general (captum) path."""

    def __init__(self, n_genes: int, n_classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_genes, N_HIDDEN), nn.Tanh(), nn.Linear(N_HIDDEN, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def normalised_adjacency(n_genes: int, rng: np.random.Generator) -> torch.Tensor:
    """D^-1/2 (A + I) D^-1/2 of a random sparse symmetric A, as sparse COO."""
    a = sp.random(n_genes, n_genes, density=0.1, random_state=rng, data_rvs=rng.random)
    a = sp.triu(a, k=1)
    a = a + a.T + sp.identity(n_genes)
    d = 1 / np.sqrt(np.asarray(a.sum(axis=1)).ravel())
    a = sp.coo_matrix(sp.diags(d) @ a @ sp.diags(d))
    return torch.sparse_coo_tensor(
        np.vstack([a.row, a.col]), a.data, a.shape, check_invariants=True
    ).coalesce()


def make_model(family: str, *, seed: int = 0, dtype: torch.dtype = torch.float32) -> nn.Module:
    torch.manual_seed(seed)  # test models only; the library never touches global state
    rng = np.random.default_rng(seed)
    inner = MLPModel if "mlp" in family else LinearModel
    model = OpaqueModel(N_GENES, N_CLASSES) if family == "opaque" else inner(N_GENES, N_CLASSES)
    if "mlp" in family:
        model.bn.running_mean.normal_()
        model.bn.running_var.uniform_(0.5, 2.0)
        model.bn.weight.data.normal_()
        model.bn.bias.data.normal_()
    for p in model.parameters():
        p.data.mul_(3)  # sharper softmax: probabilities far from uniform
    if family.startswith("diffused"):
        model = DiffusedModel(model, normalised_adjacency(N_GENES, rng))
    model = model.to(dtype).eval()
    model.genexai = {
        "arch": family,
        "genes": [f"G{g:03d}" for g in range(N_GENES)],
        "classes": [f"C{c}" for c in range(N_CLASSES)],
        "seed": seed,
    }
    return model


def make_adata(n_obs: int = 24, *, seed: int = 0) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    genes = [f"G{g:03d}" for g in range(N_GENES)]
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical([f"C{i % N_CLASSES}" for i in range(n_obs)]),
            keys.SPLIT: pd.Categorical(np.where(np.arange(n_obs) % 3 == 0, "train", "test")),
            keys.SUBCLASS: pd.Categorical([f"S{i % 5}" for i in range(n_obs)]),
        },
        index=[f"sample{i:05d}" for i in range(n_obs)],
    )
    adata = ad.AnnData(X=rng.normal(size=(n_obs, N_GENES)).astype(np.float32), obs=obs)
    adata.var_names = genes
    adata.varm[keys.INFORMATIVE] = pd.DataFrame(
        rng.random((N_GENES, 5)) < 0.2, index=genes, columns=[f"S{j}" for j in range(5)]
    )
    return adata


def captum_ig(model, x, baseline, target, n_steps, *, logit=False):
    forward = model if logit else (lambda v: torch.softmax(model(v), dim=1))
    return captum.attr.IntegratedGradients(forward).attribute(
        x, baselines=baseline[None], target=target, n_steps=n_steps, method="gausslegendre"
    )


def assert_close_to(reference: torch.Tensor, values: torch.Tensor, rtol: float) -> None:
    reference, values = reference.detach().numpy(), values.detach().numpy()
    atol = 1e-8 * np.abs(reference).max()
    np.testing.assert_allclose(values, reference, rtol=rtol, atol=atol)


def batch(n: int = 12, *, seed: int = 1, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, N_GENES, generator=gen, dtype=dtype)
    target = torch.randint(0, N_CLASSES, (n,), generator=gen)
    return x, target


# --- quadrature ---------------------------------------------------------------


@pytest.mark.parametrize("n_steps", [1, 2, 7, 64, 151, 500])
def test_gauss_legendre_is_captums_rule(n_steps):
    """captum: alphas = (1 + t) / 2, step sizes = v / 2 of numpy's leggauss."""
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas, steps = gauss_legendre(n_steps)
    np.testing.assert_allclose(alphas, 0.5 * (1 + nodes), rtol=0, atol=1e-14)
    np.testing.assert_allclose(steps, 0.5 * weights, rtol=1e-6)
    assert steps.sum() == pytest.approx(1.0, abs=1e-12)


def test_gauss_legendre_is_cached_and_read_only():
    first = gauss_legendre(300)
    assert gauss_legendre(300) is first
    with pytest.raises(ValueError):
        first[0][0] = 0.0


# --- IG: fast path against captum ------------------------------------------


@pytest.mark.parametrize("baseline", ["zero", "random"])
@pytest.mark.parametrize("logit", [False, True], ids=["probability", "logit"])
@pytest.mark.parametrize("family", FAMILIES)
def test_fast_ig_equals_captum(family, logit, baseline):
    model = make_model(family, dtype=torch.float64)
    x, target = batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    if baseline == "random":
        b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    ig = IntegratedGradients(
        model, output="logit" if logit else "probability", n_steps=100, tolerance=None
    )
    assert ig.linear_input
    values = ig.attribute(x, b, target).values
    assert_close_to(captum_ig(model, x, b, target, 100, logit=logit), values, rtol=1e-4)


@pytest.mark.parametrize("arch", ["LR", "MLP", "DiffuseLR", "DiffuseMLP"])
def test_fast_ig_equals_captum_on_genexai_models(arch):
    models = pytest.importorskip("genexai.models")
    rng = np.random.default_rng(0)
    adj = normalised_adjacency(N_GENES, rng).to_dense().numpy()
    graph = sp.csr_matrix(adj) if arch.startswith("Diffuse") else None
    model = models.build_model(arch, n_genes=N_GENES, n_classes=N_CLASSES, graph=graph, seed=1)
    model = model.double().eval()
    x, target = batch()
    b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    ig = IntegratedGradients(model, n_steps=100, tolerance=None)
    assert ig.linear_input
    assert_close_to(
        captum_ig(model, 3 * x, b, target, 100), ig.attribute(3 * x, b, target).values, 1e-4
    )


@pytest.mark.parametrize("family", ["lr", "mlp"])
def test_fast_ig_float32_close_to_captum(family):
    """In float32 the two summation orders differ by float32 rounding only."""
    model = make_model(family)
    x, target = batch(dtype=torch.float32)
    b = torch.zeros(N_GENES)
    values = IntegratedGradients(model, n_steps=200, tolerance=None).attribute(x, b, target).values
    reference = captum_ig(model, x, b, target, 200)
    error = (values - reference).abs().max(dim=1).values / reference.abs().max(dim=1).values
    assert error.max() < 1e-5


def test_model_without_contract_goes_through_captum(monkeypatch):
    model = make_model("opaque", dtype=torch.float64)
    assert not has_linear_input(model)
    x, target = batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    calls = []
    original = captum.attr.IntegratedGradients.attribute

    def spy(self, *args, **kwargs):
        calls.append(kwargs.get("internal_batch_size"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(captum.attr.IntegratedGradients, "attribute", spy)
    ig = IntegratedGradients(model, n_steps=50, tolerance=None, internal_batch_size=100)
    assert not ig.linear_input
    values = ig.attribute(x, b, target).values
    assert calls == [100]  # one call, with the requested points per pass
    assert_close_to(captum_ig(model, x, b, target, 50), values, rtol=1e-12)


@pytest.mark.parametrize("family", ["lr", "mlp"])
def test_model_with_contract_never_calls_captum(family, monkeypatch):
    def fail(*args, **kwargs):
        msg = "captum called on the fast path"
        raise AssertionError(msg)

    monkeypatch.setattr(captum.attr.IntegratedGradients, "attribute", fail)
    x, target = batch(dtype=torch.float32)
    ig = IntegratedGradients(make_model(family), n_steps=20, tolerance=None)
    assert ig.linear_input
    ig.attribute(x, torch.zeros(N_GENES), target)


@pytest.mark.parametrize("internal_batch_size", [1, 7, 60, 10_000])
@pytest.mark.parametrize("family", ["mlp", "opaque"])
def test_ig_chunking_does_not_change_results(family, internal_batch_size):
    model = make_model(family, dtype=torch.float64)
    x, target = batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    ig = IntegratedGradients(model, n_steps=30, tolerance=None)
    whole = ig.integrate(x, b, target, n_steps=30)
    ig.internal_batch_size = internal_batch_size
    np.testing.assert_allclose(
        ig.integrate(x, b, target, n_steps=30), whole, rtol=1e-10, atol=1e-14
    )


# --- IG: the per-example completeness rule ---------------------------------


def test_completeness_gap_rounds_percentages():
    total = torch.tensor([0.123449, 0.5, 0.0])
    expected = torch.tensor([0.12, 0.48, 0.011])
    np.testing.assert_allclose(completeness_gap(total, expected), [0.34, 2.0, 1.1], atol=1e-9)


def test_redo_touches_only_failing_examples(monkeypatch):
    """Two nodes are too few for some examples, enough for others."""
    model = make_model("mlp", dtype=torch.float64)
    x, target = batch(40)
    x = 3 * x
    b = torch.zeros(N_GENES, dtype=torch.float64)
    ig = IntegratedGradients(model, n_steps=2, max_steps=40, tolerance=1.0)
    first = ig.integrate(x, b, target, n_steps=2)
    expected = ig.explained(x, target) - ig.explained(b[None], target)
    failing = (completeness_gap(first.sum(dim=1), expected) > 1.0).numpy()
    assert 0 < failing.sum() < len(x), "the test needs both passing and failing examples"

    calls = []
    integrate = ig.integrate

    def spy(xs, bs, ts, *, n_steps):
        calls.append((len(xs), n_steps))
        return integrate(xs, bs, ts, n_steps=n_steps)

    monkeypatch.setattr(ig, "integrate", spy)
    values, steps = ig.attribute(x, b, target)
    assert calls[0] == (len(x), 2)
    assert calls[1] == (failing.sum(), 4)
    assert all(later[0] <= earlier[0] for earlier, later in zip(calls[1:], calls[2:], strict=False))
    steps = steps.numpy()
    np.testing.assert_array_equal(steps[~failing], 2)
    assert (steps[failing] > 2).all()
    np.testing.assert_array_equal(values[~failing], first[~failing])
    for i in np.flatnonzero(failing):
        redone = integrate(x[i : i + 1], b, target[i : i + 1], n_steps=int(steps[i]))
        np.testing.assert_allclose(values[i], redone[0], rtol=1e-12, atol=1e-15)
    gap = completeness_gap(values.sum(dim=1), expected).numpy()
    assert (gap[steps < 40] <= 1.0).all()


def test_tolerance_none_never_redoes(monkeypatch):
    model = make_model("mlp", dtype=torch.float64)
    x, target = batch()
    ig = IntegratedGradients(model, n_steps=2, tolerance=None)
    values, steps = ig.attribute(3 * x, torch.zeros(N_GENES, dtype=torch.float64), target)
    np.testing.assert_array_equal(steps, 2)


# --- the attribute() step ---------------------------------------------------


def plain_delta(out: ad.AnnData) -> np.ndarray:
    total = out.X.astype(np.float64).sum(axis=1)
    return np.abs(total - (out.obs[keys.TARGET_PROB] - out.obs[keys.BASELINE_PROB]).to_numpy())


@pytest.mark.parametrize("family", FAMILIES)
def test_attribute_output_contract(family):
    model = make_model(family)
    adata = make_adata()
    out = attribute(model, adata, n_steps=300, checkpoint_sha256="abc", batch_size=5)
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


def test_attribute_writes_and_reads_back(tmp_path):
    from genexai import io

    out = attribute(make_model("mlp"), make_adata(), n_steps=50, checkpoint_sha256="abc")
    io.write_h5ad(out, tmp_path / "a.h5ad")
    back = io.read_h5ad(tmp_path / "a.h5ad")
    np.testing.assert_array_equal(back.X, out.X)
    pd.testing.assert_frame_equal(back.obs, out.obs)


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_shap", "random", "saliency"])
def test_attribute_batching_does_not_change_results(method):
    model, adata = make_model("mlp"), make_adata(30)
    kwargs = {"method": method, "n_steps": 64, "n_samples": 5}
    whole = attribute(model, adata, batch_size=100, **kwargs)
    if method == "gradient_shap":  # seeded per batch: same batches, same numbers
        again = attribute(model, adata, batch_size=100, **kwargs)
        np.testing.assert_array_equal(again.X, whole.X)
        return
    split = attribute(model, adata, batch_size=7, internal_batch_size=9, **kwargs)
    np.testing.assert_allclose(split.X, whole.X, rtol=1e-5, atol=1e-6 * np.abs(whole.X).max())
    pd.testing.assert_series_equal(split.obs[keys.N_STEPS], whole.obs[keys.N_STEPS])


def test_attribute_aligns_genes_by_name():
    model, adata = make_model("lr"), make_adata()
    shuffled = adata[:, adata.var_names[::-1]].copy()
    np.testing.assert_allclose(
        attribute(model, shuffled, n_steps=50).X, attribute(model, adata, n_steps=50).X, rtol=1e-6
    )


@pytest.mark.parametrize("target", ["true", "predicted", "logit"])
def test_attribute_targets(target):
    model, adata = make_model("mlp"), make_adata()
    out = attribute(model, adata, target=target, n_steps=200)
    logits = model(torch.from_numpy(adata.X)).detach().numpy()
    expected_target = (
        logits.argmax(axis=1) if target == "predicted" else out.obs[keys.LABEL].cat.codes
    )
    np.testing.assert_array_equal(out.obs[keys.TARGET], expected_target)
    if target == "logit":
        explained = logits[np.arange(adata.n_obs), out.obs[keys.TARGET]]
        np.testing.assert_allclose(out.obs[keys.TARGET_PROB], explained, rtol=1e-5)
    np.testing.assert_allclose(out.obs[keys.DELTA], plain_delta(out), rtol=1e-5, atol=1e-6)


def test_attribute_studied_classes_and_misclassified_kept():
    model, adata = make_model("mlp"), make_adata(40)
    out = attribute(model, adata, classes=["C1", "C3"], n_steps=50)
    assert set(out.obs[keys.LABEL].astype(str)) == {"C1", "C3"}
    assert out.n_obs == int(adata.obs[keys.LABEL].isin(["C1", "C3"]).sum())
    assert not out.obs[keys.CORRECT].all(), "random weights: misclassified examples are kept"
    assert out.uns[keys.UNS][keys.ATTRIBUTE][keys.STUDIED_CLASSES] == ["C1", "C3"]


def test_class_mean_and_vector_baselines():
    model, adata = make_model("lr"), make_adata()
    train = split_rows(adata, "train", where="input")
    out = attribute(
        model, adata, baseline="class_mean", baseline_class="C2", reference=train, n_steps=50
    )
    uns = out.uns[keys.UNS][keys.ATTRIBUTE]
    rows = (train.obs[keys.LABEL] == "C2").to_numpy()
    expected = train.X[rows].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(uns[keys.BASELINE], expected, rtol=1e-6)
    assert uns[keys.BASELINE_KIND] == "class_mean" and uns[keys.BASELINE_CLASS] == "C2"
    vector = attribute(model, adata, baseline=uns[keys.BASELINE], n_steps=50)
    np.testing.assert_array_equal(vector.X, out.X)
    assert vector.uns[keys.UNS][keys.ATTRIBUTE][keys.BASELINE_KIND] == "vector"


def test_linear_model_ig_is_exact():
    """For the logit of an LR model, IG (any rule) is (x - b) * w_target."""
    model, adata = make_model("lr"), make_adata()
    out = attribute(model, adata, target="logit", n_steps=1, tolerance=None)
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
def test_attribute_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        attribute(make_model("lr"), make_adata(), **kwargs)


def test_attribute_input_errors():
    model, adata = make_model("lr"), make_adata()
    with pytest.raises(InputError, match="genes do not match"):
        attribute(model, adata[:, 1:].copy())
    relabelled = adata.copy()
    relabelled.obs[keys.LABEL] = pd.Categorical(["X"] * adata.n_obs)
    with pytest.raises(InputError, match="label 'X' is not one of the model's classes"):
        attribute(model, relabelled)
    with pytest.raises(InputError, match="no example of the studied classes"):
        attribute(model, adata[adata.obs[keys.LABEL] == "C0"].copy(), classes=["C1"])
    model.genexai = {}
    with pytest.raises(InputError, match="model: expected genexai metadata"):
        attribute(model, adata)


def test_split_rows():
    adata = make_adata()
    assert split_rows(adata, "all", where="f").n_obs == adata.n_obs
    test = split_rows(adata, "test", where="f")
    assert (test.obs[keys.SPLIT] == "test").all() and test.n_obs == 16
    del adata.obs[keys.SPLIT]
    with pytest.raises(InputError, match=r"f: obs\['split'\] is missing"):
        split_rows(adata, "train", where="f")


# --- comparison methods ------------------------------------------------------


def test_registry_matches_the_method_literal():
    from typing import get_args

    assert set(METHODS) == set(get_args(Method))
    assert all(cls.name == name for name, cls in METHODS.items())


@pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients")
@pytest.mark.filterwarnings("ignore:Setting forward, backward hooks")
@pytest.mark.parametrize(
    ("method", "reference"),
    [
        ("saliency", lambda f, x, b, t: captum.attr.Saliency(f).attribute(x, target=t)),
        (
            "input_x_gradient",
            lambda f, x, b, t: captum.attr.InputXGradient(f).attribute(x, target=t),
        ),
        (
            "deeplift",
            lambda f, x, b, t: captum.attr.DeepLift(f).attribute(x, baselines=b[None], target=t),
        ),
    ],
)
@pytest.mark.parametrize("family", ["lr", "mlp"])
def test_gradient_methods_match_captum(method, reference, family):
    model = make_model(family, dtype=torch.float64)
    x, target = batch()
    b = torch.randn(N_GENES, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    values = METHODS[method](model).attribute(x, b, target).values
    probability = nn.Sequential(model, nn.Softmax(dim=1))
    assert_close_to(reference(probability, x, b, target), values, rtol=1e-10)


def test_deeplift_of_linear_logit_equals_ig():
    model = make_model("lr", dtype=torch.float64)
    x, target = batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    deeplift = METHODS["deeplift"](model, output="logit").attribute(x, b, target).values
    ig = IntegratedGradients(model, output="logit", n_steps=5, tolerance=None).attribute(
        x, b, target
    )
    assert_close_to(ig.values, deeplift, rtol=1e-10)


def test_gradient_shap_is_seeded_and_leaves_global_rngs_alone():
    model = make_model("mlp", dtype=torch.float64)
    x, target = batch()
    b = torch.zeros(N_GENES, dtype=torch.float64)
    torch.manual_seed(123)
    np.random.seed(123)
    before = (torch.random.get_rng_state(), np.random.get_state()[1].copy())
    first = METHODS["gradient_shap"](model, n_samples=8, seed=5).attribute(x, b, target)
    assert torch.equal(torch.random.get_rng_state(), before[0])
    np.testing.assert_array_equal(np.random.get_state()[1], before[1])
    again = METHODS["gradient_shap"](model, n_samples=8, seed=5).attribute(x, b, target)
    other = METHODS["gradient_shap"](model, n_samples=8, seed=6).attribute(x, b, target)
    assert torch.equal(first.values, again.values) and not torch.equal(first.values, other.values)
    np.testing.assert_array_equal(first.n_steps, 8)


def test_random_control_is_seeded():
    model = make_model("lr")
    x, target = batch(dtype=torch.float32)
    b = torch.zeros(N_GENES)

    def draw(seed: int) -> Attributions:
        return METHODS["random"](model, seed=seed).attribute(x, b, target)

    assert torch.equal(draw(0).values, draw(0).values)
    assert not torch.equal(draw(0).values, draw(1).values)
    assert draw(0).values.std() == pytest.approx(1.0, abs=0.1)


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


def test_file_sha256(tmp_path):
    data = np.random.default_rng(0).bytes(3 << 20)
    (tmp_path / "m.pt").write_bytes(data)
    assert file_sha256(tmp_path / "m.pt") == hashlib.sha256(data).hexdigest()
