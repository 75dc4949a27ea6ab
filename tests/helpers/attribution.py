"""Small models and data shared by the attribution tests.

Models with (or without) the first-linear-layer contract, in any dtype, with
``model.genexai`` metadata; a matching AnnData; a seeded batch of tensors.
The tests get :func:`make_model`, :func:`make_adata` and :func:`batch` as the
fixtures ``attribution_model``, ``prepared_adata`` (tests/conftest.py) and
``ig_batch`` (tests/attribution/conftest.py).
"""

from __future__ import annotations

import anndata as ad
import captum.attr
import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from genexai import keys

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
