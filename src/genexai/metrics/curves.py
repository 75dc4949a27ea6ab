"""Balanced accuracy against the number of genes kept (method.md §8).

Genes that are not kept take their baseline values. The examples are the
correctly classified explained ones, so every curve ends at 100 %.

- ``keep_best``: keep ``U_k``, the union over classes of each class's
  top-``k`` genes (by ``|m_c|``, the class mean of the normalised
  attributions, ties by gene index), for ``k`` in :func:`gene_grid`;
  ``n_genes = |U_k|``.
- ``remove_best``: replace ``U_k`` (the grid without its last value);
  ``n_genes = n_genes_total − |U_k|`` is still the number of genes *kept*.
- ``random_kept``: keep the first ``k`` genes of a random order, for every
  ``k`` of the grid; mean and population std (``ddof=0``) over ``n_random``
  orders.

Points where ``|U_k|`` does not change are dropped.

Per-class curves (:func:`class_curves`): for each class ``c``, the share (%)
of its correctly classified examples still predicted as ``c``, with the
class's own order (``|m_c|`` descending, ties by gene index):

- ``class_keep_best:<c>``: keep ``c``'s top ``n`` genes, ``n`` in
  :func:`gene_grid` ∪ ``{k}``;
- ``class_remove_best:<c>``: replace its top ``m`` genes, ``m`` in the same
  set; ``n_genes = n_genes_total − m`` (kept);
- ``class_random_removed:<c>``: replace ``k`` random genes; one point at
  ``n_genes_total − k``, mean and population std over ``n_random`` draws
  (the same draws for every class).

Fast path (first-linear-layer contract): the kept sets of one curve are
nested, so the first layer's output moves from ``z(b)`` (keep) or ``z(x)``
(remove) by the sum of ``±(x − b)_g W[:, g]`` over the genes added since the
previous point: one pass over ``W`` per curve, then ``head`` per point. For
the heads the compiled kernels know (genexai's own models), that runs in
:func:`._kernels.kept_argmax_kernel`, in torch's order of sums.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..models import FirstLayer, first_layer
from ._common import segment_sums, stable_order
from ._kernels import head_arrays, kept_argmax_kernel

Curve = Literal["keep_best", "remove_best", "random_kept"]
ClassCurve = Literal["class_keep_best", "class_remove_best", "class_random_removed"]


def gene_grid(n_genes: int) -> np.ndarray:
    """``{1 … 9} ∪ {10, 20, … 190} ∪ {200, 300, …}``, below ``n_genes`` (int64)."""
    grid = np.concatenate([np.arange(1, 10), np.arange(10, 200, 10), np.arange(200, n_genes, 100)])
    return grid[grid < n_genes]


def balanced_accuracy(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present in ``labels``, in percent.

    Parameters
    ----------
    labels
        ``(n_obs,)`` int, true classes.
    predictions
        ``(..., n_obs)`` int, predicted classes.

    Returns
    -------
    ``predictions.shape[:-1]`` float64, in [0, 100].
    """
    classes, codes = np.unique(labels, return_inverse=True)
    onehot = np.zeros((len(labels), len(classes)))
    onehot[np.arange(len(labels)), codes] = 1
    hits = (np.asarray(predictions) == labels).astype(np.float64)
    return 100 * (hits @ onehot / onehot.sum(axis=0)).mean(axis=-1)


