"""genexai.report: BIOMARKERS' tables (verdict, biomarkers, pathways), the
method comparison, and the report's Verdict, Methods compared, Biomarker genes
and Pathways sections."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.errors import InputError
from genexai.report import collect_results, render_report, summary_tables, write_report
from genexai.report._render import _primary_rows
from genexai.report._tables import primary_method
from tests.helpers.report import VERDICTS, write_biomarker_tables

from .test_render import assert_self_contained, check_html

DATASETS = ("SIMU1", "BRCA")
MODELS = ("LR", "MLP")
SEEDS = (0, 1)
CLASSES = ("C0", "C1")
METHODS = ("integrated_gradients", "t_test")
#: Base value of each compared metric per method; a run adds seed + 2 × model
#: index, so over the 4 runs the mean is base + 1.5 and the std sqrt(1.25).
BASES = {
    "integrated_gradients": {
        ("fa", "global_mean_score"): 60.0,
        ("fa_precision@10", "global_mean_score"): 55.0,
        ("fa_precision@5", "global_mean_score"): 50.0,
        ("fa_auroc", "global_mean_score"): 0.5,
        ("pgi", "global_per_class"): 40.0,
        ("pgu", "global_per_class"): 10.0,
        ("pgr", "random"): 20.0,
    },
    "t_test": {
        ("fa", "global_mean_score"): 70.0,
        ("fa_precision@10", "global_mean_score"): 45.0,
        ("fa_precision@5", "global_mean_score"): 40.0,
        ("fa_auroc", "global_mean_score"): 0.4,
        ("pgi", "global_per_class"): 30.0,
        ("pgu", "global_per_class"): 5.0,
        ("pgr", "random"): 25.0,
    },
}
#: Rows EVALUATE writes that the comparison leaves out (diffused and local
#: variants, per-class rows).
IGNORED = (
    ("fa", "global_mean_score_diffused"),
    ("pgi", "local"),
    ("pgi", "global_per_class:C0"),
)
STD = float(np.std([0.0, 1.0, 2.0, 3.0]))


def _write_method_metrics(folder: Path) -> None:
    for dataset, (m, model), seed, method in itertools.product(
        DATASETS, enumerate(MODELS), SEEDS, METHODS
    ):
        offset = seed + 2 * m
        rows = [
            (dataset, model, seed, method, metric, variant, base + offset)
            for (metric, variant), base in BASES[method].items()
            if dataset.startswith("SIMU") or not metric.startswith("fa")
        ]
        rows += [(dataset, model, seed, method, mt, v, 99.0) for mt, v in IGNORED]
        pd.DataFrame(rows, columns=keys.METRIC_COLUMNS).to_csv(
            folder / f"{dataset}.{model}.{seed}.{method}.metrics.tsv", sep="\t", index=False
        )


@pytest.fixture(scope="module")
def folder(tmp_path_factory, synthetic_results) -> Path:
    """2 datasets × 2 models × 2 seeds, two compared methods, BIOMARKERS' tables."""
    folder = synthetic_results(
        tmp_path_factory.mktemp("verdict"),
        datasets=DATASETS,
        models=MODELS,
        seeds=SEEDS,
        biomarkers=False,
    )
    _write_method_metrics(folder)
    for i, dataset in enumerate(DATASETS):
        write_biomarker_tables(
            folder,
            dataset,
            methods=METHODS,
            models=MODELS,
            classes=CLASSES,
            genes=tuple(f"G{g:05d}" for g in range(60)),
            n_runs=len(MODELS) * len(SEEDS),
            seed=i,
        )
    return folder


@pytest.fixture(scope="module")
def written(folder) -> dict[str, pd.DataFrame]:
    """What the fixture wrote, read back (every digit, as REPORT reads them)."""
    return {
        name: pd.concat(
            [
                pd.read_csv(folder / f"{d}.{name}.tsv", sep="\t", float_precision="round_trip")
                for d in DATASETS
            ],
            ignore_index=True,
        )
        for name in ("biomarkers", "verdict", "pathways")
    }


@pytest.fixture(scope="module")
def results(folder):
    return collect_results(folder)


