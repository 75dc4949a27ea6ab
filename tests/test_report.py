"""Tests of genexai.report: reading run files, summary tables, the HTML report."""

from __future__ import annotations

import itertools
import json
from html.parser import HTMLParser
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.errors import InputError
from genexai.prepare import prepare_summary
from genexai.report import collect_results, render_report, summary_tables, write_report
from genexai.report._tables import DELTA_THRESHOLD, paper_table

SECTIONS = (
    "overview",
    "accuracy",
    "prediction-gaps",
    "feature-agreement",
    "curves",
    "top-genes",
    "stability",
    "completeness",
    "parameters-and-versions",
)
#: Sections that show at least one figure when their data are present.
FIGURE_SECTIONS = (
    "overview",
    "accuracy",
    "prediction-gaps",
    "feature-agreement",
    "curves",
    "stability",
    "completeness",
)
TABLES = (
    "metrics",
    "accuracy",
    "prediction_gaps",
    "feature_agreement",
    "curves",
    "stability",
    "top_genes",
    "completeness",
    "datasets",
    "class_counts",
)
PARAMS = {"outdir": "results", "seeds": [0, 1], "ig": {"n_steps": 3000, "baseline": "zero"}}
VERSIONS = (
    '"GENEXAI:TRAIN":\n    python: 3.11.2\n    torch: 2.5.1\n'
    '"GENEXAI:REPORT":\n    genexai: 0.1.0\n'
)


# --- synthetic inputs, in the schemas of PREPARE, TRAIN, EVALUATE and STABILITY


