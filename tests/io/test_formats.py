"""genexai.io.formats: the readers before any filter, the spec table, and the
committed format files (tests/data/formats) against their builder."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from genexai import keys
from genexai.errors import InputError
from genexai.import_data import import_data
from genexai.io import formats, looks_like_counts
from genexai.io._text import read_matrix
from tests.helpers import formats as fx


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
def test_read_source_is_the_input_before_any_filter(format_files, fmt):
    data, labels = format_files[fmt]
    options = {"label_key": "cell_type"} if fmt == "h5ad" else {}
    source = formats.read_source(data, format=fmt, labels=labels, **options)
    assert source.x.dtype == np.float32
    assert source.x.shape == (len(source.samples), len(source.genes))
    assert source.labels.index.equals(source.samples)
    assert source.files == [p.name for p in (data, labels) if p is not None]
    assert (source.primary is not None) == fmt.startswith("pancan")
    record = import_data(data, format=fmt, labels=labels, **options).uns[keys.UNS][keys.IMPORT]
    assert (record["n_samples_read"], record["n_genes_read"]) == source.x.shape


def test_read_source_pancan_gdc_against_pandas(format_files):
    """Every sample and gene of the file, NaN kept; primary mask and per-patient labels."""
    matrix, labels = format_files["pancan_gdc"]
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


@pytest.mark.parametrize("fmt", ["pancan_gdc", "pancan_xena"])
def test_reader_blocks_do_not_change_the_result(format_files, fmt):
    matrix, _ = format_files[fmt]
    spec = formats.SPECS[fmt]
    options = {"genes_in_rows": True, "header_cell": spec.header, "log2p1": spec.log2p1}
    x, samples, genes = read_matrix(matrix, **options)
    blocked = read_matrix(matrix, **options, max_elements=7)  # one or two rows per block
    np.testing.assert_array_equal(x, blocked[0])  # NaN cells included
    assert samples.equals(blocked[1]) and genes.equals(blocked[2])


@pytest.mark.parametrize("seed", range(5))
def test_looks_like_counts_matches_a_plain_check(seed):
    rng = np.random.default_rng(seed)
    x = rng.poisson(3, size=(40, 30)).astype(np.float32)
    if seed % 2:
        x[rng.integers(40), rng.integers(30)] = [-1.0, 0.5][seed % 4 // 2]
    expected = all(v >= 0 and float(v).is_integer() for v in x.ravel())
    assert looks_like_counts(x) is expected


def test_a_samplesheet_is_not_read_as_a_matrix(tmp_path):
    """The pipeline's samplesheet rule, kept by the reader too: neither is read as the other."""
    sheet = tmp_path / "datasets.csv"
    sheet.write_text("id,input,label_key\ncells,cells.h5ad,cell_type\n")
    with pytest.raises(InputError, match=r"datasets\.csv: this is a samplesheet"):
        read_matrix(sheet, genes_in_rows=False, header_cell=None, log2p1=False)
    # A matrix may have a gene called `input`: only a first header cell `id` marks a sheet.
    table = tmp_path / "expression.csv"
    table.write_text("sample,input,TP53\ns1,1,2\n")
    _, samples, genes = read_matrix(table, genes_in_rows=False, header_cell=None, log2p1=False)
    assert list(genes) == ["input", "TP53"]