@pytest.fixture(scope="module")
def tables(results):
    return summary_tables(results)


@pytest.fixture(scope="module")
def html(results) -> str:
    return render_report(results, params={}, versions="")


def _section(html: str, section: str) -> str:
    start = html.index(f'<section id="{section}">')
    return html[start : html.index("</section>", start)]


def _part(section: str, anchor: str) -> str:
    """A dataset's part of a section: from its heading to the next one."""
    start = section.index(f'id="{anchor}"')
    end = section.find("<h3", start + 1)
    return section[start : end if end >= 0 else len(section)]


# --- reading ----------------------------------------------------------------


def test_collect_reads_the_biomarker_tables(results, written):
    n_rows = {"biomarkers": 2 * 2 * 5, "verdict": 2 * 2 * 2, "pathways": 2 * 2 * 2 * 2 * 6}
    for name, n in n_rows.items():
        assert len(getattr(results, name)) == len(written[name]) == n
    verdict = results.verdict.set_index(["dataset", "method", "class"])
    assert verdict["k"].dtype == np.int64 and verdict["stability"].dtype == np.float64
    assert str(verdict["true"].dtype) == "boolean"
    # the truth is unknown on real data: empty cells, read as NA
    assert verdict.loc["BRCA", "true"].isna().all()
    assert verdict.loc["BRCA", "precision"].isna().all()
    assert verdict.loc["SIMU1", "true"].notna().all()
    assert results.biomarkers.set_index("dataset").loc["BRCA", keys.INFORMATIVE].isna().all()
    assert results.pathways.set_index("dataset").loc["SIMU1", keys.OVER_EXPRESSED].any()
    np.testing.assert_array_equal(
        results.verdict["keep_accuracy"].sort_values(),
        written["verdict"]["keep_accuracy"].sort_values(),
    )


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        pytest.param(
            "verdict",
            lambda t: t.assign(sufficient="maybe"),
            r"SIMU1\.verdict\.tsv: column 'sufficient', row 1: expected True/False, found 'maybe'",
            id="boolean",
        ),
        pytest.param(
            "biomarkers",
            lambda t: t.drop(columns="mean_rank"),
            r"SIMU1\.biomarkers\.tsv: missing column\(s\) \['mean_rank'\]",
            id="column",
        ),
        pytest.param(
            "pathways",
            lambda t: t.assign(rank=1.5),
            r"SIMU1\.pathways\.tsv: column 'rank', row 1: expected an integer, found '1.5'",
            id="integer",
        ),
    ],
)
def test_a_bad_biomarker_table_is_one_line_naming_it(tmp_path, folder, name, edit, message):
    for path in folder.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    path = tmp_path / f"SIMU1.{name}.tsv"
    edit(pd.read_csv(path, sep="\t")).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=message) as error:
        collect_results(tmp_path)
    assert "\n" not in str(error.value)


# --- summary tables -----------------------------------------------------------


def test_summary_files(results, tables, written, tmp_path):
    write_report(results, tmp_path, params={}, versions="")
    summary = tmp_path / "summary"
    columns = {
        "biomarkers": [*keys.BIOMARKER_COLUMNS, keys.INFORMATIVE],
        "verdict": list(keys.VERDICT_COLUMNS),
        "pathways": [*keys.PATHWAY_COLUMNS, keys.OVER_EXPRESSED],
    }
    for name, expected in columns.items():
        table = pd.read_csv(summary / f"{name}.tsv", sep="\t")
        assert list(table.columns) == expected
        assert len(table) == len(written[name])
        assert table["dataset"].tolist() == sorted(table["dataset"])  # all datasets, sorted
    verdict = pd.read_csv(summary / "verdict.tsv", sep="\t")
    for row in verdict.itertuples(index=False):
        assert row.verdict == VERDICTS[CLASSES.index(row[2])][0]
    methods = pd.read_csv(summary / "methods.tsv", sep="\t")
    assert len(methods) == len(DATASETS) * len(METHODS)
    assert methods[["dataset", "method"]].values.tolist() == [
        ["BRCA", "integrated_gradients"],
        ["BRCA", "t_test"],
        ["SIMU1", "integrated_gradients"],
        ["SIMU1", "t_test"],
    ]


