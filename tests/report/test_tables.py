"""genexai.report._tables: the summary tables against plain re-implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.report import summary_tables
from genexai.report._tables import DELTA_THRESHOLD, paper_table
from tests.helpers.report import TABLES


def _reference_paper_table(metrics: pd.DataFrame) -> dict:
    """{(dataset, model, method, label): (mean, std, n)} by explicit loops, np.std."""
    values: dict = {}
    for row in metrics.itertuples(index=False):
        label = f"{row.metric} {row.variant}".strip()
        values.setdefault((row.dataset, row.model, row.method, label), []).append(row.value)
    return {k: (np.mean(v), np.std(v), len(v)) for k, v in values.items()}


@pytest.mark.parametrize("n_seeds", [1, 2, 5])
def test_paper_table_matches_reference(n_seeds):
    rng = np.random.default_rng(n_seeds)
    rows = [
        (d, m, s, "ig", metric, v, rng.uniform(0, 100))
        for d in ("A", "B")
        for m in ("LR", "MLP", "GCN")
        for s in range(n_seeds)
        for metric, v in (("PGI", "local"), ("PGI", "global"), ("PGR", ""))
    ]
    metrics = pd.DataFrame(rows, columns=keys.METRIC_COLUMNS)
    table = paper_table(metrics).set_index(["dataset", "model", "method"])
    expected = _reference_paper_table(metrics)
    for (d, m, method, label), (mean, std, n) in expected.items():
        row = table.loc[(d, m, method)]
        # float64 sums of <= 5 values in [0, 100]: exact to a few ulps
        np.testing.assert_allclose(row[f"{label} mean"], mean, rtol=1e-12)
        np.testing.assert_allclose(row[f"{label} std"], std, rtol=1e-9, atol=1e-12)
        assert row[label] == f"{mean:.2f} ± {std:.2f}"
        assert row["n_seeds"] == n
    assert list(table.columns[1:4]) == ["PGI local", "PGI local mean", "PGI local std"]


def test_summary_tables_families(results):
    tables = summary_tables(results)
    assert set(tables) == set(TABLES)
    assert "balanced_accuracy" in tables["accuracy"].columns
    assert {"PGI local", "PGU global", "PGR local"} <= set(tables["prediction_gaps"].columns)
    fa = tables["feature_agreement"]
    assert set(fa["dataset"]) == {"SIMU1"} and "FA global_rank_mean_scores" in fa.columns
    assert (tables["accuracy"]["n_seeds"] == 3).all()


def test_stability_summaries_are_sorted_and_labelled():
    rows = [
        ("E", "ig", "A", "A", "j", "", 1, 0.25, 0.0),
        ("D", "ig", "B", "B", "j", "", 1, 0.5, 0.0),
        ("D", "ig", "A", "B", "j", "", 4, 0.3, 0.1),
    ]
    stability = pd.DataFrame(rows, columns=keys.STABILITY_SUMMARY_COLUMNS)
    table = summary_tables(_results(stability=stability))["stability"]
    assert list(table.columns) == [*keys.STABILITY_SUMMARY_COLUMNS, "mean ± std"]
    assert table[["dataset", "model_a", "model_b"]].values.tolist() == [
        ["D", "A", "B"],
        ["D", "B", "B"],
        ["E", "A", "A"],
    ]
    assert table["mean ± std"].tolist() == ["0.30 ± 0.10", "0.50 ± 0.00", "0.25 ± 0.00"]


def _results(**tables):
    """A Results with the given tables and every other one empty."""
    from genexai.report import Results
    from genexai.report._collect import CLASS_COUNT_COLUMNS, DATASET_COLUMNS

    columns = {
        "metrics": keys.METRIC_COLUMNS,
        "curves": keys.CURVE_COLUMNS,
        "top_genes": (*keys.TOP_GENES_COLUMNS, keys.INFORMATIVE),
        "stability": keys.STABILITY_SUMMARY_COLUMNS,
        "completeness": keys.COMPLETENESS_COLUMNS,
        "datasets": DATASET_COLUMNS,
        "class_counts": CLASS_COUNT_COLUMNS,
    }
    return Results(**{k: tables.get(k, pd.DataFrame(columns=list(c))) for k, c in columns.items()})


def test_top_gene_consensus_matches_reference(results):
    consensus = summary_tables(results)["top_genes"]
    top = results.top_genes
    for (d, m, method, c), rows in top.groupby(["dataset", "model", "method", "class"]):
        counts: dict[str, list[int]] = {}
        for gene, rank in zip(rows["gene"], rows["rank"], strict=True):
            counts.setdefault(gene, []).append(rank)
        expected = sorted(counts, key=lambda g: (-len(counts[g]), np.mean(counts[g]), g))
        got = consensus[
            (consensus["dataset"] == d)
            & (consensus["model"] == m)
            & (consensus["method"] == method)
            & (consensus["class"] == c)
        ]
        assert got["gene"].tolist() == expected
        assert got["n_seeds"].tolist() == [len(counts[g]) for g in expected]
        assert (got["of_seeds"] == rows["seed"].nunique()).all()


def test_completeness_summary_matches_reference(results):
    summary = summary_tables(results)["completeness"].set_index(["dataset", "model", "method"])
    for (d, m, method), rows in results.completeness.groupby(["dataset", "model", "method"]):
        deltas = rows["delta"].to_numpy()
        row = summary.loc[(d, m, method)]
        assert row["n_examples"] == len(deltas)
        assert row["n_above"] == int(np.sum(deltas > DELTA_THRESHOLD))
        np.testing.assert_allclose(
            [row["median"], row["p95"], row["max"]],
            [np.median(deltas), np.percentile(deltas, 95), deltas.max()],
            rtol=1e-12,
        )


def test_curve_summary_std_is_over_seeds(results):
    curves = summary_tables(results)["curves"]
    row = curves.iloc[0]
    raw = results.curves
    values = raw[
        (raw["dataset"] == row["dataset"])
        & (raw["model"] == row["model"])
        & (raw["curve"] == row["curve"])
        & (raw["n_genes"] == row["n_genes"])
    ]["value"]
    np.testing.assert_allclose(
        [row["mean"], row["std"]], [values.mean(), np.std(values)], rtol=1e-12
    )
    assert row["n_seeds"] == 3


def test_per_class_rows_stay_out_of_paper_tables(tmp_path):
    """Rows with variant '<variant>:<class>' are in metrics.tsv, not in the paper tables."""
    from genexai.report import _tables

    rows = pd.DataFrame(
        [
            ("d", "LR", 1, "ig", "pgi", "local", 50.0),
            ("d", "LR", 1, "ig", "pgi", "local:C0", 40.0),
            ("d", "LR", 2, "ig", "pgi", "local", 60.0),
            ("d", "LR", 2, "ig", "pgi", "local:C0", 45.0),
        ],
        columns=list(keys.METRIC_COLUMNS),
    )
    aggregate = _tables.family_rows(rows, "prediction_gaps")
    assert list(aggregate["variant"].unique()) == ["local"]
    table = _tables.paper_table(aggregate)
    assert list(table["pgi local"]) == ["55.00 ± 5.00"]
    assert not any(":" in c for c in table.columns)
