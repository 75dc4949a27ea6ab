"""The pipeline on real-data formats: every importer's fixture, end to end.

The fixtures in tests/data/formats/ are tiny files in exactly the public
formats (TCGA PanCan from GDC and Xena, Xena htseq counts, GDC STAR counts,
AnnData, tables). BRCA-like data run with the paper's settings for that
family: log2-CPM centring and the normal-tissue class mean as baseline.
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
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


def fixture_args(case: list[str]) -> list[str]:
    """``case`` with the files of ``--input`` and ``--labels`` under tests/data/formats/."""
    return [
        str(FORMATS / a) if flag in ("--input", "--labels") else a
        for flag, a in zip(["", *case[:-1]], case, strict=True)
    ]


@pytest.mark.parametrize("fmt", list(CASES))
def test_format_end_to_end(tmp_path: Path, nextflow_available, fmt: str) -> None:
    args = fixture_args(CASES[fmt])
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


PAPER_REAL_DATA = {
    # BRCA/KIRC: log2-CPM centring, the normal-tissue mean, tumours studied.
    "xena_htseq": CASES["xena_htseq"],
    # PanCan: log2 z-scores, the zero baseline, every class studied.
    "pancan_gdc": [*CASES["pancan_gdc"], "--baseline", "zero"],
}


@pytest.mark.parametrize("fmt", list(PAPER_REAL_DATA))
def test_paper_profile_on_real_data(tmp_path: Path, nextflow_available, fmt: str) -> None:
    """-profile paper with --input: the study of README's real-data commands.

    The paper's grid and 3,000 IG steps are cut down (two seeds in one task,
    two models, 50 steps) so that the fixtures run in a minute; the split,
    preparation, baselines and metrics are the profile's.
    """
    args = fixture_args(PAPER_REAL_DATA[fmt])
    run = run_nextflow(
        tmp_path,
        "-profile",
        "paper,local",
        "--models",
        "LR,DiffuseLR",
        "--seeds",
        "1-2",
        "--epochs",
        "2",
        "--n_steps",
        "50",
        "--n_random",
        "2",
        "--gap",
        "1",
        *args,
    )
    assert run.returncode == 0, run.output[-5000:]
    # --seeds_per_task 5 (the profile's): both seeds of a model in one task
    trained = [row["tag"] for row in run.trace() if row["process"].endswith(":TRAIN")]
    assert sorted(t.split(".", 1)[1] for t in trained) == ["DiffuseLR.1,2", "LR.1,2"]
    pattern = "*.LR.integrated_gradients.1.attributions.h5ad"
    att = ad.read_h5ad(next((run.outdir / "attribute").glob(pattern)))
    params = att.uns["genexai"]["attribute"]
    if fmt == "xena_htseq":
        assert params["baseline_kind"] == "class_mean"
        assert set(att.obs["label"]) == {"Primary Tumor"}
    else:
        assert params["baseline_kind"] == "zero"
        assert att.obs["label"].nunique() > 1
    gaps = pd.read_csv(run.outdir / "summary" / "prediction_gaps.tsv", sep="\t")
    assert set(gaps["model"]) == {"LR", "DiffuseLR"}
    assert (gaps["n_seeds"] == 2).all()
