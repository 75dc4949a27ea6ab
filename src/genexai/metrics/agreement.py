"""Feature agreement with the simulator's ground truth (method.md §7).

Informative set ``I_c`` of a studied class ``c``: the genes of ``c``'s
over-expressed pathways, plus those of the other class in a 2-class task
(33-class task: own genes only). When the task merges generated subclasses
(SimuB/C: ``n_subclasses != n_classes``), examples are relabelled with
their subclass, the studied groups are subclasses ``0 … n_subclasses − 2``
and each adds the genes of the last subclass (the other task class).
``k_c = |I_c|``.

The attributions of the correctly classified examples are optionally
diffused (``a ← a Â``), then L2-normalised per example.

- ``local``: ``mean_i |top_{k_c}(a_i) ∩ I_c| / k_c`` over the examples of
  ``c`` (signed attribution, descending);
- ``global_mean_score``: ``|top_{k_c}(Σ_{i∈c} a_i) ∩ I_c| / k_c``;
- ``global_intersect``: the same with the ``k_c`` genes found most often in
  the examples' top-``k_c`` lists;
- ``fa_precision@k``: ``|top_k(Σ_{i∈c} a_i) ∩ I_c| / k``;
- ``fa_auroc``: area under the ROC curve of ``Σ_{i∈c} a_i`` against ``I_c``
  (:func:`sklearn.metrics.roc_auc_score`, in [0, 1]).

Each is averaged over the studied groups; all but ``fa_auroc`` are in percent.
Ties are broken by gene index (counts in ``global_intersect`` included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.metrics import roc_auc_score

from ..errors import InputError
from ._common import group_means, normalize_rows, stable_order


@dataclass(frozen=True)
class GroundTruth:
    """Which examples form which studied group, and each group's informative genes.

    Attributes
    ----------
    groups
        ``(n_obs,)`` int64: group index of each example, -1 if not studied.
    names
        Group names (classes, or subclasses in the subclass case).
    sets
        ``(n_groups, n_genes)`` bool: ``I_c``.
    """

    groups: np.ndarray
    names: list[str]
    sets: np.ndarray


def ground_truth(
    informative: np.ndarray,
    labels: np.ndarray,
    *,
    n_classes: int,
    subclasses: np.ndarray | None = None,
    subclass_names: Sequence[str] | None = None,
    class_names: Sequence[str],
    where: str = "attributions",
) -> GroundTruth:
    """The studied groups and their informative sets ``I_c`` (the §7 rule).

    Parameters
    ----------
    informative
        ``(n_genes, n_subclasses)`` bool: column ``j`` marks the genes of
        generated class ``j``'s over-expressed pathways.
    labels
        ``(n_obs,)`` int: task class of each example.
    n_classes
        Classes of the task.
    subclasses
        ``(n_obs,)`` int: generated class of each example, if known.
    subclass_names, class_names
        Names of the subclasses (when ``subclasses`` is given) and classes.
    where
        Name of the input, for error messages.

    Returns
    -------
    :class:`GroundTruth`; the studied groups are those present in ``labels``
    (or ``subclasses``).
    """
    informative = np.asarray(informative, dtype=bool)
    n_sub = informative.shape[1]
    labels = np.asarray(labels, dtype=np.int64)
    if n_sub != n_classes:
        if subclasses is None or subclass_names is None:
            msg = (
                f"{where}: varm['informative'] has {n_sub} columns for {n_classes} classes, "
                "and obs['subclass'] is missing to map them"
            )
            raise InputError(msg)
        groups = np.asarray(subclasses, dtype=np.int64).copy()
        groups[groups >= n_sub - 1] = -1
        sets = informative[:, : n_sub - 1].T | informative[:, n_sub - 1]
        names = [str(s) for s in subclass_names[: n_sub - 1]]
    else:
        if subclasses is not None and not np.array_equal(subclasses, labels):
            msg = (
                f"{where}: obs['subclass'] differs from obs['label'], expected the same "
                "classes when there are as many subclasses as classes"
            )
            raise InputError(msg)
        groups = labels.copy()
        sets = class_informative(informative, n_classes=n_classes)
        names = [str(c) for c in class_names]
    present = np.zeros(len(names), dtype=bool)
    present[groups[groups >= 0]] = True
    remap = np.full(len(names) + 1, -1)  # the extra last entry maps -1 to -1
    remap[np.flatnonzero(present)] = np.arange(present.sum())
    return GroundTruth(
        groups=remap[groups],
        names=[n for n, p in zip(names, present, strict=True) if p],
        sets=sets[present],
    )


def class_informative(informative: np.ndarray, *, n_classes: int) -> np.ndarray:
    """``I_c`` of every task class, by the §7 rule at the level of task classes.

    Parameters
    ----------
    informative
        ``(n_genes, n_subclasses)`` bool.
    n_classes
        Classes of the task.

    Returns
    -------
    ``(n_classes, n_genes)`` bool. With as many subclasses as classes, class
    ``c`` is column ``c`` (with the other class's in a 2-class task).
    Otherwise the subclasses were merged into a 2-class task (method.md
    §1.6), so both classes' sets are every informative gene.
    """
    informative = np.asarray(informative, dtype=bool)
    if informative.shape[1] != n_classes:
        return np.broadcast_to(informative.any(axis=1), (n_classes, len(informative))).copy()
    sets = informative.T.copy()
    if n_classes == 2:
        sets |= sets[::-1]
    return sets


def diffuse(
    attributions: np.ndarray, adjacency: scipy.sparse.sparray | scipy.sparse.spmatrix
) -> np.ndarray:
    """``a Â`` (one hop on the gene graph), then L2-normalised rows.

    Parameters
    ----------
    attributions
        ``(n_obs, n_genes)`` float.
    adjacency
        ``(n_genes, n_genes)`` sparse, the normalised adjacency ``Â``.

    Returns
    -------
    ``(n_obs, n_genes)`` float32.
    """
    adjacency = scipy.sparse.csr_array(adjacency, dtype=np.float32)
    # a Â = (Âᵀ aᵀ)ᵀ; the sparse operand goes on the left for scipy's kernels.
    return normalize_rows((adjacency.T @ np.asarray(attributions, dtype=np.float32).T).T)


def top_k_hits(order: np.ndarray, sets: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """``|top_k ∩ I| / k`` for rows of orders.

    Parameters
    ----------
    order
        ``(n_rows, n_genes)`` int: genes, most important first.
    sets
        ``(n_rows, n_genes)`` bool: the informative set of each row.
    ks
        ``(n_rows,)`` int ≥ 1.

    Returns
    -------
    ``(n_rows,)`` float64 in [0, 1].
    """
    ks = np.asarray(ks)
    top = order[:, : ks.max()]
    hits = np.take_along_axis(sets, top, axis=1) & (np.arange(top.shape[1]) < ks[:, None])
    return hits.sum(axis=1) / ks


def feature_agreement(
    attributions: np.ndarray,
    truth: GroundTruth,
    *,
    precision_k: Sequence[int] = (10, 100),
    suffix: str = "",
    local: bool = True,
) -> pd.DataFrame:
    """FA (local, global mean-score and intersect), precision@k and AUROC.

    Parameters
    ----------
    attributions
        ``(n_obs, n_genes)`` float32: L2-normalised (and, if wanted,
        diffused) attributions of the correctly classified examples.
    truth
        Groups and informative sets for these rows (:func:`ground_truth`).
    precision_k
        Values of ``k`` for ``precision@k``. Default: (10, 100).
    suffix
        Appended to every variant name (``"_diffused"``). Default: none.
    local
        Whether to compute the variants built from each example's own top
        genes, ``local`` and ``global_intersect``; False for global-scope
        attributions, where every example of a class has the same row.
        Default: True.

    Returns
    -------
    Columns ``metric, variant, value``: ``fa`` with variants ``local``,
    ``global_mean_score``, ``global_intersect``; ``fa_precision@<k>`` and
    ``fa_auroc`` with variant ``global_mean_score`` (without ``local``:
    only the ``global_mean_score`` rows). Per-group rows have
    variant ``<variant>:<group name>``. Groups without examples are left out.
    """
    groups, sets = truth.groups, truth.sets
    n_groups, n_genes = sets.shape
    ks = sets.sum(axis=1)
    if (ks == 0).any():
        empty = truth.names[int(np.flatnonzero(ks == 0)[0])]
        msg = f"informative genes: group {empty!r} has none; expected at least one"
        raise InputError(msg)
    rows = np.flatnonzero(groups >= 0)
    present = np.bincount(groups[rows], minlength=n_groups) > 0
    g = groups[rows]
    mean_score = group_means(attributions[rows], g, n_groups)
    mean_order = stable_order(mean_score, descending=True)
    values: dict[tuple[str, str], np.ndarray] = {}
    if local:
        order = stable_order(attributions[rows], descending=True, k=int(ks.max()))
        values["fa", "local"] = group_means(top_k_hits(order, sets[g], ks[g]), g, n_groups)
    values["fa", "global_mean_score"] = top_k_hits(mean_order, sets, ks)
    if local:
        # How often each gene is in an example's top-k_c list, per group.
        top = order[:, : ks.max()]
        in_top = np.arange(top.shape[1]) < ks[g][:, None]
        flat = (g[:, None] * n_genes + top)[in_top]
        counts = np.bincount(flat, minlength=n_groups * n_genes).reshape(n_groups, n_genes)
        values["fa", "global_intersect"] = top_k_hits(
            stable_order(counts, descending=True), sets, ks
        )
    for k in precision_k:
        k = min(int(k), n_genes)
        values[f"fa_precision@{k}", "global_mean_score"] = top_k_hits(
            mean_order, sets, np.full(n_groups, k)
        )
    values = {key: 100 * v for key, v in values.items()}
    auroc = np.full(n_groups, np.nan)  # undefined when every gene is informative
    for c in np.flatnonzero(present & (ks < n_genes)):
        auroc[c] = roc_auc_score(sets[c], mean_score[c])
    values["fa_auroc", "global_mean_score"] = auroc
    table = []
    for (metric, variant), per_group in values.items():
        table += _rows(metric, variant + suffix, per_group, present, truth.names)
    return pd.DataFrame(table, columns=["metric", "variant", "value"])


def _rows(
    metric: str, variant: str, per_group: np.ndarray, present: np.ndarray, names: list[str]
) -> list[tuple[str, str, float]]:
    kept = np.flatnonzero(present)
    defined = per_group[kept][~np.isnan(per_group[kept])]
    rows = [(metric, variant, float(defined.mean()) if len(defined) else np.nan)]
    rows += [(metric, f"{variant}:{names[c]}", float(per_group[c])) for c in kept]
    return rows