def write_synthetic_results(
    folder: Path,
    *,
    datasets: tuple[str, ...] = ("SIMU1", "BRCA"),
    models: tuple[str, ...] = ("LR", "MLP"),
    seeds: tuple[int, ...] = (0, 1, 2),
    n_genes: int = 60,
    n_samples: int = 40,
    n_classes: int = 2,
    n_top: int = 12,
    informative_column: bool = True,
    seed: int = 0,
) -> Path:
    """Write every kind of table REPORT reads, for every dataset × model × seed.

    Datasets whose name starts with ``SIMU`` are simulated (``varm['informative']``,
    FA rows, an ``informative`` column in the top-gene lists).
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    genes = [f"G{g:05d}" for g in range(n_genes)]
    classes = [f"C{c}" for c in range(n_classes)]
    # the paper's K1 grid (method §8), below the number of genes
    grid = [
        k for k in (*range(1, 10), *range(10, 200, 10), *range(200, n_genes, 100)) if k < n_genes
    ]
    for dataset in datasets:
        simulated = dataset.startswith("SIMU")
        labels = pd.Categorical(rng.choice(classes, n_samples), categories=classes)
        split = pd.Categorical(np.where(np.arange(n_samples) % 3 == 0, "test", "train"))
        obs = pd.DataFrame(
            {keys.LABEL: labels, keys.SPLIT: split},
            index=[f"sample{i:05d}" for i in range(n_samples)],
        )
        # PREPARE's summary reads obs, n_vars and varm only: no X
        prepared = ad.AnnData(obs=obs, var=pd.DataFrame(index=genes))
        true_genes = set(genes[: n_genes // 5])
        if simulated:
            mask = np.zeros((n_genes, n_classes), dtype=bool)
            mask[: n_genes // 5, 0] = True
            prepared.varm[keys.INFORMATIVE] = pd.DataFrame(
                mask, index=genes, columns=[f"S{c}" for c in range(n_classes)]
            )
        prepare_summary(prepared, dataset=dataset).to_csv(
            folder / f"{dataset}.prepare.tsv", sep="\t", index=False
        )
        for model, run_seed in itertools.product(models, seeds):
            stem = folder / f"{dataset}.{model}.{run_seed}"
            (folder / f"{stem.name}.train.json").write_text(
                json.dumps(
                    {
                        "dataset": dataset,
                        "model": model,
                        "seed": run_seed,
                        keys.TRAIN_ACCURACY: float(rng.uniform(90, 100)),
                        keys.BALANCED_ACCURACY: float(rng.uniform(70, 95)),
                        "confusion_matrix": [[5, 1], [2, 6]],
                        "history": {"loss": [1.0, 0.5]},
                    }
                )
            )
            rows = [
                (dataset, model, run_seed, "ig", metric, variant, rng.uniform(0, 60))
                for metric in ("PGI", "PGU", "PGR")
                for variant in ("local", "global")
            ]
            if simulated:
                rows += [
                    (dataset, model, run_seed, "ig", "FA", variant, rng.uniform(0, 100))
                    for variant in ("local", "global_rank_mean_scores")
                ]
            pd.DataFrame(rows, columns=keys.METRIC_COLUMNS).to_csv(
                f"{stem}.metrics.tsv", sep="\t", index=False
            )
            curves = pd.DataFrame(
                [
                    (dataset, model, run_seed, "ig", curve, k, shape(k) + rng.normal(0, 2), std)
                    for curve, std, shape in (
                        ("keep_best", np.nan, lambda k: 50 + 45 * (1 - np.exp(-k / 8))),
                        ("remove_best", np.nan, lambda k: 95 - 45 * (1 - np.exp(-k / 8))),
                        ("random", 3.0, lambda k: 50 + 45 * (1 - np.exp(-k / 40))),
                        ("pg_local_pgi", np.nan, lambda k: 60 * (1 - np.exp(-k / 15))),
                    )
                    for k in grid
                ],
                columns=keys.CURVE_COLUMNS,
            )
            curves.to_csv(f"{stem}.curves.tsv", sep="\t", index=False)
            top = pd.DataFrame(
                [
                    (dataset, model, run_seed, "ig", c, r + 1, gene, float(n_top - r))
                    for c in classes
                    for r, gene in enumerate(rng.choice(genes, n_top, replace=False))
                ],
                columns=keys.TOP_GENES_COLUMNS,
            )
            if simulated and informative_column:
                top[keys.INFORMATIVE] = top["gene"].isin(true_genes)
            top.to_csv(f"{stem}.top_genes.tsv", sep="\t", index=False)
            n_explained = n_samples // 3
            pd.DataFrame(
                {
                    "dataset": dataset,
                    "model": model,
                    "seed": run_seed,
                    "method": "ig",
                    "example": obs.index[:n_explained],
                    "delta": 10.0 ** rng.uniform(-6, -1.5, n_explained),
                    "n_steps": 3000,
                },
                columns=keys.COMPLETENESS_COLUMNS,
            ).to_csv(f"{stem}.completeness.tsv", sep="\t", index=False)
        n_pairs = {True: len(seeds) * (len(seeds) - 1) // 2, False: len(seeds) ** 2}
        summary = [
            (dataset, a, b, "top100_jaccard", "local", n_pairs[a == b], *rng.uniform(0, 1, 2))
            for a, b in itertools.combinations_with_replacement(sorted(models), 2)
        ]
        pd.DataFrame(summary, columns=keys.STABILITY_SUMMARY_COLUMNS).to_csv(
            folder / f"{dataset}.stability_summary.tsv", sep="\t", index=False
        )
    return folder


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_results(tmp_path_factory.mktemp("collected"))


@pytest.fixture(scope="module")
def results(results_dir: Path):
    return collect_results(results_dir)


@pytest.fixture(scope="module")
def html(results) -> str:
    return render_report(results, params=PARAMS, versions=VERSIONS)


# --- an HTML checker ------------------------------------------------------


class _Checker(HTMLParser):
    """Balanced tags, ids, and every URL-bearing attribute."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.urls: list[tuple[str, str]] = []
        self.images: list[tuple[str | None, str]] = []  # (enclosing section id, src)
        self.sections: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for name in ("src", "href", "action", "data", "poster"):
            if name in attrs:
                self.urls.append((tag, attrs[name] or ""))
        if tag == "section":
            self.sections.append(attrs.get("id", ""))
        if tag == "img":
            self.images.append((self.sections[-1] if self.sections else None, attrs.get("src", "")))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "section":
            self.sections.pop()


