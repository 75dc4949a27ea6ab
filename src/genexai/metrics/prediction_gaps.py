"""Prediction gaps on important, unimportant and random genes (method.md §6).

For one example ``x`` explained for class ``t`` (``obs["target"]``) and an
order ``π`` of the genes, the genes ``π_1 … π_{gap·j}`` are replaced by the
baseline ``b`` (cumulatively, ``j = 1 … floor(G / gap)``; the last
``G mod gap`` genes are never replaced), and

    PG(x) = (gap / G) · Σ_j max(F_t(x) − F_t(x^(j)), 0),

with ``F_t`` the softmax probability of class ``t``: the area of the positive
part of the gap curve against the fraction of genes replaced.

Orders (attributions are first L2-normalised per example, zero rows stay 0;
this changes no order except ties):

- ``local``: per example, signed attribution descending (PGI) or ascending
  (PGU, most negative first);
- ``global_pooled``: one order from the sum of the normalised attributions
  of *all* explained examples (classes pooled, misclassified included), as
  the reference code does;
- ``global_per_class``: one order per class, from the sum over the class's
  *correctly classified* examples, as the paper's text describes (method.md
  §10.10 lists both the pooling and the misclassified examples as
  departures of the code from the text);
- PGR: ``n_random`` random orders shared by all examples, drawn from
  ``numpy.random.default_rng(seed)``.

Ties are broken by gene index (a stable sort), in both directions.

Aggregation: the mean PG over the correctly classified examples of each
class, then the unweighted mean over the classes that have any, × 100.
Adjusted PGU of class ``c`` is ``PGU_c / (1 − F_c(b))``.

Fast path (models with the first-linear-layer contract): replacing genes
only adds ``Σ_{i ≤ gap·j} (b − x)_{π_i} W[:, π_i]`` to the first layer's
output ``z(x) = x Wᵀ + bias``. The chunk sums of one order cost one pass
over ``W`` (one sparse-times-dense product, :func:`._common.segment_sums`,
then a cumulative sum over chunks), and only ``head`` and the softmax run
per step. Other models use plain forward passes on the replaced inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..models import FirstLayer, first_layer
from ._common import (
    group_means,
    normalize_rows,
    segment_sums,
    stable_order,
    target_prob,
)
from ._kernels import gap_curves_kernel, head_arrays

Variant = Literal["local", "global_pooled", "global_per_class"]
#: Rows of the PG metrics table: ``(metric, variant)`` for each ordering.
VARIANTS: tuple[Variant, ...] = ("local", "global_pooled", "global_per_class")


def gap_curves(
    model: nn.Module,
    x: np.ndarray,
    baseline: np.ndarray,
    target: np.ndarray,
    order: np.ndarray,
    *,
    gap: int = 10,
    batch_size: int = 64,
) -> np.ndarray:
    """Positive part of the gap curve of every example.

    Parameters
    ----------
    model
        Eval-mode classifier, ``(n, n_genes)`` float32 → logits ``(n, n_classes)``.
    x
        ``(n_obs, n_genes)`` float32, the examples.
    baseline
        ``(n_genes,)`` float32, the values that replace genes.
    target
        ``(n_obs,)`` int, the class whose probability is followed.
    order
        ``(n_genes,)`` int, one order shared by all examples, or
        ``(n_obs, n_genes)``, one per example: genes in replacement order.
    gap
        Genes replaced per step. Default: 10.
    batch_size
        Examples per batch on the fast path (memory about ``batch_size ·
        n_genes / gap · (n_hidden + 2 · n_classes)`` floats); replaced
        inputs per forward pass otherwise. Default: 64.

    Returns
    -------
    ``(n_obs, n_steps)`` float32, ``max(F_t(x) − F_t(x^(j)), 0)`` for
    ``j = 1 … n_steps``, ``n_steps = floor(n_genes / gap)``. ``PG(x)`` is
    ``gap / n_genes`` times the row sum.
    """
    return _gap_curves(
        model, first_layer(model), x, baseline, target, order=order, gap=gap, batch_size=batch_size
    )


def _gap_curves(
    model: nn.Module,
    layer: FirstLayer | None,
    x: np.ndarray,
    baseline: np.ndarray,
    target: np.ndarray,
    *,
    order: np.ndarray,
    gap: int,
    batch_size: int,
    hidden: torch.Tensor | None = None,
) -> np.ndarray:
    """:func:`gap_curves` with the contract (or None) and ``z(x)`` (or None) precomputed."""
    x_t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    b_t = torch.as_tensor(np.asarray(baseline, dtype=np.float32))
    t_t = torch.as_tensor(np.asarray(target, dtype=np.int64))
    o_t = torch.as_tensor(np.asarray(order, dtype=np.int64))
    with torch.no_grad():
        if layer is None:
            return _gaps_forward(
                model, x_t, b_t, t_t, order=o_t, gap=gap, batch_size=batch_size
            ).numpy()
        return _gaps_linear(
            layer, x_t, b_t, t_t, order=o_t, gap=gap, batch_size=batch_size, hidden=hidden
        ).numpy()


def _gaps_linear(
    layer: FirstLayer,
    x: torch.Tensor,
    b: torch.Tensor,
    target: torch.Tensor,
    *,
    order: torch.Tensor,
    gap: int,
    batch_size: int,
    hidden: torch.Tensor | None,
) -> torch.Tensor:
    """Fast path: chunk sums of ``(b − x) ⊙ W`` added cumulatively to ``z(x)``."""
    n, n_genes = x.shape
    n_pt = n_genes // gap
    weight_t = layer.weight.T.contiguous()
    order = order.reshape(-1, n_genes)
    if layer.fused:
        return _gaps_kernel(
            layer, x, b, target, order=order, gap=gap, hidden=hidden, weight_t=weight_t
        )
    bounds = gap * np.arange(n_pt + 1)
    out = torch.empty(n, n_pt)
    for start in range(0, n, batch_size):
        rows = slice(start, min(start + batch_size, n))
        xb, tb = x[rows], target[rows]
        z0 = layer.hidden(xb) if hidden is None else hidden[rows]
        genes = order if len(order) == 1 else order[rows]
        z = segment_sums(b - xb, genes, bounds, weight_t).cumsum_(dim=1).add_(z0[:, None])
        logits = layer.head(z.reshape(-1, z.shape[-1])).reshape(len(xb), n_pt, -1)
        p0 = target_prob(layer.head(z0), tb)
        out[rows] = (p0[:, None] - target_prob(logits, tb[:, None])).clamp_(min=0)
    return out


def _gaps_kernel(
    layer: FirstLayer,
    x: torch.Tensor,
    b: torch.Tensor,
    target: torch.Tensor,
    *,
    order: torch.Tensor,
    gap: int,
    hidden: torch.Tensor | None,
    weight_t: torch.Tensor,
) -> torch.Tensor:
    """Fast path, fused and compiled (:mod:`._kernels`), for heads it knows."""
    z0 = layer.hidden(x) if hidden is None else hidden
    order_np = np.ascontiguousarray(order.numpy())
    weight_np = weight_t.numpy()
    if len(order_np) == 1:  # a shared order: weight rows in that order, read in sequence
        weight_np = weight_np[order_np[0]]
    mlp, head = head_arrays(layer.mlp_head)
    out = np.empty((x.shape[0], x.shape[1] // gap), np.float32)
    gap_curves_kernel(
        np.ascontiguousarray(x.numpy()),
        np.ascontiguousarray(b.numpy()),
        np.ascontiguousarray(z0.numpy()),
        np.ascontiguousarray(weight_np),
        order_np,
        np.ascontiguousarray(target.numpy()),
        gap,
        mlp,
        *head,
        out,
    )
    return torch.from_numpy(out)


def _gaps_forward(
    model: nn.Module,
    x: torch.Tensor,
    b: torch.Tensor,
    target: torch.Tensor,
    *,
    order: torch.Tensor,
    gap: int,
    batch_size: int,
) -> torch.Tensor:
    """Plain forward passes on the replaced inputs, ``batch_size`` at a time."""
    n, n_genes = x.shape
    n_pt = n_genes // gap
    ranks = torch.empty_like(order)
    positions = torch.arange(n_genes).expand_as(order)
    ranks.scatter_(-1, order, positions.contiguous())  # rank of each gene in its order
    ranks = ranks.reshape(-1, n_genes)
    p0 = torch.cat(
        [
            target_prob(model(x[s : s + batch_size]), target[s : s + batch_size])
            for s in range(0, n, batch_size)
        ]
    )
    out = torch.empty(n * n_pt)
    for start in range(0, n * n_pt, batch_size):
        flat = torch.arange(start, min(start + batch_size, n * n_pt))
        example, step = flat // n_pt, flat % n_pt + 1
        r = ranks[example] if len(ranks) > 1 else ranks
        replaced = torch.where(r < gap * step[:, None], b, x[example])
        p = target_prob(model(replaced), target[example])
        out[flat] = (p0[example] - p).clamp_(min=0)
    return out.reshape(n, n_pt)


def prediction_gaps(
    model: nn.Module,
    x: np.ndarray,
    attributions: np.ndarray,
    baseline: np.ndarray,
    target: np.ndarray,
    *,
    labels: np.ndarray,
    correct: np.ndarray,
    class_names: Sequence[str],
    gap: int = 10,
    n_random: int = 30,
    seed: int | np.random.Generator = 0,
    batch_size: int = 64,
    local: bool = True,
    progress: Callable[[int], Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PGI, PGU, adjusted PGU and PGR of one model's explanations.

    Parameters
    ----------
    model
        Eval-mode classifier (logits).
    x
        ``(n_obs, n_genes)`` float32: every explained example.
    attributions
        ``(n_obs, n_genes)`` float: their attributions (not normalised).
    baseline
        ``(n_genes,)`` float32: the attribution baseline.
    target
        ``(n_obs,)`` int: the explained class.
    labels
        ``(n_obs,)`` int: the task class (index into ``class_names``).
    correct
        ``(n_obs,)`` bool: correctly classified.
    class_names
        Names of the model's classes, in class-index order.
    gap
        Genes replaced per step. Default: 10.
    n_random
        Random orders of PGR. Default: 30.
    seed
        Seed or Generator of the random orders. Default: 0.
    batch_size
        See :func:`gap_curves`. Default: 64.
    local
        Whether to compute the ``local`` variant; False for global-scope
        attributions (one score vector per class), where it says nothing
        more than ``global_per_class``. Default: True.
    progress
        Called with 1 after each order (``6 + n_random`` in all, ``4 +
        n_random`` without ``local``).

    Returns
    -------
    metrics
        Columns ``metric, variant, value`` (float64, percent). ``metric``
        is ``pgi``, ``pgu`` or ``pgu_adjusted`` with a variant of
        :data:`VARIANTS` (not ``local`` without ``local``), or ``pgr`` with
        variant ``random`` (none when ``n_random`` is 0). Per-class rows have variant
        ``<variant>:<class name>``.
    curves
        Columns ``curve, n_genes, value, std``: for each ``<metric>_<variant>``
        and ``pgr``, 100 × the class-balanced mean of ``max(F_t(x) −
        F_t(x^(j)), 0)`` against ``n_genes = gap · j`` genes *replaced*;
        ``std`` is over the random orders for ``pgr``, NaN otherwise.
    """
    x = np.asarray(x, dtype=np.float32)
    n_genes = x.shape[1]
    n_classes = len(class_names)
    correct = np.asarray(correct, dtype=bool)
    a_norm = normalize_rows(attributions)
    keep = np.flatnonzero(correct)
    xc, tc, groups = x[keep], np.asarray(target)[keep], np.asarray(labels)[keep]
    scale = gap / n_genes

    # The contract and z(x) are the same for every order: compute them once.
    layer = first_layer(model)
    hidden = None
    if layer is not None:
        with torch.no_grad():
            hidden = layer.hidden(torch.from_numpy(xc))

    def run(order: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        z0 = None if hidden is None else hidden[rows]
        return _gap_curves(
            model,
            layer,
            xc[rows],
            baseline,
            tc[rows],
            order=order,
            gap=gap,
            batch_size=batch_size,
            hidden=z0,
        )

    def per_class(gaps: np.ndarray) -> np.ndarray:
        if progress is not None:
            progress(1)
        return group_means(gaps, groups, n_classes)  # (n_classes, n_steps)

    results: dict[tuple[str, str], np.ndarray] = {}
    for metric, descending in (("pgi", True), ("pgu", False)):
        if local:
            local_order = stable_order(a_norm[keep], descending=descending)
            results[metric, "local"] = per_class(run(local_order))
        pooled = stable_order(a_norm.sum(axis=0, dtype=np.float64), descending=descending)
        results[metric, "global_pooled"] = per_class(run(pooled))
        sums = group_means(a_norm[keep], groups, n_classes)  # same order as the sums
        by_class = np.full((n_classes, n_genes // gap), np.nan)
        for c in np.unique(groups):
            rows = np.flatnonzero(groups == c)
            by_class[c] = run(stable_order(sums[c], descending=descending), rows).mean(axis=0)
        results[metric, "global_per_class"] = by_class
        if progress is not None:
            progress(1)

    rng = np.random.default_rng(seed)
    random_curves = [per_class(run(rng.permutation(n_genes))) for _ in range(n_random)]
    random_curves = np.asarray(random_curves).reshape(n_random, n_classes, n_genes // gap)

    with torch.no_grad():
        b = torch.as_tensor(np.asarray(baseline, dtype=np.float32))[None]
        f_base = torch.softmax(model(b).double(), dim=-1)[0].numpy()
    present = np.unique(groups)
    names = [str(class_names[c]) for c in present]
    rows: list[tuple[str, str, float]] = []
    curves: list[pd.DataFrame] = []
    steps = gap * np.arange(1, n_genes // gap + 1)

    def add(metric: str, variant: str, class_curves: np.ndarray) -> None:
        """Rows for per-class curves ``(n_classes, n_steps)`` (area = PG)."""
        pg = 100 * scale * class_curves[present].sum(axis=1)
        add_rows(metric, variant, pg)
        if metric == "pgu":
            with np.errstate(divide="ignore", invalid="ignore"):
                add_rows("pgu_adjusted", variant, pg / (1 - f_base[present]))

    def add_rows(metric: str, variant: str, values: np.ndarray) -> None:
        rows.append((metric, variant, float(np.mean(values))))
        rows.extend(
            (metric, f"{variant}:{name}", float(v)) for name, v in zip(names, values, strict=True)
        )

    for (metric, variant), class_curves in results.items():
        add(metric, variant, class_curves)
        curves.append(
            _curve(f"{metric}_{variant}", steps, 100 * class_curves[present].mean(axis=0))
        )
    if n_random:
        trials = 100 * scale * random_curves[:, present].sum(axis=2)  # (n_random, n_present)
        add_rows("pgr", "random", trials.mean(axis=0))
        balanced = 100 * random_curves[:, present].mean(axis=1)  # (n_random, n_steps)
        curves.append(_curve("pgr", steps, balanced.mean(axis=0), balanced.std(axis=0)))
    metrics = pd.DataFrame(rows, columns=["metric", "variant", "value"])
    return metrics, pd.concat(curves, ignore_index=True)


def _curve(
    name: str, n_genes: np.ndarray, value: np.ndarray, std: np.ndarray | None = None
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "curve": name,
            "n_genes": n_genes.astype(np.int64),
            "value": value,
            "std": np.nan if std is None else std,
        }
    )
