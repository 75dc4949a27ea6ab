"""The pipeline on real-data formats: every importer's fixture, end to end.

The fixtures in tests/data/formats/ are tiny files in exactly the public
formats (TCGA PanCan from GDC and Xena, Xena htseq counts, GDC STAR counts,
AnnData, tables). BRCA-like data run with the paper's settings for that
family: log2-CPM centring and the normal-tissue class mean as baseline.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from .conftest import REPO, run_nextflow

pytestmark = pytest.mark.pipeline
FORMATS = REPO / "tests" / "data" / "formats"

CASES = {
    "h5ad": ["--input", "h5ad/cells.h5ad", "--label_key", "cell_type"],
    "table": [
        "--input",
        "table/expression.csv",
        "--labels",
        "table/labels.csv",
        "--input_format",
        "table",
        "--label_key",
        "condition",
    ],
    "pancan_gdc": [
        "--input",
        "pancan_gdc/EBPlusPlusAdjustPANCAN_IlluminaHiSeq_RNASeqV2.geneExp.tsv",
        "--labels",
        "pancan_gdc/TCGA-CDR-SupplementalTableS1.tsv.gz",
        "--input_format",
        "pancan_gdc",
        "--transform",
        "log2_zscore",
        "--split",
        "paper",
    ],
    "pancan_xena": [
        "--input",
        "pancan_xena/EB++AdjustPANCAN_IlluminaHiSeq_RNASeqV2.geneExp.xena.gz",
        "--labels",
        "pancan_xena/Survival_SupplementalTable_S1_20171025_xena_sp",
        "--input_format",
        "pancan_xena",
        "--transform",
        "log2_zscore",
    ],
    "xena_htseq": [
        "--input",
        "xena_htseq/TCGA-BRCA.htseq_counts.tsv.gz",
        "--labels",
        "xena_htseq/TCGA-BRCA.GDC_phenotype.tsv.gz",
        "--input_format",
        "xena_htseq",
        "--transform",
        "log2_cpm_center",
        "--baseline",
        "class_mean",
        "--baseline_class",
        "Solid Tissue Normal",
        "--studied_classes",
        "Primary Tumor",
    ],
    "star_counts": [
        "--input",
        "star_counts/files",
        "--labels",
        "star_counts/gdc_sample_sheet.2024-01-15.tsv",
        "--input_format",
        "star_counts",
        "--transform",
        "log2_cpm_center",
    ],
}


@pytest.mark.parametrize("fmt", list(CASES))
def test_format_end_to_end(tmp_path: Path, nextflow_available, fmt: str) -> None:
    case = CASES[fmt]
    args = [
        str(FORMATS / a) if flag in ("--input", "--labels") else a
        for flag, a in zip(["", *case[:-1]], case, strict=True)
    ]
    run = run_nextflow(
        tmp_path,
        "-profile",
        "test,local",
        "--models",
        "LR",
        "--seeds",
        "1",
        "--n_steps",
        "50",
        # the fixtures have fewer than 10 genes: replace one gene per step
        "--gap",
        "1",
        *args,
    )
    assert run.returncode == 0, run.output[-5000:]
    table = pd.read_csv(run.outdir / "summary" / "metrics.tsv", sep="\t")
    assert (table["metric"] == "balanced_accuracy").any()
    assert table["value"].notna().all()
    assert (run.outdir / "report" / "report.html").is_file()
