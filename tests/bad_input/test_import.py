"""IMPORT refuses hostile input in every format with one line naming the file.

Each case writes one bad input, runs ``bin/import_data.py`` on it and checks
the refusal (``conftest.assert_refused``): exit code 2, one line ``Error:
import: <file>: ...`` saying what is wrong, no traceback, no output left.
"""

from __future__ import annotations

import bz2
import gzip
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from .conftest import LABELS, MATRIX, REPO, Case, check_case

FORMATS = REPO / "tests" / "data" / "formats"
STAR_SHEET = "gdc_sample_sheet.2024-01-15.tsv"


def _table(
    matrix: str | bytes | Callable[[Case], Path] | None,
    labels: str | bytes | Callable[[Case], Path] | None = LABELS,
    *extra: str,
) -> Callable[[Case], list]:
    """Arguments of a ``table`` import of ``m.csv`` and ``l.csv`` (text, bytes, or
    a function making the path; ``None``: the file is absent)."""

    def build(case: Case) -> list:
        paths = []
        for name, content in (("m.csv", matrix), ("l.csv", labels)):
            if callable(content):
                paths.append(content(case))
            elif content is None:
                paths.append(case.inp / name)
            else:
                paths.append(case.write(name, content))
        m, lab = paths
        return [
            "--input",
            m,
            "--format",
            "table",
            "--labels",
            lab,
            *extra,
            "--output",
            case.out / "x.h5ad",
        ]

    return build


