"""The report's summary tables as MultiQC custom content (``*_mqc.tsv``).

Facilities aggregate results with MultiQC, which reads a TSV whose name ends
in ``_mqc.tsv`` as a section of its own: ``#``-commented YAML lines on top
(``id``, ``section_name``, ``description``, ``plot_type``, ``pconfig``,
``headers``), then a header row and one row per "sample", the first column
naming it. Here a sample is one dataset × model × method (or one dataset, or
one pair of models), so every row key is unique and no row is merged away.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import yaml

from ._tables import ROW_KEYS, series_label

#: File names end with this, as MultiQC's custom-content search pattern needs.
SUFFIX = "_mqc.tsv"


@dataclass(frozen=True)
class Section:
    """One MultiQC section: which summary table, its title and what it shows."""

    table: str
    name: str
    description: str


#: The sections, in the report's order (``assets/multiqc_config.yml`` orders
#: them by these ids: ``genexai_<table>``).
SECTIONS = (
    Section(
        "datasets",
        "Datasets",
        "Each prepared dataset: samples, genes, classes and the train/test split.",
    ),
    Section(
        "accuracy",
        "Accuracy",
        "Balanced test accuracy and train accuracy (%) of each model, mean and standard "
        "deviation over seeds.",
    ),
    Section(
        "prediction_gaps",
        "Prediction gaps",
        "PGI (important genes removed first: higher is better), PGU (unimportant first: lower "
        "is better) and the random control PGR, in %, mean and standard deviation over seeds.",
    ),
    Section(
        "feature_agreement",
        "Feature agreement",
        "Simulated data only: the share of the true informative genes among the top-ranked "
        "genes, mean and standard deviation over seeds.",
    ),
    Section(
        "stability",
        "Stability across seeds",
        "Agreement of the gene rankings of two runs (Jaccard of top-k sets, Spearman, Kendall), "
        "mean over the pairs of runs of each pair of models; per-class values are in "
        "summary/stability.tsv.",
    ),
    Section(
        "completeness",
        "Integrated Gradients completeness",
        "Completeness deltas |sum(a) - (F(x) - F(b))| of the explained examples, probability "
        "units; n_above counts those above 0.01.",
    ),
)


def multiqc_tables(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """MultiQC custom-content files for the summary tables, by file name.

    Parameters
    ----------
    tables
        :func:`~genexai.report.summary_tables`.

    Returns
    -------
    ``genexai_<table>_mqc.tsv`` → its text, for each :data:`SECTIONS` table
    that has rows (an empty one, e.g. feature agreement on real data, is left
    out: MultiQC would only warn about it). Paper tables keep their numeric
    ``mean``/``std`` columns (MultiQC sorts and colours numbers; the
    ``mean ± std`` text is in ``summary/<table>.tsv``).
    """
    files = {}
    for section in SECTIONS:
        shown = _shown(section.table, tables[section.table])
        if shown.empty:
            continue
        files[f"genexai_{section.table}{SUFFIX}"] = _custom_content(section, shown)
    return files


def _shown(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """The table as MultiQC rows: a unique first column, then the values shown."""
    if table.empty:
        return table
    if name == "datasets":
        return table
    if name == "stability":
        return _stability(table)
    keys = table[ROW_KEYS].astype(str)
    run = keys.apply(lambda row: series_label(tuple(row)), axis=1).rename("run")
    values = table.drop(columns=ROW_KEYS)
    if name != "completeness":  # paper tables: numbers only
        values = values[["n_seeds", *(c for c in values if c.endswith((" mean", " std")))]]
    return pd.concat([run, values], axis=1)


def _stability(stability: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset × method × model pair; a column per aggregate metric's mean.

    Per-class variants (``class:<name>``) are left out, as in the paper tables:
    with many classes they would add hundreds of columns.
    """
    rows = stability[~stability["variant"].astype(str).str.contains(":", regex=False)]
    if rows.empty:
        return rows
    rows = rows.assign(
        run=rows["dataset"]
        + " · "
        + rows["method"].astype(str)
        + " · "
        + rows["model_a"]
        + " vs "
        + rows["model_b"],
        column=(rows["metric"] + " " + rows["variant"].astype(str)).str.strip() + " mean",
    )
    wide = rows.pivot(index="run", columns="column", values="mean")
    n_pairs = rows.groupby("run")["n_pairs"].max()
    order = rows.drop_duplicates("run")["run"]  # STABILITY's sorted order
    wide.insert(0, "n_pairs", n_pairs)
    return wide.loc[order, ["n_pairs", *rows.drop_duplicates("column")["column"]]].reset_index()


def _custom_content(section: Section, shown: pd.DataFrame) -> str:
    """The file: YAML header as ``#`` lines, then the TSV (NaN as an empty cell)."""
    header = {
        "id": f"genexai_{section.table}",
        "section_name": section.name,
        "description": section.description,
        "plot_type": "table",
        "pconfig": {
            "id": f"genexai_{section.table}_table",
            "title": f"genexai: {section.name}",
            "col1_header": shown.columns[0],
        },
        "headers": {
            column: {"format": fmt}
            for column in shown.columns[1:]
            if (fmt := _number_format(shown[column]))
        },
    }
    text = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=10_000)
    comments = "".join(f"# {line}\n" for line in text.splitlines())
    return comments + shown.to_csv(sep="\t", index=False, lineterminator="\n")


def _number_format(column: pd.Series) -> str | None:
    """MultiQC's format of a numeric column: integers as such, floats to 3 significant digits.

    MultiQC's default (one decimal) would show a completeness delta of 2e-7
    or a Jaccard index of 0.05 as 0.0 or 0.1. None for text and booleans.
    """
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        return None
    return "{:,.0f}" if pd.api.types.is_integer_dtype(column) else "{:,.3g}"
