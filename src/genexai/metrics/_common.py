"""Helpers shared by the metrics: normalisation, stable orders, class means, the
first-linear-layer view of a model, the target probability and chunk sums."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import torch
from torch import nn

#: Rows per block where a float64 copy of a block is made.
_BLOCK = 512
#: Largest magnitude of an exponent passed to ``exp`` (see :func:`target_prob`).
EXP_LIMIT = 80.0


def normalize_rows(values: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm; all-zero rows stay zero (method.md §6).

    Parameters
    ----------
    values
        ``(n_obs, n_genes)`` float.

    Returns
    -------
    ``(n_obs, n_genes)`` float32.
    """
    values = np.asarray(values, dtype=np.float32)
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    out = np.zeros_like(values)
    np.divide(values, norms, out=out, where=norms > 0)
    return out


def stable_order(values: np.ndarray, *, descending: bool) -> np.ndarray:
    """Indices that sort the last axis; ties keep the lower index first.

    Every ranking in :mod:`genexai.metrics` goes through here, so ties (for
    example genes whose attribution is exactly 0) are broken the same way
    everywhere: by gene index, in both directions. ``-0.0`` ties with ``0.0``.

    Parameters
    ----------
    values
        ``(..., n_genes)`` float, finite.
    descending
        Largest first when True.

    Returns
    -------
    ``(..., n_genes)`` int64.
    """
    values = np.asarray(values)
    if values.dtype != np.float32:
        # Negating is exact for floats, and -0.0 == 0.0, so ties survive it.
        return np.argsort(-values if descending else values, axis=-1, kind="stable")
    # float32: sort int64 keys (order-preserving bits << 32 | index) with
    # numpy's vectorised integer sort, several times faster than a stable
    # argsort; the index in the low bits makes every key distinct, so the
    # order is exactly the stable one.
    bits = (values + np.float32(0)).view(np.int32)  # + 0 turns -0.0 into 0.0
    bits = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))  # negatives: larger magnitude, smaller int
    if descending:
        bits = ~bits
    keys = bits.astype(np.int64)
    keys <<= 32
    keys |= np.arange(values.shape[-1], dtype=np.int64)
    keys.sort(axis=-1)
    keys &= np.int64(0xFFFFFFFF)
    return keys


