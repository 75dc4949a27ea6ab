"""genexai.io.read_h5ad(rows=...): only the selected rows of a file reach memory."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genexai import io, keys
from genexai.errors import InputError
from genexai.io import _h5ad


def _adata(*, sparse: bool) -> ad.AnnData:
    rng = np.random.default_rng(0)
    x = sp.random(300, 40, density=0.2, format="csr", dtype=np.float32, rng=rng)
    x = sp.csr_matrix(x.multiply(np.arange(300)[:, None] != 7))  # row 7 is empty
    split = np.where(rng.random(300) < 0.6, keys.TRAIN, keys.TEST)
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical(rng.choice(["A", "B", "C"], 300)),
            keys.SPLIT: pd.Categorical(split, categories=[keys.TRAIN, keys.TEST]),
        },
        index=[f"cell{i}" for i in range(300)],
    )
    adata = ad.AnnData(
        X=x if sparse else x.toarray(),
        obs=obs,
        var=pd.DataFrame({"mean": rng.random(40)}, index=[f"g{j}" for j in range(40)]),
        uns={"genexai": {"prepare": {"transform": "zscore"}}},
        obsm={"pcs": rng.random((300, 3))},
        layers={"counts": x.copy() if sparse else x.toarray()},
    )
    adata.varm["loadings"] = rng.random((40, 2))
    return adata


@pytest.mark.parametrize("sparse", [True, False], ids=["csr", "dense"])
def test_the_rows_read_are_those_of_the_whole_file(tmp_path: Path, sparse, monkeypatch):
    adata = _adata(sparse=sparse)
    path = tmp_path / "p.h5ad"
    io.write_h5ad(adata, path)
    monkeypatch.setattr(_h5ad, "READ_BLOCK", 97)  # many blocks, rows cut across them
    got = io.read_h5ad(path, keep_sparse=True, rows=io.split_selector([keys.TEST]))
    want = adata[adata.obs[keys.SPLIT] == keys.TEST]
    assert got.n_obs == want.n_obs > 0
    assert sp.issparse(got.X) == sparse
    if sparse:
        assert got.X.format == "csr"
        assert got.X.indices.dtype == np.int32
    np.testing.assert_array_equal(io.dense_rows(got.X), io.dense_rows(want.X))
    np.testing.assert_array_equal(io.dense_rows(got.layers["counts"]), io.dense_rows(want.X))
    np.testing.assert_array_equal(got.obsm["pcs"], want.obsm["pcs"])
    np.testing.assert_array_equal(got.varm["loadings"], adata.varm["loadings"])
    # Every category is kept: a class absent from the rows is still a class.
    pd.testing.assert_frame_equal(got.obs, adata.obs[adata.obs[keys.SPLIT] == keys.TEST])
    pd.testing.assert_frame_equal(got.var, adata.var)
    assert got.uns["genexai"]["prepare"]["transform"] == "zscore"


def test_all_and_no_split_column_read_every_row(tmp_path: Path):
    adata = _adata(sparse=True)
    path = tmp_path / "p.h5ad"
    io.write_h5ad(adata, path)
    assert io.read_h5ad(path, keep_sparse=True, rows=io.split_selector(["all"])).n_obs == 300
    del adata.obs[keys.SPLIT]
    io.write_h5ad(adata, path)
    assert io.read_h5ad(path, keep_sparse=True, rows=io.split_selector([keys.TRAIN])).n_obs == 300


def test_the_guard_charges_the_rows_read(tmp_path: Path):
    adata = _adata(sparse=True)
    path = tmp_path / "p.h5ad"
    io.write_h5ad(adata, path)
    with h5py.File(path) as f:
        whole = _h5ad._decoded_bytes(f)
    first = np.arange(10)
    # The rows left unread: X's and the counts layer's stored values
    # (float32 + int32 each), obsm's float64 rows.
    unread = 2 * (adata.X.nnz - adata.X[first].nnz) * 8 + (300 - 10) * 3 * 8
    assert io.check_h5ad_size(path, keep_sparse=True, max_bytes=whole) == (300, 40)
    with pytest.raises(InputError, match="above the limit"):
        io.check_h5ad_size(path, keep_sparse=True, max_bytes=whole - 1)
    assert io.check_h5ad_size(path, keep_sparse=True, max_bytes=whole - unread, rows=first)
    with pytest.raises(InputError, match="above the limit"):
        io.check_h5ad_size(path, keep_sparse=True, max_bytes=whole - unread - 1, rows=first)
    got = io.read_h5ad(path, keep_sparse=True, max_bytes=whole - unread, rows=lambda obs: first)
    assert got.n_obs == 10


def test_a_corrupt_file_is_one_error(tmp_path: Path):
    path = tmp_path / "p.h5ad"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(InputError, match="p.h5ad"):
        io.read_h5ad(path, rows=io.split_selector([keys.TRAIN]))


@pytest.mark.parametrize("sparse", [True, False], ids=["csr", "dense"])
def test_a_shared_file_gives_the_same_rows(tmp_path: Path, sparse, monkeypatch):
    adata = _adata(sparse=sparse)
    path = tmp_path / "p.h5ad"
    io.write_h5ad(adata, path)
    select = io.split_selector([keys.TRAIN])
    streamed = io.read_h5ad(path, keep_sparse=True, rows=select)
    monkeypatch.setattr(_h5ad, "_SHARED", {})
    io.share_reads([path])
    for _ in range(2):  # the first read fills the cache, the second uses it
        shared = io.read_h5ad(path, keep_sparse=True, rows=select)
        np.testing.assert_array_equal(io.dense_rows(shared.X), io.dense_rows(streamed.X))
        pd.testing.assert_frame_equal(shared.obs, streamed.obs)
        np.testing.assert_array_equal(shared.obsm["pcs"], streamed.obsm["pcs"])
        assert shared.uns == streamed.uns
