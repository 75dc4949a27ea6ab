"""The BIOMARKERS step: per dataset and class, are the top genes trustworthy markers?

The inputs are EVALUATE's outputs of every run (``dataset × model × seed ×
method``) of one dataset: the gene scores ``m_c`` (the class mean of the
L2-normalised attributions of the class's correctly classified explained
examples, signed) and the curves table with the per-class curves
``class_keep_best:<class>``, ``class_remove_best:<class>`` and
``class_random_removed:<class>`` (EVALUATE run with ``--biomarker-k`` equal
to ``k`` here); RANK_GENES' wilcoxon rankings (for the evidence columns);
the prepared file's genes, classes and, on simulations, truth.

Definitions (``G`` genes, ``k`` = ``top_k``; a run holds class ``c`` when its
gene scores have a row for ``c``, that is, a correctly classified example):

- **rank** of a gene in a run, for class ``c``: its position by ``|m_c|``,
  descending, ties by gene index (the prepared file's order); 1 = best. A
  run's **top k** are the genes of rank ``<= k``.
- **mean rank** and **rank std** (population, ``ddof=0``): over the runs of
  one method holding ``c``, all models and seeds. The **consensus top k** of
  a set of runs: the ``k`` genes of smallest mean rank over them, ties by
  gene index.

``biomarkers`` (:data:`genexai.keys.BIOMARKER_COLUMNS`, then ``informative``
where the truth is known), the primary method only: per class (class-index
order), its consensus top ``k`` over all the method's runs, ``rank`` 1…k by
mean rank; ``seed_fraction``: for each model, the fraction of its runs
(seeds) whose top k holds the gene, averaged over the models; ``model_fraction``:
the fraction of models whose own consensus top k (over their seeds) holds
it; ``n_runs``: runs holding the class; ``wilcoxon_logfc`` and
``wilcoxon_pval_adj``: the wilcoxon rankings' log2 fold change and BH-adjusted
p-value of the gene, class vs rest, training split; ``informative``: the gene
is truly informative for the task class
(:func:`genexai.metrics.class_informative`).

``verdict`` (:data:`genexai.keys.VERDICT_COLUMNS`): one row per method ×
class held by at least one of its runs (methods sorted by name, classes in
class-index order). Over the runs holding the class:

- ``n_runs``; ``n_examples``: mean number of correctly classified explained
  examples of the class per run (the curves rest on them);
- ``sufficient_k``: per run, the smallest ``n_genes`` of
  ``class_keep_best`` whose value is at least the sufficiency threshold
  (never reached: +∞); the median over runs; NA when that median is +∞;
- ``keep_accuracy``: ``class_keep_best`` at ``n_genes = k``; mean and
  ``keep_accuracy_std`` over runs (``ddof=0``), %;
- ``remove_drop``: ``100 − class_remove_best`` at ``n_genes = G − k``
  (the top ``k`` replaced by the baseline); mean and std over runs, points;
- ``random_drop``: ``100 − class_random_removed`` (``k`` random genes
  replaced); mean over runs, ``random_drop_std`` pooled over runs and draws
  (``sqrt(mean_r(std_r² + (mean_r − mean)²))``, the population std of every
  draw when each run has as many draws);
- ``stability``: for each model with at least 2 runs, the mean Jaccard index
  of the top-k sets over every pair of its runs (seeds); the mean over those
  models; NA when no model has 2;
- ``precision``: % of the consensus top k truly informative; NA without truth;
- ``pathway_agreement``: % of the class's over-expressed pathways among its
  best-scoring sets (:func:`genexai.metrics.pathways.pathway_agreement` of the
  set means of ``m_c`` averaged over the runs); NA unless the gene sets are
  the simulator's pathways (no ``gene_sets`` on a simulation) and the class
  has one;
- the booleans, from :class:`Thresholds` (nullable: ``stable`` and ``true``
  are NA where ``stability`` or ``precision`` is):
  ``sufficient``: ``keep_accuracy >= sufficiency`` (default 95 %);
  ``necessary``: ``remove_drop − random_drop >= necessity_margin`` (default
  10 points); ``stable``: ``stability >= stability`` (default 0.5);
  ``true``: ``precision >= truth`` (default 50 %);
- ``verdict``: phrases joined by ``"; "``, built from the booleans only:

  1. ``"sufficient and necessary"``; ``"sufficient but not necessary
     (redundant genes carry the signal)"``; ``"necessary but not
     sufficient"``; neither: ``"no better than random"`` when
     ``remove_drop <= random_drop``, else ``"neither sufficient nor
     necessary"``;
  2. ``"stable across seeds"``, ``"unstable across seeds"`` or
     ``"stability unknown (fewer than 2 seeds)"``;
  3. where the truth is known: ``"true markers"`` or ``"not true markers"``.

``pathways`` (:data:`genexai.keys.PATHWAY_COLUMNS`, then ``over_expressed``
with the simulator's pathways): one row per method × model × class × gene set
(sets in their order), over the model's runs (seeds) of the method holding
the class: ``set_size``: the set's genes as listed (found in the data or
not); ``n_not_found``: those not among the dataset's genes (one warning
is logged when any is); ``n_top``: genes of the consensus top k (of those runs)
in the set; ``score_sum``, ``score_mean``: sum and mean of ``m_c`` (signed,
averaged over the runs) over the set's genes found (``score_mean`` NaN when
none is); ``p_value``: hypergeometric ``P(X >= n_top)``, universe the ``G``
genes (a set with no gene found: 1); ``p_adj``: Benjamini–Hochberg within
method × model × class over the sets with a gene found; ``rank``:
by ``score_mean`` descending within method × model × class (ties by set
order, NaN last); ``over_expressed``: the simulator over-expresses the
pathway in the class. The gene sets are ``gene_sets`` (a GMT file), else on
simulations the simulator's pathways
(:func:`genexai.metrics.pathways.simulated_gene_sets`); without either the
table is empty (its header only).

Every run's gene scores must hold at least one class, and its curves table
every class it holds, with the points at ``k`` and ``G − k``; thresholds
are compared with ``>=`` on the figures as computed (float64).
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse

from . import io, keys
from ._defaults import BIOMARKER_TOP_K, PRIMARY_METHOD, THRESHOLDS, Thresholds
from .errors import InputError
from .metrics import class_informative, stable_order
from .metrics.pathways import (
    over_representation,
    pathway_agreement,
    set_scores,
    simulated_gene_sets,
)

__all__ = [
    "BIOMARKER_TOP_K",
    "PRIMARY_METHOD",
    "THRESHOLDS",
    "BiomarkerResult",
    "Thresholds",
    "biomarkers",
    "gene_ranks",
    "read_curves",
    "verdict_text",
]

log = logging.getLogger(__name__)

#: The per-class curves of EVALUATE this step reads (``<curve>:<class>``).
KEEP, REMOVE, RANDOM = "class_keep_best", "class_remove_best", "class_random_removed"


@dataclass(frozen=True)
class BiomarkerResult:
    """The tables written by BIOMARKERS (module docstring).

    Attributes
    ----------
    biomarkers
        :data:`genexai.keys.BIOMARKER_COLUMNS` (+ ``informative``): ``rank``,
        ``n_runs`` int64, the other numbers float64.
    verdict
        :data:`genexai.keys.VERDICT_COLUMNS`: ``k``, ``n_runs`` int64; the
        figures float64 (NaN where undefined); the booleans nullable
        (``"boolean"``); ``verdict`` str.
    pathways
        :data:`genexai.keys.PATHWAY_COLUMNS` (+ ``over_expressed``):
        ``set_size``, ``n_not_found``, ``n_top``, ``rank`` int64; scores and
        p-values float64. Only its columns without gene sets.
    """

    biomarkers: pd.DataFrame
    verdict: pd.DataFrame
    pathways: pd.DataFrame


@dataclass(frozen=True)
class _Run:
    """One run's gene scores in the prepared file's gene order."""

    method: str
    model: str
    seed: int
    classes: tuple[int, ...]  # task class index of each row
    scores: np.ndarray  # (n_rows, G) float64, m_c
    ranks: np.ndarray  # (n_rows, G) int64, 1 = best
    n_examples: np.ndarray  # (n_rows,) int64


def gene_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank of each gene by ``|score|``, descending, ties by gene index; 1 = best.

    Parameters
    ----------
    scores
        ``(n_rows, n_genes)`` float, finite.

    Returns
    -------
    ``(n_rows, n_genes)`` int64.
    """
    order = stable_order(np.abs(np.asarray(scores, dtype=np.float64)), descending=True)
    ranks = np.empty_like(order)
    positions = np.broadcast_to(np.arange(1, order.shape[-1] + 1), order.shape)
    np.put_along_axis(ranks, order, positions, axis=-1)
    return ranks