def group_means(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``values`` over the examples of each group.

    Parameters
    ----------
    values
        ``(n_obs, ...)`` float.
    groups
        ``(n_obs,)`` int, group index of each example; negative: left out.
    n_groups
        Number of groups.

    Returns
    -------
    ``(n_groups, ...)`` float64; NaN for a group without examples.
    """
    values = np.asarray(values)
    groups = np.asarray(groups)
    flat = values.reshape(len(values), -1)
    sums = np.zeros((n_groups, flat.shape[1]))
    # Row blocks bound the float64 copy; a sparse one-hot sums each block in O(size).
    for start in range(0, len(flat), _BLOCK):
        g = groups[start : start + _BLOCK]
        rows = np.flatnonzero(g >= 0)
        onehot = scipy.sparse.csr_matrix(
            (np.ones(len(rows)), (g[rows], rows)), shape=(n_groups, len(g))
        )
        sums += onehot @ flat[start : start + _BLOCK].astype(np.float64)
    counts = np.bincount(groups[groups >= 0], minlength=n_groups).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return means.reshape((n_groups, *values.shape[1:]))


@dataclass(frozen=True)
class FirstLayer:
    """A model split as ``x ↦ head(x @ weight.T + bias)`` (the first-linear-layer contract).

    Attributes
    ----------
    weight
        ``(n_hidden, n_genes)`` float32.
    bias
        ``(n_hidden,)`` float32.
    head
        Maps ``(n, n_hidden)`` float32 to logits ``(n, n_classes)``.
    mlp_head
        The head as plain arrays where it is one the compiled kernels know
        (:mod:`._kernels`): ``None`` for the identity (LR families);
        ``(scale, shift, weight, bias)`` for BatchNorm1d (eval, folded into
        ``scale``/``shift``, ``(n_hidden,)``) → ReLU → Linear (``(n_classes,
        n_hidden)``, ``(n_classes,)``), all float32 numpy.
    fused
        Whether ``mlp_head`` describes the head (else only ``head`` does).
    """

    weight: torch.Tensor
    bias: torch.Tensor
    head: Callable[[torch.Tensor], torch.Tensor]
    mlp_head: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    fused: bool = False

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """``x @ weight.T + bias``: ``(n, n_genes)`` → ``(n, n_hidden)``."""
        return torch.addmm(self.bias, x, self.weight.T)


def first_layer(model: nn.Module) -> FirstLayer | None:
    """The model's first-linear-layer contract (docs/architecture.md), or None."""
    names = ("input_weight", "input_bias", "head")
    if not all(callable(getattr(model, name, None)) for name in names):
        return None
    with torch.no_grad():
        weight = model.input_weight().detach().float().contiguous()
        bias = model.input_bias().detach().float()
    fused, mlp_head = _known_head(model.head)
    return FirstLayer(weight=weight, bias=bias, head=model.head, mlp_head=mlp_head, fused=fused)


def _known_head(head: Callable) -> tuple[bool, tuple | None]:
    """``(fused, mlp_head)`` of :class:`FirstLayer` for ``head``."""
    if isinstance(head, nn.Identity):
        return True, None
    parts = list(head) if isinstance(head, nn.Sequential) else []
    kinds = [type(p) for p in parts]
    if (
        kinds != [nn.BatchNorm1d, nn.ReLU, nn.Linear]
        or parts[0].training
        or parts[0].running_var is None
        or parts[2].bias is None
    ):
        return False, None
    norm, linear = parts[0], parts[2]
    with torch.no_grad():
        var, mean = norm.running_var.double(), norm.running_mean.double()
        gamma = norm.weight.double() if norm.affine else torch.ones_like(var)
        beta = norm.bias.double() if norm.affine else torch.zeros_like(var)
        scale = gamma / torch.sqrt(var + norm.eps)
        shift = beta - mean * scale
        arrays = (scale, shift, linear.weight, linear.bias)
        return True, tuple(np.ascontiguousarray(a.float().numpy()) for a in arrays)


def target_prob(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Softmax probability of the target class, ``1 / Σ_c exp(z_c − z_t)``.

    Exponents are clamped to ``[-80, 80]``: ``exp`` of a float32 below about
    -87 is subnormal or zero, which x86 CPUs compute some 40× slower, and
    above 88 it overflows. A clamped term is below ``e^-80 ≈ 2e-35`` (the
    sum holds the term ``c = t``, 1) or makes ``p_t`` below ``e^-80``, so no
    result moves by more than that.

    Parameters
    ----------
    logits
        ``(..., n_classes)`` float.
    target
        Class index, broadcastable to ``logits.shape[:-1]``.

    Returns
    -------
    ``logits.shape[:-1]``, same dtype as ``logits``.
    """
    target = torch.as_tensor(target).expand(logits.shape[:-1]).unsqueeze(-1)
    diff = logits - logits.gather(-1, target)
    return diff.clamp_(-EXP_LIMIT, EXP_LIMIT).exp_().sum(dim=-1).reciprocal_()


def segment_sums(
    delta: torch.Tensor, genes: torch.Tensor, bounds: np.ndarray, weight_t: torch.Tensor
) -> torch.Tensor:
    """Per example and segment of an order, ``Σ_g delta[n, g] · weight_t[g]``.

    Segment ``i`` holds the genes ``genes[n, bounds[i]:bounds[i + 1]]``. One
    sparse matrix (a row per example and segment, holding ``delta`` at the
    segment's genes) times ``weight_t`` gives every sum in one pass over the
    weights, without materialising ``delta[n, g] · weight_t[g]``.

    Parameters
    ----------
    delta
        ``(n, n_genes)`` float32.
    genes
        ``(n, ≥ bounds[-1])`` or ``(1, ≥ bounds[-1])`` int64: each example's
        order, or one order shared by all.
    bounds
        ``(n_segments + 1,)`` int, increasing from 0: segment boundaries, as
        positions in the order.
    weight_t
        ``(n_genes, n_hidden)`` float32.

    Returns
    -------
    ``(n, n_segments, n_hidden)`` float32.
    """
    n, n_genes = delta.shape
    bounds = np.asarray(bounds, dtype=np.int64)
    lengths = np.diff(bounds)
    genes = genes[:, : bounds[-1]].expand(n, -1)
    crow = torch.zeros(n * len(lengths) + 1, dtype=torch.int64)
    crow[1:] = torch.from_numpy(np.tile(lengths, n)).cumsum(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
        matrix = torch.sparse_csr_tensor(
            crow,
            genes.reshape(-1),
            delta.gather(1, genes).reshape(-1),
            size=(n * len(lengths), n_genes),
            check_invariants=False,
        )
        return (matrix @ weight_t).reshape(n, len(lengths), -1)
