"""Small genexai models shared by the tests of genexai.models.

The tests get :func:`make_gene_model` and :func:`model_inputs` as the factory
fixtures ``gene_model`` and ``model_inputs``, and :func:`checkpoint_meta` as the
``checkpoint_meta`` dict (tests/models/conftest.py).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from genexai.models import GeneModel, build_model

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


def make_gene_model(arch: str, *, seed: int = 1, **kwargs) -> GeneModel:
    """``build_model`` on N_GENES genes and N_CLASSES classes (a random graph if diffused)."""
    graph = random_graph(N_GENES) if arch.startswith("Diffuse") else None
    return build_model(arch, n_genes=N_GENES, n_classes=N_CLASSES, graph=graph, seed=seed, **kwargs)


def model_inputs(n: int = 7, dtype=torch.float32, seed: int = 3) -> torch.Tensor:
    """A seeded ``(n, N_GENES)`` batch."""
    return torch.randn(n, N_GENES, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def checkpoint_meta() -> dict:
    """The metadata a checkpoint of :func:`make_gene_model` needs."""
    return {"genes": GENES, "classes": CLASSES, "seed": 1, "preprocessing": {"sha256": "ab"}}