def verdict_text(
    *,
    sufficient: bool,
    necessary: bool,
    stable: bool | None,
    true: bool | None,
    no_better_than_random: bool,
) -> str:
    """The verdict of one method × class from its booleans (module docstring).

    ``stable`` and ``true`` are None where undefined; ``no_better_than_random``:
    ``remove_drop <= random_drop``.
    """
    if sufficient and necessary:
        phrases = ["sufficient and necessary"]
    elif sufficient:
        phrases = ["sufficient but not necessary (redundant genes carry the signal)"]
    elif necessary:
        phrases = ["necessary but not sufficient"]
    elif no_better_than_random:
        phrases = ["no better than random"]
    else:
        phrases = ["neither sufficient nor necessary"]
    phrases.append(
        "stability unknown (fewer than 2 seeds)"
        if stable is None
        else "stable across seeds"
        if stable
        else "unstable across seeds"
    )
    if true is not None:
        phrases.append("true markers" if true else "not true markers")
    return "; ".join(phrases)


def biomarkers(
    prepared: ad.AnnData,
    gene_scores: Sequence[ad.AnnData],
    curves: Sequence[pd.DataFrame],
    rankings: ad.AnnData,
    *,
    dataset: str,
    gene_sets: io.GeneSets | None = None,
    primary_method: str = PRIMARY_METHOD,
    top_k: int = BIOMARKER_TOP_K,
    thresholds: Thresholds = THRESHOLDS,
    where: Sequence[str] | None = None,
    curves_where: Sequence[str] | None = None,
) -> BiomarkerResult:
    """Per-class evidence, verdict and pathway scores of one dataset (module docstring).

    Parameters
    ----------
    prepared
        The prepared data; only ``var_names``, the categories of
        ``obs["label"]``, ``varm["informative"]`` (truth) and ``uns`` are read
        (:func:`genexai.io.read_annotations` reads them without ``X``).
    gene_scores
        EVALUATE's gene scores of every run of the dataset (distinct
        ``method, model, seed``), on the prepared file's genes.
    curves
        EVALUATE's curves tables (:data:`genexai.keys.CURVE_COLUMNS`) of the
        same runs, with the per-class curves.
    rankings
        RANK_GENES' wilcoxon rankings: classes × genes, ``layers["logfoldchanges"]``
        and ``layers["pvals_adj"]``.
    dataset
        The dataset id; every input must be of it.
    gene_sets
        Gene sets to score (a GMT file's). Default: the simulator's pathways
        on a simulation, else none.
    primary_method
        The method of ``biomarkers``.
    top_k
        ``k``, genes per class; below the number of genes.
    thresholds
        The verdict's thresholds.
    where, curves_where
        Names of the gene scores and curves tables in error messages
        (usually their files). Default: ``gene_scores[<i>]``, ``curves[<i>]``.

    Returns
    -------
    :class:`BiomarkerResult`.

    Raises
    ------
    InputError
        No gene scores; ``primary_method`` not among their methods; inputs of
        another dataset, with other genes or classes; two gene scores of one
        run; a run without its per-class curves, or without their point at
        ``k``; ``top_k`` below 1.
    """
    genes = prepared.var_names.astype(str)
    classes = io.class_names(prepared, where="prepared")
    n_genes = len(genes)
    if top_k < 1 or n_genes < 2:
        msg = f"--top-k: {top_k}; expected at least 1, on at least 2 genes (found {n_genes})"
        raise InputError(msg)
    # As EVALUATE's class curves (genexai.metrics.curves.class_curves): some gene
    # is always kept, so a dataset of at most k genes is judged on its G - 1 best.
    top_k = min(top_k, n_genes - 1)
    if where is None:
        where = [f"gene_scores[{i}]" for i in range(len(gene_scores))]
    if curves_where is None:
        curves_where = [f"curves[{i}]" for i in range(len(curves))]
    runs = _runs(gene_scores, where, genes=genes, classes=classes, dataset=dataset)
    methods = sorted({run.method for run in runs})
    if primary_method not in methods:
        msg = f"--primary-method: {primary_method!r} has no gene scores; found methods {methods}"
        raise InputError(msg)
    points = _curve_points(
        curves, curves_where, runs, classes=classes, dataset=dataset, n_genes=n_genes, k=top_k
    )
    truth = None
    if keys.INFORMATIVE in prepared.varm:
        informative = np.asarray(prepared.varm[keys.INFORMATIVE], dtype=bool)
        truth = class_informative(informative.reshape(n_genes, -1), n_classes=len(classes))
    sets = _gene_sets(prepared, gene_sets)
    table = _biomarker_table(
        [run for run in runs if run.method == primary_method],
        _wilcoxon(rankings, genes=genes, classes=classes, dataset=dataset),
        genes=genes,
        classes=classes,
        truth=truth,
        k=top_k,
    )
    verdict = _verdict_table(
        runs, points, methods, classes=classes, truth=truth, sets=sets, k=top_k, t=thresholds
    )
    pathways = _pathway_table(runs, methods, classes=classes, sets=sets, k=top_k)
    context = {"dataset": dataset}
    return BiomarkerResult(
        biomarkers=table.assign(**context)[_columns(keys.BIOMARKER_COLUMNS, table)],
        verdict=verdict.assign(**context)[list(keys.VERDICT_COLUMNS)],
        pathways=pathways.assign(**context)[_columns(keys.PATHWAY_COLUMNS, pathways)],
    )


