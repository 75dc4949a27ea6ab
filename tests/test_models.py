"""genexai.models: architectures, the first-linear-layer contract, checkpoints."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from torch import nn

from genexai import keys
from genexai.errors import InputError
from genexai.models import (
    ARCHS,
    Diffusion,
    Dropout,
    GeneModel,
    align_to_model,
    build_model,
    derived_seed,
    load_model,
    resolve_device,
    save_checkpoint,
)

N_GENES, N_CLASSES = 24, 3
GENES = [f"G{g:03d}" for g in range(N_GENES)]
CLASSES = ["A", "B", "C"]


def random_graph(n_genes: int, seed: int = 0) -> sp.csr_matrix:
    """A symmetric, GCN-normalised random graph (dense reference maths)."""
    rng = np.random.default_rng(seed)
    a = np.triu(rng.random((n_genes, n_genes)) < 0.2, k=1) * rng.random((n_genes, n_genes))
    a = a + a.T + np.eye(n_genes)
    d = a.sum(axis=1)
    return sp.csr_matrix((a / np.sqrt(np.outer(d, d))).astype(np.float32))


def make(arch: str, *, seed: int = 1, **kwargs) -> GeneModel:
    graph = random_graph(N_GENES) if arch.startswith("Diffuse") else None
    return build_model(arch, n_genes=N_GENES, n_classes=N_CLASSES, graph=graph, seed=seed, **kwargs)


def inputs(n: int = 7, dtype=torch.float32, seed: int = 3) -> torch.Tensor:
    return torch.randn(n, N_GENES, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- architectures ---------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "hidden_layer", "dropout", "diffused"),
    [
        ("LR", False, 0.2, False),
        ("MLP", True, 0.0, False),
        ("DiffuseLR", False, 0.2, True),
        ("DiffuseMLP", True, 0.0, True),
    ],
)
def test_layout_matches_method(arch, hidden_layer, dropout, diffused):
    model = make(arch)
    width = 20 if hidden_layer else N_CLASSES
    assert model.linear.weight.shape == (width, N_GENES)
    assert (model.diffusion is not None) == diffused
    if dropout:
        assert isinstance(model.dropout, nn.Dropout) and model.dropout.p == dropout
    else:
        assert isinstance(model.dropout, nn.Identity)
    if hidden_layer:
        bn, relu, out = model.head
        assert isinstance(bn, nn.BatchNorm1d) and bn.num_features == 20
        assert isinstance(relu, nn.ReLU) and out.weight.shape == (N_CLASSES, 20)
    else:
        assert isinstance(model.head, nn.Identity)
    assert model.hparams == {
        "n_genes": N_GENES,
        "n_classes": N_CLASSES,
        "hidden": 20 if hidden_layer else None,
        "dropout": dropout,
    }


@pytest.mark.parametrize("arch", ARCHS)
def test_hidden_and_dropout_are_options(arch):
    model = make(arch, hidden=7, dropout=0.5)
    assert model.dropout.p == 0.5
    width = 7 if arch.endswith("MLP") else N_CLASSES
    assert model.linear.weight.shape == (width, N_GENES)


@pytest.mark.parametrize("arch", ARCHS)
def test_output_shape_and_dtype(arch):
    model = make(arch).eval()
    out = model(inputs())
    assert out.shape == (7, N_CLASSES) and out.dtype == torch.float32


@pytest.mark.parametrize("arch", ARCHS)
def test_seed_fixes_initialisation_and_leaves_global_rng(arch):
    before = torch.get_rng_state()
    a, b, c = make(arch, seed=5), make(arch, seed=5), make(arch, seed=6)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a.linear.weight, b.linear.weight)
    assert not torch.equal(a.linear.weight, c.linear.weight)


def test_derived_seeds_are_distinct_and_stable():
    assert derived_seed(0, "init") == derived_seed(0, "init")
    seeds = {derived_seed(s, stream) for s in range(3) for stream in ("init", "order", "dropout")}
    assert len(seeds) == 9 and all(0 <= s < 2**63 for s in seeds)


# --- the first-linear-layer contract ----------------------------------------


@pytest.mark.parametrize(
    ("dtype", "rtol", "atol"),
    # float32: sums of 24 products of O(1) terms, a few ulps of the logits.
    [(torch.float32, 1e-5, 1e-5), (torch.float64, 1e-12, 1e-12)],
    ids=["float32", "float64"],
)
@pytest.mark.parametrize("arch", ARCHS)
def test_first_linear_layer_contract(arch, dtype, rtol, atol):
    model = make(arch).to(dtype).eval()
    # Non-trivial batch-norm statistics, so that the head is not an identity.
    if arch.endswith("MLP"):
        bn = model.head[0]
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    x = inputs(dtype=dtype)
    with torch.no_grad():
        expected = model(x)
        z = x @ model.input_weight().T + model.input_bias()
        got = model.head(z)
    width = 20 if arch.endswith("MLP") else N_CLASSES
    assert model.input_weight().shape == (width, N_GENES)
    assert model.input_bias().shape == (width,)
    torch.testing.assert_close(got, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("arch", ["DiffuseLR", "DiffuseMLP"])
def test_diffused_input_weight_is_w_times_adjacency(arch):
    model = make(arch).double()
    dense = torch.from_numpy(random_graph(N_GENES).toarray()).double()
    torch.testing.assert_close(model.input_weight(), model.linear.weight @ dense)


# --- diffusion ---------------------------------------------------------------


def test_diffusion_equals_dense_product_and_gradient():
    adj = random_graph(N_GENES, seed=4)
    dense = torch.from_numpy(adj.toarray()).double()
    diffusion = Diffusion(adj).double()
    x = inputs(dtype=torch.float64).requires_grad_()
    out = diffusion(x)
    torch.testing.assert_close(out, x @ dense, rtol=1e-12, atol=1e-12)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    torch.testing.assert_close(x.grad, weights @ dense.T, rtol=1e-12, atol=1e-12)


def test_diffusion_buffers_are_plain_tensors():
    state = make("DiffuseLR").state_dict()
    for name in ("diffusion.crow", "diffusion.col", "diffusion.values"):
        assert state[name].layout == torch.strided


# --- dropout -------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_has_torch_law(p):
    """Same law as nn.Dropout: zero with probability p, else x / (1 - p)."""
    x = torch.full((400, 500), 3.0)
    ours = Dropout(p).train()
    reference = nn.Dropout(p).train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        a, b = ours(x), reference(x)
    for out in (a, b):
        zero, kept = out.unique().tolist()
        assert zero == 0 and kept == pytest.approx(3.0 / (1 - p))
        # 200,000 Bernoulli draws: the std of the mean is below 1.2e-3.
        assert (out == 0).float().mean().item() == pytest.approx(p, abs=6e-3)
    assert torch.equal(Dropout(p).eval()(x), x)


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"arch": "CNN"}, "^arch: expected one of", id="unknown-arch"),
        pytest.param({"arch": "DiffuseLR"}, "needs a gene graph", id="diffused-no-graph"),
        pytest.param({"graph": random_graph(N_GENES)}, "does not use a gene graph", id="lr-graph"),
        pytest.param(
            {"arch": "DiffuseMLP", "graph": random_graph(5)}, "24 x 24 graph", id="graph-shape"
        ),
        pytest.param({"dropout": 1.0}, "^dropout: ", id="dropout"),
        pytest.param({"arch": "MLP", "hidden": 0}, "^hidden: ", id="hidden"),
        pytest.param({"n_classes": 1}, "2 classes", id="one-class"),
    ],
)
def test_build_model_errors(kwargs, match):
    args = {"arch": "LR", "n_genes": N_GENES, "n_classes": N_CLASSES, "seed": 0, **kwargs}
    with pytest.raises(InputError, match=match):
        build_model(**args)


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    with pytest.raises(InputError, match="^device: "):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_gpu_is_an_error_not_a_fallback():
    with pytest.raises(InputError, match="device 'cuda': CUDA is not available"):
        resolve_device("cuda")


# --- checkpoints -------------------------------------------------------------------


def meta() -> dict:
    return {"genes": GENES, "classes": CLASSES, "seed": 1, "preprocessing": {"sha256": "ab"}}


@pytest.mark.parametrize("arch", ARCHS)
def test_checkpoint_round_trip(arch, tmp_path):
    model = make(arch).eval()
    if arch.endswith("MLP"):
        model.head[0].running_mean.uniform_(-1, 1)
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, meta=meta())
    loaded = load_model(path)
    assert not loaded.training and isinstance(loaded, GeneModel)
    assert loaded.genexai == {**meta(), "arch": arch, "hparams": model.hparams}
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    x = inputs()
    with torch.no_grad():
        out = loaded(x)
    assert out.shape == (7, N_CLASSES) and out.dtype == torch.float32
    torch.testing.assert_close(out, model(x), rtol=0, atol=0)
    # Only tensors and plain containers: readable by the restricted unpickler.
    assert isinstance(torch.load(path, weights_only=True), dict)


def test_checkpoint_meta_must_match_model(tmp_path):
    with pytest.raises(InputError, match=r"meta\['genes'\]: expected 24 names, found 2"):
        save_checkpoint(tmp_path / "m.pt", make("LR"), meta={**meta(), "genes": ["a", "b"]})
    assert list(tmp_path.iterdir()) == []


class _Payload:
    """Unpickling this creates ``marker``: what a malicious checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_malicious_checkpoint_is_refused_without_running_code(writer, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"format": "genexai-checkpoint/1", "meta": _Payload(marker)}
    if writer == "pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, path)
    with pytest.raises(InputError, match="not a safe genexai checkpoint"):
        load_model(path)
    assert not marker.exists()
    # The file is really malicious: an unrestricted load runs its code.
    if writer == "pickle":
        pickle.loads(path.read_bytes())
    else:
        torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"not a checkpoint", "not a safe genexai checkpoint", id="garbage"),
        pytest.param({"format": "other/1"}, "expected a genexai-checkpoint/1", id="format"),
        pytest.param([1, 2], "found 'list'", id="not-a-dict"),
        pytest.param(
            {"format": "genexai-checkpoint/1", "meta": "{}", "state_dict": {}},
            "inconsistent genexai checkpoint",
            id="no-arch",
        ),
    ],
)
def test_load_model_errors(content, match, tmp_path):
    path = tmp_path / "bad.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(InputError, match=match):
        load_model(path)


