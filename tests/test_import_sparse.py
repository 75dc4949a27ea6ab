"""IMPORT of a sparse .h5ad: the matrix stays CSR float32, and every filter, check
and error is the one the same data given dense gets (issue 18)."""

from __future__ import annotations

import re

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

from genexai import io, keys
from genexai.cli.import_data import main
from genexai.errors import InputError
from genexai.import_data import import_data

N_CELLS, N_GENES = 40, 14


def _counts(seed: int = 0) -> np.ndarray:
    """``(N_CELLS, N_GENES)`` counts, about 30 % non-zero; gene 3 all zero, the
    last gene a ``__`` counter (both dropped by the gene filters)."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(3.0, (N_CELLS, N_GENES)) * (rng.random((N_CELLS, N_GENES)) < 0.3)
    x[:, 3] = 0
    return x.astype(np.float64)


def _write(path, x: np.ndarray, *, sparse, layer: np.ndarray | None = None) -> None:
    """An .h5ad of ``x`` (dense, or converted by ``sparse``, e.g. ``sp.csr_matrix``),
    three cell types in ``obs['label']``, ``layer`` as ``layers['counts']`` and as ``raw``."""
    genes = [f"g{j}" for j in range(N_GENES - 1)] + ["__ambiguous"]
    obs = pd.DataFrame(
        {keys.LABEL: pd.Categorical([f"t{i % 3}" for i in range(N_CELLS)])},
        index=[f"c{i}" for i in range(N_CELLS)],
    )
    kind = sparse or np.asarray
    adata = ad.AnnData(X=kind(x), obs=obs, var=pd.DataFrame(index=genes))
    if layer is not None:
        adata.layers["counts"] = kind(layer)
        adata.raw = ad.AnnData(X=kind(layer), obs=obs, var=adata.var)
    adata.uns["source"] = {"atlas": "test"}
    adata.write_h5ad(path)


def _pair(tmp_path, x, sparse=sp.csr_matrix, layer=None):
    """The same data written dense and sparse, under the same file name."""
    dense, sparse_path = tmp_path / "dense" / "cells.h5ad", tmp_path / "sparse" / "cells.h5ad"
    dense.parent.mkdir(exist_ok=True)
    sparse_path.parent.mkdir(exist_ok=True)
    _write(dense, x, sparse=None, layer=layer)
    _write(sparse_path, x, sparse=sparse, layer=layer)
    return dense, sparse_path


def _assert_same_import(sparse: ad.AnnData, dense: ad.AnnData) -> None:
    assert isinstance(sparse.X, sp.csr_matrix) and not sp.issparse(dense.X)
    assert sparse.X.dtype == dense.X.dtype == np.float32
    assert sparse.X.has_canonical_format
    assert list(sparse.obs_names) == list(dense.obs_names)
    assert list(sparse.var_names) == list(dense.var_names)
    np.testing.assert_array_equal(sparse.X.toarray(), dense.X)
    pd.testing.assert_frame_equal(sparse.obs, dense.obs)
    assert sparse.uns[keys.UNS] == dense.uns[keys.UNS]
    assert sparse.uns["source"] == dense.uns["source"]


OPTIONS = [
    pytest.param({}, id="default"),
    pytest.param({"filter_genes": True}, id="gene_filters"),
    pytest.param({"drop_labels": ["t1"]}, id="drop_label"),
    pytest.param({"keep_labels": ["t0", "t2"], "filter_genes": True}, id="keep_and_filter"),
    pytest.param({"layer": "counts", "filter_genes": True}, id="layer"),
    pytest.param({"use_raw": True}, id="raw"),
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("sparse", [sp.csr_matrix, sp.csc_matrix], ids=["csr", "csc"])
def test_sparse_import_equals_dense_import(tmp_path, options, sparse):
    x = _counts()
    dense_path, sparse_path = _pair(tmp_path, x, sparse=sparse, layer=_counts(seed=1))
    dense = import_data(dense_path, format="h5ad", **options)
    imported = import_data(sparse_path, format="h5ad", **options)
    _assert_same_import(imported, dense)
    record = imported.uns[keys.UNS][keys.IMPORT]
    assert record[keys.HAS_COUNTS] is True
    if options.get("filter_genes"):
        assert record["dropped_genes_counters"] == 1
        assert record["dropped_genes_max_le_0"] == 1
        assert imported.n_vars == N_GENES - 2


def test_written_file_stays_sparse(tmp_path):
    """Through the CLI: the output's X is CSR float32 with int32 indices, as dense otherwise."""
    dense_path, sparse_path = _pair(tmp_path, _counts(), sparse=sp.csc_matrix)
    for path in (dense_path, sparse_path):
        out = path.parent / "imported.h5ad"
        result = CliRunner().invoke(
            main, ["--input", str(path), "--format", "h5ad", "--output", str(out)]
        )
        assert result.exit_code == 0, result.output
    imported = ad.read_h5ad(sparse_path.parent / "imported.h5ad")
    dense = ad.read_h5ad(dense_path.parent / "imported.h5ad")
    _assert_same_import(imported, dense)
    assert imported.X.indices.dtype == np.int32