def read_curves(path: str | os.PathLike) -> pd.DataFrame:
    """An EVALUATE curves table (:data:`genexai.keys.CURVE_COLUMNS`), names as text.

    Raises :class:`InputError` for a file that is not a tab-separated table.
    """
    try:
        return pd.read_csv(
            path,
            sep="\t",
            dtype={c: str for c in ("dataset", "model", "method", "curve")},
            keep_default_na=False,
            na_values={"value": [""], "std": [""]},
        )
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        msg = f"{path}: not a curves table ({exc.__class__.__name__}: {exc})"
        raise InputError(msg.splitlines()[0]) from None


def _columns(columns: tuple[str, ...], table: pd.DataFrame) -> list[str]:
    """``columns`` then the truth column, where ``table`` has it."""
    extra = [c for c in (keys.INFORMATIVE, keys.OVER_EXPRESSED) if c in table]
    return [*columns, *extra]


def _runs(
    gene_scores: Sequence[ad.AnnData],
    where: Sequence[str],
    *,
    genes: pd.Index,
    classes: list[str],
    dataset: str,
) -> list[_Run]:
    """Every run's gene scores, checked, in the prepared gene order, sorted."""
    if not gene_scores:
        msg = "--gene-scores: no gene scores; expected EVALUATE's of every run of the dataset"
        raise InputError(msg)
    runs = []
    for adata, name in zip(gene_scores, where, strict=True):
        params = adata.uns.get(keys.UNS, {}).get(keys.EVALUATE, {})
        for key in (keys.DATASET, keys.MODEL, keys.SEED, keys.METHOD):
            if key not in params:
                msg = f"{name}: uns[{keys.UNS!r}][{keys.EVALUATE!r}][{key!r}] is missing"
                raise InputError(msg)
        if str(params[keys.DATASET]) != dataset:
            msg = f"{name}: dataset {params[keys.DATASET]!r}, expected {dataset!r} (--dataset)"
            raise InputError(msg)
        if adata.n_obs == 0:
            msg = f"{name}: no class; expected the scores of at least one"
            raise InputError(msg)
        if keys.N_EXAMPLES not in adata.obs:
            msg = f"{name}: obs[{keys.N_EXAMPLES!r}] is missing"
            raise InputError(msg)
        unknown = [c for c in adata.obs_names if c not in classes]
        if unknown:
            msg = f"{name}: class {unknown[0]!r} is not one of the prepared classes {classes}"
            raise InputError(msg)
        order = io.name_order(adata.var_names, genes, where=name, against="the prepared data")
        scores = io.dense_rows(adata.X, dtype=np.float64)
        if order is not None:
            scores = scores[:, order]
        runs.append(
            _Run(
                method=str(params[keys.METHOD]),
                model=str(params[keys.MODEL]),
                seed=int(params[keys.SEED]),
                classes=tuple(classes.index(c) for c in adata.obs_names),
                scores=scores,
                ranks=gene_ranks(scores),
                n_examples=adata.obs[keys.N_EXAMPLES].to_numpy(np.int64),
            )
        )
    runs.sort(key=lambda r: (r.method, r.model, r.seed))
    for a, b in itertools.pairwise(runs):
        if (a.method, a.model, a.seed) == (b.method, b.model, b.seed):
            msg = (
                f"--gene-scores: two inputs hold method {a.method!r} model {a.model!r} "
                f"seed {a.seed}; expected distinct runs"
            )
            raise InputError(msg)
    return runs


