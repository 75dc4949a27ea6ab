"""genexai.models: architectures, the first-linear-layer contract, diffusion, dropout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genexai.errors import InputError
from genexai.models import ARCHS, Diffusion, Dropout, build_model, derived_seed
from tests.helpers.models import N_CLASSES, N_GENES, random_graph

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
def test_layout_matches_method(arch, hidden_layer, dropout, diffused, gene_model):
    model = gene_model(arch)
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
def test_hidden_and_dropout_are_options(arch, gene_model):
    model = gene_model(arch, hidden=7, dropout=0.5)
    assert model.dropout.p == 0.5
    width = 7 if arch.endswith("MLP") else N_CLASSES
    assert model.linear.weight.shape == (width, N_GENES)


@pytest.mark.parametrize("arch", ARCHS)
def test_output_shape_and_dtype(arch, model_inputs, gene_model):
    model = gene_model(arch).eval()
    out = model(model_inputs())
    assert out.shape == (7, N_CLASSES) and out.dtype == torch.float32


@pytest.mark.parametrize("arch", ARCHS)
def test_seed_fixes_initialisation_and_leaves_global_rng(arch, gene_model):
    before = torch.get_rng_state()
    a, b, c = gene_model(arch, seed=5), gene_model(arch, seed=5), gene_model(arch, seed=6)
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
def test_first_linear_layer_contract(arch, dtype, rtol, atol, *, model_inputs, gene_model):
    model = gene_model(arch).to(dtype).eval()
    # Non-trivial batch-norm statistics, so that the head is not an identity.
    if arch.endswith("MLP"):
        bn = model.head[0]
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    x = model_inputs(dtype=dtype)
    with torch.no_grad():
        expected = model(x)
        z = x @ model.input_weight().T + model.input_bias()
        got = model.head(z)
    width = 20 if arch.endswith("MLP") else N_CLASSES
    assert model.input_weight().shape == (width, N_GENES)
    assert model.input_bias().shape == (width,)
    torch.testing.assert_close(got, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("arch", ["DiffuseLR", "DiffuseMLP"])
def test_diffused_input_weight_is_w_times_adjacency(arch, gene_model):
    model = gene_model(arch).double()
    dense = torch.from_numpy(random_graph(N_GENES).toarray()).double()
    torch.testing.assert_close(model.input_weight(), model.linear.weight @ dense)


# --- diffusion ---------------------------------------------------------------


def test_diffusion_equals_dense_product_and_gradient(model_inputs):
    adj = random_graph(N_GENES, seed=4)
    dense = torch.from_numpy(adj.toarray()).double()
    diffusion = Diffusion(adj).double()
    x = model_inputs(dtype=torch.float64).requires_grad_()
    out = diffusion(x)
    torch.testing.assert_close(out, x @ dense, rtol=1e-12, atol=1e-12)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    torch.testing.assert_close(x.grad, weights @ dense.T, rtol=1e-12, atol=1e-12)


def test_diffusion_buffers_are_plain_tensors(gene_model):
    state = gene_model("DiffuseLR").state_dict()
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