def _row(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _gzip(data: str) -> bytes:
    return gzip.compress(data.encode(), mtime=0)


def _symlink_loop(name: str) -> Callable[[Case], Path]:
    def make(case: Case) -> Path:
        path = case.inp / name
        os.symlink(path.name, path)
        return path

    return make


def _broken_link(name: str) -> Callable[[Case], Path]:
    def make(case: Case) -> Path:
        path = case.inp / name
        os.symlink("gone.csv", path)
        return path

    return make


def _folder(name: str) -> Callable[[Case], Path]:
    def make(case: Case) -> Path:
        path = case.inp / name
        path.mkdir()
        return path

    return make


def _fifo(name: str) -> Callable[[Case], Path]:
    def make(case: Case) -> Path:
        path = case.inp / name
        os.mkfifo(path)
        return path

    return make


def _h5ad_file(name: str) -> Callable[[Case], Path]:
    def make(case: Case) -> Path:
        return Path(shutil.copy(case.valid.imported, case.inp / name))

    return make


TEXT = [
    # Quoting (RFC 4180).
    pytest.param(
        _table('id,g1,g2\n"S00,1,2\nS01,3,4\n'),
        ["m.csv: line 2: a quoted field is not closed"],
        id="unclosed-quote",
    ),
    pytest.param(
        _table(_row(MATRIX, "S01,", '"S01"x,')),
        ["m.csv: line 3: badly quoted field"],
        id="text-after-closing-quote",
    ),
    pytest.param(
        _table(_row(MATRIX, "S03,4,", 'S03,"4,5",')),
        ["m.csv: non-numeric value '4,5' at row 'S03', column 'g1'"],
        id="quoted-separator-in-a-number",
    ),
    # Rows whose number of fields differs from the header's.
    pytest.param(
        _table(_row(MATRIX, "S02,3,8,6,7,3,1\n", "S02,3,8,6,7,3,1,9\n")),
        ["m.csv: row 'S02' has 8 fields, the header has 7 (line 4)"],
        id="row-too-long",
    ),
    pytest.param(
        _table(_row(MATRIX, "S02,3,8,6,7,3,1\n", "S02,3,8\n")),
        ["m.csv: row 'S02' has 3 fields, the header has 7 (line 4)"],
        id="row-too-short",
    ),
    pytest.param(
        _table(_row(MATRIX, "S02,3,8,6,7,3,1\n", "S02\n")),
        ["m.csv: row 'S02' has 1 fields, the header has 7"],
        id="row-with-only-an-id",
    ),
    # Cells and ids.
    pytest.param(
        _table(_row(MATRIX, "S02,3,8,", "S02,3,eight,")),
        ["m.csv: non-numeric value 'eight' at row 'S02', column 'g2'; expected numbers"],
        id="non-numeric-cell",
    ),
    pytest.param(
        _table(_row(MATRIX, "S02,3,8,", "S02,3,NA,")),
        ["m.csv: a missing value (NaN/NA/empty) at sample 'S02', gene 'g2'"],
        id="na-cell",
    ),
    pytest.param(
        _table(_row(MATRIX, "S02,3,8,", "S02,3,,")),
        ["m.csv: a missing value (NaN/NA/empty) at sample 'S02', gene 'g2'"],
        id="empty-cell",
    ),
    pytest.param(
        _table(_row(MATRIX, "S02,3,8,", "S02,3,inf,")),
        ["m.csv: an infinite value at sample 'S02', gene 'g2'"],
        id="infinite-cell",
    ),
    pytest.param(
        _table(_row(MATRIX, "S02,", ",")),
        ["m.csv: line 4: empty sample id"],
        id="empty-sample-id",
    ),
    pytest.param(
        _table(_row(MATRIX, ",g3,", ",,")),
        ["m.csv: header column 4 is empty; expected a gene id"],
        id="empty-gene-id",
    ),
    pytest.param(
        _table(_row(MATRIX, "S02,", "S01,")),
        ["m.csv: duplicate sample id 'S01'"],
        id="duplicate-sample-id",
    ),
    pytest.param(
        _table(_row(MATRIX, ",g3,", ",g1,")),
        ["m.csv: duplicate gene id 'g1'"],
        id="duplicate-gene-id",
    ),
    # Empty and truncated files.
    pytest.param(_table(""), ["m.csv: empty expression matrix"], id="empty-file"),
    pytest.param(_table("\n\n  \n"), ["m.csv: empty expression matrix"], id="blank-lines-only"),
    pytest.param(
        _table("id,g1,g2\n"),
        ["m.csv: the expression matrix has a header but no data rows"],
        id="header-only",
    ),
    pytest.param(
        _table("id\nS00\n"),
        ["m.csv: the header of the expression matrix has no tab or comma"],
        id="single-column",
    ),
    pytest.param(
        _table(_gzip(MATRIX)[:60]),
        ["m.csv: truncated or corrupt gzip data"],
        id="truncated-gzip",
    ),
    pytest.param(
        _table(b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"not deflate data at all"),
        ["m.csv: truncated or corrupt gzip data"],
        id="corrupt-gzip",
    ),
    pytest.param(
        _table(bz2.compress(MATRIX.encode())[:40]),
        ["m.csv: truncated or corrupt bzip2 data"],
        id="truncated-bzip2",
    ),
    # Not UTF-8 text, or not text at all.
    pytest.param(
        _table(MATRIX.replace("S01", "S\xe91").encode("latin-1")),
        ["m.csv: not UTF-8 text (byte 0xe9)"],
        id="latin-1-text",
    ),
    pytest.param(
        _table(MATRIX.encode("utf-16")),
        ["m.csv: not UTF-8 text (byte 0xff)"],
        id="utf-16-text",
    ),
    pytest.param(
        _table(b"PK\x03\x04" + b"\x00" * 30),
        ["m.csv: is a zip/Excel file"],
        id="excel-file",
    ),
    pytest.param(
        _table(_h5ad_file("m.csv")),
        ["m.csv: is an HDF5 (.h5ad) file, expected a text expression matrix"],
        id="h5ad-as-table",
    ),
    # Paths that are not files.
    pytest.param(_table(None), ["m.csv: no such file (expression matrix)"], id="missing-file"),
    pytest.param(
        _table(_folder("m.csv")),
        ["m.csv: is a folder, not a file (expression matrix)"],
        id="folder-as-file",
    ),
    pytest.param(
        _table(_symlink_loop("m.csv")),
        ["m.csv: a loop of symbolic links (expression matrix)"],
        id="symlink-loop",
    ),
    pytest.param(
        _table(_broken_link("m.csv")),
        ["m.csv: a broken symbolic link to 'gone.csv' (expression matrix)"],
        id="broken-symlink",
    ),
    pytest.param(
        _table(_fifo("m.csv")),
        ["m.csv: is a device, FIFO or socket, not a regular file"],
        id="fifo-never-read",
    ),
    pytest.param(
        _table(lambda case: Path(os.devnull)),
        [f"{os.devnull}: is a device, FIFO or socket"],
        id="dev-null",
    ),
]

LABEL_TABLES = [
    pytest.param(_table(MATRIX, None), ["l.csv: no such file (labels table)"], id="labels-missing"),
    pytest.param(
        _table(
            MATRIX, "id,label\n" + "".join(f"S{i:02d},{'NA' if i % 2 else ''}\n" for i in range(12))
        ),
        ["l.csv: label column 'label' is empty (every cell is empty or NA)"],
        id="labels-all-nan",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace("S", "X")),
        ["m.csv: labels do not match the samples", "in/l.csv (key 'label')"],
        id="labels-for-no-sample",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace("S11,b\n", "")),
        ["m.csv: sample 'S11' has no label (1 unlabelled in ", "/l.csv, key 'label')"],
        id="sample-without-label",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace("S02,", "S01,")),
        ["l.csv: duplicate id in column 'id' 'S01'"],
        id="labels-duplicate-id",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace("S01,b\n", "S01,b,extra\n")),
        ["l.csv: line 3 has 3 fields, the header has 2"],
        id="labels-row-too-long",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace("S01,b\n", "S01\n")),
        ["l.csv: line 3 has 1 fields, the header has 2"],
        id="labels-row-too-short",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace("S01,b\n", ",b\n")),
        ["l.csv: line 3: no id in column 'id'"],
        id="labels-row-without-id",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace("S01,b", 'S01,"b').encode()),
        ["l.csv: line 3: a quoted field is not closed"],
        id="labels-unclosed-quote",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace("a\n", "\xe4\n").encode("latin-1")),
        ["l.csv: not UTF-8 text (byte 0xe4)"],
        id="labels-latin-1",
    ),
    pytest.param(
        _table(MATRIX, LABELS, "--label-key", "tissue"),
        ["l.csv: label key 'tissue' is not a column (columns: 'id', 'label')"],
        id="labels-key-absent",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace(",", ";")),
        ["l.csv: the header of the labels table has no tab or comma"],
        id="labels-wrong-separator",
    ),
    pytest.param(
        _table(MATRIX, "id,label,label\n" + "".join(f"S{i:02d},a,b\n" for i in range(12))),
        ["l.csv: duplicate column name 'label'"],
        id="labels-duplicate-column",
    ),
    pytest.param(
        _table(MATRIX, LABELS.replace(",b\n", ",a\n")),
        ["m.csv: only one class ('a', key 'label') after filtering; expected at least 2"],
        id="labels-one-class",
    ),
    pytest.param(
        _table(MATRIX, _folder("l.csv")),
        ["l.csv: is a folder, not a file (labels table)"],
        id="labels-folder",
    ),
    pytest.param(
        _table(MATRIX, _symlink_loop("l.csv")),
        ["l.csv: a loop of symbolic links (labels table)"],
        id="labels-symlink-loop",
    ),
]