def _curve_points(
    curves: Sequence[pd.DataFrame],
    where: Sequence[str],
    runs: list[_Run],
    *,
    classes: list[str],
    dataset: str,
    n_genes: int,
    k: int,
) -> dict[tuple[str, str, int, int], dict[str, object]]:
    """Per run and class held: the keep curve, and the points at ``k`` and ``G − k``.

    Returns ``{(method, model, seed, class index): {"keep": (n_genes, value)
    arrays, "keep_k", "remove", "random", "random_std": float}}``.
    """
    frames = []
    for table, name in zip(curves, where, strict=True):
        missing = [c for c in keys.CURVE_COLUMNS if c not in table]
        if missing:
            msg = f"{name}: missing column(s) {missing}; expected {list(keys.CURVE_COLUMNS)}"
            raise InputError(msg)
        other = sorted(set(table["dataset"].astype(str)) - {dataset})
        if other:
            msg = f"{name}: dataset {other[0]!r}, expected {dataset!r} (--dataset)"
            raise InputError(msg)
        parts = table["curve"].astype(str).str.partition(":")
        chosen = parts[0].isin([KEEP, REMOVE, RANDOM]).to_numpy()
        try:
            frames.append(
                pd.DataFrame(
                    {
                        "method": table["method"].astype(str).to_numpy()[chosen],
                        "model": table["model"].astype(str).to_numpy()[chosen],
                        "seed": table["seed"].to_numpy(np.int64)[chosen],
                        "kind": parts[0].to_numpy()[chosen],
                        "class": parts[2].to_numpy()[chosen],
                        "n_genes": table["n_genes"].to_numpy(np.int64)[chosen],
                        "value": table["value"].to_numpy(np.float64)[chosen],
                        "std": table["std"].to_numpy(np.float64)[chosen],
                    }
                )
            )
        except (TypeError, ValueError) as exc:
            msg = f"{name}: seed, n_genes, value or std is not a number ({exc})"
            raise InputError(msg.splitlines()[0]) from None
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    groups = (
        {key: group for key, group in rows.groupby(["method", "model", "seed", "kind", "class"])}
        if len(rows)
        else {}
    )
    points = {}
    for run in runs:
        for c in run.classes:
            name = f"method {run.method!r} model {run.model!r} seed {run.seed}"
            found = {}
            for kind, at in ((KEEP, k), (REMOVE, n_genes - k), (RANDOM, n_genes - k)):
                group = groups.get((run.method, run.model, run.seed, kind, classes[c]))
                if group is None:
                    msg = (
                        f"--curves: no {kind}:{classes[c]} rows for {name}; expected "
                        "EVALUATE's curves of every run of the gene scores"
                    )
                    raise InputError(msg)
                found[kind] = group.sort_values("n_genes", kind="stable")
                if not (found[kind]["n_genes"] == at).any():
                    msg = (
                        f"--curves: {kind}:{classes[c]} of {name} has no point at n_genes "
                        f"{at}; expected EVALUATE run with --biomarker-k {k} (--top-k)"
                    )
                    raise InputError(msg)
            keep, remove, random = found[KEEP], found[REMOVE], found[RANDOM]
            random_at = random[random["n_genes"] == n_genes - k].iloc[0]
            points[(run.method, run.model, run.seed, c)] = {
                "keep": (keep["n_genes"].to_numpy(), keep["value"].to_numpy()),
                "keep_k": float(keep.loc[keep["n_genes"] == k, "value"].iloc[0]),
                "remove": float(remove.loc[remove["n_genes"] == n_genes - k, "value"].iloc[0]),
                "random": float(random_at["value"]),
                "random_std": float(random_at["std"]),
            }
    return points