def test_method_table_values(tables, written):
    methods = tables["methods"].set_index(["dataset", "method"])
    assert (methods["n_runs"] == len(MODELS) * len(SEEDS)).all()
    for dataset, method in methods.index:
        row = methods.loc[(dataset, method)]
        for (metric, variant), base in BASES[method].items():
            label = f"{metric} {variant}"
            if dataset == "BRCA" and metric.startswith("fa"):
                assert np.isnan(row[f"{label} mean"]) and row[label] == ""
                continue
            np.testing.assert_allclose(row[f"{label} mean"], base + 1.5, rtol=1e-12)
            np.testing.assert_allclose(row[f"{label} std"], STD, rtol=1e-12)
            assert row[label] == f"{base + 1.5:.2f} ± {STD:.2f}"
        verdict = written["verdict"]
        rows = verdict[(verdict["dataset"] == dataset) & (verdict["method"] == method)]
        assert row["n_classes"] == len(CLASSES)
        for flag in ("sufficient", "necessary", "stable"):
            assert row[f"n_{flag}"] == rows[flag].sum() == 1  # C0 yes, C1 no
        if dataset == "BRCA":
            assert pd.isna(row["n_true"]) and np.isnan(row["pathway_agreement"])
        else:
            assert row["n_true"] == rows["true"].sum()
            np.testing.assert_allclose(
                row["pathway_agreement"], rows["pathway_agreement"].mean(), rtol=1e-12
            )
    labels = [c for c in tables["methods"].columns if c.endswith(" mean")]
    # k in increasing order; diffused, local and per-class variants left out
    assert labels == [
        "fa global_mean_score mean",
        "fa_precision@5 global_mean_score mean",
        "fa_precision@10 global_mean_score mean",
        "fa_auroc global_mean_score mean",
        "pgi global_per_class mean",
        "pgu global_per_class mean",
        "pgr random mean",
    ]


def test_methods_are_in_their_display_order():
    assert primary_method(["t_test", "integrated_gradients", "none"]) == "integrated_gradients"
    assert primary_method(["wilcoxon", "deeplift"]) == "deeplift"  # attribution first
    assert primary_method(["zeta", "alpha"]) == "alpha"
    assert primary_method(["none", ""]) is None


def test_figures_draw_the_primary_method(tables):
    paper = tables["prediction_gaps"]
    drawn = _primary_rows(paper)
    assert set(paper["method"]) == {"ig", *METHODS}
    assert set(drawn["method"]) == {"integrated_gradients"}
    accuracy = _primary_rows(tables["accuracy"])  # method "none" only: every row
    assert len(accuracy) == len(tables["accuracy"])


# --- the report ---------------------------------------------------------------


def test_verdict_is_the_first_section(html):
    checker = check_html(html)
    assert_self_contained(html, checker)
    assert checker.sections == []  # balanced
    first = re.search(r'<section id="([^"]+)"', html)
    assert first and first.group(1) == "verdict"
    for href in re.findall(r'href="#([^"]+)"', html):
        assert href in checker.ids, href  # every link lands somewhere
    nav = html[html.index("<nav>") : html.index("</nav>")]
    assert nav.index("#verdict") < nav.index("#methods") < nav.index("#overview")


def test_verdict_section_holds_each_class_verdict(html, written):
    section = _section(html, "verdict")
    assert "not computed" not in section
    verdict = written["verdict"]
    for dataset in DATASETS:
        part = _part(section, f"verdict-{dataset}")
        assert "integrated gradients" in part[: part.index("</h3>")]
        main = part[: part.index("<details>")]  # the primary method; others collapsed
        for c, name in enumerate(CLASSES):
            row = verdict[
                (verdict["dataset"] == dataset)
                & (verdict["method"] == "integrated_gradients")
                & (verdict["class"] == name)
            ].iloc[0]
            text = VERDICTS[c][0]
            match = re.search(
                rf"<tr><td>{name}</td><td[^>]*>{re.escape(text)}</td>(.*?)</tr>", main
            )
            assert match, (dataset, name)
            cells = re.findall(r"<td[^>]*>([^<]*)</td>", match.group(1))
            keep = f"{row.keep_accuracy:.1f} ± {row.keep_accuracy_std:.1f}"
            assert keep in cells
            assert f"{row.remove_drop:.1f} ± {row.remove_drop_std:.1f}" in cells
            assert f"{row.random_drop:.1f} ± {row.random_drop_std:.1f}" in cells
            assert cells[-1] == f"{row.n_examples:.1f}"
            assert cells[0] == (
                "not reached" if np.isnan(row.sufficient_k) else f"{row.sufficient_k:.0f}"
            )
        assert ("precision (%)" in main) == (dataset == "SIMU1")
        assert "t test" in part[part.index("<details>") :]
        for target in ("methods", "biomarkers", "pathways"):
            assert f'href="#{target}-{dataset}"' in part


