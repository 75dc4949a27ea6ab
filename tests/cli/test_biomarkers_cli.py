"""bin/biomarkers.py: EVALUATE's and RANK_GENES' files in, three tables out; options; errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from genexai import io
from genexai.biomarkers import Thresholds, biomarkers
from genexai.cli.biomarkers import main
from tests.helpers.biomarkers import DATASET, RUNS, K, make_inputs

OUTPUTS = ("biomarkers", "verdict", "pathways")
#: The option of each output (the biomarkers table is the command's --output).
OPTIONS = {"biomarkers": "--output", "verdict": "--verdict", "pathways": "--pathways"}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, list[Path]]:
    """Every input written as the steps write them, under names that say nothing."""
    folder = tmp_path_factory.mktemp("biomarkers")
    prepared, scores, curves, rankings = make_inputs()
    paths = {"prepared": [folder / "p.h5ad"], "rankings": [folder / "r.h5ad"]}
    io.write_h5ad(prepared, paths["prepared"][0])
    io.write_h5ad(rankings, paths["rankings"][0])
    paths["gene-scores"] = [folder / f"run{i}.h5ad" for i in range(len(RUNS))]
    paths["curves"] = [folder / f"run{i}.tsv" for i in range(len(RUNS))]
    for adata, table, h5ad, tsv in zip(
        scores, curves, paths["gene-scores"], paths["curves"], strict=True
    ):
        io.write_h5ad(adata, h5ad)
        io.write_table(table, tsv)
    return paths


def _args(files, out: Path, *extra, runs=None) -> list[str]:
    runs = range(len(RUNS)) if runs is None else runs
    args = ["--prepared", files["prepared"][0], "--rankings", files["rankings"][0]]
    for i in runs:
        args += ["--gene-scores", files["gene-scores"][i], "--curves", files["curves"][i]]
    args += ["--dataset", DATASET, "-k", str(K)]
    for name in OUTPUTS:
        args += [OPTIONS[name], out / f"x.{name}.tsv"]
    return [str(a) for a in [*args, *extra]]


def _expected(files, **options):
    return biomarkers(
        io.read_annotations(files["prepared"][0]),
        [io.read_h5ad(p) for p in files["gene-scores"]],
        [pd.read_csv(p, sep="\t") for p in files["curves"]],
        io.read_h5ad(files["rankings"][0]),
        dataset=DATASET,
        top_k=K,
        **options,
    )


def test_writes_the_three_tables(files, tmp_path):
    result = CliRunner().invoke(main, _args(files, tmp_path))
    assert result.exit_code == 0, result.output
    want = _expected(files)
    for name in OUTPUTS:
        io.write_table(getattr(want, name), tmp_path / f"want.{name}.tsv")
        got = (tmp_path / f"x.{name}.tsv").read_text()
        assert got == (tmp_path / f"want.{name}.tsv").read_text(), name
    verdict = pd.read_csv(tmp_path / "x.verdict.tsv", sep="\t", keep_default_na=False)
    # saliency has one seed per model: stability and stable are empty cells
    assert set(verdict.loc[verdict["method"] == "saliency", "stable"]) == {""}


def test_thresholds_and_primary_method_reach_the_step(files, tmp_path):
    extra = ["--primary-method", "saliency", "--sufficiency", "0", "--necessity-margin", "-100"]
    extra += ["--stability", "0", "--truth", "0"]
    result = CliRunner().invoke(main, _args(files, tmp_path, *extra))
    assert result.exit_code == 0, result.output
    verdict = pd.read_csv(tmp_path / "x.verdict.tsv", sep="\t")
    want = _expected(
        files,
        primary_method="saliency",
        thresholds=Thresholds(sufficiency=0, necessity_margin=-100, stability=0, truth=0),
    )
    pd.testing.assert_frame_equal(
        verdict[["sufficient", "necessary"]], want.verdict[["sufficient", "necessary"]].astype(bool)
    )
    assert verdict["sufficient"].all() and verdict["necessary"].all()
    table = pd.read_csv(tmp_path / "x.biomarkers.tsv", sep="\t")
    assert set(table["method"]) == {"saliency"}


def test_gene_sets_option(files, tmp_path):
    genes = list(io.read_annotations(files["prepared"][0]).var_names)
    gmt = tmp_path / "s.gmt"
    gmt.write_text(f"A\t\t{genes[0]}\t{genes[1]}\nB\t\t{genes[5]}\tNOPE\n")
    result = CliRunner().invoke(main, _args(files, tmp_path, "--gene-sets", gmt))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "x.pathways.tsv", sep="\t")
    assert list(table.columns)[-1] == "rank"  # no over_expressed with a GMT
    assert list(table["gene_set"].iloc[:2]) == ["A", "B"]
    assert list(table["n_not_found"].iloc[:2]) == [0, 1]


@pytest.mark.parametrize(
    ("extra", "runs", "message"),
    [
        pytest.param(
            ["--primary-method", "saliency"],
            [0, 1],
            "Error: biomarkers: --primary-method: 'saliency' has no gene scores; "
            "found methods ['integrated_gradients']",
            id="primary",
        ),
        pytest.param(["--stability", "2"], None, "Invalid value for '--stability'", id="range"),
        pytest.param(
            ["--primary-method", "x"], None, "Invalid value for '--primary-method'", id="x"
        ),
    ],
)
def test_bad_input(files, tmp_path, extra, runs, message):
    result = CliRunner().invoke(main, _args(files, tmp_path, *extra, runs=runs))
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_script_runs_as_a_process(files, tmp_path, script, run_script):
    assert script("biomarkers").read_text().startswith("#!/usr/bin/env python3\n")
    assert script("biomarkers").stat().st_mode & stat.S_IXUSR
    bad = tmp_path / "bad.tsv"
    bad.write_text("")
    args = _args(files, tmp_path)
    args[args.index("--curves") + 1] = str(bad)
    done = run_script("biomarkers", *args)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"Error: biomarkers: {bad}: not a curves table")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tsv"]
    ok = run_script("biomarkers", *_args(files, tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert all((tmp_path / f"x.{name}.tsv").is_file() for name in OUTPUTS)