@pytest.mark.parametrize(("build", "names"), TEXT + LABEL_TABLES)
def test_table_refused(case: Case, build, names) -> None:
    check_case(case, "import", build, names)


# --- GDC STAR-Counts: a folder of per-sample files and a sample sheet --------


def _star(
    edit: Callable[[list[str]], list[str]] | None = None, *, as_file: bool = False, sheet=None
):
    """A copy of the committed STAR fixture; ``edit`` rewrites the lines of its first file."""

    def build(case: Case) -> list:
        folder = case.inp / "star"
        shutil.copytree(FORMATS / "star_counts" / "files", folder)
        first = sorted(folder.rglob("*.tsv"))[0]
        if edit is not None:
            first.write_text("\n".join(edit(first.read_text().split("\n"))))
        sheet_path = shutil.copy(FORMATS / "star_counts" / STAR_SHEET, case.inp / STAR_SHEET)
        if sheet is not None:
            Path(sheet_path).write_text(sheet(Path(sheet_path).read_text()))
        target = first if as_file else folder
        return [
            "--input",
            target,
            "--format",
            "star_counts",
            "--labels",
            sheet_path,
            "--output",
            case.out / "x.h5ad",
        ]

    return build


def _star_cells(line: int, cells: dict[int, str] | None = None, *, keep: int | None = None):
    """Set cells of line ``line`` (1-based), or keep only its first ``keep`` fields."""

    def edit(lines: list[str]) -> list[str]:
        fields = lines[line - 1].split("\t")
        for i, value in (cells or {}).items():
            fields[i] = value
        lines[line - 1] = "\t".join(fields[:keep] if keep else fields)
        return lines

    return edit