def kept_predictions(
    model: nn.Module,
    x: np.ndarray,
    baseline: np.ndarray,
    order: np.ndarray,
    sizes: np.ndarray,
    *,
    keep: bool,
    batch_size: int = 512,
) -> np.ndarray:
    """Predicted classes when the first genes of an order are kept, or replaced.

    Parameters
    ----------
    model
        Eval-mode classifier (logits).
    x
        ``(n_obs, n_genes)`` float32.
    baseline
        ``(n_genes,)`` float32: values of the genes not kept.
    order
        ``(n_genes,)`` int, a permutation of the genes.
    sizes
        ``(n_points,)`` int, increasing: how many of the first genes of
        ``order`` are kept (``keep=True``) or replaced by the baseline.
    keep
        Whether the first genes are the kept ones.
    batch_size
        Examples per batch. Default: 512.

    Returns
    -------
    ``(n_points, n_obs)`` int64.
    """
    x_t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    b_t = torch.as_tensor(np.asarray(baseline, dtype=np.float32))
    order_t = torch.as_tensor(np.asarray(order, dtype=np.int64))
    sizes = np.asarray(sizes, dtype=np.int64)
    layer = first_layer(model)
    out = torch.empty((len(sizes), len(x_t)), dtype=torch.int64)
    with torch.no_grad():
        if layer is None:
            ranks = torch.empty_like(order_t)
            ranks[order_t] = torch.arange(len(order_t))
            for i, size in enumerate(sizes):
                first = ranks < int(size)
                for s in range(0, len(x_t), batch_size):
                    xb = x_t[s : s + batch_size]
                    inputs = torch.where(first == keep, xb, b_t)
                    out[i, s : s + batch_size] = model(inputs).argmax(dim=-1)
            return out.numpy()
        z_base = layer.hidden(b_t[None])
        if layer.fused:
            z_start = z_base.expand(len(x_t), -1) if keep else layer.hidden(x_t)
            return _kept_kernel(layer, x_t, b_t, order_t, sizes, z_start=z_start, keep=keep)
        weight_t = layer.weight.T.contiguous()
        bounds = np.concatenate([[0], sizes])
        for s in range(0, len(x_t), batch_size):
            xb = x_t[s : s + batch_size]
            start, delta = (z_base, xb - b_t) if keep else (layer.hidden(xb), b_t - xb)
            z = segment_sums(delta, order_t[None], bounds, weight_t).cumsum_(dim=1)
            z = z.add_(start[:, None]).reshape(-1, z.shape[-1])
            out[:, s : s + len(xb)] = layer.head(z).reshape(len(xb), len(sizes), -1).argmax(-1).T
    return out.numpy()


def _kept_kernel(
    layer: FirstLayer,
    x: torch.Tensor,
    b: torch.Tensor,
    order: torch.Tensor,
    sizes: np.ndarray,
    *,
    z_start: torch.Tensor,
    keep: bool,
) -> np.ndarray:
    """:func:`kept_predictions`' fast path, compiled (:mod:`._kernels`), for heads it knows."""
    genes = order.numpy()[: sizes[-1] if len(sizes) else 0]
    mlp, head = head_arrays(layer.mlp_head)
    out = np.empty((len(sizes), len(x)), np.int64)
    return kept_argmax_kernel(
        np.ascontiguousarray(x.numpy()),
        np.ascontiguousarray(b.numpy()),
        np.ascontiguousarray(z_start.numpy()),
        np.ascontiguousarray(layer.weight.T.numpy()[genes]),
        np.ascontiguousarray(genes),
        sizes,
        keep,
        mlp,
        head,
        out,
    )


def accuracy_curves(
    model: nn.Module,
    x: np.ndarray,
    baseline: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    *,
    n_random: int = 10,
    seed: int | np.random.Generator = 0,
    batch_size: int = 512,
    progress: Callable[[int], Any] | None = None,
) -> pd.DataFrame:
    """The keep-best, remove-best and random-kept curves.

    Parameters
    ----------
    model
        Eval-mode classifier (logits).
    x
        ``(n_obs, n_genes)`` float32: the correctly classified examples.
    baseline
        ``(n_genes,)`` float32.
    labels
        ``(n_obs,)`` int: their true classes.
    scores
        ``(n_classes, n_genes)`` float: gene importance per studied class
        (``|m_c|``); larger is more important.
    n_random
        Random orders of ``random_kept``. Default: 10.
    seed
        Seed or Generator of the random orders. Default: 0.
    batch_size
        Examples per batch. Default: 512.
    progress
        Called with 1 after each curve or random order (``2 + n_random``).

    Returns
    -------
    Columns ``curve`` (:data:`Curve`), ``n_genes`` (int64, genes kept),
    ``value`` (balanced accuracy, %), ``std`` (``random_kept`` only, NaN
    otherwise).
    """
    n_genes = x.shape[1]
    grid = gene_grid(n_genes)
    rank = np.empty(scores.shape, dtype=np.int64)
    np.put_along_axis(rank, stable_order(scores, descending=True), np.arange(n_genes), axis=-1)
    entry = rank.min(axis=0)  # gene g is in U_k iff entry[g] < k
    order = stable_order(entry, descending=False)
    sizes = np.unique(np.searchsorted(np.sort(entry), grid))
    sizes = sizes[sizes > 0]

    def accuracy(order: np.ndarray, sizes: np.ndarray, *, keep: bool) -> np.ndarray:
        predictions = kept_predictions(
            model, x, baseline, order, sizes, keep=keep, batch_size=batch_size
        )
        if progress is not None:
            progress(1)
        return balanced_accuracy(labels, predictions)

    removed = np.unique(np.searchsorted(np.sort(entry), grid[:-1]))
    removed = removed[(removed > 0) & (removed < n_genes)]
    frames = [
        _frame("keep_best", sizes, accuracy(order, sizes, keep=True)),
        _frame("remove_best", n_genes - removed, accuracy(order, removed, keep=False)),
    ]
    rng = np.random.default_rng(seed)
    if n_random:
        trials = np.stack(
            [accuracy(rng.permutation(n_genes), grid, keep=True) for _ in range(n_random)]
        )
        frames.append(_frame("random_kept", grid, trials.mean(axis=0), trials.std(axis=0)))
    return pd.concat(frames, ignore_index=True)