def _wilcoxon(
    rankings: ad.AnnData, *, genes: pd.Index, classes: list[str], dataset: str
) -> tuple[np.ndarray, np.ndarray]:
    """The wilcoxon log fold changes and adjusted p-values, ``(n_classes, G)`` float64."""
    params = rankings.uns.get(keys.UNS, {}).get(keys.RANK_GENES, {})
    method = params.get(keys.METHOD)
    if method is not None and str(method) != "wilcoxon":
        msg = f"--rankings: method {method!r}, expected the wilcoxon rankings"
        raise InputError(msg)
    found = params.get(keys.DATASET)
    if found is not None and str(found) != dataset:
        msg = f"--rankings: dataset {found!r}, expected {dataset!r} (--dataset)"
        raise InputError(msg)
    for layer in (keys.LOGFOLDCHANGES, keys.PVALS_ADJ):
        if layer not in rankings.layers:
            msg = f"--rankings: layers[{layer!r}] is missing; expected the wilcoxon rankings"
            raise InputError(msg)
    if list(rankings.obs_names.astype(str)) != classes:
        msg = (
            f"--rankings: classes {list(rankings.obs_names)}, expected the prepared "
            f"classes {classes} in order"
        )
        raise InputError(msg)
    aligned = io.align_genes(rankings, list(genes), where="--rankings")
    return tuple(
        io.dense_rows(aligned.layers[layer], dtype=np.float64)
        for layer in (keys.LOGFOLDCHANGES, keys.PVALS_ADJ)
    )