def test_load_model_rejects_inconsistent_state(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, make("MLP"), meta=meta())
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]["linear.bias"]
    torch.save(payload, path)
    with pytest.raises(InputError, match="inconsistent genexai checkpoint.*linear.bias"):
        load_model(path)


def test_load_model_unknown_arch_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such checkpoint"):
        load_model(tmp_path / "absent.pt")
    path = tmp_path / "m.pt"
    save_checkpoint(path, make("LR"), meta=meta())
    payload = torch.load(path, weights_only=True)
    payload["meta"] = payload["meta"].replace('"arch": "LR"', '"arch": "GNN"')
    torch.save(payload, path)
    with pytest.raises(InputError, match=f"{path}: arch: expected one of"):
        load_model(path)


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path / "m.pt", make("LR"), meta=meta())
    assert os.listdir(tmp_path) == []


# --- data against a model ----------------------------------------------------------


def data(genes=GENES, classes=CLASSES) -> ad.AnnData:
    obs = pd.DataFrame(
        {keys.LABEL: pd.Categorical([classes[0]] * 4, categories=classes)},
        index=[f"s{i}" for i in range(4)],
    )
    return ad.AnnData(
        X=np.zeros((4, len(genes)), np.float32), obs=obs, var=pd.DataFrame(index=genes)
    )


def test_align_to_model(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, make("LR"), meta=meta())
    model = load_model(path)
    shuffled = data(genes=GENES[::-1])
    assert list(align_to_model(shuffled, model, where="d").var_names) == GENES
    with pytest.raises(InputError, match="d: genes do not match the model: 1 expected genes"):
        align_to_model(data(genes=GENES[:-1]), model, where="d")
    with pytest.raises(InputError, match=r"d: obs\['label'\] classes \['A', 'C', 'B'\] do not"):
        align_to_model(data(classes=["A", "C", "B"]), model, where="d")