def class_curves(
    model: nn.Module,
    x: np.ndarray,
    baseline: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    *,
    class_names: Sequence[str],
    k: int,
    n_random: int = 10,
    seed: int | np.random.Generator = 0,
    batch_size: int = 512,
    progress: Callable[[int], Any] | None = None,
) -> pd.DataFrame:
    """Per class, the share of its examples still predicted as the class when
    its top genes are kept, or removed, or ``k`` random genes are removed.

    Parameters
    ----------
    model
        Eval-mode classifier (logits).
    x
        ``(n_obs, n_genes)`` float32: the correctly classified examples.
    baseline
        ``(n_genes,)`` float32: values of the genes not kept.
    labels
        ``(n_obs,)`` int: their true classes (indices into ``class_names``).
    scores
        ``(n_classes, n_genes)`` float: gene importance of each class
        (``|m_c|``), row = class index; rows of classes absent from
        ``labels`` are not read (they may be NaN).
    class_names
        Names of the classes, in class-index order (for the curve names).
    k
        Genes of the single-size points (at least 1); clamped to
        ``n_genes - 1`` so that some gene is always kept.
    n_random
        Random draws of ``class_random_removed`` (none when 0). Default: 10.
    seed
        Seed or Generator of the draws. Default: 0.
    batch_size
        Examples per batch. Default: 512.
    progress
        Called with 1 after the keep curves, the remove curves, and each
        random draw (``2 + n_random``).

    Returns
    -------
    Columns ``curve`` (``<ClassCurve>:<class name>``), ``n_genes`` (int64,
    genes kept), ``value`` (%, in [0, 100]), ``std`` (NaN but for
    ``class_random_removed``): every class's ``class_keep_best`` rows
    (``n_genes`` increasing), then the ``class_remove_best`` rows (``n_genes``
    decreasing), then one ``class_random_removed`` row per class; classes in
    index order.
    """
    labels = np.asarray(labels)
    n_genes = x.shape[1]
    k = min(int(k), n_genes - 1)
    sizes = np.union1d(gene_grid(n_genes), [k])
    sizes = sizes[(sizes >= 1) & (sizes < n_genes)]
    present = np.unique(labels)
    rows = {c: np.flatnonzero(labels == c) for c in present}

    def share(c: int, predictions: np.ndarray) -> np.ndarray:
        return 100 * (predictions == c).mean(axis=-1)

    frames: list[pd.DataFrame] = []
    for keep in (True, False):
        for c in present[: len(present) if len(sizes) else 0]:
            order = stable_order(scores[c], descending=True)
            predictions = kept_predictions(
                model, x[rows[c]], baseline, order, sizes, keep=keep, batch_size=batch_size
            )
            name = f"class_{'keep' if keep else 'remove'}_best:{class_names[c]}"
            frames.append(_frame(name, sizes if keep else n_genes - sizes, share(c, predictions)))
        if progress is not None:
            progress(1)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_random, len(present)))
    for i in range(n_random):
        if k >= 1:
            order = rng.permutation(n_genes)
            predictions = kept_predictions(
                model, x, baseline, order, [k], keep=False, batch_size=batch_size
            )[0]
            draws[i] = [share(c, predictions[rows[c]]) for c in present]
        if progress is not None:
            progress(1)
    if n_random and k >= 1:
        frames.extend(
            _frame(f"class_random_removed:{class_names[c]}", [n_genes - k], mean, std)
            for c, mean, std in zip(present, draws.mean(axis=0), draws.std(axis=0), strict=True)
        )
    if not frames:  # a single gene: nothing can be kept or removed apart
        return _frame("class_keep_best", np.zeros(0, np.int64), np.zeros(0))
    return pd.concat(frames, ignore_index=True)


def _frame(
    curve: str, n_genes: np.ndarray, value: np.ndarray, std: np.ndarray | None = None
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "curve": curve,
            "n_genes": np.asarray(n_genes, dtype=np.int64),
            "value": value,
            "std": np.nan if std is None else std,
        }
    )
