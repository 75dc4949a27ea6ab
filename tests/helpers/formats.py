"""Tiny files in the exact public layouts that genexai.io.formats reads.

Layouts: ../shared/reference/anchors.md §4 and method.md §2 (GDC PanCanAtlas,
Xena PanCanAtlas, Xena GDC-hub HTSeq, GDC STAR-Counts with a portal sample
sheet), a CSV/TSV matrix and an .h5ad. Each dataset hides the cases the
paper's filters handle: ``__``/``N_`` counters, genes with max <= 0, NaN
cells, non-primary barcodes, unlabelled samples and unwanted labels.

``write_all(folder)`` writes one sub-folder per format and returns
``{name: (input, labels)}``; the tests get it as the ``format_files`` fixture
(tests/conftest.py). ``python -m tests.helpers.formats`` refreshes the
committed copy in ``tests/data/formats/`` (the pipeline tests read it;
``tests/io/test_formats.py`` checks it is current).
"""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "formats"

GDC_MATRIX = "EBPlusPlusAdjustPANCAN_IlluminaHiSeq_RNASeqV2.geneExp.tsv"
GDC_CLINICAL = "TCGA-CDR-SupplementalTableS1.tsv.gz"
XENA_MATRIX = "EB++AdjustPANCAN_IlluminaHiSeq_RNASeqV2.geneExp.xena.gz"
XENA_SURVIVAL = "Survival_SupplementalTable_S1_20171025_xena_sp"
HTSEQ_MATRIX = "TCGA-BRCA.htseq_counts.tsv.gz"
HTSEQ_PHENOTYPE = "TCGA-BRCA.GDC_phenotype.tsv.gz"
SAMPLE_SHEET = "gdc_sample_sheet.2024-01-15.tsv"
STAR_SUFFIX = ".rna_seq.augmented_star_gene_counts.tsv"
HTSEQ_COUNTERS = (
    "__no_feature",
    "__ambiguous",
    "__too_low_aQual",
    "__not_aligned",
    "__alignment_not_unique",
)
STAR_COUNTERS = ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous")
STAR_COLUMNS = (
    "gene_id",
    "gene_name",
    "gene_type",
    "unstranded",
    "stranded_first",
    "stranded_second",
    "tpm_unstranded",
    "fpkm_unstranded",
    "fpkm_uq_unstranded",
)


def _write_text(path: Path, text: str) -> None:
    """Write text; gzip (reproducibly: no name, mtime 0) when the name ends in .gz."""
    data = text.encode()
    if path.suffix == ".gz":
        with (
            open(path, "wb") as raw,
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as f,
        ):
            f.write(data)
    else:
        path.write_bytes(data)


def _barcode(rng: np.random.Generator, code: str, *, aliquot: bool) -> str:
    """A TCGA barcode: TCGA-TSS-PART-<code>[A-portion-plate-centre]."""
    tss = "".join(rng.choice(list("ABCDEFGHJKLMNOPQRSTUVWXYZ0123456789"), 2))
    part = "".join(rng.choice(list("ABCDEFGHJKLMNOPQRSTUVWXYZ0123456789"), 4))
    barcode = f"TCGA-{tss}-{part}-{code}"
    if aliquot:
        barcode += f"A-{rng.integers(11, 40)}R-A{rng.integers(100, 999)}-07"
    return barcode


def _with_code(barcode: str, code: str, *, vial: str = "A") -> str:
    """Another sample of the same patient (same first three fields)."""
    fields = barcode.split("-")
    fields[3] = code + (vial if len(fields) > 4 else "")
    return "-".join(fields)


def _expression(rng: np.random.Generator, classes: np.ndarray, n_genes: int) -> np.ndarray:
    """Lognormal expression with a class effect, ``(n_samples, n_genes)`` float64."""
    effect = rng.normal(0, 1.5, size=(classes.max() + 1, n_genes))
    return np.exp(rng.normal(3, 1, size=(len(classes), n_genes)) + effect[classes])


def _matrix_text(
    values: pd.DataFrame, *, first: str, fmt: str, sep: str = "\t", quote: bool = False
) -> str:
    """``values`` (rows × columns) as a delimited text matrix; NaN written as NA."""

    def cell(v: float) -> str:
        return "NA" if np.isnan(v) else fmt % v

    q = (lambda s: f'"{s}"') if quote else (lambda s: s)
    lines = [sep.join([q(first), *map(q, values.columns)])]
    lines += [
        sep.join([q(name), *(cell(v) for v in row)])
        for name, row in zip(values.index, values.to_numpy(), strict=True)
    ]
    return "\n".join(lines) + "\n"


