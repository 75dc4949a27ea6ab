"""Several methods in one run (issue 19): attribution methods and classical
rankings fan out side by side, go through the same metrics, and end in the
per-class evidence (biomarkers, verdict, gene sets) and the report's Verdict.

One launch of the test simulation with ``--methods
integrated_gradients,deeplift,wilcoxon,mutual_info``, two models, two seeds.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from genexai import keys

from .conftest import run_nextflow

pytestmark = pytest.mark.pipeline

METHODS = ("integrated_gradients", "deeplift", "wilcoxon", "mutual_info")
GLOBAL = ("wilcoxon", "mutual_info")


@pytest.fixture(scope="module")
def methods_run(tmp_path_factory, nextflow_available):
    run = run_nextflow(
        tmp_path_factory.mktemp("methods"),
        "-profile",
        "test,local",
        "--methods",
        ",".join(METHODS),
        "--models",
        "LR,MLP",
        "--skip_multiqc",
    )
    assert run.returncode == 0, run.output[-5000:]
    return run


def _summary(run, name: str) -> pd.DataFrame:
    return pd.read_csv(run.outdir / "summary" / name, sep="\t", keep_default_na=False)


def test_every_method_is_evaluated_on_every_model_run(methods_run) -> None:
    metrics = _summary(methods_run, "metrics.tsv")
    evaluated = metrics[metrics["method"] != "none"]
    runs = evaluated.groupby("method")[["model", "seed"]].apply(
        lambda g: set(map(tuple, g.drop_duplicates().to_numpy()))
    )
    expected = {(m, s) for m in ("LR", "MLP") for s in (1, 2)}
    assert {m: runs[m] for m in METHODS} == dict.fromkeys(METHODS, expected)
    # A global ranking defines no per-example metric.
    variants = evaluated["variant"].str.split(":").str[0]
    local = evaluated[(variants == "local") | (variants == "global_intersect")]
    assert set(local["method"]) == {"integrated_gradients", "deeplift"}
    # Feature agreement with the planted biomarkers, for every method.
    fa = evaluated[(evaluated.metric == "fa") & (evaluated.variant == "global_mean_score")]
    assert set(fa["method"]) == set(METHODS)
    assert fa["value"].astype(float).between(0, 100).all()
    # One rankings file per classical ranking (Wilcoxon also for the evidence).
    ranked = sorted(p.name for p in (methods_run.outdir / "rank_genes").glob("*.rankings.h5ad"))
    assert ranked == ["test.mutual_info.rankings.h5ad", "test.wilcoxon.rankings.h5ad"]


def test_biomarkers_table_lists_the_primary_methods_top_genes(methods_run) -> None:
    table = _summary(methods_run, "biomarkers.tsv")
    assert list(table.columns) == [*keys.BIOMARKER_COLUMNS, keys.INFORMATIVE]
    assert set(table["method"]) == {"integrated_gradients"}
    classes = set(_summary(methods_run, "class_counts.tsv")["class"])
    assert set(table["class"]) == classes
    # k = 20 genes per class (the default --biomarker_k), ranked 1..20.
    ranks = table.groupby("class")["rank"].apply(list)
    assert all(r == list(range(1, 21)) for r in ranks), ranks
    for column in ("seed_fraction", "model_fraction"):
        assert table[column].astype(float).between(0, 1).all()
    assert set(table[keys.INFORMATIVE].astype(str)) <= {"True", "False"}


def test_verdict_judges_every_method_and_class(methods_run) -> None:
    table = _summary(methods_run, "verdict.tsv")
    assert list(table.columns) == list(keys.VERDICT_COLUMNS)
    assert set(map(tuple, table[["method", "class"]].to_numpy())) == {
        (m, c) for m in METHODS for c in set(table["class"])
    }
    assert (table["verdict"].str.len() > 0).all()
    assert table["keep_accuracy"].astype(float).between(0, 100).all()


def test_pathways_table_reads_the_simulators_pathways(methods_run) -> None:
    table = _summary(methods_run, "pathways.tsv")
    assert list(table.columns) == [*keys.PATHWAY_COLUMNS, "over_expressed"]
    assert set(table["method"]) == set(METHODS)
    assert table["gene_set"].str.fullmatch(r"P\d+").all()
    p = table["p_adj"].astype(float)
    assert p.between(0, 1).all()
    # Each class has over-expressed pathways, and they are found among the gene sets.
    assert (
        table.groupby("class")["over_expressed"]
        .apply(lambda v: (v.astype(str) == "True").any())
        .all()
    )


def test_report_opens_with_the_verdict(methods_run) -> None:
    html = (methods_run.outdir / "report" / "report.html").read_text()
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html)
    assert headings and "Verdict" in headings[0], headings
    for method in METHODS:
        assert method in html
