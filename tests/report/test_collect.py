"""genexai.report._collect: reading every run's files, and one-line errors for bad ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.errors import InputError
from genexai.report import collect_results


def test_collect_reads_every_kind(results):
    n_runs = 2 * 2 * 3
    metrics = results.metrics
    assert list(metrics.columns) == list(keys.METRIC_COLUMNS)
    accuracy = metrics[metrics["method"] == "none"]
    assert len(accuracy) == 2 * n_runs
    assert set(accuracy["metric"]) == {keys.TRAIN_ACCURACY, keys.BALANCED_ACCURACY}
    # 6 PG rows per run; 2 FA rows per SIMU1 run
    assert len(metrics) - len(accuracy) == 6 * n_runs + 2 * n_runs // 2
    assert metrics["seed"].dtype == np.int64 and metrics["value"].dtype == np.float64
    assert len(results.curves) == n_runs * 4 * len([*range(1, 10), *range(10, 60, 10)])
    assert results.curves["std"].isna().sum() == n_runs * 3 * 14
    assert len(results.top_genes) == n_runs * 2 * 12
    assert len(results.stability) == 2 * 3  # LR-LR, LR-MLP, MLP-MLP per dataset
    assert results.stability["n_pairs"].tolist() == [3, 9, 3] * 2
    assert len(results.completeness) == n_runs * 13
    assert set(results.completeness["method"]) == {"ig"}
    assert results.datasets.set_index("dataset")["simulated"].to_dict() == {
        "BRCA": False,
        "SIMU1": True,
    }
    assert results.class_counts.groupby("dataset")["n_samples"].sum().tolist() == [40, 40]
    overview = results.datasets.set_index("dataset")
    for dataset, counts in results.class_counts.groupby("dataset"):
        by_split = counts.groupby("split")["n_samples"].sum()
        assert overview.loc[dataset, "n_train"] == by_split["train"]
        assert overview.loc[dataset, "n_test"] == by_split["test"]
        assert overview.loc[dataset, "n_classes"] == counts["class"].nunique() == 2
        assert overview.loc[dataset, "n_genes"] == 60


def test_tables_need_a_dataset_column(tmp_path):
    table = pd.DataFrame([("m", 0, "ig", "PGI", "local", 1.5)], columns=keys.METRIC_COLUMNS[1:])
    table.to_csv(tmp_path / "KIRC.m.0.metrics.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match=r"missing column\(s\) \['dataset'\]"):
        collect_results(tmp_path)


def test_runs_are_read_from_the_files_not_their_names(tmp_path):
    (tmp_path / "a.metrics.tsv").write_text(
        "dataset\tmodel\tseed\tmethod\tmetric\tvariant\tvalue\nKIRC\tLR\t7\tig\tpgi\tlocal\t1.5\n"
    )
    (tmp_path / "b.train.json").write_text(
        '{"dataset": "KIRC", "model": "LR", "seed": 7, "train_accuracy": 99, '
        '"balanced_accuracy": 90}'
    )
    metrics = collect_results(tmp_path).metrics
    assert metrics[["dataset", "model", "seed"]].drop_duplicates().values.tolist() == [
        ["KIRC", "LR", 7]
    ]


def test_h5ad_files_are_never_read(tmp_path, synthetic_results):
    synthetic_results(tmp_path, datasets=("SIMU1",), models=("LR",), seeds=(0,))
    want = collect_results(tmp_path)
    for name in ("SIMU1.prepared.h5ad", "SIMU1.LR.0.attributions.h5ad", "x.gene_scores.h5ad"):
        (tmp_path / name).write_text("not hdf5")
    got = collect_results(tmp_path)
    for field in ("metrics", "top_genes", "completeness", "datasets", "class_counts"):
        pd.testing.assert_frame_equal(getattr(got, field), getattr(want, field))


def test_completeness_deltas_are_read_exactly(tmp_path):
    deltas = 10.0 ** np.random.default_rng(0).uniform(-9, -1, 500)
    pd.DataFrame(
        {"dataset": "D", "model": "m", "seed": 0, "method": "ig", "example": "s", "delta": deltas},
        columns=keys.COMPLETENESS_COLUMNS,
    ).to_csv(tmp_path / "D.m.0.completeness.tsv", sep="\t", index=False)
    completeness = collect_results(tmp_path).completeness
    np.testing.assert_array_equal(completeness["delta"], deltas)
    assert completeness["n_steps"].isna().all()


def test_empty_variant_and_missing_value_are_kept(tmp_path):
    (tmp_path / "D.m.0.metrics.tsv").write_text(
        "dataset\tmodel\tseed\tmethod\tmetric\tvariant\tvalue\nD\tm\t0\tig\tPGI\t\t\nD\tm\t0\tig\tPGU\t\tnan\n"
    )
    metrics = collect_results(tmp_path).metrics
    assert metrics["variant"].tolist() == ["", ""]
    assert metrics["value"].isna().all()


@pytest.mark.parametrize("written", [(False,), (True, False)], ids=["none", "mixed"])
def test_informative_is_unknown_where_evaluate_wrote_none(tmp_path, written, synthetic_results):
    """EVALUATE writes the column wherever the truth is known; elsewhere it is NA."""
    for i, column in enumerate(written):
        synthetic_results(
            tmp_path,
            datasets=(f"SIMU{i + 1}",),
            models=("LR",),
            seeds=(0,),
            informative_column=column,
        )
    top = collect_results(tmp_path).top_genes
    assert top[keys.INFORMATIVE].dtype == "boolean"
    known = top["dataset"].map({f"SIMU{i + 1}": c for i, c in enumerate(written)})
    np.testing.assert_array_equal(top[keys.INFORMATIVE].notna(), known)
    expected = top["gene"].str[1:].astype(int) < 60 // 5
    np.testing.assert_array_equal(top[keys.INFORMATIVE][known].to_numpy(bool), expected[known])


BAD_FILES = [
    pytest.param(
        "D.m.0.metrics.tsv", "", r"D\.m\.0\.metrics\.tsv: not a tab-separated", id="empty"
    ),
    pytest.param(
        "D.m.0.metrics.tsv",
        "dataset\tmodel\tseed\n",
        r"missing column\(s\) \['method'",
        id="columns",
    ),
    pytest.param(
        "D.m.0.metrics.tsv",
        "dataset\tmodel\tseed\tmethod\tmetric\tvariant\tvalue\nD\tm\tzero\tig\tPGI\tlocal\t1\n",
        r"column 'seed', row 1: expected an integer, found 'zero'",
        id="seed",
    ),
    pytest.param(
        "D.m.0.curves.tsv",
        "dataset\tmodel\tseed\tmethod\tcurve\tn_genes\tvalue\tstd\nD\tm\t0\tig\tk\t1\t9O\t\n",
        r"column 'value', row 1: expected a number, found '9O'",
        id="value",
    ),
    pytest.param(
        "D.m.0.top_genes.tsv",
        "dataset\tmodel\tseed\tmethod\tclass\trank\tgene\tscore\tinformative\n"
        "D\tm\t0\tig\tC0\t1\tG1\t2\tmaybe\n",
        r"column 'informative', row 1: expected True/False, found 'maybe'",
        id="informative",
    ),
    pytest.param(
        "D.m.0.train.json", "{not json", r"D\.m\.0\.train\.json: not valid JSON", id="json"
    ),
    pytest.param(
        "D.m.0.train.json", "[1, 2]", r"expected a JSON object, found list", id="json-list"
    ),
    pytest.param(
        "D.m.0.train.json",
        '{"dataset": "D", "model": "m", "seed": 0, "train_accuracy": 99}',
        r"field 'balanced_accuracy' must be a number",
        id="json-field",
    ),
    pytest.param(
        "D.m.0.train.json",
        '{"dataset": "D", "model": "m", "seed": "0", "train_accuracy": 99}',
        r"field 'seed' must be an integer, found '0'",
        id="json-seed",
    ),
    pytest.param(
        "D.m.0.train.json",
        '{"model": "m", "seed": 0, "train_accuracy": 99, "balanced_accuracy": 90}',
        r"field 'dataset' must be a non-empty string, found None",
        id="json-dataset",
    ),
    pytest.param(
        "D.m.0.completeness.tsv",
        "dataset\tmodel\tseed\tmethod\texample\tdelta\tn_steps\nD\tm\t0\tig\ts0\tx\t200\n",
        r"column 'delta', row 1: expected a number, found 'x'",
        id="completeness",
    ),
    pytest.param(
        "D.prepare.tsv",
        "dataset\tclass\tsplit\tn_samples\tn_genes\tsimulated\nD\tC0\ttest\t4\t10\t\n",
        r"column 'simulated', row 1: expected True/False, found ''",
        id="prepare",
    ),
]


@pytest.mark.parametrize(("name", "content", "match"), BAD_FILES)
def test_malformed_files_are_input_errors(tmp_path, name, content, match):
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=match):
        collect_results(tmp_path)


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        pytest.param(
            ("dataset", "model", "seed", "method", "example", "n_steps"),
            r"missing column\(s\) \['delta'\]",
            id="completeness",
        ),
    ],
)
def test_completeness_without_deltas(tmp_path, columns, match):
    pd.DataFrame(columns=list(columns)).to_csv(
        tmp_path / "D.m.0.completeness.tsv", sep="\t", index=False
    )
    with pytest.raises(InputError, match=match):
        collect_results(tmp_path)


@pytest.mark.parametrize("missing", ["class", "split"])
def test_prepare_summary_without_class_or_split(tmp_path, missing):
    table = pd.DataFrame(
        [("D", "a", "train", 1, 2, False)], columns=keys.PREPARE_SUMMARY_COLUMNS
    ).drop(columns=missing)
    table.to_csv(tmp_path / "D.prepare.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match=rf"D\.prepare\.tsv: missing column\(s\) \['{missing}'\]"):
        collect_results(tmp_path)


@pytest.mark.parametrize("what", ["empty", "missing"])
def test_no_results_is_an_error(tmp_path, what):
    (tmp_path / "notes.txt").write_text("x")
    folder = tmp_path if what == "empty" else tmp_path / "nope"
    with pytest.raises(InputError, match="no result files|does not exist"):
        collect_results(folder)