def marked(cells: list[list[tuple[str, str]]], column: int) -> list[bool]:
    """Which rows have the cell of ``column`` highlighted."""
    return ["mark" in row[column][0] for row in cells]


def test_methods_section_is_a_row_per_method_best_marked(html):
    section = _section(html, "methods")
    for dataset in DATASETS:
        part = _part(section, f"methods-{dataset}")
        body = part[part.index("<tbody>") : part.index("</tbody>")]
        rows = re.findall(r"<tr>(.*?)</tr>", body)
        assert [re.match(r"<td>([^<]*)</td>", r).group(1) for r in rows] == [
            "integrated gradients",
            "t test",
        ]
        header = re.findall(r"<th>([^<]*)</th>", part)
        cells = [re.findall(r"<td([^>]*)>([^<]*)</td>", r) for r in rows]
        column = {h: i for i, h in enumerate(header)}

        assert marked(cells, column["PGI ↑"]) == [True, False]
        assert marked(cells, column["PGU ↓"]) == [False, True]  # lower is better
        assert marked(cells, column["PGR (random)"]) == [False, False]  # the control is no contest
        assert ("FA ↑" in column) == (dataset == "SIMU1")
        if dataset == "SIMU1":
            assert marked(cells, column["FA ↑"]) == [
                False,
                True,
            ]  # the t-test finds more planted genes
            assert marked(cells, column["precision@5 ↑"]) == [True, False]
            assert cells[1][column["FA ↑"]][1] == f"71.50 ± {STD:.2f}"


def test_biomarker_and_pathway_sections(html, written):
    markers = _section(html, "biomarkers")
    pathways = _section(html, "pathways")
    for dataset in DATASETS:
        part = _part(markers, f"biomarkers-{dataset}")
        assert part.count("<details") == len(CLASSES)
        rows = written["biomarkers"]
        first = rows[
            (rows["dataset"] == dataset)
            & (rows["method"] == "integrated_gradients")
            & (rows["class"] == "C0")
        ]
        assert f"<summary>C0: {', '.join(first['gene'])}" in part
        part = _part(pathways, f"pathways-{dataset}")
        assert part.count("<details") == len(CLASSES)
        assert "integrated gradients" in part[: part.index("</h3>")]
    # true biomarkers and over-expressed sets of the simulation are starred
    assert "★" in _part(pathways, "pathways-SIMU1")
    assert "★" not in _part(pathways, "pathways-BRCA")


def test_a_folder_without_biomarker_tables_still_reports(tmp_path, synthetic_results):
    synthetic_results(
        tmp_path / "in", datasets=("SIMU1",), models=("LR",), seeds=(0,), biomarkers=False
    )
    results = collect_results(tmp_path / "in")
    assert results.verdict.empty and list(results.verdict.columns) == list(keys.VERDICT_COLUMNS)
    write_report(results, tmp_path / "out", params={}, versions="")
    html = (tmp_path / "out" / "report" / "report.html").read_text()
    check_html(html)
    for section in ("verdict", "methods", "biomarkers", "pathways"):
        assert "not computed in this run" in _section(html, section)
    for name in ("verdict", "biomarkers", "pathways", "methods"):
        table = pd.read_csv(tmp_path / "out" / "summary" / f"{name}.tsv", sep="\t")
        assert table.empty and "dataset" in table.columns
