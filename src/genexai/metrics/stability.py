"""How stable gene rankings are across seeds of one model, and across models.

The paper's TCGA finding is that IG rankings are not robust; this makes it
measurable. Each attributions file gives global gene scores: ``|m_c|``, the
absolute class mean of the L2-normalised attributions of the correctly
classified examples of class ``c`` (method.md §8), and ``|m|`` over all of
them (``overall``). For every pair of files:

- ``jaccard@k``: ``|T_a ∩ T_b| / |T_a ∪ T_b|`` of the top-``k`` genes (ties by
  gene index);
- ``spearman``, ``kendall``: :func:`scipy.stats.spearmanr` and
  :func:`scipy.stats.kendalltau` (tau-b) of the scores.

Variants: ``overall``, ``class:<name>`` for each class both files have, and
``class_mean``, the mean of the per-class values.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import anndata as ad
import numpy as np
import pandas as pd
import scipy.stats

from .. import io, keys
from ..errors import InputError
from ._common import group_means, normalize_rows, stable_order


@dataclass(frozen=True)
class RunScores:
    """Global gene scores of one attributions file.

    Attributes
    ----------
    model, seed
        From ``uns["genexai"]["attribute"]`` (``arch``, ``seed``).
    scores
        Variants × genes, float64: ``overall`` then ``class:<name>`` for each
        class with a correctly classified example.
    """

    model: str
    seed: int
    scores: pd.DataFrame


def run_scores(adata: ad.AnnData, *, where: str) -> RunScores:
    """The global gene scores of one attributions file (see the module docstring)."""
    params = adata.uns.get(keys.UNS, {}).get(keys.ATTRIBUTE, {})
    for key in (keys.ARCH, keys.SEED):
        if key not in params:
            msg = f"{where}: uns[{keys.UNS!r}][{keys.ATTRIBUTE!r}][{key!r}] is missing"
            raise InputError(msg)
    if keys.CORRECT not in adata.obs:
        msg = f"{where}: obs[{keys.CORRECT!r}] is missing"
        raise InputError(msg)
    classes = io.class_names(adata, where=where)
    codes = adata.obs[keys.LABEL].cat.codes.to_numpy(np.int64)
    correct = adata.obs[keys.CORRECT].to_numpy(bool)
    if not correct.any():
        msg = f"{where}: no correctly classified example; expected at least one"
        raise InputError(msg)
    a = normalize_rows(np.asarray(adata.X)[correct])
    g = codes[correct]
    by_class = group_means(a, g, len(classes))
    present = np.unique(g)
    scores = np.abs(np.vstack([group_means(a, np.zeros(len(a), np.int64), 1), by_class[present]]))
    names = ["overall"] + [f"class:{classes[c]}" for c in present]
    return RunScores(
        model=str(params[keys.ARCH]),
        seed=int(params[keys.SEED]),
        scores=pd.DataFrame(scores, index=names, columns=adata.var_names.astype(str)),
    )


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


def stability(
    runs: Sequence[RunScores],
    *,
    dataset: str,
    top_k: Sequence[int] = (10, 100),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stability of the global gene scores between every pair of runs.

    Parameters
    ----------
    runs
        At least two, with distinct ``(model, seed)`` and the same genes.
    dataset
        Written in the ``dataset`` column.
    top_k
        Sizes of the top sets of ``jaccard@k``. Default: (10, 100).

    Returns
    -------
    pairs
        :data:`genexai.keys.STABILITY_COLUMNS`, one row per pair (runs sorted
        by model then seed; ``a`` before ``b``) × metric × variant.
    summary
        :data:`genexai.keys.STABILITY_SUMMARY_COLUMNS`: the mean over the pairs of each (unordered)
        model pair; ``model_a == model_b`` is the stability across seeds of
        one model.
    """
    if len(runs) < 2:
        msg = f"--input: expected at least 2 attributions files, found {len(runs)}"
        raise InputError(msg)
    runs = sorted(runs, key=lambda r: (r.model, r.seed))
    for a, b in itertools.pairwise(runs):
        if (a.model, a.seed) == (b.model, b.seed):
            msg = f"--input: two files hold model {a.model!r} seed {a.seed}; expected distinct runs"
            raise InputError(msg)
    genes = runs[0].scores.columns
    for run in runs[1:]:
        if not run.scores.columns.sort_values().equals(genes.sort_values()):
            msg = (
                f"--input: model {run.model!r} seed {run.seed} has other genes than "
                f"model {runs[0].model!r} seed {runs[0].seed}; expected the same genes"
            )
            raise InputError(msg)
    variants = list(dict.fromkeys(v for run in runs for v in run.scores.index))
    table = []
    for variant in variants:
        holders = [i for i, run in enumerate(runs) if variant in run.scores.index]
        stack = np.vstack([runs[i].scores.loc[variant, genes].to_numpy() for i in holders])
        for metric, matrix in pair_metrics(stack, top_k=top_k).items():
            for (p, i), (q, j) in itertools.combinations(enumerate(holders), 2):
                table.append(
                    (
                        runs[i].model,
                        runs[i].seed,
                        runs[j].model,
                        runs[j].seed,
                        metric,
                        variant,
                        float(matrix[p, q]),
                    )
                )
    pairs = pd.DataFrame(table, columns=list(keys.STABILITY_COLUMNS[1:]))
    per_class = pairs[pairs["variant"].str.startswith("class:")]
    pair_keys = ["model_a", "seed_a", "model_b", "seed_b", "metric"]
    class_mean = per_class.groupby(pair_keys, sort=False)["value"].mean().reset_index()
    pairs = pd.concat([pairs, class_mean.assign(variant="class_mean")], ignore_index=True)
    pairs.insert(0, "dataset", dataset)
    summary = (
        pairs.groupby(["dataset", "model_a", "model_b", "metric", "variant"], sort=False)["value"]
        .agg(n_pairs="count", value="mean")
        .reset_index()
    )
    return pairs[list(keys.STABILITY_COLUMNS)], summary[list(keys.STABILITY_SUMMARY_COLUMNS)]