def _class_rows(runs: list[_Run], c: int) -> tuple[list[_Run], np.ndarray, np.ndarray]:
    """The runs holding class ``c``, their ``m_c`` and ranks, ``(n_runs, G)``."""
    held = [run for run in runs if c in run.classes]
    rows = [run.classes.index(c) for run in held]
    scores = np.array([run.scores[i] for run, i in zip(held, rows, strict=True)])
    ranks = np.array([run.ranks[i] for run, i in zip(held, rows, strict=True)])
    return held, scores, ranks


def _consensus(ranks: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` genes of smallest mean rank over the rows, ties by gene index."""
    return stable_order(ranks.mean(axis=0), descending=False)[:k]


def _by_model(held: list[_Run]) -> dict[str, np.ndarray]:
    """Row indices of each model's runs, models sorted."""
    models = np.array([run.model for run in held])
    return {m: np.flatnonzero(models == m) for m in sorted(set(models))}


def _stability(top: np.ndarray, models: dict[str, np.ndarray], k: int) -> float:
    """Mean over models (with 2+ runs) of the mean pairwise Jaccard of the top-k sets."""
    per_model = []
    for rows in models.values():
        if len(rows) < 2:
            continue
        inter = top[rows].astype(np.int64) @ top[rows].T.astype(np.int64)
        pairs = np.triu_indices(len(rows), k=1)
        per_model.append(float(np.mean(inter[pairs] / (2 * k - inter[pairs]))))
    return float(np.mean(per_model)) if per_model else np.nan


def _biomarker_table(
    runs: list[_Run],
    wilcoxon: tuple[np.ndarray, np.ndarray],
    *,
    genes: pd.Index,
    classes: list[str],
    truth: np.ndarray | None,
    k: int,
) -> pd.DataFrame:
    """The primary method's consensus top k of every class (module docstring)."""
    logfc, padj = wilcoxon
    parts = []
    for c in range(len(classes)):
        held, _, ranks = _class_rows(runs, c)
        if not held:
            continue
        top = _consensus(ranks, k)
        in_top = ranks <= k
        models = _by_model(held)
        seed_fraction = np.mean([in_top[rows].mean(axis=0) for rows in models.values()], axis=0)
        model_top = np.zeros((len(models), len(genes)), dtype=bool)
        for i, rows in enumerate(models.values()):
            model_top[i, _consensus(ranks[rows], k)] = True
        columns = {
            "method": held[0].method,
            "class": classes[c],
            "rank": np.arange(1, k + 1, dtype=np.int64),
            "gene": np.asarray(genes)[top],
            "mean_rank": ranks.mean(axis=0)[top],
            "rank_std": ranks.std(axis=0)[top],
            "seed_fraction": seed_fraction[top],
            "model_fraction": model_top.mean(axis=0)[top],
            "n_runs": np.int64(len(held)),
            "wilcoxon_logfc": logfc[c, top],
            "wilcoxon_pval_adj": padj[c, top],
        }
        if truth is not None:
            columns[keys.INFORMATIVE] = truth[c, top]
        parts.append(pd.DataFrame(columns))
    return pd.concat(parts, ignore_index=True)


def _verdict_table(
    runs: list[_Run],
    points: dict[tuple[str, str, int, int], dict[str, object]],
    methods: list[str],
    *,
    classes: list[str],
    truth: np.ndarray | None,
    sets: _Sets | None,
    k: int,
    t: Thresholds,
) -> pd.DataFrame:
    """One row per method × class held (module docstring)."""
    records = []
    for method in methods:
        of_method = [run for run in runs if run.method == method]
        for c in range(len(classes)):
            held, scores, ranks = _class_rows(of_method, c)
            if not held:
                continue
            run_points = [points[(run.method, run.model, run.seed, c)] for run in held]
            keep = np.array([p["keep_k"] for p in run_points])
            remove = 100 - np.array([p["remove"] for p in run_points])
            random = 100 - np.array([p["random"] for p in run_points])
            random_std = np.array([p["random_std"] for p in run_points])
            first = [_first_at_least(*p["keep"], t.sufficiency) for p in run_points]
            sufficient_k = float(np.median(first))
            top = ranks <= k
            stability = _stability(top, _by_model(held), k)
            consensus = _consensus(ranks, k)
            precision = np.nan if truth is None else 100 * float(truth[c, consensus].mean())
            agreement = np.nan
            if sets is not None and sets.true is not None:
                means = set_scores(scores.mean(axis=0, keepdims=True), sets.membership)[1]
                agreement = float(pathway_agreement(means, sets.true[c : c + 1])[0])
            records.append(
                {
                    "method": method,
                    "class": classes[c],
                    "k": k,
                    "n_runs": len(held),
                    "n_examples": float(np.mean([r.n_examples[r.classes.index(c)] for r in held])),
                    "sufficient_k": sufficient_k if np.isfinite(sufficient_k) else np.nan,
                    "keep_accuracy": keep.mean(),
                    "keep_accuracy_std": keep.std(),
                    "remove_drop": remove.mean(),
                    "remove_drop_std": remove.std(),
                    "random_drop": random.mean(),
                    "random_drop_std": float(
                        np.sqrt(np.mean(random_std**2 + (random - random.mean()) ** 2))
                    ),
                    "stability": stability,
                    "precision": precision,
                    "pathway_agreement": agreement,
                }
            )
    table = pd.DataFrame(records)
    table = table.astype({"k": np.int64, "n_runs": np.int64})
    sufficient = table["keep_accuracy"] >= t.sufficiency
    necessary = table["remove_drop"] - table["random_drop"] >= t.necessity_margin
    table["sufficient"] = pd.array(sufficient, dtype="boolean")
    table["necessary"] = pd.array(necessary, dtype="boolean")
    table["stable"] = _nullable(table["stability"] >= t.stability, table["stability"])
    table["true"] = _nullable(table["precision"] >= t.truth, table["precision"])
    table["verdict"] = [
        verdict_text(
            sufficient=bool(row.sufficient),
            necessary=bool(row.necessary),
            stable=None if pd.isna(row.stable) else bool(row.stable),
            true=None if pd.isna(row.true) else bool(row.true),
            no_better_than_random=bool(row.remove_drop <= row.random_drop),
        )
        for row in table.itertuples()
    ]
    return table


def _first_at_least(n_genes: np.ndarray, values: np.ndarray, threshold: float) -> float:
    """The smallest ``n_genes`` whose value is ``>= threshold``; +∞ if none."""
    reached = n_genes[values >= threshold]
    return float(reached.min()) if len(reached) else np.inf


def _nullable(flags: pd.Series, figure: pd.Series) -> pd.arrays.BooleanArray:
    """``flags`` as a nullable boolean array, NA where ``figure`` is NaN."""
    values = pd.array(flags, dtype="boolean")
    values[figure.isna().to_numpy()] = pd.NA
    return values


@dataclass(frozen=True)
class _Sets:
    """Gene sets over the prepared genes."""

    names: tuple[str, ...]
    sizes: np.ndarray  # (n_sets,) int64
    membership: scipy.sparse.csr_array  # bool (n_sets, G)
    n_not_found: np.ndarray  # (n_sets,) int64
    true: np.ndarray | None  # (n_classes, n_sets) bool, the simulator's; None for a GMT


def _gene_sets(prepared: ad.AnnData, gene_sets: io.GeneSets | None) -> _Sets | None:
    """``gene_sets``, else the simulator's pathways on a simulation, over the genes."""
    true = None
    if gene_sets is None:
        if keys.SIMULATE not in prepared.uns.get(keys.UNS, {}):
            return None
        gene_sets, true = simulated_gene_sets(prepared, where="prepared")
    membership, n_not_found = gene_sets.membership(prepared.var_names, where="prepared")
    if n_not_found.any():
        log.warning(
            "%d gene(s) of %d of the %d gene sets of %s are not among the dataset's %d genes "
            "(column n_not_found)",
            int(n_not_found.sum()),
            int((n_not_found > 0).sum()),
            len(gene_sets.names),
            gene_sets.source,
            prepared.n_vars,
        )
    return _Sets(
        names=gene_sets.names,
        sizes=np.array([len(m) for m in gene_sets.members], dtype=np.int64),
        membership=membership,
        n_not_found=n_not_found,
        true=None if true is None else np.asarray(true, dtype=bool),
    )


def _pathway_table(
    runs: list[_Run], methods: list[str], *, classes: list[str], sets: _Sets | None, k: int
) -> pd.DataFrame:
    """One row per method × model × class × gene set (module docstring)."""
    empty = {c: [] for c in keys.PATHWAY_COLUMNS if c != "dataset"}
    if sets is None:
        return pd.DataFrame(empty)
    n_sets = len(sets.names)
    parts = []
    for method in methods:
        of_method = [run for run in runs if run.method == method]
        for model in sorted({run.model for run in of_method}):
            of_model = [run for run in of_method if run.model == model]
            held, means, top = [], [], []
            for c in range(len(classes)):
                present, scores, ranks = _class_rows(of_model, c)
                if not present:
                    continue
                held.append(c)
                means.append(scores.mean(axis=0))
                row = np.zeros(ranks.shape[1], dtype=bool)
                row[_consensus(ranks, k)] = True
                top.append(row)
            means, top = np.array(means), np.array(top)
            sums, set_means = set_scores(means, sets.membership)
            pvals, padj = over_representation(top, sets.membership)
            n_top = (sets.membership.astype(np.int64) @ top.T.astype(np.int64)).T
            order = stable_order(np.where(np.isnan(set_means), -np.inf, set_means), descending=True)
            rank = np.empty_like(order)
            np.put_along_axis(
                rank, order, np.broadcast_to(np.arange(1, n_sets + 1), order.shape), axis=1
            )
            columns = {
                "method": method,
                "model": model,
                "class": np.repeat([classes[c] for c in held], n_sets),
                "gene_set": np.tile(sets.names, len(held)),
                "set_size": np.tile(sets.sizes, len(held)),
                "n_not_found": np.tile(sets.n_not_found, len(held)),
                "n_top": np.asarray(n_top, dtype=np.int64).ravel(),
                "score_sum": sums.ravel(),
                "score_mean": set_means.ravel(),
                "p_value": pvals.ravel(),
                "p_adj": padj.ravel(),
                "rank": rank.ravel(),
            }
            if sets.true is not None:
                columns[keys.OVER_EXPRESSED] = sets.true[held].ravel()
            parts.append(pd.DataFrame(columns))
    return pd.concat(parts, ignore_index=True)