STAR_FILE = ".rna_seq.augmented_star_gene_counts.tsv"

STAR = [
    pytest.param(
        _star(_star_cells(8, keep=3)),
        [STAR_FILE, ": line 8: row 'ENSG", "has 3 fields, the header has 9"],
        id="star-row-missing-its-counts",
    ),
    pytest.param(
        _star(_star_cells(9, {8: "1.0\t7"})),
        [STAR_FILE, ": line 9: row 'ENSG", "has 10 fields, the header has 9"],
        id="star-row-extra-field",
    ),
    pytest.param(
        _star(_star_cells(8, {3: ""})),
        [STAR_FILE, ": line 8: gene 'ENSG", "has no value in column 'unstranded'"],
        id="star-empty-count",
    ),
    pytest.param(
        _star(_star_cells(8, {3: "12x"})),
        [STAR_FILE, ": line 8: non-numeric value '12x' at gene 'ENSG"],
        id="star-non-numeric-count",
    ),
    pytest.param(
        _star(_star_cells(8, {3: "NA"})),
        [STAR_FILE, ": line 8: non-numeric value 'NA' at gene"],
        id="star-na-count",
    ),
    pytest.param(
        _star(_star_cells(7, {3: "-3"})),
        ["star: a negative value where counts are expected at sample 'TCGA-"],
        id="star-negative-count",
    ),
    pytest.param(
        _star(_star_cells(9, {3: "inf"})),
        ["star: an infinite value at sample 'TCGA-"],
        id="star-infinite-count",
    ),
    pytest.param(
        _star(lambda lines: [*lines[:8], lines[7], *lines[9:]]),
        [STAR_FILE, ": duplicate gene id 'ENSG"],
        id="star-duplicate-gene",
    ),
    pytest.param(
        _star(lambda lines: lines[:2]),
        [STAR_FILE, ": the STAR-Counts file has a header but no gene rows"],
        id="star-header-only",
    ),
    pytest.param(
        _star(
            lambda lines: [lines[0], lines[1].replace("stranded_first", "gene_type", 1), *lines[2:]]
        ),
        [STAR_FILE, ": duplicate column 'gene_type'"],
        id="star-duplicate-column",
    ),
    pytest.param(
        _star(as_file=True),
        [STAR_FILE, ": expected a folder of per-sample STAR-Counts files, found a file"],
        id="star-file-instead-of-folder",
    ),
    pytest.param(
        _star(sheet=lambda text: text.replace("File Name", "Filename", 1)),
        [f"{STAR_SHEET}: no column 'File Name' in the GDC sample sheet"],
        id="star-sheet-without-file-names",
    ),
]


@pytest.mark.parametrize(("build", "names"), STAR)
def test_star_counts_refused(case: Case, build, names) -> None:
    check_case(case, "import", build, names)


# --- TCGA and Xena matrices, genes × samples ---------------------------------


def _tcga(fmt: str, matrix: str, labels: str, edit: Callable[[str], str | bytes]):
    """A committed TCGA fixture, its matrix rewritten by ``edit`` (text in, text or bytes out)."""

    def build(case: Case) -> list:
        source = FORMATS / fmt / matrix
        raw = source.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
        edited = edit(text)
        data = edited if isinstance(edited, bytes) else edited.encode()
        if matrix.endswith(".gz") and not isinstance(edited, bytes):
            data = gzip.compress(data, mtime=0)
        path = case.write("input.data", data)
        lab = shutil.copy(FORMATS / fmt / labels, case.inp / "labels.data")
        return ["--input", path, "--format", fmt, "--labels", lab, "--output", case.out / "x.h5ad"]

    return build


def _gene_row(text: str, prefix: str, value: str) -> str:
    """Every value of the first row whose id starts with ``prefix`` set to ``value``."""
    lines = text.split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    fields = lines[i].split("\t")
    lines[i] = "\t".join([fields[0], *[value] * (len(fields) - 1)])
    return "\n".join(lines)


