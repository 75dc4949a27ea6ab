"""Pairwise stability kernels of gene rankings (the STABILITY step is
:mod:`genexai.stability`).

For every pair of score vectors:

- ``jaccard@k``: ``|T_a ∩ T_b| / |T_a ∪ T_b|`` of the top-``k`` genes (ties by
  gene index);
- ``spearman``, ``kendall``: :func:`scipy.stats.spearmanr` and
  :func:`scipy.stats.kendalltau` (tau-b) of the scores.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import scipy.stats

from ._common import stable_order


def pair_metrics(scores: np.ndarray, *, top_k: Sequence[int]) -> dict[str, np.ndarray]:
    """Every pairwise stability metric of a stack of score vectors.

    Parameters
    ----------
    scores
        ``(n_runs, n_genes)`` float.
    top_k
        Sizes of the top sets of ``jaccard@k``.

    Returns
    -------
    ``{metric: (n_runs, n_runs) float64}`` for ``jaccard@<k>``,
    ``spearman`` and ``kendall`` (diagonal included).
    """
    n_runs, n_genes = scores.shape
    order = stable_order(scores, descending=True)
    out = {}
    for k in top_k:
        k = min(int(k), n_genes)
        top = np.zeros(scores.shape)
        np.put_along_axis(top, order[:, :k], 1.0, axis=1)
        inter = top @ top.T
        out[f"jaccard@{k}"] = inter / (2 * k - inter)
    ranks = scipy.stats.rankdata(scores, axis=1)
    ranks -= ranks.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(ranks, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["spearman"] = (ranks @ ranks.T) / np.outer(norms, norms)
    kendall = np.eye(n_runs)
    for i, j in itertools.combinations(range(n_runs), 2):
        kendall[i, j] = kendall[j, i] = scipy.stats.kendalltau(scores[i], scores[j]).statistic
    out["kendall"] = kendall
    return out
