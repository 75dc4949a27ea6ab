"""genexai.import_data and the readers of genexai.io.formats: every public layout
against a literal pandas re-implementation of the paper's loading steps, reader
edge cases, and one-line errors for bad input."""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
from pathlib import Path

import anndata as ad
import fixtures_formats as fx
import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.errors import InputError
from genexai.import_data import import_data
from genexai.io import formats, looks_like_counts
from genexai.io._text import read_matrix

#: label column and the labels-table column of matrix ids, per TCGA format
PAPER_LABELS = {
    "pancan_gdc": ("bcr_patient_barcode", "type"),
    "pancan_xena": ("sample", "cancer type abbreviation"),
    "xena_htseq": ("submitter_id.samples", "sample_type.samples"),
}
#: the paper's BRCA and KIRC drop lists (method.md §2.2)
PAPER_UNWANTED = ["Metastatic", "Additional - New Primary"]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, tuple[Path, Path | None]]:
    return fx.write_all(tmp_path_factory.mktemp("formats"))


def paper_tcga(matrix: Path, labels: Path, fmt: str) -> tuple[pd.DataFrame, np.ndarray]:
    """method.md §2.1-2.2, step by step, with pandas; Xena values back to linear."""
    frame = pd.read_csv(matrix, sep="\t", index_col=0).T
    if fmt in ("pancan_xena", "xena_htseq"):
        frame = 2.0**frame - 1
    frame = frame.loc[:, ~frame.columns.str.startswith("__")]
    frame = frame.loc[:, frame.max() > 0]
    if fmt.startswith("pancan"):
        frame = frame[[s.split("-")[3][:2] in ("01", "03") for s in frame.index]]
    frame = frame.dropna(axis=1)
    id_column, label_column = PAPER_LABELS[fmt]
    lookup = pd.read_csv(labels, sep="\t").set_index(id_column)[label_column]
    ids = [s[:12] for s in frame.index] if fmt == "pancan_gdc" else list(frame.index)
    y = lookup.reindex(ids).to_numpy()
    keep = pd.notna(y)
    if fmt == "xena_htseq":
        keep &= ~np.isin(y, PAPER_UNWANTED)
    return frame[keep], y[keep].astype(str)


