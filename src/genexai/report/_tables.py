"""Summary tables: mean ± std over seeds, in the layout of the paper's tables."""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd

from .. import keys
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
        STABILITY's summaries (:attr:`Results.stability`: dataset, model_a,
        model_b with ``model_a <= model_b``, metric, variant, n_pairs, mean,
        std over the pairs of runs), sorted, then ``mean ± std``.
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
    return tables


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
    """STABILITY's summaries, in order, with the ``mean ± std`` text."""
    group = ["dataset", "model_a", "model_b", "metric", "variant"]
    if stability.empty:
        return pd.DataFrame(columns=[*keys.STABILITY_SUMMARY_COLUMNS, "mean ± std"])
    summary = stability.sort_values(group, kind="stable", ignore_index=True)
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
