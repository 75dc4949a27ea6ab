"""Summary tables: mean ± std over seeds, in the layout of the paper's tables."""

from __future__ import annotations

import re
from typing import Literal, get_args

import numpy as np
import pandas as pd

from .. import keys
from .._defaults import RANKINGS, Method
from ._collect import Results

Family = Literal["accuracy", "prediction_gaps", "feature_agreement"]

#: Which metrics (by name, case-insensitive) go in which paper-style table.
#: EVALUATE names its metrics (``pgi``, ``pgu``, ``pgr``, ``fa``, ...); matching
#: on the prefix keeps new variants (``pgu_adjusted``) in the right table.
FAMILIES: dict[Family, re.Pattern[str]] = {
    "accuracy": re.compile(r"accuracy", re.IGNORECASE),
    "prediction_gaps": re.compile(r"^(?:pg|prediction_gap)", re.IGNORECASE),
    "feature_agreement": re.compile(r"^(?:fa|feature_agreement)", re.IGNORECASE),
}
#: Curves whose name matches this are prediction-gap curves; the rest are
#: keep-best / remove-best / random curves.
PG_CURVE = FAMILIES["prediction_gaps"]
#: A completeness delta above this (probability units; one percentage point)
#: made the paper re-run IG with more steps (method §5).
DELTA_THRESHOLD = 0.01

ROW_KEYS = ["dataset", "model", "method"]

#: The method the figures, the verdict and the pathways show first
#: (BIOMARKERS' default primary method), when a dataset has it.
PRIMARY_METHOD = "integrated_gradients"
#: Display order of methods: the attribution methods, then the classical
#: rankings; any other name follows, alphabetically.
METHOD_ORDER: tuple[str, ...] = (*get_args(Method), *RANKINGS)

#: The (metric, variant) rows compared across methods in ``methods.tsv``:
#: what a global ranking defines too (EVALUATE, contract C3), so that
#: per-example and global methods sit in one table. ``fa_precision@<k>``
#: stands for every k present.
METHOD_METRICS = (
    ("fa", "global_mean_score"),
    ("fa_precision@", "global_mean_score"),
    ("fa_auroc", "global_mean_score"),
    ("pgi", "global_per_class"),
    ("pgu", "global_per_class"),
    ("pgr", "random"),
)
#: The verdict's booleans counted per method in ``methods.tsv`` (``n_<name>``).
VERDICT_FLAGS = ("sufficient", "necessary", "stable", "true")


def summary_tables(results: Results) -> dict[str, pd.DataFrame]:
    """Every summary table of the report, by file stem.

    Standard deviations are over seeds (population std, ``ddof=0``, as
    :func:`numpy.std`), so one seed gives a std of 0.

    Returns
    -------
    ``metrics``
        Every tidy row (:attr:`Results.metrics`).
    ``accuracy``, ``prediction_gaps``, ``feature_agreement``
        Paper-style: one row per dataset × model × method with ``n_seeds``,
        then for each metric (``"<metric> <variant>"``) three columns: the
        text ``"mean ± std"``, ``"<label> mean"`` and ``"<label> std"``.
    ``curves``
        dataset, model, method, curve, n_genes, n_seeds, ``mean``, ``std``
        (over seeds) and ``std_within`` (mean of the runs' own ``std``, e.g.
        over random draws).
    ``stability``
        STABILITY's summaries (:attr:`Results.stability`: dataset, method,
        model_a, model_b with ``model_a <= model_b``, metric, variant,
        n_pairs, mean, std over the pairs of runs), sorted, then ``mean ± std``.
    ``top_genes``
        dataset, model, method, class, gene, ``n_seeds`` (seeds whose top list
        holds the gene), ``of_seeds``, ``mean_rank`` (over those seeds),
        ``mean_score``, ``informative``; per class, rows are in consensus order
        (more seeds first, then lower mean rank).
    ``completeness``
        dataset, model, method, n_examples, median, p95, max (of the deltas,
        probability units), ``n_above`` (deltas above :data:`DELTA_THRESHOLD`)
        and ``max_n_steps``.
    ``datasets``, ``class_counts``
        :attr:`Results.datasets` and :attr:`Results.class_counts`.
    ``biomarkers``, ``verdict``, ``pathways``
        BIOMARKERS' tables of every dataset (:attr:`Results.biomarkers`,
        :attr:`Results.verdict`, :attr:`Results.pathways`), concatenated and
        sorted (methods in :data:`METHOD_ORDER`, classes in natural order).
    ``methods``
        One row per dataset × method (:func:`method_table`).
    """
    tables = {"metrics": results.metrics}
    for family in FAMILIES:
        tables[family] = paper_table(family_rows(results.metrics, family))
    tables["curves"] = _curve_summary(results.curves)
    tables["stability"] = _stability_summary(results.stability)
    tables["top_genes"] = _top_gene_consensus(results.top_genes)
    tables["completeness"] = _completeness_summary(results.completeness)
    tables["datasets"] = results.datasets
    tables["class_counts"] = results.class_counts
    tables["biomarkers"] = _sort(results.biomarkers, ["dataset", "method", "class", "rank"])
    tables["verdict"] = _sort(results.verdict, ["dataset", "method", "class"])
    tables["pathways"] = _sort(
        results.pathways, ["dataset", "method", "model", "class", "rank", "gene_set"]
    )
    tables["methods"] = method_table(results.metrics, results.verdict)
    return tables


