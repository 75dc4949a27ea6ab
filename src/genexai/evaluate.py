"""The EVALUATE step: every metric of one attributions file, as tidy tables.

Every table carries the run in its ``dataset``, ``model``, ``seed`` and
``method`` columns (the gene scores in ``uns["genexai"]["evaluate"]``), so
the steps after it never read them from file names.

(At about 600 lines this module is over the 500-line guide on purpose: the
step function, its input checks and the builders of its five output tables
are one contract, and read best in one file; the metrics are in
:mod:`genexai.metrics`.)

Metric rows (``metrics``; ``metric`` / ``variant``; values in percent unless
noted). Each aggregate row is the unweighted mean over classes (or, for FA
in the subclass case, subclasses) of the per-class values, which follow as
rows with variant ``<variant>:<class>``.

============================  ==========================================
metric                        variants
============================  ==========================================
``pgi``, ``pgu``,             ``local``, ``global_pooled``,
``pgu_adjusted``              ``global_per_class``
                              (:mod:`genexai.metrics.prediction_gaps`)
``pgr``                       ``random`` (mean over the random orders)
``openxai_pgi``,              ``local`` (:mod:`genexai.metrics.openxai`)
``openxai_pgu``
``fa``                        ``local``, ``global_mean_score``,
                              ``global_intersect``; simulations only
``fa_precision@<k>``,         ``global_mean_score``; ``fa_auroc`` in [0, 1]
``fa_auroc``                  (:mod:`genexai.metrics.agreement`)
============================  ==========================================

With a graph, every ``fa*`` variant is repeated with the suffix
``_diffused`` (attributions diffused by ``Â`` before normalising).

Global-scope attributions (``uns["genexai"]["attribute"]["scope"] ==
"global"``: the coefficients and the classical rankings, one score vector
per class) have no ``local`` PG variants, no OpenXAI rows, no ``fa``
``local``/``global_intersect`` rows (each is skipped, not computed and
dropped) and no completeness rows. A file without ``scope`` (written
before it existed) is local.

Curves (``curves``, :data:`genexai.keys.CURVE_COLUMNS`): ``keep_best``,
``remove_best``, ``random_kept`` (balanced accuracy, % against genes kept;
:mod:`genexai.metrics.curves`), the mean gap curves ``pgi_local``, …,
``pgr`` (against genes replaced; :mod:`genexai.metrics.prediction_gaps`),
and per class ``class_keep_best:<class>``, ``class_remove_best:<class>``,
``class_random_removed:<class>`` (% of the class's correctly classified
examples still predicted as the class, against genes kept;
:func:`genexai.metrics.curves.class_curves`, at ``biomarker_k`` and the gene
grid).

Top genes (``top_genes``, :data:`genexai.keys.TOP_GENES_COLUMNS` +
``informative``): per class, the ``top_n`` genes by ``|m_c|``, the class mean
of the normalised attributions of its correctly classified examples; the
``score`` column is ``m_c`` (signed).

Gene scores (``gene_scores``, the input of :mod:`genexai.stability`): an
AnnData classes × genes holding ``m_c`` of every class with a correctly
classified example, and ``var["overall"]``, ``m`` over all of them.

Completeness (``completeness``, :data:`genexai.keys.COMPLETENESS_COLUMNS`):
ATTRIBUTE's completeness delta and IG steps of every explained example.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import torch
from torch import nn

from . import __version__, io, keys
from ._defaults import BIOMARKER_TOP_K
from .errors import InputError
from .graph import Graph
from .metrics import (
    accuracy_curves,
    class_informative,
    diffuse,
    feature_agreement,
    ground_truth,
    normalize_rows,
    openxai_prediction_gaps,
    prediction_gaps,
)
from .metrics._common import group_means, stable_order, target_prob
from .metrics.curves import class_curves
from .models import model_meta

log = logging.getLogger(__name__)

#: Largest accepted difference between ``obs["target_prob"]`` and the
#: model's probability on the prepared data; more means mismatched files.
TARGET_PROB_TOLERANCE = 1e-3


@dataclass(frozen=True)
class EvaluationResult:
    """The tables written by EVALUATE.

    Attributes
    ----------
    metrics
        :data:`genexai.keys.METRIC_COLUMNS`; ``seed`` int64, ``value`` float64.
    curves
        :data:`genexai.keys.CURVE_COLUMNS`; ``n_genes`` int64, ``value`` and
        ``std`` float64 (``std`` NaN where a curve has none).
    top_genes
        :data:`genexai.keys.TOP_GENES_COLUMNS`, then ``informative`` (bool)
        for simulations; ``rank`` from 1.
    completeness
        :data:`genexai.keys.COMPLETENESS_COLUMNS`, one row per explained
        example: ``example`` its name, ``delta`` float64
        ``|sum(a) - (F(x) - F(b))|`` (probability units), ``n_steps`` Int64
        (NA where ATTRIBUTE did not record it). No rows when the
        attributions hold no ``obs["completeness_delta"]`` or are of the
        global scope.
    gene_scores
        Classes with a correctly classified example × genes (model order):
        ``X`` float64 ``m_c``, the class mean of the L2-normalised
        attributions of its correctly classified examples (signed; as
        ``top_genes``); ``obs["n_examples"]`` int64, those examples;
        ``var["overall"]`` float64, the same mean over every correctly
        classified example; ``uns["genexai"]["evaluate"]``: ``dataset``,
        ``model``, ``seed``, ``method``, ``version``.
    """

    metrics: pd.DataFrame
    curves: pd.DataFrame
    top_genes: pd.DataFrame
    completeness: pd.DataFrame
    gene_scores: ad.AnnData


#: ``uns["genexai"]["attribute"]["scope"]`` values (see :func:`attribution_scope`).
SCOPES = ("local", "global")


def attribution_scope(attributions: ad.AnnData) -> str:
    """``"local"`` or ``"global"``: the attributions' ``scope`` (missing = local).

    Raises :class:`InputError` for any other value.
    """
    params = attributions.uns.get(keys.UNS, {}).get(keys.ATTRIBUTE, {})
    scope = str(params.get(keys.SCOPE, "local"))
    if scope not in SCOPES:
        msg = (
            f"attributions: uns[{keys.UNS!r}][{keys.ATTRIBUTE!r}][{keys.SCOPE!r}]: "
            f"expected one of {list(SCOPES)}, found {scope!r}"
        )
        raise InputError(msg)
    return scope


def progress_total(*, n_random: int, curve_random: int, scope: str = "local") -> int:
    """Number of ``progress(1)`` calls :func:`evaluate` makes: the prediction-gap
    orders (two fewer for the global scope, without ``local``), the accuracy
    curves, the per-class curves, then OpenXAI's gaps (local scope only) and
    the feature agreement (1 each)."""
    local = scope == "local"
    return (4 + 2 * local + n_random) + 2 * (2 + curve_random) + (1 + local)


def evaluate(
    prepared: ad.AnnData,
    model: nn.Module,
    attributions: ad.AnnData,
    *,
    dataset: str,
    graph: Graph | None = None,
    gap: int = 10,
    n_random: int = 30,
    curve_random: int = 10,
    seed: int = 0,
    precision_k: Sequence[int] = (10, 100),
    top_n: int = 100,
    openxai_k: int = 100,
    openxai_sigma: float = 0.1,
    openxai_samples: int = 50,
    openxai_max_examples: int = 500,
    biomarker_k: int = BIOMARKER_TOP_K,
    batch_size: int = 64,
    progress: Callable[[int], Any] | None = None,
) -> EvaluationResult:
    """Evaluate one model's explanations (method.md §6–8).

    Parameters
    ----------
    prepared
        PREPARE's output; the explained rows are taken by ``obs_names``.
    model
        The explained model (:func:`genexai.models.load_model`), with
        ``model.genexai`` metadata ``genes``, ``classes``, ``arch``, ``seed``.
    attributions
        ATTRIBUTE's output: explained examples × genes, with ``obs``
        ``label``, ``correct``, ``target``, ``completeness_delta``,
        ``n_steps`` (and ``subclass``, ``varm["informative"]`` for
        simulations) and the baseline (and ``scope``, see
        :func:`attribution_scope`) in ``uns["genexai"]["attribute"]``.
    dataset
        Written in the ``dataset`` column of every table and in the gene
        scores' ``uns``.
    graph
        The normalised gene graph (:func:`genexai.graph.load_graph`), matched
        to the model's genes by name; adds the ``_diffused`` FA variants.
    gap
        Genes replaced per prediction-gap step. Default: 10.
    n_random
        Random orders of PGR. Default: 30.
    curve_random
        Random orders of the ``random_kept`` curve, and random draws of the
        ``class_random_removed`` curves. Default: 10.
    seed
        Seed of the random orders, the OpenXAI subset and noise, and the
        class curves' draws (four independent streams spawned from it).
        Default: 0.
    precision_k
        ``k`` values of ``fa_precision@k``. Default: (10, 100).
    top_n
        Genes per class in ``top_genes``. Default: 100.
    openxai_k, openxai_sigma, openxai_samples, openxai_max_examples
        :func:`genexai.metrics.openxai_prediction_gaps` ``k``, ``sigma``,
        ``n_samples``, ``max_examples``. Defaults: 100, 0.1, 50, 500.
    biomarker_k
        ``k`` of the per-class curves: the top-``k`` points of
        ``class_keep_best``/``class_remove_best`` and the ``k`` genes of
        ``class_random_removed``; at least 1, clamped to ``n_genes - 1``.
        Default: 20.
    batch_size
        Examples per batch of the prediction gaps (see
        :func:`genexai.metrics.gap_curves`). Default: 64.
    progress
        Called with 1 after each order or curve, OpenXAI's gaps and the
        feature agreement (:func:`progress_total` calls, with the
        attributions' scope).

    Returns
    -------
    :class:`EvaluationResult`.
    """
    _check_options(
        gap=gap,
        batch_size=batch_size,
        top_n=top_n,
        openxai_k=openxai_k,
        openxai_samples=openxai_samples,
        openxai_max_examples=openxai_max_examples,
        n_random=n_random,
        curve_random=curve_random,
        biomarker_k=biomarker_k,
    )
    scope = attribution_scope(attributions)
    local = scope == "local"
    if model.training:
        msg = "model: expected an eval-mode model (as load_model returns), found training mode"
        raise InputError(msg)
    genes, classes, meta = model_meta(model)
    if gap > len(genes):
        msg = f"gap: expected at most the number of genes ({len(genes)}), found {gap}"
        raise InputError(msg)
    att, baseline = _attributions(attributions, genes)
    x = _inputs(prepared, att, genes)
    labels = io.label_codes(att, classes, where="attributions")
    target = att.obs[keys.TARGET].to_numpy(np.int64)
    if ((target < 0) | (target >= len(classes))).any():
        msg = (
            f"attributions: obs[{keys.TARGET!r}]: expected class indices in "
            f"[0, {len(classes)}), found {target.min()}..{target.max()}"
        )
        raise InputError(msg)
    correct = att.obs[keys.CORRECT].to_numpy(bool)
    if not correct.any():
        msg = "attributions: no correctly classified example; every metric needs some"
        raise InputError(msg)
    missing = sorted(set(labels) - set(labels[correct]))
    if missing:
        log.warning(
            "classes without a correctly classified example are left out: %s",
            [classes[c] for c in missing],
        )
    a = io.dense_rows(att.X)
    _check_target_prob(att, model, x, target)

    # spawn(4)[:3] are the children spawn(3) gave before the class curves'
    # stream was added: the older streams, and their numbers, are unchanged.
    pg_rng, curve_rng, openxai_rng, class_rng = np.random.default_rng(seed).spawn(4)
    pg, pg_curves = prediction_gaps(
        model,
        x,
        a,
        baseline,
        target,
        labels=labels,
        correct=correct,
        class_names=classes,
        gap=gap,
        n_random=n_random,
        seed=pg_rng,
        batch_size=batch_size,
        local=local,
        progress=progress,
    )
    xc, lc, a_norm = x[correct], labels[correct], normalize_rows(a[correct])
    means = group_means(a_norm, lc, len(classes))  # m_c, (n_classes, n_genes)
    overall = group_means(a_norm, np.zeros(len(lc), np.int64), 1)[0]  # m, (n_genes,)
    present = np.unique(lc)
    curves = accuracy_curves(
        model,
        xc,
        baseline,
        lc,
        np.abs(means[present]),
        n_random=curve_random,
        seed=curve_rng,
        progress=progress,
    )
    by_class = class_curves(
        model,
        xc,
        baseline,
        lc,
        np.abs(means),
        class_names=classes,
        k=biomarker_k,
        n_random=curve_random,
        seed=class_rng,
        progress=progress,
    )
    openxai = None
    if local:
        openxai = openxai_prediction_gaps(
            model,
            xc,
            a[correct],
            target[correct],
            lc,
            class_names=classes,
            k=openxai_k,
            sigma=openxai_sigma,
            n_samples=openxai_samples,
            max_examples=openxai_max_examples,
            seed=openxai_rng,
        )
        if progress is not None:
            progress(1)
    agreement, task_sets = _agreement(
        att,
        prepared,
        a[correct],
        a_norm,
        correct=correct,
        labels=lc,
        classes=classes,
        genes=genes,
        graph=graph,
        precision_k=precision_k,
        local=local,
    )
    if progress is not None:
        progress(1)

    run = {
        "dataset": dataset,
        "model": str(meta.get(keys.ARCH, type(model).__name__)),
        "seed": int(meta.get(keys.SEED, 0)),
        "method": str(att.uns[keys.UNS][keys.ATTRIBUTE].get(keys.METHOD, "unknown")),
    }
    metrics = pd.concat([pg, *([openxai] if local else []), *agreement], ignore_index=True)
    curves = pd.concat([pg_curves, curves, by_class], ignore_index=True)
    top = _top_genes(means, present, genes, classes, top_n=top_n, informative=task_sets)
    extra = [keys.INFORMATIVE] if task_sets is not None else []
    return EvaluationResult(
        metrics=metrics.assign(**run)[list(keys.METRIC_COLUMNS)],
        curves=curves.assign(**run)[list(keys.CURVE_COLUMNS)],
        top_genes=top.assign(**run)[[*keys.TOP_GENES_COLUMNS, *extra]],
        completeness=_completeness(att, local=local).assign(**run)[list(keys.COMPLETENESS_COLUMNS)],
        gene_scores=_gene_scores(means, overall, lc, genes, classes, run=run),
    )


def _check_options(**options: int) -> None:
    """Counts (``biomarker_k`` too) must be at least 1; ``n_random`` and
    ``curve_random`` at least 0."""
    for option, value in options.items():
        least = 0 if option in ("n_random", "curve_random") else 1
        if value < least:
            msg = f"{option}: expected at least {least}, found {value}"
            raise InputError(msg)


def _agreement(
    att: ad.AnnData,
    prepared: ad.AnnData,
    a: np.ndarray,
    a_norm: np.ndarray,
    *,
    correct: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
    genes: list[str],
    graph: Graph | None,
    precision_k: Sequence[int],
    local: bool,
) -> tuple[list[pd.DataFrame], np.ndarray | None]:
    """FA tables (with ``_diffused`` ones given a graph) and each task class's
    informative genes ``(n_classes, n_genes)``; nothing without ground truth.
    ``local`` as :func:`genexai.metrics.feature_agreement`'s.

    ``a``, ``a_norm`` and ``labels`` hold the correctly classified rows only.
    """
    if keys.INFORMATIVE not in att.varm:
        if graph is not None:
            log.warning(
                "a graph was given but the attributions have no varm[%r]: no FA", keys.INFORMATIVE
            )
        return [], None
    informative = np.asarray(att.varm[keys.INFORMATIVE], dtype=bool).reshape(len(genes), -1)
    subclasses = subclass_names = None
    if keys.SUBCLASS in att.obs:
        subclass_names = _subclass_names(att.varm[keys.INFORMATIVE], prepared)
        codes = _codes(att.obs[keys.SUBCLASS], subclass_names, field=keys.SUBCLASS)
        subclasses = codes[correct]
    truth = ground_truth(
        informative,
        labels,
        n_classes=len(classes),
        subclasses=subclasses,
        subclass_names=subclass_names,
        class_names=classes,
    )
    tables = [feature_agreement(a_norm, truth, precision_k=precision_k, local=local)]
    if graph is not None:
        diffused = diffuse(a, graph.align(genes, where="graph"))
        tables.append(
            feature_agreement(
                diffused, truth, precision_k=precision_k, suffix="_diffused", local=local
            )
        )
    return tables, class_informative(informative, n_classes=len(classes))


def _attributions(attributions: ad.AnnData, genes: list[str]) -> tuple[ad.AnnData, np.ndarray]:
    """The attributions in the model's gene order, and the baseline in that order."""
    for key in (keys.LABEL, keys.CORRECT, keys.TARGET):
        if key not in attributions.obs:
            msg = f"attributions: obs[{key!r}] is missing"
            raise InputError(msg)
    params = attributions.uns.get(keys.UNS, {}).get(keys.ATTRIBUTE, {})
    if keys.BASELINE not in params:
        msg = f"attributions: uns[{keys.UNS!r}][{keys.ATTRIBUTE!r}][{keys.BASELINE!r}] is missing"
        raise InputError(msg)
    baseline = np.asarray(params[keys.BASELINE], dtype=np.float32).ravel()
    if baseline.shape != (attributions.n_vars,):
        msg = (
            f"attributions: the baseline has shape {baseline.shape}, "
            f"expected ({attributions.n_vars},)"
        )
        raise InputError(msg)
    att = io.align_genes(attributions, genes, where="attributions")
    return att, baseline[attributions.var_names.get_indexer(genes)]


def _inputs(prepared: ad.AnnData, att: ad.AnnData, genes: list[str]) -> np.ndarray:
    """``x`` of the explained rows, ``(n_obs, n_genes)`` float32, by name."""
    rows = prepared.obs_names.get_indexer(att.obs_names)
    if (rows < 0).any():
        name = att.obs_names[int(np.flatnonzero(rows < 0)[0])]
        msg = (
            f"prepared: {int((rows < 0).sum())} explained example(s) are not in the prepared "
            f"data (e.g. {name!r}); expected the file the attributions were computed from"
        )
        raise InputError(msg)
    prepared = io.align_genes(prepared[rows], genes, where="prepared")
    return io.dense_rows(io.expression(prepared, where="prepared"))


def _check_target_prob(
    att: ad.AnnData, model: nn.Module, x: np.ndarray, target: np.ndarray
) -> None:
    """Refuse a model or input that is not the one the attributions explain."""
    params = att.uns[keys.UNS][keys.ATTRIBUTE]
    if keys.TARGET_PROB not in att.obs or params.get(keys.TARGET_KIND) == "logit":
        return
    with torch.no_grad():
        probs = (
            torch.cat(
                [
                    target_prob(
                        model(torch.from_numpy(x[s : s + 1024])),
                        torch.from_numpy(target[s : s + 1024]),
                    )
                    for s in range(0, len(x), 1024)
                ]
            )
            .double()
            .numpy()
        )
    worst = float(np.max(np.abs(probs - att.obs[keys.TARGET_PROB].to_numpy(np.float64))))
    if worst > TARGET_PROB_TOLERANCE:
        msg = (
            f"attributions: obs[{keys.TARGET_PROB!r}] differs from the model's probability on "
            f"the prepared data by up to {worst:.3g} (tolerance {TARGET_PROB_TOLERANCE}); "
            "expected the model and prepared file the attributions were computed with"
        )
        raise InputError(msg)


def _subclass_names(informative: Any, prepared: ad.AnnData) -> list[str]:
    """Names of the columns of ``varm["informative"]``, in order.

    Explained examples carry only the subclasses they hold, so the names come
    from the columns (or from the prepared file's categories).
    """
    if isinstance(informative, pd.DataFrame):
        return [str(c) for c in informative.columns]
    sub = prepared.obs.get(keys.SUBCLASS)
    if sub is None or not isinstance(sub.dtype, pd.CategoricalDtype):
        msg = (
            f"attributions: varm[{keys.INFORMATIVE!r}] has no column names and prepared has no "
            f"categorical obs[{keys.SUBCLASS!r}]; expected one of them to name the subclasses"
        )
        raise InputError(msg)
    return [str(c) for c in sub.cat.categories]


def _codes(values: pd.Series, names: list[str], *, field: str) -> np.ndarray:
    codes = pd.Index(names).get_indexer(values.astype(str))
    if (codes < 0).any():
        found = values.astype(str).to_numpy()[codes < 0][0]
        msg = f"attributions: obs[{field!r}] has {found!r}, expected one of {names}"
        raise InputError(msg)
    return codes.astype(np.int64)


def _top_genes(
    means: np.ndarray,
    present: np.ndarray,
    genes: list[str],
    classes: list[str],
    *,
    top_n: int,
    informative: np.ndarray | None,
) -> pd.DataFrame:
    """Per class, the ``top_n`` genes by ``|m_c|`` (ties by gene index)."""
    top_n = min(top_n, len(genes))
    order = stable_order(np.abs(means[present]), descending=True)[:, :top_n]
    columns = {
        "class": np.repeat([classes[c] for c in present], top_n),
        "rank": np.tile(np.arange(1, top_n + 1), len(present)),
        "gene": np.asarray(genes)[order].ravel(),
        "score": np.take_along_axis(means[present], order, axis=1).ravel(),
    }
    if informative is not None:
        columns[keys.INFORMATIVE] = np.take_along_axis(informative[present], order, axis=1).ravel()
    return pd.DataFrame(columns)


def _completeness(att: ad.AnnData, *, local: bool) -> pd.DataFrame:
    """``example``, ``delta`` and ``n_steps`` of every explained example; none
    for global-scope attributions, which have no completeness to report."""
    if not local or keys.DELTA not in att.obs:
        if local:
            log.warning("the attributions have no obs[%r]: no completeness rows", keys.DELTA)
        return pd.DataFrame({"example": [], "delta": [], "n_steps": pd.array([], dtype="Int64")})
    n_steps = att.obs[keys.N_STEPS] if keys.N_STEPS in att.obs else pd.NA
    return pd.DataFrame(
        {
            "example": att.obs_names.astype(str),
            "delta": att.obs[keys.DELTA].to_numpy(np.float64),
            "n_steps": pd.array(np.broadcast_to(n_steps, att.n_obs), dtype="Int64"),
        }
    )


def _gene_scores(
    means: np.ndarray,
    overall: np.ndarray,
    labels: np.ndarray,
    genes: list[str],
    classes: list[str],
    *,
    run: dict[str, Any],
) -> ad.AnnData:
    """The class means ``m_c`` (rows: classes with a correctly classified example).

    float64, as computed: rounding to float32 would tie genes whose scores
    differ, and move STABILITY's rank correlations and top-k sets.
    """
    present = np.unique(labels)
    scores = ad.AnnData(
        X=means[present],
        obs=pd.DataFrame(
            {keys.N_EXAMPLES: np.bincount(labels, minlength=len(classes))[present]},
            index=pd.Index([classes[c] for c in present], dtype=str),
        ),
        var=pd.DataFrame({keys.OVERALL: overall}, index=pd.Index(genes, dtype=str)),
    )
    io.step_uns(scores, keys.EVALUATE).update(
        {
            keys.DATASET: run["dataset"],
            keys.MODEL: run["model"],
            keys.SEED: run["seed"],
            keys.METHOD: run["method"],
            keys.VERSION: __version__,
        }
    )
    return scores