HTSEQ = ("xena_htseq", "TCGA-BRCA.htseq_counts.tsv.gz", "TCGA-BRCA.GDC_phenotype.tsv.gz")
XENA = (
    "pancan_xena",
    "EB++AdjustPANCAN_IlluminaHiSeq_RNASeqV2.geneExp.xena.gz",
    "Survival_SupplementalTable_S1_20171025_xena_sp",
)
GDC = (
    "pancan_gdc",
    "EBPlusPlusAdjustPANCAN_IlluminaHiSeq_RNASeqV2.geneExp.tsv",
    "TCGA-CDR-SupplementalTableS1.tsv.gz",
)

TCGA = [
    pytest.param(
        # log2(count+1) = -1 everywhere: negative counts that the max <= 0 filter would drop.
        _tcga(*HTSEQ, lambda t: _gene_row(t, "ENSG", "-1")),
        ["input.data: a negative value where counts are expected at sample 'TCGA-"],
        id="htseq-negative-counts-hidden-by-a-filter",
    ),
    pytest.param(
        # An infinite value in a counter row, which the counter filter would drop.
        _tcga(*HTSEQ, lambda t: _gene_row(t, "__no_feature", "inf")),
        ["input.data: an infinite value at sample 'TCGA-", "gene '__no_feature'"],
        id="htseq-infinite-in-a-dropped-row",
    ),
    pytest.param(
        _tcga(*XENA, lambda t: gzip.compress(t.encode(), mtime=0)[:200]),
        ["input.data: truncated or corrupt gzip data"],
        id="xena-truncated-gzip",
    ),
    pytest.param(
        _tcga(*XENA, lambda t: t.replace("\n", "\r\n").replace("sample\t", "sample\tsample\t", 1)),
        ["input.data: row 'A1BG' has"],
        id="xena-crlf-header-with-an-extra-cell",
    ),
    pytest.param(
        _tcga(
            *GDC,
            lambda t: "\n".join(
                line.rsplit("\t", 1)[0] if i == 2 else line for i, line in enumerate(t.split("\n"))
            ),
        ),
        ["input.data: row '?|100133144' has", "fields, the header has"],
        id="gdc-row-missing-a-cell",
    ),
    pytest.param(
        _tcga(*GDC, lambda t: t.replace("\tTCGA-", "\tTCGA_", 1)),
        ["input.data: sample 'TCGA_", "is not a TCGA barcode"],
        id="gdc-not-a-barcode",
    ),
    pytest.param(
        _tcga(*GDC, lambda t: t.replace("gene_id", "geneid", 1)),
        ["input.data: the first header cell is 'geneid', expected 'gene_id'"],
        id="gdc-wrong-header-cell",
    ),
]


@pytest.mark.parametrize(("build", "names"), TCGA)
def test_tcga_refused(case: Case, build, names) -> None:
    check_case(case, "import", build, names)


# --- AnnData ------------------------------------------------------------------


def _anndata(make: Callable[[Path], None], *extra: str):
    def build(case: Case) -> list:
        path = case.inp / "in.h5ad"
        make(path)
        return ["--input", path, "--format", "h5ad", *extra, "--output", case.out / "x.h5ad"]

    return build


def _cells(**changes) -> ad.AnnData:
    rng = np.random.default_rng(0)
    adata = ad.AnnData(
        X=rng.poisson(3, (8, 5)).astype(np.float32),
        obs=pd.DataFrame(
            {"label": pd.Categorical(list("abababab"))}, index=[f"c{i}" for i in range(8)]
        ),
        var=pd.DataFrame(index=[f"g{j}" for j in range(5)]),
    )
    for key, value in changes.items():
        setattr(adata, key, value)
    return adata


def _write_layers_only(path: Path) -> None:
    adata = _cells()
    adata.layers["counts"] = adata.X.copy()
    adata.X = None
    adata.write_h5ad(path)


def _declared_sparse(path: Path, n: int = 100_000) -> None:
    """A tiny file whose sparse X declares n × n (one stored value)."""
    adata = _cells()
    adata.write_h5ad(path)
    with h5py.File(path, "r+") as f:
        del f["X"]
        group = f.create_group("X")
        group.attrs.update(
            {"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": (n, n)}
        )
        group["data"] = np.ones(1, np.float32)
        group["indices"] = np.zeros(1, np.int32)
        group["indptr"] = np.r_[0, np.ones(n, np.int64)]