def write_pancan_gdc(folder: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    """GDC EB++ matrix (genes × aliquots, linear, NA cells) and TCGA-CDR clinical TSV."""
    types = ["BRCA"] * 5 + ["LUAD"] * 5 + ["UVM"] * 4 + ["LAML"] * 4
    primary = [_barcode(rng, "03" if t == "LAML" else "01", aliquot=True) for t in types]
    patients = ["-".join(b.split("-")[:3]) for b in primary]
    extra = [
        _with_code(primary[0], "11"),  # normal tissue of a BRCA patient: dropped
        _with_code(primary[5], "06"),  # metastasis of a LUAD patient: dropped
        _with_code(primary[1], "01", vial="B"),  # a second primary aliquot
        _barcode(rng, "01", aliquot=True),  # a patient missing from the clinical table
    ]
    samples = primary + extra
    classes = np.array([*map(["BRCA", "LUAD", "UVM", "LAML"].index, types), 0, 1, 0, 2])
    genes = [
        "?|100130426",
        "?|100133144",
        "A1BG|1",
        "A2M|2",
        "TP53|7157",
        "GATA3|2625",
        "ESR1|2099",
        "SFTPC|6440",
        "NKX2-1|7080",
        "PMEL|6490",
        "MPO|4353",
        "SLC35E2|728661",
        "SLC35E2|9906",
    ]
    x = _expression(rng, classes, len(genes))
    x[:, 0] = -rng.uniform(0, 0.98, len(samples))  # max <= 0 everywhere: dropped
    x[3, 1] = -0.5  # slightly negative values are kept
    x[7, 4] = np.nan  # NaN in a primary sample: gene dropped
    n = len(primary)
    x[n + 1, 5] = np.nan  # NaN only in the metastasis: kept (NaN filter after sample filter)
    x[:, 2] = -0.25
    x[n + 1, 2] = 5.0  # positive only in the metastasis: kept (max filter before)
    frame = pd.DataFrame(x.T, index=genes, columns=samples)
    matrix = folder / GDC_MATRIX
    _write_text(matrix, _matrix_text(frame, first="gene_id", fmt="%.4f"))
    type_of = dict(zip(patients, types, strict=True))
    clinical_patients = [*type_of, _barcode(rng, "01", aliquot=False)[:12]]  # + one not assayed
    clinical = pd.DataFrame(
        {
            "bcr_patient_barcode": clinical_patients,
            "type": [*type_of.values(), "KIRC"],
            "age_at_initial_pathologic_diagnosis": rng.integers(30, 80, len(clinical_patients)),
            "gender": rng.choice(["MALE", "FEMALE"], len(clinical_patients)),
            "vital_status": rng.choice(["Alive", "Dead"], len(clinical_patients)),
            "OS.time": rng.integers(10, 4000, len(clinical_patients)),
        }
    )
    clinical.index.name = "Unnamed: 0"
    labels = folder / GDC_CLINICAL
    _write_text(labels, clinical.to_csv(sep="\t"))
    return matrix, labels


def write_pancan_xena(folder: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    """Xena EB++ matrix (genes × samples, log2(x+1), NA) and the survival table."""
    types = ["ACC"] * 4 + ["KIRC"] * 5 + ["SKCM"] * 4 + ["LAML"] * 4
    primary = [_barcode(rng, "03" if t == "LAML" else "01", aliquot=False) for t in types]
    extra = [
        _with_code(primary[9], "06"),  # SKCM metastasis: dropped
        _with_code(primary[4], "11"),  # KIRC normal: dropped
        _barcode(rng, "01", aliquot=False),  # empty cancer type: dropped
    ]
    samples = primary + extra
    labels_of = {**dict(zip(primary, types, strict=True)), extra[0]: "SKCM", extra[1]: "KIRC"}
    labels_of[extra[2]] = ""
    codes = np.array(
        [["ACC", "KIRC", "SKCM", "LAML"].index(labels_of[s] or "ACC") for s in samples]
    )
    genes = ["A1BG", "A1CF", "A2M", "TP53", "PAX8", "CA9", "PMEL", "MLANA", "MPO", "NR5A1", "ZNF"]
    x = _expression(rng, codes, len(genes))
    x[:, 0] = 0.0  # max <= 0: dropped
    x[2, 10] = np.nan  # NaN in a primary sample: dropped
    frame = pd.DataFrame(np.log2(x + 1).T, index=genes, columns=samples)
    matrix = folder / XENA_MATRIX
    _write_text(matrix, _matrix_text(frame, first="sample", fmt="%.4f"))
    n = len(samples) + 1
    survival = pd.DataFrame(
        {
            "sample": [*samples, _barcode(rng, "01", aliquot=False)],
            "_PATIENT": [s[:12] for s in samples] + ["TCGA-ZZ-ZZZZ"],
            "cancer type abbreviation": [labels_of[s] for s in samples] + ["UVM"],
            "age_at_initial_pathologic_diagnosis": rng.integers(30, 80, n),
            "gender": rng.choice(["MALE", "FEMALE"], n),
            "race": rng.choice(["WHITE", "ASIAN", ""], n),
            "ajcc_pathologic_tumor_stage": rng.choice(
                ["Stage I", "Stage II", "[Not Available]"], n
            ),
            "OS": rng.integers(0, 2, n),
            "OS.time": rng.integers(10, 4000, n),
            "DSS": rng.integers(0, 2, n),
            "DSS.time": rng.integers(10, 4000, n),
            "DFI": rng.integers(0, 2, n),
            "DFI.time": rng.integers(10, 4000, n),
            "PFI": rng.integers(0, 2, n),
            "PFI.time": rng.integers(10, 4000, n),
        }
    )
    labels = folder / XENA_SURVIVAL
    _write_text(labels, survival.to_csv(sep="\t", index=False))
    return matrix, labels


def write_xena_htseq(folder: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    """Xena GDC-hub HTSeq counts (genes × samples, log2(count+1), ``__`` rows) and phenotype."""
    kinds = ["Primary Tumor"] * 8 + ["Solid Tissue Normal"] * 5 + ["Metastatic", "", "none"]
    code = {"Primary Tumor": "01", "Solid Tissue Normal": "11", "Metastatic": "06"}
    samples = [_barcode(rng, code.get(k, "01"), aliquot=False) + "A" for k in kinds]
    classes = np.array([1 if k == "Solid Tissue Normal" else 0 for k in kinds])
    genes = [f"ENSG{rng.integers(10**10, 10**11):011d}.{rng.integers(1, 20)}" for _ in range(12)]
    counts = np.rint(_expression(rng, classes, len(genes)) * rng.uniform(0.5, 2, (len(kinds), 1)))
    counts[:, 3] = 0  # all zero: dropped
    counts[:, 7] = np.where(np.arange(len(kinds)) % 3 == 0, 1, 0)  # sparse but kept
    counters = rng.integers(10**5, 10**7, size=(len(kinds), len(HTSEQ_COUNTERS))).astype(float)
    values = np.log2(np.hstack([counts, counters]) + 1)
    frame = pd.DataFrame(values.T, index=[*genes, *HTSEQ_COUNTERS], columns=samples)
    matrix = folder / HTSEQ_MATRIX
    _write_text(matrix, _matrix_text(frame, first="Ensembl_ID", fmt="%.6g"))
    listed = [i for i, k in enumerate(kinds) if k != "none"]  # the last one has no phenotype
    phenotype = pd.DataFrame(
        {
            "submitter_id.samples": [samples[i] for i in listed],
            "submitter_id": [samples[i][:12] for i in listed],
            "sample_type.samples": [kinds[i] for i in listed],
            "sample_type_id.samples": [code.get(kinds[i], "") for i in listed],
            "disease_type": "Ductal and Lobular Neoplasms",
            "primary_diagnosis.diagnoses": "Infiltrating duct carcinoma, NOS",
            "gender.demographic": "female",
        }
    )
    labels = folder / HTSEQ_PHENOTYPE
    _write_text(labels, phenotype.to_csv(sep="\t", index=False))
    return matrix, labels


def write_star_counts(folder: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    """GDC STAR-Counts files (one folder per file UUID) and a portal sample sheet."""
    kinds = ["Primary Tumor"] * 6 + ["Solid Tissue Normal"] * 4
    classes = np.array([k != "Primary Tumor" for k in kinds], dtype=int)
    symbols = ["TSPAN6", "TNMD", "DPM1", "SCYL3", "C1orf112", "FGR", "CFH", "FUCA2", "PAX8"]
    genes = [f"ENSG{rng.integers(10**10, 10**11):011d}.{rng.integers(1, 20)}" for _ in symbols]
    genes.append(genes[1] + "_PAR_Y")  # GENCODE v36 duplicates PAR genes with a suffix
    symbols.append(symbols[1])
    counts = np.rint(_expression(rng, classes, len(genes)))
    counts[:, 1] = 0  # TNMD and its PAR_Y copy: all zero, dropped
    counts[:, -1] = 0
    files = folder / "files"
    rows = []
    for i, kind in enumerate(kinds):
        file_id = str(uuid.UUID(bytes=rng.bytes(16), version=4))
        name = str(uuid.UUID(bytes=rng.bytes(16), version=4)) + STAR_SUFFIX
        case = _barcode(rng, "01", aliquot=False)[:12]
        sample = f"{case}-{'11' if classes[i] else '01'}A"
        tpm = counts[i] / counts[i].sum() * 1e6
        lines = ["# gene-model: GENCODE v36", "\t".join(STAR_COLUMNS)]
        for counter in STAR_COUNTERS:
            n = rng.integers(10**5, 10**7)
            lines.append(f"{counter}\t\t\t{n}\t{n}\t{n}\t\t\t")
        for g, (gene, symbol) in enumerate(zip(genes, symbols, strict=True)):
            c = int(counts[i, g])
            first = int(rng.binomial(c, 0.5))
            lines.append(
                f"{gene}\t{symbol}\tprotein_coding\t{c}\t{first}\t{c - first}\t"
                f"{tpm[g]:.4f}\t{tpm[g] / 3:.4f}\t{tpm[g] / 2:.4f}"
            )
        (files / file_id).mkdir(parents=True)
        _write_text(files / file_id / name, "\n".join(lines) + "\n")
        rows.append(
            {
                "File ID": file_id,
                "File Name": name,
                "Data Category": "Transcriptome Profiling",
                "Data Type": "Gene Expression Quantification",
                "Project ID": "TCGA-KIRC",
                "Case ID": case,
                "Sample ID": sample,
                "Sample Type": kind,
            }
        )
    sheet = folder / SAMPLE_SHEET
    _write_text(sheet, pd.DataFrame(rows).to_csv(sep="\t", index=False))
    return files, sheet


def write_table(folder: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    """An R ``write.csv``-style counts matrix (quoted, samples × genes) and a labels CSV."""
    conditions = ["control"] * 6 + ["treated"] * 6
    classes = np.array([c == "treated" for c in conditions], dtype=int)
    samples = [f"S{i:02d}" for i in range(len(conditions))]
    genes = [f"gene{g}" for g in range(8)]
    counts = np.rint(_expression(rng, classes, len(genes)))
    frame = pd.DataFrame(counts, index=samples, columns=genes)
    matrix = folder / "expression.csv"
    _write_text(matrix, _matrix_text(frame, first="", fmt="%d", sep=",", quote=True))
    labels = folder / "labels.csv"
    order = rng.permutation(len(samples))  # labels need not be in the matrix's order
    table = pd.DataFrame(
        {"sample": np.array(samples)[order], "condition": np.array(conditions)[order]}
    )
    _write_text(labels, table.to_csv(index=False))
    transposed = folder / "expression_genes_by_samples.tsv.gz"
    _write_text(transposed, _matrix_text(frame.T, first="gene", fmt="%d"))
    return matrix, labels


def write_h5ad(folder: Path, rng: np.random.Generator) -> tuple[Path, None]:
    """An AnnData with log-normalised X, a counts layer, raw, and a categorical label."""
    cell_types = ["T"] * 6 + ["B"] * 5 + ["NK"] * 5
    classes = np.array([["T", "B", "NK"].index(c) for c in cell_types])
    counts = np.rint(_expression(rng, classes, 9))
    lognorm = np.log1p(counts / counts.sum(axis=1, keepdims=True) * 1e4).astype(np.float32)
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(cell_types, categories=["T", "B", "NK"]),
            "n_counts": counts.sum(axis=1),
        },
        index=[f"cell{i:02d}" for i in range(len(cell_types))],
    )
    var = pd.DataFrame(
        {"gene_symbols": [f"SYM{g}" for g in range(9)]}, index=[f"g{g}" for g in range(9)]
    )
    adata = ad.AnnData(X=lognorm, obs=obs, var=var, layers={"counts": sp.csr_matrix(counts)})
    adata.raw = ad.AnnData(X=counts.astype(np.float32), obs=obs, var=var)
    path = folder / "cells.h5ad"
    adata.write_h5ad(path)
    return path, None


WRITERS = {
    "pancan_gdc": write_pancan_gdc,
    "pancan_xena": write_pancan_xena,
    "xena_htseq": write_xena_htseq,
    "star_counts": write_star_counts,
    "table": write_table,
    "h5ad": write_h5ad,
}


def write_all(folder: Path, *, seed: int = 0) -> dict[str, tuple[Path, Path | None]]:
    """Write every fixture under ``folder/<format>/``; return ``{format: (input, labels)}``."""
    written = {}
    for offset, (name, writer) in enumerate(WRITERS.items()):
        (folder / name).mkdir(parents=True, exist_ok=True)
        written[name] = writer(folder / name, np.random.default_rng(seed + offset))
    return written


if __name__ == "__main__":
    write_all(COMMITTED)
