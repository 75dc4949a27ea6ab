"""genexai.import_data: every public layout against a literal pandas re-implementation
of the paper's loading steps, reader edge cases, and one-line errors for bad input."""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from genexai import io, keys
from genexai.errors import InputError
from genexai.import_data import import_data
from genexai.io import formats

#: label column and the labels-table column of matrix ids, per TCGA format
PAPER_LABELS = {
    "pancan_gdc": ("bcr_patient_barcode", "type"),
    "pancan_xena": ("sample", "cancer type abbreviation"),
    "xena_htseq": ("submitter_id.samples", "sample_type.samples"),
}
#: the paper's BRCA and KIRC drop lists (method.md §2.2)
PAPER_UNWANTED = ["Metastatic", "Additional - New Primary"]


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
def test_tcga_formats_follow_the_paper(format_files, fmt):
    matrix, labels = format_files[fmt]
    adata = import_data(matrix, format=fmt, labels=labels)
    assert_imported(adata, *paper_tcga(matrix, labels, fmt))
    record = adata.uns[keys.UNS][keys.IMPORT]
    assert record["format"] == fmt and record["files"] == [matrix.name, labels.name]
    assert record[keys.HAS_COUNTS] == (fmt == "xena_htseq")
    assert record["unlogged"] == (fmt != "pancan_gdc")


def test_pancan_filters_in_the_papers_order(format_files):
    """max > 0 looks at every sample, the NaN filter only at primary tumours."""
    matrix, labels = format_files["pancan_gdc"]
    adata = import_data(matrix, format="pancan_gdc", labels=labels)
    assert "A1BG|1" in adata.var_names  # positive only in a metastasis
    assert "GATA3|2625" in adata.var_names  # NaN only in a metastasis
    assert "TP53|7157" not in adata.var_names  # NaN in a primary tumour
    assert "?|100130426" not in adata.var_names  # max <= 0
    record = adata.uns[keys.UNS][keys.IMPORT]
    assert (record["dropped_samples_not_primary"], record["dropped_samples_unlabelled"]) == (2, 1)
    assert any("-01B-" in s for s in adata.obs_names)  # a second primary aliquot is kept
    assert any(s.split("-")[3].startswith("03") for s in adata.obs_names)


def test_star_counts(format_files):
    folder, sheet = format_files["star_counts"]
    adata = import_data(folder, format="star_counts", labels=sheet)
    assert_imported(adata, *paper_star(folder, sheet))
    assert adata.uns[keys.UNS][keys.IMPORT][keys.HAS_COUNTS] is True
    tpm = import_data(folder, format="star_counts", labels=sheet, layer="tpm_unstranded")
    assert tpm.uns[keys.UNS][keys.IMPORT][keys.HAS_COUNTS] is False


def test_star_counts_folder_staged_as_a_link(format_files, tmp_path):
    """Nextflow stages the folder as a symbolic link named input.data."""
    folder, sheet = format_files["star_counts"]
    (tmp_path / "input.data").symlink_to(folder, target_is_directory=True)
    linked = import_data(tmp_path / "input.data", format="star_counts", labels=sheet)
    np.testing.assert_array_equal(
        linked.X, import_data(folder, format="star_counts", labels=sheet).X
    )


def test_star_counts_portal_2_sheet(format_files, tmp_path):
    """Portal 2.0 sheets have 'Tissue Type' instead of 'Sample Type'."""
    folder, sheet = format_files["star_counts"]
    table = pd.read_csv(sheet, sep="\t")
    table["Tissue Type"] = table.pop("Sample Type").map(
        {"Primary Tumor": "Tumor", "Solid Tissue Normal": "Normal"}
    )
    new_sheet = tmp_path / "gdc_sample_sheet.2025-05-22.tsv"
    table.to_csv(new_sheet, sep="\t", index=False)
    adata = import_data(folder, format="star_counts", labels=new_sheet)
    assert list(adata.obs[keys.LABEL].cat.categories) == ["Normal", "Tumor"]


@pytest.mark.parametrize("transpose", [False, True], ids=["samples_x_genes", "genes_x_samples"])
def test_table(format_files, transpose):
    matrix, labels = format_files["table"]
    if transpose:
        matrix = matrix.parent / "expression_genes_by_samples.tsv.gz"
    adata = import_data(matrix, format="table", labels=labels, transpose=transpose)
    frame = pd.read_csv(format_files["table"][0], index_col=0)
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
def test_h5ad(format_files, options, matrix, has_counts):
    path, _ = format_files["h5ad"]
    source = ad.read_h5ad(path)
    adata = import_data(path, format="h5ad", label_key="cell_type", **options)
    # A sparse source (the counts layer) stays sparse.
    np.testing.assert_array_equal(io.dense_rows(adata.X, dtype=None), matrix(source))
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


@pytest.mark.parametrize("fmt", ["pancan_xena", "table"])
def test_progress_counts_input_bytes(format_files, fmt):
    matrix, labels = format_files[fmt]
    seen: list[int] = []
    import_data(matrix, format=fmt, labels=labels, progress=seen.append)
    assert sum(seen) == formats.input_size(matrix) == matrix.stat().st_size


def test_progress_star_counts(format_files):
    folder, sheet = format_files["star_counts"]
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
def test_label_filters(format_files, keep, drop, expected):
    matrix, labels = format_files["xena_htseq"]
    adata = import_data(
        matrix, format="xena_htseq", labels=labels, keep_labels=keep, drop_labels=drop
    )
    expected = expected or ["Primary Tumor", "Solid Tissue Normal"]
    assert list(adata.obs[keys.LABEL].cat.categories) == expected


def test_filter_genes_can_be_turned_off(format_files):
    matrix, labels = format_files["xena_htseq"]
    adata = import_data(matrix, format="xena_htseq", labels=labels, filter_genes=False)
    assert adata.n_vars == 17 and "__no_feature" in adata.var_names


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


def _gdc_case(tmp_path: Path, format_files, edit, **options) -> dict:
    matrix, labels = format_files["pancan_gdc"]
    target = tmp_path / "input.data"
    target.write_text(edit(matrix.read_text()))
    return {"path": target, "format": "pancan_gdc", "labels": labels, **options}


def _htseq_negative(tmp_path: Path, format_files) -> dict:
    matrix, labels = format_files["xena_htseq"]
    lines = gzip.decompress(matrix.read_bytes()).decode().split("\n")
    fields = lines[1].split("\t")
    fields[1] = "-0.5"
    lines[1] = "\t".join(fields)
    (tmp_path / "h.tsv").write_text("\n".join(lines))
    return {"path": tmp_path / "h.tsv", "format": "xena_htseq", "labels": labels}


def _star_case(tmp_path: Path, format_files, edit) -> dict:
    folder, sheet = format_files["star_counts"]
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
        r"m\.tsv: sample 'C' has no label \(1 unlabelled in \S*/l\.tsv",
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
def test_bad_input(tmp_path, format_files, case, message):
    options = case(tmp_path, format_files)
    path = options.pop("path")
    with pytest.raises(InputError, match=message) as caught:
        import_data(path, **options)
    assert "\n" not in str(caught.value)
    assert "--" not in str(caught.value)  # the library names parameters, not CLI flags
