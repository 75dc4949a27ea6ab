"""The STABILITY step: how stable gene rankings are across seeds of one model,
and across models.

The paper's TCGA finding is that IG rankings are not robust; this makes it
measurable. The input is EVALUATE's gene scores of every run of one dataset
(:attr:`genexai.evaluate.EvaluationResult.gene_scores`): ``|m_c|``, the
absolute class mean of the L2-normalised attributions of the correctly
classified examples of class ``c`` (method.md §8), and ``|m|`` over all of
them (``overall``). For every pair of runs, the kernels of
:func:`genexai.metrics.stability.pair_metrics`: ``jaccard@k`` of the top-``k``
genes, ``spearman`` and ``kendall`` of the scores.

Variants: ``overall``, ``class:<name>`` for each class both runs have, and
``class_mean``, the mean of the per-class values.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anndata as ad
import numpy as np
import pandas as pd

from . import io, keys
from .errors import InputError
from .metrics.stability import pair_metrics


@dataclass(frozen=True)
class RunScores:
    """Global gene scores of one run.

    Attributes
    ----------
    dataset, model, seed, method
        From ``uns["genexai"]["evaluate"]``.
    scores
        Variants × genes, float64: ``overall`` then ``class:<name>`` for each
        class of the gene scores (those with a correctly classified example).
    """

    dataset: str
    model: str
    seed: int
    method: str
    scores: pd.DataFrame


@dataclass(frozen=True)
class StabilityResult:
    """The tables written by STABILITY.

    Attributes
    ----------
    pairs
        :data:`genexai.keys.STABILITY_COLUMNS`, one row per pair of runs
        (runs sorted by model then seed; ``a`` before ``b``) × metric ×
        variant; ``seed_a``, ``seed_b`` int64, ``value`` float64.
    summary
        :data:`genexai.keys.STABILITY_SUMMARY_COLUMNS`, one row per model
        pair (``model_a <= model_b``; equal: the stability across seeds of
        one model) × metric × variant, sorted by them: ``n_pairs`` int64 (the
        pairs of runs), ``mean`` and ``std`` (population, ``ddof=0``) float64
        of their values.
    """

    pairs: pd.DataFrame
    summary: pd.DataFrame


def run_scores(gene_scores: ad.AnnData, *, where: str) -> RunScores:
    """The absolute global gene scores of one run's gene scores (see the module docstring).

    Parameters
    ----------
    gene_scores
        Classes × genes, ``X`` the signed class means ``m_c``,
        ``var["overall"]`` and ``uns["genexai"]["evaluate"]`` ``dataset``,
        ``model``, ``seed``, ``method``.
    where
        Names the input in error messages (usually its file).
    """
    params = gene_scores.uns.get(keys.UNS, {}).get(keys.EVALUATE, {})
    for key in (keys.DATASET, keys.MODEL, keys.SEED, keys.METHOD):
        if key not in params:
            msg = f"{where}: uns[{keys.UNS!r}][{keys.EVALUATE!r}][{key!r}] is missing"
            raise InputError(msg)
    if keys.OVERALL not in gene_scores.var:
        msg = f"{where}: var[{keys.OVERALL!r}] is missing"
        raise InputError(msg)
    if gene_scores.n_obs == 0:
        msg = f"{where}: no class; expected the scores of at least one"
        raise InputError(msg)
    overall = gene_scores.var[keys.OVERALL].to_numpy(np.float64)
    by_class = io.dense_rows(gene_scores.X, dtype=np.float64)
    names = ["overall"] + [f"class:{c}" for c in gene_scores.obs_names]
    return RunScores(
        dataset=str(params[keys.DATASET]),
        model=str(params[keys.MODEL]),
        seed=int(params[keys.SEED]),
        method=str(params[keys.METHOD]),
        scores=pd.DataFrame(
            np.abs(np.vstack([overall, by_class])),
            index=names,
            columns=gene_scores.var_names.astype(str),
        ),
    )


def progress_total(gene_scores: Sequence[ad.AnnData]) -> int:
    """Number of ``progress(1)`` calls :func:`stability` makes: one per variant
    (``overall`` and each class of any run)."""
    return 1 + len({str(c) for g in gene_scores for c in g.obs_names})


def stability(
    gene_scores: Sequence[ad.AnnData],
    *,
    top_k: Sequence[int] = (10, 100),
    where: Sequence[str] | None = None,
    progress: Callable[[int], object] | None = None,
) -> StabilityResult:
    """Stability of the global gene scores between every pair of runs.

    Parameters
    ----------
    gene_scores
        EVALUATE's gene scores of at least two runs of one dataset and
        method, with distinct ``(model, seed)`` and the same genes (matched
        by name). Methods are compared in BIOMARKERS and REPORT, not mixed here.
    top_k
        Sizes of the top sets of ``jaccard@k``. Default: (10, 100).
    where
        Names of the inputs in error messages (usually their files).
        Default: ``gene_scores[<i>]``.
    progress
        Called with 1 after each variant's pairs (:func:`progress_total` calls).

    Returns
    -------
    :class:`StabilityResult`.
    """
    if where is None:
        where = [f"gene_scores[{i}]" for i in range(len(gene_scores))]
    if len(gene_scores) < 2:
        msg = f"gene_scores: expected at least 2 runs, found {len(gene_scores)}"
        raise InputError(msg)
    runs = sorted(
        (run_scores(g, where=w) for g, w in zip(gene_scores, where, strict=True)),
        key=lambda r: (r.model, r.seed),
    )
    datasets = sorted({run.dataset for run in runs})
    if len(datasets) > 1:
        msg = f"gene_scores: expected runs of one dataset, found {datasets}"
        raise InputError(msg)
    methods = sorted({run.method for run in runs})
    if len(methods) > 1:
        msg = f"gene_scores: expected runs of one method, found {methods}"
        raise InputError(msg)
    for a, b in itertools.pairwise(runs):
        if (a.model, a.seed) == (b.model, b.seed):
            msg = (
                f"gene_scores: two inputs hold model {a.model!r} seed {a.seed}; "
                "expected distinct runs"
            )
            raise InputError(msg)
    genes = runs[0].scores.columns
    for run in runs[1:]:
        if not run.scores.columns.sort_values().equals(genes.sort_values()):
            msg = (
                f"gene_scores: model {run.model!r} seed {run.seed} has other genes than "
                f"model {runs[0].model!r} seed {runs[0].seed}; expected the same genes"
            )
            raise InputError(msg)
    pairs = _pairs(runs, genes, top_k=top_k, progress=progress)
    pairs.insert(0, "dataset", datasets[0])
    pairs.insert(1, "method", methods[0])
    # Runs are sorted by model, so model_a <= model_b: each model pair is one group.
    summary = (
        pairs.groupby(["dataset", "method", "model_a", "model_b", "metric", "variant"])["value"]
        .agg(n_pairs="count", mean="mean", std=lambda v: v.std(ddof=0))
        .reset_index()
    )
    return StabilityResult(
        pairs=pairs[list(keys.STABILITY_COLUMNS)],
        summary=summary[list(keys.STABILITY_SUMMARY_COLUMNS)],
    )


def _pairs(
    runs: list[RunScores],
    genes: pd.Index,
    *,
    top_k: Sequence[int],
    progress: Callable[[int], object] | None = None,
) -> pd.DataFrame:
    """Every metric of every pair of runs holding a variant, then ``class_mean``."""
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
        if progress is not None:
            progress(1)
    pairs = pd.DataFrame(table, columns=list(keys.STABILITY_COLUMNS[2:]))
    per_class = pairs[pairs["variant"].str.startswith("class:")]
    pair_keys = ["model_a", "seed_a", "model_b", "seed_b", "metric"]
    class_mean = per_class.groupby(pair_keys, sort=False)["value"].mean().reset_index()
    return pd.concat([pairs, class_mean.assign(variant="class_mean")], ignore_index=True)