def _method_position(method: str) -> str:
    position = METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)
    return f"{position:04d} {method}"


def method_key(methods: pd.Series) -> pd.Series:
    """A sort key putting methods in :data:`METHOD_ORDER`, unknown names after."""
    return methods.astype(str).map(_method_position)


def primary_method(methods) -> str | None:
    """:data:`PRIMARY_METHOD` when among ``methods``, else the first in
    :data:`METHOD_ORDER` (then alphabetical); None without a method.

    ``"none"`` (the accuracy rows) and empty names are not methods.
    """
    names = {str(m) for m in methods} - {"", "none"}
    if PRIMARY_METHOD in names:
        return PRIMARY_METHOD
    return min(names, key=_method_position, default=None)


def _sort(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    def key(column: pd.Series) -> pd.Series:
        if column.name == "method":
            return method_key(column)
        return natural_key(column) if column.dtype == object else column

    return table.sort_values(by, kind="stable", ignore_index=True, key=key)


def _method_metric_labels(metrics: pd.DataFrame) -> list[tuple[str, str]]:
    """The (metric, variant) pairs of :data:`METHOD_METRICS` present, in that
    order (``fa_precision@<k>`` by increasing k)."""
    pairs = metrics[["metric", "variant"]].drop_duplicates()
    chosen = []
    for name, variant in METHOD_METRICS:
        found = pairs[(pairs["variant"] == variant)]
        if name.endswith("@"):
            found = found[found["metric"].str.startswith(name)]
            k = pd.to_numeric(found["metric"].str[len(name) :], errors="coerce")
            found = found.assign(k=k).sort_values(["k", "metric"])
        else:
            found = found[found["metric"] == name]
        chosen += list(found[["metric", "variant"]].itertuples(index=False, name=None))
    return chosen


def method_table(metrics: pd.DataFrame, verdict: pd.DataFrame) -> pd.DataFrame:
    """Methods compared at a glance: one row per dataset × method.

    Parameters
    ----------
    metrics
        Tidy rows (:attr:`Results.metrics`); the aggregate rows of
        :data:`METHOD_METRICS` are used.
    verdict
        BIOMARKERS' verdicts (:attr:`Results.verdict`), a row per dataset ×
        method × class.

    Returns
    -------
    dataset, method, ``n_runs`` (model × seed runs with a compared metric),
    then for each compared metric (label ``"<metric> <variant>"``, e.g.
    ``"fa_precision@10 global_mean_score"``) the text ``"mean ± std"``,
    ``"<label> mean"`` and ``"<label> std"`` over the runs of every model
    (population std), then from the verdict ``pathway_agreement`` (mean over
    the classes, %; NaN where unknown), ``n_classes`` and ``n_sufficient``,
    ``n_necessary``, ``n_stable``, ``n_true`` (classes judged so; ``n_true``
    NA where the truth is unknown). Methods in :data:`METHOD_ORDER`.
    """
    group = ["dataset", "method"]
    pairs = _method_metric_labels(metrics)
    labels = [f"{m} {v}" for m, v in pairs]
    rows = metrics.merge(
        pd.DataFrame(pairs, columns=["metric", "variant"]), on=["metric", "variant"]
    )
    table = pd.DataFrame(
        {"n_runs": rows.drop_duplicates([*group, "model", "seed"]).groupby(group).size()}
    )
    if len(rows):
        stats = (
            rows.assign(label=rows["metric"] + " " + rows["variant"])
            .groupby([*group, "label"])["value"]
            .agg(mean="mean", std=lambda v: v.std(ddof=0))
            .reset_index()
        )
        stats["text"] = mean_std_text(stats["mean"], stats["std"])
        wide = stats.pivot(index=group, columns="label", values=["text", "mean", "std"])
        for label in labels:
            table[label] = wide[("text", label)].reindex(table.index)
            table[f"{label} mean"] = wide[("mean", label)].reindex(table.index)
            table[f"{label} std"] = wide[("std", label)].reindex(table.index)
    table = table.join(_verdict_counts(verdict), how="outer")
    # a method with a verdict but no compared metric (e.g. none computed) has 0 runs
    table["n_runs"] = table["n_runs"].fillna(0).astype(np.int64)
    for label in labels:
        table[label] = table[label].fillna("")
    return _sort(table.reset_index(), group)


def _verdict_counts(verdict: pd.DataFrame) -> pd.DataFrame:
    """Per dataset × method: mean pathway agreement and classes judged so."""
    columns = ["pathway_agreement", "n_classes", *(f"n_{f}" for f in VERDICT_FLAGS)]
    group = ["dataset", "method"]
    if verdict.empty:
        index = pd.MultiIndex.from_arrays([[], []], names=group)
        return pd.DataFrame(
            {c: pd.Series(dtype="float64" if c == columns[0] else "Int64") for c in columns},
            index=index,
        )
    grouped = verdict.groupby(group)
    counts = pd.DataFrame(
        {
            "pathway_agreement": grouped["pathway_agreement"].mean(),
            "n_classes": grouped.size(),
        }
    )
    for flag in VERDICT_FLAGS:
        values = verdict[flag].astype("boolean")
        by = [verdict[g] for g in group]
        known = values.notna().groupby(by).any()
        count = values.fillna(value=False).astype(np.int64).groupby(by).sum()
        counts[f"n_{flag}"] = count.astype("Int64").where(known, pd.NA)
    return counts.astype({c: "Int64" for c in columns[1:]})


def series_label(key: tuple) -> str:
    """``"MLP · ig"``: the parts of a (dataset,) model, method key that say something."""
    return " · ".join(str(v) for v in key if str(v) not in ("", "none"))


def natural_key(names: pd.Series) -> pd.Series:
    """A sort key that puts ``C2`` before ``C10``: every number zero-padded."""
    return names.astype(str).str.replace(r"\d+", lambda m: m.group().zfill(12), regex=True)


def family_rows(metrics: pd.DataFrame, family: Family) -> pd.DataFrame:
    """The aggregate tidy rows whose metric belongs to ``family`` (:data:`FAMILIES`).

    Per-class rows (variant ``<variant>:<class>``) stay in ``metrics.tsv`` only:
    with 33 classes they would add hundreds of columns to the paper tables.
    """
    per_class = metrics["variant"].fillna("").astype(str).str.contains(":", regex=False)
    return metrics[metrics["metric"].str.contains(FAMILIES[family]) & ~per_class]


#: Column order of the paper tables: metric names (by prefix, case-insensitive),
#: then variants; anything else follows, alphabetically.
METRIC_ORDER = ("balanced_accuracy", "train_accuracy", "pgi", "pgu", "pgr", "fa")
VARIANT_ORDER = ("", "local", "global")


def _position(name: str, order: tuple[str, ...]) -> int:
    name = name.lower()
    for i, prefix in enumerate(order):
        if name == prefix or (prefix and name.startswith(prefix)):
            return i
    return len(order)


def metric_labels(metrics: pd.DataFrame) -> pd.DataFrame:
    """The distinct (metric, variant) pairs of tidy rows with their column label.

    Returns
    -------
    Columns metric, variant and label (``"<metric> <variant>"``, or the metric
    alone when the variant is empty), in :data:`METRIC_ORDER` and
    :data:`VARIANT_ORDER`.
    """
    pairs = metrics[["metric", "variant"]].drop_duplicates()
    pairs = pairs.assign(
        label=(pairs["metric"] + " " + pairs["variant"]).str.strip(),
        m=pairs["metric"].map(lambda m: _position(m, METRIC_ORDER)),
        v=pairs["variant"].map(lambda v: _position(v, VARIANT_ORDER)),
    )
    return pairs.sort_values(["m", "v", "metric", "variant"], ignore_index=True)[
        ["metric", "variant", "label"]
    ]


def mean_std_text(mean: pd.Series, std: pd.Series) -> pd.Series:
    """``"12.34 ± 0.56"`` (two decimals, as the paper); empty where the mean is NaN."""
    text = mean.map("{:.2f}".format) + " ± " + std.map("{:.2f}".format)
    return text.where(mean.notna(), "")


def paper_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds of tidy metric rows, one row per dataset × model × method.

    Parameters
    ----------
    metrics
        Tidy rows (:data:`genexai.keys.METRIC_COLUMNS`).

    Returns
    -------
    dataset, model, method, n_seeds, then for each label of
    :func:`metric_labels` ``<label>`` (text), ``<label> mean``, ``<label> std``.
    """
    if metrics.empty:
        return pd.DataFrame(columns=[*ROW_KEYS, "n_seeds"])
    labels = metric_labels(metrics)
    metrics = metrics.merge(labels, on=["metric", "variant"])
    stats = (
        metrics.groupby([*ROW_KEYS, "label"])["value"]
        .agg(mean="mean", std=lambda v: v.std(ddof=0))
        .reset_index()
    )
    stats["text"] = mean_std_text(stats["mean"], stats["std"])
    wide = stats.pivot(index=ROW_KEYS, columns="label", values=["text", "mean", "std"])
    table = pd.DataFrame(index=wide.index)
    for label in labels["label"]:
        table[label] = wide[("text", label)].fillna("")
        table[f"{label} mean"] = wide[("mean", label)]
        table[f"{label} std"] = wide[("std", label)]
    n_seeds = metrics.groupby(ROW_KEYS)["seed"].nunique().rename("n_seeds")
    table.insert(0, "n_seeds", n_seeds.reindex(table.index))
    return table.reset_index().sort_values(ROW_KEYS, ignore_index=True)


def _curve_summary(curves: pd.DataFrame) -> pd.DataFrame:
    columns = [*ROW_KEYS, "curve", "n_genes", "n_seeds", "mean", "std", "std_within"]
    if curves.empty:
        return pd.DataFrame(columns=columns)
    summary = (
        curves.groupby([*ROW_KEYS, "curve", "n_genes"])
        .agg(
            n_seeds=("seed", "nunique"),
            mean=("value", "mean"),
            std=("value", lambda v: v.std(ddof=0)),
            std_within=("std", "mean"),
        )
        .reset_index()
    )
    return summary[columns]


def _stability_summary(stability: pd.DataFrame) -> pd.DataFrame:
    """STABILITY's summaries, in order (methods in :data:`METHOD_ORDER`), with
    the ``mean ± std`` text."""
    group = ["dataset", "method", "model_a", "model_b", "metric", "variant"]
    if stability.empty:
        return pd.DataFrame(columns=[*keys.STABILITY_SUMMARY_COLUMNS, "mean ± std"])
    summary = stability.sort_values(
        group,
        kind="stable",
        ignore_index=True,
        key=lambda column: method_key(column) if column.name == "method" else column,
    )
    summary["mean ± std"] = mean_std_text(summary["mean"], summary["std"])
    return summary


def _top_gene_consensus(top_genes: pd.DataFrame) -> pd.DataFrame:
    group = [*ROW_KEYS, "class"]
    columns = [*group, "gene", "n_seeds", "of_seeds", "mean_rank", "mean_score", "informative"]
    if top_genes.empty:
        return pd.DataFrame(columns=columns)
    consensus = (
        top_genes.groupby([*group, "gene"])
        .agg(
            n_seeds=("seed", "nunique"),
            mean_rank=("rank", "mean"),
            mean_score=("score", "mean"),
            informative=(keys.INFORMATIVE, "max"),
        )
        .reset_index()
    )
    of_seeds = top_genes.groupby(group)["seed"].nunique().rename("of_seeds").reset_index()
    consensus = consensus.merge(of_seeds, on=group)
    consensus = consensus.sort_values(
        [*group, "n_seeds", "mean_rank", "gene"],
        ascending=[True] * len(group) + [False, True, True],
        ignore_index=True,
        key=lambda column: natural_key(column) if column.name == "class" else column,
    )
    return consensus[columns]


def _completeness_summary(completeness: pd.DataFrame) -> pd.DataFrame:
    columns = [*ROW_KEYS, "n_examples", "median", "p95", "max", "n_above", "max_n_steps"]
    if completeness.empty:
        return pd.DataFrame(columns=columns)
    # n_steps is NaN where ATTRIBUTE did not record it; Int64 keeps it an integer.
    summary = (
        completeness.assign(above=completeness["delta"] > DELTA_THRESHOLD)
        .groupby(ROW_KEYS)
        .agg(
            n_examples=("delta", "size"),
            median=("delta", "median"),
            p95=("delta", lambda d: d.quantile(0.95)),
            max=("delta", "max"),
            n_above=("above", "sum"),
            max_n_steps=("n_steps", "max"),
        )
        .reset_index()
        .astype({"max_n_steps": "Int64"})
    )
    return summary[columns]
