"""Helpers shared by the metrics: normalisation, stable orders, class means, the
first-linear-layer view of a model, the target probability and chunk sums."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse
import torch

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


def stable_order(values: np.ndarray, *, descending: bool, k: int | None = None) -> np.ndarray:
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
    k
        Only the first ``k`` indices of the order (at most ``n_genes``);
        default: all.

    Returns
    -------
    ``(..., n_genes)`` (or ``(..., k)``) int64.
    """
    values = np.asarray(values)
    if values.dtype != np.float32:
        # Negating is exact for floats, and -0.0 == 0.0, so ties survive it.
        return np.argsort(-values if descending else values, axis=-1, kind="stable")[..., :k]
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
    if k is not None and k < values.shape[-1]:
        # The keys are distinct, so the k smallest are one set, whichever
        # way a partition finds them: the same prefix, in O(n_genes) per row.
        keys = np.partition(keys, k - 1, axis=-1)[..., :k]
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