def paper_star(folder: Path, sheet: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """STAR-Counts files stacked by the sample sheet, N_ rows dropped, max > 0."""
    table = pd.read_csv(sheet, sep="\t")
    columns = {}
    for name, sample in zip(table["File Name"], table["Sample ID"], strict=True):
        (path,) = folder.rglob(name)
        counts = pd.read_csv(path, sep="\t", comment="#", index_col="gene_id")["unstranded"]
        columns[sample] = counts[~counts.index.str.startswith("N_")]
    frame = pd.DataFrame(columns).T
    frame = frame.loc[:, frame.max() > 0]
    return frame, table["Sample Type"].to_numpy(dtype=str)


def assert_imported(adata: ad.AnnData, frame: pd.DataFrame, labels: np.ndarray) -> None:
    assert adata.X.dtype == np.float32
    assert list(adata.obs_names) == list(frame.index)
    assert list(adata.var_names) == list(frame.columns)
    # float32 storage of float64 values: one rounding, 6e-8 relative
    np.testing.assert_allclose(adata.X, frame.to_numpy(dtype=np.float64), rtol=3e-7, atol=1e-30)
    assert list(adata.obs[keys.LABEL].astype(str)) == list(labels)
    categories = list(adata.obs[keys.LABEL].cat.categories)
    assert categories == sorted(set(labels))


@pytest.mark.parametrize("fmt", ["pancan_gdc", "pancan_xena", "xena_htseq"])
def test_tcga_formats_follow_the_paper(written, fmt):
    matrix, labels = written[fmt]
    adata = import_data(matrix, format=fmt, labels=labels)
    assert_imported(adata, *paper_tcga(matrix, labels, fmt))
    record = adata.uns[keys.UNS][keys.IMPORT]
    assert record["format"] == fmt and record["files"] == [matrix.name, labels.name]
    assert record[keys.HAS_COUNTS] == (fmt == "xena_htseq")
    assert record["unlogged"] == (fmt != "pancan_gdc")


def test_pancan_filters_in_the_papers_order(written):
    """max > 0 looks at every sample, the NaN filter only at primary tumours."""
    matrix, labels = written["pancan_gdc"]
    adata = import_data(matrix, format="pancan_gdc", labels=labels)
    assert "A1BG|1" in adata.var_names  # positive only in a metastasis
    assert "GATA3|2625" in adata.var_names  # NaN only in a metastasis
    assert "TP53|7157" not in adata.var_names  # NaN in a primary tumour
    assert "?|100130426" not in adata.var_names  # max <= 0
    record = adata.uns[keys.UNS][keys.IMPORT]
    assert (record["dropped_samples_not_primary"], record["dropped_samples_unlabelled"]) == (2, 1)
    assert any("-01B-" in s for s in adata.obs_names)  # a second primary aliquot is kept
    assert any(s.split("-")[3].startswith("03") for s in adata.obs_names)


def test_star_counts(written):
    folder, sheet = written["star_counts"]
    adata = import_data(folder, format="star_counts", labels=sheet)
    assert_imported(adata, *paper_star(folder, sheet))
    assert adata.uns[keys.UNS][keys.IMPORT][keys.HAS_COUNTS] is True
    tpm = import_data(folder, format="star_counts", labels=sheet, layer="tpm_unstranded")
    assert tpm.uns[keys.UNS][keys.IMPORT][keys.HAS_COUNTS] is False


def test_star_counts_folder_staged_as_a_link(written, tmp_path):
    """Nextflow stages the folder as a symbolic link named input.data."""
    folder, sheet = written["star_counts"]
    (tmp_path / "input.data").symlink_to(folder, target_is_directory=True)
    linked = import_data(tmp_path / "input.data", format="star_counts", labels=sheet)
    np.testing.assert_array_equal(
        linked.X, import_data(folder, format="star_counts", labels=sheet).X
    )


def test_star_counts_portal_2_sheet(written, tmp_path):
    """Portal 2.0 sheets have 'Tissue Type' instead of 'Sample Type'."""
    folder, sheet = written["star_counts"]
    table = pd.read_csv(sheet, sep="\t")
    table["Tissue Type"] = table.pop("Sample Type").map(
        {"Primary Tumor": "Tumor", "Solid Tissue Normal": "Normal"}
    )
    new_sheet = tmp_path / "gdc_sample_sheet.2025-05-22.tsv"
    table.to_csv(new_sheet, sep="\t", index=False)
    adata = import_data(folder, format="star_counts", labels=new_sheet)
    assert list(adata.obs[keys.LABEL].cat.categories) == ["Normal", "Tumor"]


@pytest.mark.parametrize("transpose", [False, True], ids=["samples_x_genes", "genes_x_samples"])
def test_table(written, transpose):
    matrix, labels = written["table"]
    if transpose:
        matrix = matrix.parent / "expression_genes_by_samples.tsv.gz"
    adata = import_data(matrix, format="table", labels=labels, transpose=transpose)
    frame = pd.read_csv(written["table"][0], index_col=0)
    y = pd.read_csv(labels, index_col=0)["condition"].reindex(frame.index).to_numpy()
    assert_imported(adata, frame, y)
    assert adata.uns[keys.UNS][keys.IMPORT][keys.HAS_COUNTS] is True


@pytest.mark.parametrize(
    ("options", "matrix", "has_counts"),
    [
        ({}, lambda a: a.X, False),
        ({"layer": "counts"}, lambda a: a.layers["counts"].toarray(), True),
        ({"use_raw": True}, lambda a: a.raw.X, True),
    ],
    ids=["X", "layer", "raw"],
)
def test_h5ad(written, options, matrix, has_counts):
    path, _ = written["h5ad"]
    source = ad.read_h5ad(path)
    adata = import_data(path, format="h5ad", label_key="cell_type", **options)
    np.testing.assert_array_equal(adata.X, matrix(source))
    assert list(adata.obs[keys.LABEL].cat.categories) == ["T", "B", "NK"]  # categorical order
    assert adata.obs["n_counts"].equals(source.obs["n_counts"])
    assert list(adata.var["gene_symbols"]) == list(source.var["gene_symbols"])
    assert adata.uns[keys.UNS][keys.IMPORT][keys.HAS_COUNTS] is has_counts


def test_h5ad_keeps_simulation_fields(tmp_path):
    """A simulated file imported as h5ad keeps subclass, informative genes and parameters."""
    rng = np.random.default_rng(0)
    informative = pd.DataFrame(
        rng.random((5, 3)) < 0.5, index=[f"G{g:05d}" for g in range(5)], columns=["S0", "S1", "S2"]
    )
    source = ad.AnnData(
        X=rng.random((6, 5)).astype(np.float32),
        obs=pd.DataFrame(
            {
                keys.LABEL: pd.Categorical(["C0", "C0", "C1", "C1", "C0", "C1"]),
                keys.SUBCLASS: pd.Categorical(["S0", "S1", "S2", "S2", "S0", "S2"]),
            },
            index=[f"sample{i:05d}" for i in range(6)],
        ),
        var=pd.DataFrame(index=informative.index),
        varm={keys.INFORMATIVE: informative},
        uns={keys.UNS: {keys.SIMULATE: {"seed": 3}}},
    )
    source.write_h5ad(tmp_path / "sim.h5ad")
    adata = import_data(tmp_path / "sim.h5ad", format="h5ad")
    assert adata.obs[keys.SUBCLASS].equals(source.obs[keys.SUBCLASS])
    pd.testing.assert_frame_equal(adata.varm[keys.INFORMATIVE], informative)
    assert adata.uns[keys.UNS][keys.SIMULATE]["seed"] == 3


@pytest.mark.parametrize("source", ["table", "h5ad"])
def test_numeric_labels_sort_as_numbers(tmp_path, source):
    classes = [i % 3 * 5 for i in range(12)]  # 0, 5, 10
    if source == "table":
        (tmp_path / "x.tsv").write_text(
            "id\ta\tb\n" + "".join(f"s{i}\t{i}\t1\n" for i in range(12))
        )
        rows = "".join(f"s{i}\t{c}\n" for i, c in enumerate(classes))
        (tmp_path / "y.tsv").write_text("id\tclass\n" + rows)
        adata = import_data(tmp_path / "x.tsv", format="table", labels=tmp_path / "y.tsv")
    else:
        obs = pd.DataFrame({"class": classes}, index=[f"s{i}" for i in range(12)])
        ad.AnnData(np.ones((12, 2), np.float32), obs=obs).write_h5ad(tmp_path / "x.h5ad")
        adata = import_data(tmp_path / "x.h5ad", format="h5ad", label_key="class")
    assert list(adata.obs[keys.LABEL].cat.categories) == ["0", "5", "10"]
    assert list(adata.obs[keys.LABEL].astype(str)) == [str(c) for c in classes]


def test_committed_copy_is_current(tmp_path):
    """tests/data/formats (read by the pipeline tests) equals what the builder writes."""
    fresh = fx.write_all(tmp_path)
    committed = {p.relative_to(fx.COMMITTED) for p in fx.COMMITTED.rglob("*") if p.is_file()}
    assert committed == {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    for relative in committed:
        new, old = tmp_path / relative, fx.COMMITTED / relative
        if relative.suffix == ".h5ad":
            a, b = ad.read_h5ad(new), ad.read_h5ad(old)
            np.testing.assert_array_equal(a.X, b.X)
            assert a.obs.equals(b.obs) and a.var.equals(b.var)
        else:
            assert new.read_bytes() == old.read_bytes(), relative
    assert fresh.keys() == set(formats.FORMATS)


# --- the readers, before any filter ------------------------------------------------


def test_spec_table_covers_every_format():
    """Dispatch is by the spec table: one spec, with its reader, per name of the Literal."""
    assert tuple(formats.SPECS) == formats.FORMATS
    readers = {fmt: spec.reader.__name__ for fmt, spec in formats.SPECS.items()}
    assert readers["h5ad"] == "read_anndata" and readers["star_counts"] == "read_star_counts"
    assert {readers[f] for f in ("table", "pancan_gdc", "pancan_xena", "xena_htseq")} == {
        "read_text"
    }


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_read_source_is_the_input_before_any_filter(written, fmt):
    data, labels = written[fmt]
    options = {"label_key": "cell_type"} if fmt == "h5ad" else {}
    source = formats.read_source(data, format=fmt, labels=labels, **options)
    assert source.x.dtype == np.float32
    assert source.x.shape == (len(source.samples), len(source.genes))
    assert source.labels.index.equals(source.samples)
    assert source.files == [p.name for p in (data, labels) if p is not None]
    assert (source.primary is not None) == fmt.startswith("pancan")
    record = import_data(data, format=fmt, labels=labels, **options).uns[keys.UNS][keys.IMPORT]
    assert (record["n_samples_read"], record["n_genes_read"]) == source.x.shape


def test_read_source_pancan_gdc_against_pandas(written):
    """Every sample and gene of the file, NaN kept; primary mask and per-patient labels."""
    matrix, labels = written["pancan_gdc"]
    source = formats.read_source(matrix, format="pancan_gdc", labels=labels)
    frame = pd.read_csv(matrix, sep="\t", index_col=0).T
    assert list(source.samples) == list(frame.index)
    assert list(source.genes) == list(frame.columns)
    # float32 storage of float64 values: one rounding, 6e-8 relative; NaN where NaN
    np.testing.assert_allclose(source.x, frame.to_numpy(dtype=np.float64), rtol=3e-7, atol=1e-30)
    primary = [s.split("-")[3][:2] in ("01", "03") for s in frame.index]
    np.testing.assert_array_equal(source.primary, primary)
    lookup = pd.read_csv(labels, sep="\t").set_index("bcr_patient_barcode")["type"]
    expected = lookup.reindex([s[:12] for s in frame.index]).to_numpy()
    assert list(source.labels.fillna("-")) == list(pd.Series(expected).fillna("-"))


# --- the text reader -------------------------------------------------------------


def _write(path: Path, text: str, *, compress: str = "") -> Path:
    data = text.encode()
    opener = {"": lambda d: d, "gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}
    path.write_bytes(opener[compress](data))
    return path


@pytest.mark.parametrize("compress", ["", "gzip", "bz2", "xz"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_reader_by_content_not_name(tmp_path, compress, newline):
    """The pipeline stages files as input.data: compression and separator are sniffed."""
    text = "gene,s1,s2,s3\ng1,1,NA,3\ng2,4,,6\ng3,7,8,9\ng4,NA,1,2\ng5,1,2,\n"
    text = text.replace("\n", newline)
    matrix = _write(tmp_path / "input.data", text, compress=compress)
    labels = _write(tmp_path / "labels.data", "s\tl\ns1\ta\ns2\tb\ns3\ta\n", compress=compress)
    adata = import_data(matrix, format="table", labels=labels, transpose=True, filter_genes=True)
    assert list(adata.var_names) == ["g3"]  # the others have an empty or NA cell
    np.testing.assert_array_equal(adata.X[:, 0], [7, 8, 9])


@pytest.mark.parametrize("fmt", ["pancan_gdc", "pancan_xena"])
def test_reader_blocks_do_not_change_the_result(written, fmt):
    matrix, _ = written[fmt]
    spec = formats.SPECS[fmt]
    options = {"genes_in_rows": True, "header_cell": spec.header, "log2p1": spec.log2p1}
    x, samples, genes = read_matrix(matrix, **options)
    blocked = read_matrix(matrix, **options, max_elements=7)  # one or two rows per block
    np.testing.assert_array_equal(x, blocked[0])  # NaN cells included
    assert samples.equals(blocked[1]) and genes.equals(blocked[2])


@pytest.mark.parametrize("fmt", ["pancan_xena", "table"])
def test_progress_counts_input_bytes(written, fmt):
    matrix, labels = written[fmt]
    seen: list[int] = []
    import_data(matrix, format=fmt, labels=labels, progress=seen.append)
    assert sum(seen) == formats.input_size(matrix) == matrix.stat().st_size


def test_progress_star_counts(written):
    folder, sheet = written["star_counts"]
    seen: list[int] = []
    import_data(folder, format="star_counts", labels=sheet, progress=seen.append)
    assert len(seen) == 10 and sum(seen) == formats.input_size(folder)


@pytest.mark.parametrize(
    ("keep", "drop", "expected"),
    [
        (None, None, ["Primary Tumor", "Solid Tissue Normal"]),
        (["Primary Tumor", "Metastatic"], None, ["Metastatic", "Primary Tumor"]),
        (["Primary Tumor", "Solid Tissue Normal", "Metastatic"], ["Metastatic"], None),
    ],
    ids=["default", "keep", "keep_and_drop"],
)
def test_label_filters(written, keep, drop, expected):
    matrix, labels = written["xena_htseq"]
    adata = import_data(
        matrix, format="xena_htseq", labels=labels, keep_labels=keep, drop_labels=drop
    )
    expected = expected or ["Primary Tumor", "Solid Tissue Normal"]
    assert list(adata.obs[keys.LABEL].cat.categories) == expected


def test_filter_genes_can_be_turned_off(written):
    matrix, labels = written["xena_htseq"]
    adata = import_data(matrix, format="xena_htseq", labels=labels, filter_genes=False)
    assert adata.n_vars == 17 and "__no_feature" in adata.var_names


@pytest.mark.parametrize("seed", range(5))
def test_looks_like_counts_matches_a_plain_check(seed):
    rng = np.random.default_rng(seed)
    x = rng.poisson(3, size=(40, 30)).astype(np.float32)
    if seed % 2:
        x[rng.integers(40), rng.integers(30)] = [-1.0, 0.5][seed % 4 // 2]
    expected = all(v >= 0 and float(v).is_integer() for v in x.ravel())
    assert looks_like_counts(x) is expected


# --- bad input -------------------------------------------------------------------


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _table_case(tmp_path: Path, matrix: str, labels: str = "", **options) -> dict:
    (tmp_path / "m.tsv").write_text(matrix)
    (tmp_path / "l.tsv").write_text(labels or "id\tlabel\nA\tx\nB\ty\nC\tx\n")
    return {"path": tmp_path / "m.tsv", "format": "table", "labels": tmp_path / "l.tsv", **options}


GOOD = "id\tg1\tg2\nA\t1\t2\nB\t3\t4\nC\t5\t6\n"


def _gdc_case(tmp_path: Path, written, edit, **options) -> dict:
    matrix, labels = written["pancan_gdc"]
    target = tmp_path / "input.data"
    target.write_text(edit(matrix.read_text()))
    return {"path": target, "format": "pancan_gdc", "labels": labels, **options}


def _htseq_negative(tmp_path: Path, written) -> dict:
    matrix, labels = written["xena_htseq"]
    lines = gzip.decompress(matrix.read_bytes()).decode().split("\n")
    fields = lines[1].split("\t")
    fields[1] = "-0.5"
    lines[1] = "\t".join(fields)
    (tmp_path / "h.tsv").write_text("\n".join(lines))
    return {"path": tmp_path / "h.tsv", "format": "xena_htseq", "labels": labels}


def _star_case(tmp_path: Path, written, edit) -> dict:
    folder, sheet = written["star_counts"]
    copy = tmp_path / "star"
    shutil.copytree(folder, copy)
    first = sorted(copy.rglob("*.tsv"))[0]
    first.write_text(edit(first.read_text()))
    return {"path": copy, "format": "star_counts", "labels": sheet}


def _negative_count(text: str) -> str:
    lines = text.split("\n")
    fields = lines[6].split("\t")
    fields[3] = "-3"
    lines[6] = "\t".join(fields)
    return "\n".join(lines)


BAD = [
    pytest.param(
        lambda t, w: {"path": t / "none.tsv", "format": "table", "labels": t / "none.tsv"},
        r"none\.tsv: no such file",
        id="missing_file",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, labels="") | {"labels": t / "gone.tsv"},
        r"gone\.tsv: no such file \(labels table\)",
        id="missing_labels_file",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD) | {"format": "xlsx"},
        r"^format: expected one of h5ad, table, .*, found 'xlsx'$",
        id="unknown_format",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD) | {"format": "h5ad", "labels": None},
        r"m\.tsv: not a readable HDF5",
        id="text_as_h5ad",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD) | {"path": w["h5ad"][0]},
        r"cells\.h5ad: is an HDF5 \(\.h5ad\) file, expected a text expression matrix",
        id="h5ad_as_table",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD) | {"path": _write(t / "x.xlsx", "")},
        r"x\.xlsx: empty expression matrix",
        id="empty_file",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD) | {"path": _write_bytes(t / "z.data", b"PK\x03\x04")},
        r"z\.data: is a zip/Excel file",
        id="excel",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD) | {"path": w["pancan_xena"][0], "format": "pancan_gdc"},
        r"first header cell is 'sample', expected 'gene_id'; is the format right",
        id="wrong_tcga_layout",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, label_key="tissue"),
        r"l\.tsv: label key 'tissue' is not a column \(columns: 'id', 'label'\)",
        id="label_key_absent",
    ),
    pytest.param(
        lambda t, w: {"path": w["h5ad"][0], "format": "h5ad", "label_key": "tissue"},
        r"cells\.h5ad: label key 'tissue' is not an obs column",
        id="h5ad_label_key_absent",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, labels="id\tlabel\nA\tx\nB\tx\nC\tx\n"),
        r"m\.tsv: only one class \('x', key 'label'\)",
        id="one_class",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, labels="id\tlabel\nA\tx\nB\ty\n"),
        r"m\.tsv: sample 'C' has no label \(1 unlabelled in l\.tsv",
        id="unlabelled_sample",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, labels="id\tlabel\nX\tx\nY\ty\n"),
        r"m\.tsv: labels do not match the samples: none of its 3 samples \(e\.g\. 'A'\)",
        id="labels_do_not_match",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD.replace("g2", "g1")),
        r"m\.tsv: duplicate gene id 'g1'",
        id="duplicate_gene",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD.replace("\nB", "\nA")),
        r"m\.tsv: duplicate sample id 'A'",
        id="duplicate_sample",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, labels="id\tlabel\nA\tx\nA\ty\nC\tx\n"),
        r"l\.tsv: duplicate id in column 'id' 'A'",
        id="duplicate_label_row",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD.replace("\t4", "\tfour")),
        r"m\.tsv: non-numeric value 'four' at row 'B', column 'g2'",
        id="non_numeric",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD.replace("\t4", "\tNA")),
        r"m\.tsv: a missing value \(NaN/NA/empty\) at sample 'B', gene 'g2'",
        id="nan",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD.replace("\t4", "\tinf")),
        r"m\.tsv: an infinite value at sample 'B', gene 'g2'",
        id="inf",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD.replace("\t4", "\t4\t9")),
        r"m\.tsv: row 'B' has 4 fields, the header has 3",
        id="ragged_row",
    ),
    pytest.param(
        lambda t, w: _htseq_negative(t, w),
        r"h\.tsv: a negative value where counts are expected at sample",
        id="negative_htseq",
    ),
    pytest.param(
        lambda t, w: _star_case(t, w, _negative_count),
        r"a negative value where counts are expected at sample 'TCGA-",
        id="negative_star",
    ),
    pytest.param(
        lambda t, w: _star_case(t, w, lambda s: s.replace("unstranded\t", "counts\t", 1)),
        r"\.tsv: no column 'unstranded' in the STAR-Counts file",
        id="star_column",
    ),
    pytest.param(
        lambda t, w: _star_case(t, w, lambda s: s.replace("\nENSG", "\nENSX", 1)),
        r"\.tsv: its gene ids differ from those of .*\.tsv \(a different annotation\?\)",
        id="star_genes_differ",
    ),
    pytest.param(
        lambda t, w: _star_case(t, w, lambda s: s) | {"path": _folder(t / "empty")},
        r"gdc_sample_sheet\.2024-01-15\.tsv: file '.*' of the sample sheet is not under .*empty",
        id="star_file_missing",
    ),
    pytest.param(
        lambda t, w: _gdc_case(t, w, lambda s: s, keep_labels=["GBM"]),
        r"input\.data: empty dataset after filtering \(0 samples",
        id="empty_after_filtering",
    ),
    pytest.param(
        lambda t, w: _gdc_case(t, w, lambda s: s.replace("TCGA-", "TCGA_")),
        r"input\.data: sample 'TCGA_.*' is not a TCGA barcode",
        id="not_a_barcode",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, layer="counts"),
        r"^layer: applies to format h5ad or star_counts, not table$",
        id="layer_misused",
    ),
    pytest.param(
        lambda t, w: _gdc_case(t, w, lambda s: s, transpose=True),
        r"^transpose: applies to format table only; pancan_gdc has a fixed layout$",
        id="transpose_misused",
    ),
    pytest.param(
        lambda t, w: {"path": w["h5ad"][0], "format": "h5ad", "layer": "spliced"},
        r"cells\.h5ad: no layer 'spliced' \(layers: 'counts'\)",
        id="layer_absent",
    ),
    pytest.param(
        lambda t, w: {"path": w["table"][0], "format": "table"},
        r"^labels: format table needs a labels",
        id="labels_required",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, use_raw=True),
        r"^use_raw: applies to format h5ad only, and not together with layer$",
        id="use_raw_misused",
    ),
    pytest.param(
        lambda t, w: {"path": w["h5ad"][0], "format": "h5ad", "layer": "counts", "use_raw": True},
        r"^use_raw: applies to format h5ad only, and not together with layer$",
        id="use_raw_with_layer",
    ),
    pytest.param(
        lambda t, w: _star_case(t, w, lambda s: s) | {"layer": "counts"},
        r"^layer: a star_counts value column is one of unstranded, .*, found 'counts'$",
        id="star_layer_unknown",
    ),
    pytest.param(
        lambda t, w: _table_case(t, GOOD, labels="id\ta\tb\nA\tx\t1\nB\ty\t2\nC\tx\t1\n"),
        r"l\.tsv: no label column; expected one label column, .* \(give label_key\)$",
        id="label_column_ambiguous",
    ),
]


@pytest.mark.parametrize(("case", "message"), BAD)
def test_bad_input(tmp_path, written, case, message):
    options = case(tmp_path, written)
    path = options.pop("path")
    with pytest.raises(InputError, match=message) as caught:
        import_data(path, **options)
    assert "\n" not in str(caught.value)
    assert "--" not in str(caught.value)  # the library names parameters, not CLI flags
