"""Small models and data shared by the metric tests, and the plain references they share.

Models with the first-linear-layer contract (``linear``, ``mlp``), one without
(``plain``) and genexai's own (``LR``, ``MLP``, ``DiffuseMLP``), all in :data:`MODELS`;
random examples and attributions. The tests get :func:`make_model` and
:func:`make_data` as the fixtures ``metric_model`` (tests/conftest.py) and
``metric_data`` (tests/metrics/conftest.py).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
import torch
from torch import nn

from genexai.models import build_model

# Probability units. The fast path sums float32 terms in another order than a
# float64 forward pass; over at most a few hundred genes that moves a
# probability by ~1e-7, far below this.
ATOL = 1e-5


class LinearModel(nn.Module):
    """LR with the first-linear-layer contract: ``head`` is the identity."""

    def __init__(self, n_genes: int, n_classes: int, *, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(n_classes, n_genes, generator=gen))
        self.bias = nn.Parameter(torch.randn(n_classes, generator=gen))

    def input_weight(self) -> torch.Tensor:
        return self.weight

    def input_bias(self) -> torch.Tensor:
        return self.bias

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x @ self.input_weight().T + self.input_bias())


class MLPModel(nn.Module):
    """Linear → BatchNorm (eval, non-trivial statistics) → ReLU → Linear, with the contract."""

    def __init__(self, n_genes: int, n_classes: int, *, seed: int, n_hidden: int = 6) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.first = nn.Linear(n_genes, n_hidden)
        self.rest = nn.Sequential(
            nn.BatchNorm1d(n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_classes)
        )
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
            self.rest[0].running_mean.copy_(torch.randn(n_hidden, generator=gen))
            self.rest[0].running_var.copy_(torch.rand(n_hidden, generator=gen) + 0.5)
        self.eval()

    def input_weight(self) -> torch.Tensor:
        return self.first.weight

    def input_bias(self) -> torch.Tensor:
        return self.first.bias

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self.rest(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rest(self.first(x))


class PlainModel(nn.Module):
    """A model without the contract: metrics must fall back to forward passes."""

    def __init__(self, n_genes: int, n_classes: int, *, seed: int) -> None:
        super().__init__()
        torch.manual_seed(seed)  # test-local weights; no library code draws here
        self.net = nn.Sequential(nn.Linear(n_genes, 5), nn.Tanh(), nn.Linear(5, n_classes))
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def gene_model(arch: str):
    """A genexai model whose head the compiled kernel runs (:mod:`genexai.metrics._kernels`)."""

    def build(n_genes: int, n_classes: int, *, seed: int) -> nn.Module:
        graph = None
        if arch.startswith("Diffuse"):
            rng = np.random.default_rng(seed)
            dense = rng.random((n_genes, n_genes)) * (rng.random((n_genes, n_genes)) < 0.2)
            graph = scipy.sparse.csr_array(((dense + dense.T) / 2).astype(np.float32))
        model = build_model(arch, n_genes=n_genes, n_classes=n_classes, graph=graph, seed=seed)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
            for name, buf in model.named_buffers():
                if name.endswith("running_mean"):
                    buf.copy_(torch.randn(buf.shape, generator=gen))
                elif name.endswith("running_var"):
                    buf.copy_(torch.rand(buf.shape, generator=gen) + 0.5)
        return model.eval()

    return build


MODELS = {
    "linear": LinearModel,
    "mlp": MLPModel,
    "plain": PlainModel,
    **{arch: gene_model(arch) for arch in ("LR", "MLP", "DiffuseMLP")},
}


def make_model(kind: str, n_genes: int, n_classes: int, *, seed: int = 0) -> nn.Module:
    return MODELS[kind](n_genes, n_classes, seed=seed).eval()


def make_data(n_obs: int, n_genes: int, n_classes: int, *, seed: int, ties: bool = False):
    """Random examples, attributions (rounded to create ties), labels and a correctness mask."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_obs, n_genes)).astype(np.float32)
    a = rng.standard_normal((n_obs, n_genes)).astype(np.float32)
    if ties:
        a = np.round(a, 0)  # many exact ties within each row
    a[0] = 0  # an all-zero row: every gene ties
    labels = np.arange(n_obs) % n_classes
    correct = rng.random(n_obs) < 0.7
    correct[:n_classes] = True
    baseline = (0.3 * rng.standard_normal(n_genes)).astype(np.float32)
    return x, a, baseline, labels, correct


# --- plain reference implementations -----------------------------------


def probs64(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities of a float64 copy of the model."""
    import copy

    m = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        return torch.softmax(m(torch.as_tensor(np.asarray(x, dtype=np.float64))), dim=-1).numpy()


def ref_order(values, *, descending: bool) -> list[int]:
    """Python's sort is stable: ties keep the lower index first."""
    return sorted(range(len(values)), key=lambda g: -values[g] if descending else values[g])
