"""The four classifiers of the paper (method.md §3); see :mod:`genexai.models`."""

from __future__ import annotations

import contextlib
import typing
import warnings
import zlib
from collections.abc import Iterator

import numpy as np
import scipy.sparse
import torch
from torch import nn

from .._defaults import DEFAULT_HIDDEN, Arch
from ..errors import InputError
from ._uniform import TorchUniform

#: Input dropout of each family when the caller does not choose one (§3).
DEFAULT_DROPOUT: dict[str, float] = {"LR": 0.2, "MLP": 0.0, "DiffuseLR": 0.2, "DiffuseMLP": 0.0}


def derived_seed(seed: int, stream: str) -> int:
    """An independent 63-bit seed for one use (``stream``) of a user seed.

    Initialisation, batch order and dropout each get their own stream, so that
    they are not drawn from identical random sequences.
    """
    state = np.random.SeedSequence([seed, zlib.crc32(stream.encode())]).generate_state(
        1, np.uint64
    )[0]
    return int(state >> np.uint64(1))


class Diffusion(nn.Module):
    """The frozen one-hop diffusion ``x ↦ xÂ`` over a symmetric sparse Â.

    Â is held as three plain tensors (CSR row pointers, column indices,
    values), so that it moves with the module between devices and is saved
    in the state dict without pickling a sparse object.

    Parameters
    ----------
    adjacency
        Â, ``(n_genes, n_genes)``, symmetric (only then is ``xÂ = (Â xᵀ)ᵀ``).
    """

    def __init__(self, adjacency: scipy.sparse.sparray | scipy.sparse.spmatrix) -> None:
        super().__init__()
        adj = scipy.sparse.csr_matrix(adjacency, dtype=np.float32)
        adj.sort_indices()
        self.n_genes = adj.shape[0]
        self.register_buffer("crow", torch.from_numpy(adj.indptr.astype(np.int64)))
        self.register_buffer("col", torch.from_numpy(adj.indices.astype(np.int64)))
        self.register_buffer("values", torch.from_numpy(adj.data))

    def matrix(self) -> torch.Tensor:
        """Â as a sparse CSR tensor on the module's device (no copy)."""
        with warnings.catch_warnings():
            # torch labels CSR "beta" on first use; the operations used here are stable.
            warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta")
            return torch.sparse_csr_tensor(
                self.crow,
                self.col,
                self.values,
                (self.n_genes, self.n_genes),
                check_invariants=False,
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x Â`` for ``x`` of shape ``(n, n_genes)``; differentiable in ``x``."""
        return torch.sparse.mm(self.matrix(), x.T).T


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` with the same law, drawn faster on the CPU.

    Each element is kept with probability ``1 - p`` and scaled by
    ``1 / (1 - p)``. The mask comes from one uniform draw per element, which
    is about 4x faster than torch's CPU Bernoulli kernel: on SIMU1-sized
    batches of 32 x 15,000 that is most of an LR training step.

    Attributes
    ----------
    uniform
        Where CPU draws come from: ``None`` for torch's global generator, or
        a :class:`._uniform.TorchUniform` (the same numbers as the global
        generator seeded with its seed, faster), set by training.
    """

    uniform: TorchUniform | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        # torch.rand, not rand_like: the mask must not depend on the memory layout.
        if self.uniform is not None and x.device.type == "cpu" and x.dtype == torch.float32:
            draws = self.uniform.rand(x.shape)
        else:
            draws = torch.rand(x.shape, dtype=x.dtype, device=x.device)
        keep = draws.ge_(self.p)
        keep = keep.mul_(1.0 / (1.0 - self.p))
        return x * keep


@contextlib.contextmanager
def cpu_dropout_draws(model: nn.Module, seed: int) -> Iterator[None]:
    """For a block, the model's :class:`Dropout` layers draw on the CPU from one
    :class:`._uniform.TorchUniform` of ``seed``: the numbers of torch's global
    generator seeded with ``seed`` (as :func:`._device.seeded_global_rngs`
    seeds it), faster. One stream for every layer, as one global generator."""
    layers = [m for m in model.modules() if isinstance(m, Dropout)]
    uniform = TorchUniform(seed)
    for layer in layers:
        layer.uniform = uniform
    try:
        yield
    finally:
        for layer in layers:
            layer.uniform = None


class GeneModel(nn.Module):
    """One of the four classifiers; build it with :func:`build_model`.

    Layout: ``features`` (identity, or the frozen diffusion) → ``dropout`` →
    ``linear`` (the first linear layer) → ``head`` (identity for the LR
    families; BatchNorm1d → ReLU → Linear for the MLP families).

    Attributes
    ----------
    arch
        ``LR``, ``MLP``, ``DiffuseLR`` or ``DiffuseMLP``.
    hparams
        ``n_genes``, ``n_classes``, ``hidden`` (``None`` for the LR families)
        and ``dropout``: what :func:`build_model` needs to rebuild the model.
    genexai
        Checkpoint metadata (set by :func:`genexai.train.fit` and
        :func:`load_model`; empty otherwise).
    """

    def __init__(
        self,
        *,
        arch: Arch,
        n_genes: int,
        n_classes: int,
        hidden: int,
        dropout: float,
        graph: scipy.sparse.sparray | scipy.sparse.spmatrix | None,
    ) -> None:
        super().__init__()
        self.arch = arch
        mlp = arch in ("MLP", "DiffuseMLP")
        self.hparams = {
            "n_genes": n_genes,
            "n_classes": n_classes,
            "hidden": hidden if mlp else None,
            "dropout": dropout,
        }
        self.genexai: dict = {}
        self.diffusion = Diffusion(graph) if graph is not None else None
        # Dropout(0) would still draw a mask on every training batch.
        self.dropout = Dropout(dropout) if dropout > 0 else nn.Identity()
        if mlp:
            self.linear = nn.Linear(n_genes, hidden)
            self.head = nn.Sequential(
                nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
            )
        else:
            self.linear = nn.Linear(n_genes, n_classes)
            self.head = nn.Identity()

    @property
    def n_genes(self) -> int:
        return self.hparams["n_genes"]

    @property
    def n_classes(self) -> int:
        return self.hparams["n_classes"]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed input transform: ``xÂ`` for diffused models, else ``x``.

        Parameter-free and deterministic, ``(n, n_genes)`` → ``(n, n_genes)``.
        """
        return x if self.diffusion is None else self.diffusion(x)

    def body(self, h: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` from features ``(n, n_genes)``."""
        return self.head(self.linear(self.dropout(h)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` for float inputs ``(n, n_genes)``."""
        return self.body(self.features(x))

    def input_weight(self) -> torch.Tensor:
        """Effective weight ``(H, n_genes)`` of the part linear in x.

        ``H`` is ``n_classes`` for the LR families and ``hidden`` for the MLP
        families. For diffused models it is ``W Â`` (Â symmetric), computed
        with a sparse product.
        """
        weight = self.linear.weight
        return weight if self.diffusion is None else self.diffusion(weight)

    def input_bias(self) -> torch.Tensor:
        """Bias ``(H,)`` of the first linear layer."""
        return self.linear.bias


ARCHS: tuple[str, ...] = typing.get_args(Arch)


def build_model(
    arch: Arch,
    *,
    n_genes: int,
    n_classes: int,
    graph: scipy.sparse.sparray | scipy.sparse.spmatrix | None = None,
    hidden: int = DEFAULT_HIDDEN,
    dropout: float | None = None,
    seed: int,
) -> GeneModel:
    """A freshly initialised model (PyTorch default initialisation).

    Parameters
    ----------
    arch
        ``LR``, ``MLP``, ``DiffuseLR`` or ``DiffuseMLP``.
    n_genes, n_classes
        Input width ``G`` and number of classes ``C``.
    graph
        Â ``(n_genes, n_genes)`` float32, symmetric; required by the diffused
        models and refused by the others.
    hidden
        Hidden units of the MLP families (ignored by the LR families).
    dropout
        Input dropout probability; ``None`` gives the family default (0.2 for
        LR/DiffuseLR, 0 for MLP/DiffuseMLP).
    seed
        Seeds the initial weights; the global RNG is left untouched.
    """
    if arch not in ARCHS:
        msg = f"arch: expected one of {list(ARCHS)}, found {arch!r}"
        raise InputError(msg)
    if n_genes < 1 or n_classes < 2:
        msg = f"{arch}: need at least 1 gene and 2 classes, found {n_genes} and {n_classes}"
        raise InputError(msg)
    if hidden < 1:
        msg = f"hidden: expected a positive width, found {hidden}"
        raise InputError(msg)
    dropout = DEFAULT_DROPOUT[arch] if dropout is None else float(dropout)
    if not 0 <= dropout < 1:
        msg = f"dropout: expected a probability in [0, 1), found {dropout}"
        raise InputError(msg)
    diffused = arch.startswith("Diffuse")
    if diffused and graph is None:
        msg = f"graph: model {arch} needs a gene graph (from the graph step), none given"
        raise InputError(msg)
    if not diffused and graph is not None:
        msg = f"graph: model {arch} does not use a gene graph, but one was given"
        raise InputError(msg)
    if graph is not None and graph.shape != (n_genes, n_genes):
        msg = f"graph: expected a {n_genes} x {n_genes} graph, found {graph.shape}"
        raise InputError(msg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derived_seed(seed, "init"))
        return GeneModel(
            arch=arch,
            n_genes=n_genes,
            n_classes=n_classes,
            hidden=hidden,
            dropout=dropout,
            graph=graph,
        )