def check_html(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert text.lstrip().startswith("<!DOCTYPE html>")
    assert not checker.errors, checker.errors[:5]
    assert not checker.stack, f"unclosed tags: {checker.stack}"
    assert len(checker.ids) == len(set(checker.ids)), "duplicate ids"
    return checker


def assert_self_contained(text: str, checker: _Checker) -> None:
    """Only in-page links and embedded PNGs; nothing that could load from elsewhere."""
    assert "http://" not in text and "https://" not in text
    for tag, url in checker.urls:
        assert url.startswith(("#", "data:image/png;base64,")), (tag, url[:80])
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert "url(" not in text


def test_checker_catches_bad_html():
    with pytest.raises(AssertionError):
        check_html("<!DOCTYPE html><html><body><div><p>x</div></body></html>")
    for bad in ('<img src="//cdn.example/x.png">', '<a href="file:///etc/passwd">x</a>'):
        page = f"<!DOCTYPE html><p>{bad}</p>"
        with pytest.raises(AssertionError):
            assert_self_contained(page, check_html(page))


# --- reading --------------------------------------------------------------


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


def test_h5ad_files_are_never_read(tmp_path):
    write_synthetic_results(tmp_path, datasets=("SIMU1",), models=("LR",), seeds=(0,))
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
def test_informative_is_unknown_where_evaluate_wrote_none(tmp_path, written):
    """EVALUATE writes the column wherever the truth is known; elsewhere it is NA."""
    for i, column in enumerate(written):
        write_synthetic_results(
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


# --- summary tables against plain re-implementations -----------------------


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
        ("E", "A", "A", "j", "", 1, 0.25, 0.0),
        ("D", "B", "B", "j", "", 1, 0.5, 0.0),
        ("D", "A", "B", "j", "", 4, 0.3, 0.1),
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


# --- the HTML report --------------------------------------------------------


def test_report_is_valid_and_self_contained(html):
    checker = check_html(html)
    assert_self_contained(html, checker)
    assert set(SECTIONS) <= set(checker.ids)
    with_images = {section for section, src in checker.images}
    assert set(FIGURE_SECTIONS) <= with_images
    for _, src in checker.images:
        assert src.startswith("data:image/png;base64,") and len(src) > 1000
    assert "not computed in this run" not in html


def test_report_content(html):
    assert "★" in html  # informative genes of SIMU1 are marked
    assert "The true informative genes are not known for this dataset." in html  # BRCA
    assert "PGI local" in html and "FA local" in html and "balanced accuracy" in html
    assert "ig.n_steps" in html and "3000" in html  # flattened params
    assert "torch" in html and "2.5.1" in html  # versions table
    assert "top100_jaccard" in html
    # the figure of each curve kind lands in its own section
    pg = html[html.index('id="prediction-gaps"') : html.index('id="feature-agreement"')]
    assert "Prediction-gap curves for SIMU1" in pg


def test_report_is_deterministic(results, html):
    assert render_report(results, params=PARAMS, versions=VERSIONS) == html


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param("", "The version record was not computed in this run.", id="empty"),
        pytest.param("just: [text", "just: [text", id="raw"),
    ],
)
def test_every_section_renders_without_data(tmp_path, versions, expected):
    (tmp_path / "D.m.0.train.json").write_text(
        '{"dataset": "D", "model": "m", "seed": 0, "train_accuracy": 99.5, "balanced_accuracy": 91}'
    )
    html = render_report(collect_results(tmp_path), params={}, versions=versions)
    checker = check_html(html)
    assert_self_contained(html, checker)
    assert set(SECTIONS) <= set(checker.ids)
    absent = {s for s in SECTIONS if "not computed in this run" in _section(html, s)}
    assert absent == set(SECTIONS) - {"accuracy"}
    assert expected in html
    assert "99.50 ± 0.00" in html


def _section(html: str, section: str) -> str:
    start = html.index(f'<section id="{section}">')
    return html[start : html.index("</section>", start)]


def test_write_report_writes_every_file(results, tmp_path):
    written = write_report(results, tmp_path / "out", params=PARAMS, versions=VERSIONS)
    expected = {tmp_path / "out" / "summary" / f"{t}.tsv" for t in TABLES}
    expected.add(tmp_path / "out" / "report" / "report.html")
    assert set(written) == expected
    assert all(p.stat().st_size > 0 for p in expected)
    assert not list((tmp_path / "out").rglob(".*.tmp"))
    accuracy = pd.read_csv(tmp_path / "out" / "summary" / "accuracy.tsv", sep="\t")
    assert {"balanced_accuracy", "balanced_accuracy mean", "balanced_accuracy std"} <= set(
        accuracy.columns
    )
    metrics = pd.read_csv(
        tmp_path / "out" / "summary" / "metrics.tsv", sep="\t", keep_default_na=False
    )
    assert list(metrics.columns) == list(keys.METRIC_COLUMNS)
    assert len(metrics) == len(results.metrics)


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