def _declared_stored_sparse(path: Path, n: int = 100_000, nnz: int = 500_000_000) -> None:
    """A tiny file whose sparse X declares ``nnz`` stored values (chunked, never written).

    A sparse X stays sparse, so the guard charges what is stored, not n × n.
    """
    _declared_sparse(path, n)
    with h5py.File(path, "r+") as f:
        for name, dtype in (("data", np.float32), ("indices", np.int32)):
            del f["X"][name]
            f["X"].create_dataset(name, shape=(nnz,), dtype=dtype, chunks=(1 << 16,))


def _declared_dense(path: Path, n: int = 100_000) -> None:
    """A tiny file whose dense X (chunked, never written) declares n × n."""
    _cells().write_h5ad(path)
    with h5py.File(path, "r+") as f:
        del f["X"]
        f.create_dataset("X", shape=(n, n), dtype=np.float32, chunks=(100, 100))


def _strings_x(path: Path) -> None:
    _cells().write_h5ad(path)
    with h5py.File(path, "r+") as f:
        del f["X"]
        f["X"] = np.full((8, 5), b"a", dtype="S1")


def _nan_labels(path: Path) -> None:
    adata = _cells()
    adata.obs["label"] = pd.Categorical([np.nan] * 8, categories=["a", "b"])
    adata.write_h5ad(path)


def _truncated(path: Path) -> None:
    _cells().write_h5ad(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


H5AD = [
    pytest.param(
        _anndata(_write_layers_only),
        ["in.h5ad: has no X; its data is in layers ('counts'): import it naming one as layer"],
        id="h5ad-no-x-and-no-layer-named",
    ),
    pytest.param(
        _anndata(_write_layers_only, "--layer", "raw_counts"),
        ["in.h5ad: no layer 'raw_counts' (layers: 'counts')"],
        id="h5ad-layer-absent",
    ),
    pytest.param(
        _anndata(_declared_stored_sparse, "--max-memory-gb", "1"),
        [
            "in.h5ad: X is a sparse 100000 × 100000 matrix; reading it (500000000 non-zeros "
            "stored) needs",
            "above the limit of 1.0 GiB",
        ],
        id="h5ad-tiny-file-declaring-huge-sparse-non-zeros",
    ),
    pytest.param(
        _anndata(_declared_dense, "--max-memory-gb", "4"),
        ["in.h5ad: X is a dense 100000 × 100000 matrix", "above the limit of 4.0 GiB"],
        id="h5ad-tiny-file-declaring-a-huge-dense-x",
    ),
    pytest.param(
        _anndata(lambda p: p.write_bytes(b"")),
        ["in.h5ad: not a readable HDF5/.h5ad file"],
        id="h5ad-zero-length",
    ),
    pytest.param(
        _anndata(_truncated), ["in.h5ad: not a readable HDF5/.h5ad file"], id="h5ad-truncated"
    ),
    pytest.param(
        _anndata(lambda p: p.write_text(MATRIX)),
        ["in.h5ad: not a readable HDF5/.h5ad file"],
        id="h5ad-text-file",
    ),
    pytest.param(
        _anndata(_strings_x),
        ["in.h5ad: X has dtype |S1, expected a numeric matrix"],
        id="h5ad-string-x",
    ),
    pytest.param(
        _anndata(_nan_labels),
        ["in.h5ad: obs['label'] holds no label (every value is missing)"],
        id="h5ad-all-nan-labels",
    ),
    pytest.param(
        _anndata(lambda p: p.mkdir()),
        ["in.h5ad: is a folder, not a file (AnnData file)"],
        id="h5ad-folder",
    ),
    pytest.param(
        _anndata(
            lambda p: _cells(X=sp.csr_matrix(-np.ones((8, 5), np.float32))).write_h5ad(p),
            "--use-raw",
        ),
        ["in.h5ad: use_raw is set, but the file has no raw"],
        id="h5ad-no-raw",
    ),
]


@pytest.mark.parametrize(("build", "names"), H5AD)
def test_h5ad_refused(case: Case, build, names) -> None:
    check_case(case, "import", build, names)