def test_gene_filters_and_values_on_stored_entries(tmp_path):
    """Non-integers, negatives, NaN and duplicated entries: the filters see what the
    dense matrix holds (a NaN gene dropped, a gene negative or zero everywhere dropped)."""
    x = _counts() / 2
    x[5, 0] = np.nan  # gene g0: dropped by the NaN filter
    x[:, 1] = -x[:, 1]  # gene g1: max <= 0, dropped
    x[7, 2] = -1.5  # gene g2: kept, with a negative
    dense_path, sparse_path = _pair(tmp_path, _counts(), layer=x)
    options = {"layer": "counts", "filter_genes": True}
    dense = import_data(dense_path, format="h5ad", **options)
    imported = import_data(sparse_path, format="h5ad", **options)
    _assert_same_import(imported, dense)
    record = imported.uns[keys.UNS][keys.IMPORT]
    assert record[keys.HAS_COUNTS] is False
    assert record["dropped_genes_nan"] == 1
    assert record["dropped_genes_max_le_0"] == 2  # g1 and the all-zero g3
    assert "g0" not in imported.var_names and "g2" in imported.var_names


def test_duplicate_entries_are_summed_as_dense(tmp_path):
    """A sparse matrix with duplicate (row, column) entries means their sum, as toarray()."""
    x = sp.csr_matrix(_counts())
    twice = sp.csr_matrix(
        (np.repeat(x.data, 2), np.repeat(x.indices, 2), 2 * x.indptr), shape=x.shape
    )
    assert not twice.has_canonical_format
    dense_path, sparse_path = _pair(tmp_path, 2 * _counts(), sparse=lambda _: twice)
    _assert_same_import(
        import_data(sparse_path, format="h5ad"), import_data(dense_path, format="h5ad")
    )


def _error(path, **options) -> str:
    with pytest.raises(InputError) as caught:
        import_data(path, format="h5ad", **options)
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(path), "<input>")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            np.nan, r"a missing value \(NaN/NA/empty\) at sample 'c4', gene 'g6'", id="nan"
        ),
        pytest.param(np.inf, r"an infinite value at sample 'c4', gene 'g6'", id="inf"),
    ],
)
def test_bad_values_give_the_dense_error(tmp_path, value, expected):
    layer = _counts()
    layer[4, 6] = value
    layer[9, 2] = value  # a later one: the first in row-major order is named
    dense_path, sparse_path = _pair(tmp_path, _counts(), layer=layer)
    for options in ({"layer": "counts"}, {"use_raw": True}):
        message = _error(sparse_path, **options)
        assert message == _error(dense_path, **options)
        assert re.search(expected, message)
    x = _counts()
    x[4, 6] = value
    dense_path, sparse_path = _pair(tmp_path, x)
    assert _error(sparse_path) == _error(dense_path)  # refused on read: X must be finite


def test_negative_values_are_not_counts_as_dense(tmp_path):
    """h5ad values of unknown kind: a negative is accepted, and has_counts is false."""
    x = _counts()
    x[4, 6] = -2.0
    dense_path, sparse_path = _pair(tmp_path, x)
    imported = import_data(sparse_path, format="h5ad")
    _assert_same_import(imported, import_data(dense_path, format="h5ad"))
    assert imported.uns[keys.UNS][keys.IMPORT][keys.HAS_COUNTS] is False


def test_guard_charges_the_stored_values(tmp_path):
    """50,000 × 20,000 declared (3.7 GiB dense) with 1,000 non-zeros: accepted under a
    1 GiB limit, which the same matrix made dense would exceed."""
    n_cells, n_genes, nnz = 50_000, 20_000, 1_000
    rng = np.random.default_rng(0)
    cells = np.sort(rng.choice(n_cells, nnz, replace=False))
    x = sp.csr_matrix(
        (np.ones(nnz, np.float32), (cells, rng.integers(0, n_genes, nnz))),
        shape=(n_cells, n_genes),
    )
    obs = pd.DataFrame(
        {keys.LABEL: pd.Categorical(np.where(np.arange(n_cells) % 2, "a", "b"))},
        index=[f"c{i}" for i in range(n_cells)],
    )
    path, out = tmp_path / "atlas.h5ad", tmp_path / "imported.h5ad"
    ad.AnnData(X=x, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(n_genes)])).write_h5ad(
        path
    )
    with pytest.raises(InputError, match="made dense"):
        io.check_h5ad_size(path, max_bytes=2**30)
    args = ["--input", str(path), "--format", "h5ad", "--output", str(out)]
    try:
        result = CliRunner().invoke(main, [*args, "--max-memory-gb", "1"])
    finally:
        io.set_memory_limit(None)
    assert result.exit_code == 0, result.output
    imported = ad.read_h5ad(out)
    assert isinstance(imported.X, sp.csr_matrix)
    assert imported.shape == (n_cells, n_genes) and imported.X.nnz == nnz


def test_int64_indices_become_int32(tmp_path):
    """A file with int64 indices and indptr (as a streamed simulation writes ``indptr``)."""
    wide = sp.csr_matrix(_counts())
    wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
    dense_path, sparse_path = _pair(tmp_path, _counts(), sparse=lambda _: wide)
    with h5py.File(sparse_path) as f:
        assert f["X/indices"].dtype == f["X/indptr"].dtype == np.int64
    imported = import_data(sparse_path, format="h5ad")
    _assert_same_import(imported, import_data(dense_path, format="h5ad"))
    assert imported.X.indices.dtype == imported.X.indptr.dtype == np.int32
