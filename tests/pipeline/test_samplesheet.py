"""Several datasets in one run: a samplesheet given with --input.

tests/data/samplesheet/datasets.csv lists an AnnData file and a CSV table with
its labels file, each with its own settings, by paths relative to the sheet.
"""

from __future__ import annotations

import json
from pathlib import Path

import anndata as ad
import pandas as pd
import pytest

from .conftest import REPO, run_nextflow

pytestmark = pytest.mark.pipeline
SHEET = REPO / "tests" / "data" / "samplesheet" / "datasets.csv"
FORMATS = REPO / "tests" / "data" / "formats"
# The fixtures have fewer than 10 genes: replace one gene per step.
SMALL = ["--models", "LR", "--seeds", "1", "--n_steps", "50", "--gap", "1"]


@pytest.fixture(scope="module")
def sheet_run(tmp_path_factory, nextflow_available):
    run = run_nextflow(
        tmp_path_factory.mktemp("samplesheet"),
        "-profile",
        "test,local",
        "--input",
        str(SHEET),
        "--simulate",
        "test",
        *SMALL,
    )
    assert run.returncode == 0, run.output[-5000:]
    return run


def test_every_dataset_reaches_one_summary_and_one_report(sheet_run) -> None:
    metrics = pd.read_csv(sheet_run.outdir / "summary" / "metrics.tsv", sep="\t")
    assert set(metrics["dataset"]) == {"cells", "trial", "test"}
    html = (sheet_run.outdir / "report" / "report.html").read_text()
    for dataset in ("cells", "trial", "test"):
        assert dataset in html
    assert len(list((sheet_run.outdir / "report").glob("report*.html"))) == 1


def test_each_row_runs_with_its_own_settings(sheet_run) -> None:
    def uns(path: Path, step: str) -> dict:
        return ad.read_h5ad(path).uns["genexai"][step]

    prepare = sheet_run.outdir / "prepare"
    assert uns(prepare / "cells.prepared.h5ad", "import")["label_key"] == "cell_type"
    assert uns(prepare / "cells.prepared.h5ad", "prepare")["transform"] == "zscore"  # --transform
    assert uns(prepare / "trial.prepared.h5ad", "import")["label_key"] == "condition"
    assert uns(prepare / "trial.prepared.h5ad", "prepare")["transform"] == "center"
    attribute = sheet_run.outdir / "attribute"
    trial = uns(attribute / "trial.LR.integrated_gradients.1.attributions.h5ad", "attribute")
    assert trial["baseline_kind"] == "class_mean"
    assert list(trial["classes"]) == ["control"]
    cells = uns(attribute / "cells.LR.integrated_gradients.1.attributions.h5ad", "attribute")
    assert cells["baseline_kind"] == "zero"


def test_the_schema_s_choices_are_the_parameters() -> None:
    """A samplesheet column offers the choices of the parameter it defaults to."""
    columns = json.loads((REPO / "assets" / "schema_input.json").read_text())["items"]["properties"]
    params = {}
    for group in json.loads((REPO / "nextflow_schema.json").read_text())["$defs"].values():
        params.update(group["properties"])
    assert set(columns["transform"]["enum"]) == set(params["transform"]["enum"])
    assert set(columns["format"]["enum"]) == set(params["input_format"]["enum"]) - {"samplesheet"}
    assert set(columns["baseline"]["enum"]) == set(params["baseline"]["enum"]) - {"paper"}
    assert params["input"]["schema"] == "assets/schema_input.json"


def write_sheet(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def refused(tmp_path: Path, sheet: Path, *args: str) -> str:
    """The run's output, after checking it stopped before any task ran."""
    run = run_nextflow(tmp_path, "-profile", "test,local", "--input", str(sheet), *args)
    assert run.returncode != 0, run.output[-3000:]
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())
    return run.output


def test_every_bad_row_is_named_before_any_task(tmp_path: Path, nextflow_available) -> None:
    cells = FORMATS / "h5ad" / "cells.h5ad"
    sheet = write_sheet(
        tmp_path / "sheet.csv",
        "id,input,format,labels,label_key,transform,baseline,baseline_class,studied_classes",
        f"a,{cells},xlsx,,cell_type,,,,",
        f"b,{tmp_path}/missing.h5ad,,,,,,,",
        f"a,{cells},,,,sqrt,,,",
        f"bad id,{cells},,,,,class_mean,,",
        f"test,{cells},,,,,zero,B,",
        f'c,"{cells}",,,,,,,,',
        f"d,{tmp_path}/counts.dat,,,,,,,",
    )
    (tmp_path / "counts.dat").write_text("gene,s1\n")
    output = refused(tmp_path, sheet, "--simulate", "test")
    where = f"--input {sheet}"
    for line in [
        f"{where}: row 1 (line 2), column 'format': 'xlsx' is not one of h5ad, table,",
        f"{where}: row 2 (line 3), column 'input': '{tmp_path}/missing.h5ad' does not exist",
        f"{where}: row 3 (line 4), column 'id': 'a' is also row 1's id",
        f"{where}: row 3 (line 4), column 'transform': 'sqrt' is not one of zscore",
        f"{where}: row 4 (line 5), column 'id': 'bad id' does not match",
        f"{where}: row 4 (line 5), column 'baseline_class': baseline class_mean needs the class",
        f"{where}: row 5 (line 6), column 'id': 'test' is also a simulation of --simulate",
        f"{where}: row 5 (line 6), column 'baseline_class': used only with baseline class_mean",
        f"{where}: row 6 (line 7): 10 fields, but the header has 9",
        f"{where}: row 7 (line 8), column 'format': cannot tell the format of 'counts.dat'",
    ]:
        assert line in output, output[-3000:]


def test_a_bad_header_is_refused(tmp_path: Path, nextflow_available) -> None:
    sheet = write_sheet(tmp_path / "sheet.tsv", "id\tinput\tcondition", "a\tb.h5ad\tx")
    output = refused(tmp_path, sheet)
    assert f"--input {sheet}: unknown column 'condition' (columns: id, input, format," in output


def test_single_file_options_are_refused_with_a_samplesheet(
    tmp_path: Path, nextflow_available
) -> None:
    output = refused(tmp_path, SHEET, "--labels", str(FORMATS / "table" / "labels.csv"))
    assert "--labels: describes a single --input file; with a samplesheet give it per row" in output


def test_the_paper_baseline_needs_a_baseline_per_real_dataset(
    tmp_path: Path, nextflow_available
) -> None:
    output = refused(tmp_path, SHEET, "--baseline", "paper", "--simulate", "test")
    # Row 2 names its own baseline; row 1 would take --baseline paper.
    row1 = f"--input {SHEET}: row 1 (line 2), column 'baseline'"
    assert f"{row1}: --baseline paper applies to simulations only" in output
    assert "row 2" not in output


def test_a_samplesheet_is_never_read_as_an_expression_table(
    tmp_path: Path, nextflow_available
) -> None:
    """Given as a table on purpose, it is refused by IMPORT with its own message."""
    run = run_nextflow(
        tmp_path,
        "-profile",
        "test,local",
        "--input",
        str(SHEET),
        "--input_format",
        "table",
        "--labels",
        str(FORMATS / "table" / "labels.csv"),
        *SMALL,
    )
    assert run.returncode != 0
    assert "this is a samplesheet (its header starts with id and holds input)" in run.output
