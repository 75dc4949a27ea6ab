"""The sparse single-cell simulator (issue 18): CSR raw counts with known markers."""

from __future__ import annotations

import dataclasses
import hashlib

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genexai import io, keys
from genexai.simulate import get_config, simulate, write_simulation
from genexai.simulation import draw_parameters, sparse_blocks

#: sha256 of X of ``simulate("test", seed=7)``, computed before the sparse
#: sampler was added: the dense configurations must not change.
TEST_X_SHA256 = "c8a3bef1c0a6ebd2a632e938f4c6cb60a82735edda7229d219a56342134df42c"


def _small(**changes):
    return dataclasses.replace(get_config("SingleCell"), n_genes=4_000, n_pathways=400, **changes)


def test_dense_configs_unchanged():
    x = simulate("test", seed=7, threads=2).X
    assert hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest() == TEST_X_SHA256


def test_singlecell_is_sparse_counts_with_markers():
    config = get_config("SingleCell", n_samples=600)
    adata = simulate(config, seed=3)
    x = adata.X
    assert sp.issparse(x) and x.format == "csr" and x.dtype == np.float32
    assert np.array_equal(x.data, np.round(x.data)) and (x.data > 0).all()
    assert np.array_equal(np.asarray(x.sum(axis=1)).ravel(), np.full(600, config.n_reads))
    density = x.nnz / (x.shape[0] * x.shape[1])
    assert 0.03 < density < 0.08
    informative = adata.varm[keys.INFORMATIVE]
    assert informative.shape == (config.n_genes, config.n_classes)
    assert (informative.sum(axis=0) == config.n_over * config.genes_per_pathway).all()


def test_sparse_independent_of_chunks_and_threads():
    config = _small(n_samples=700)
    params = draw_parameters(config, np.random.default_rng(0))
    subclass = np.repeat(np.arange(config.n_classes), 70)
    runs = [
        sp.vstack(
            list(
                sparse_blocks(
                    config,
                    params,
                    subclass,
                    np.random.SeedSequence(5),
                    chunk_rows=rows,
                    threads=threads,
                )
            )
        )
        for rows, threads in ((1, 1), (300, 2))
    ]
    assert (runs[0] != runs[1]).nnz == 0
    other = sp.vstack(
        list(
            sparse_blocks(
                config, params, subclass, np.random.SeedSequence(6), chunk_rows=300, threads=1
            )
        )
    )
    assert (runs[0] != other).nnz > 0


def _assert_same_simulation(written, expected):
    """The file read back holds ``expected`` exactly: X arrays, obs, var, varm, uns."""
    x, want = written.X, expected.X
    assert sp.issparse(x) and x.format == "csr" and x.shape == want.shape
    assert x.data.tobytes() == want.data.tobytes()
    assert x.indices.tobytes() == want.indices.tobytes()
    np.testing.assert_array_equal(x.indptr, want.indptr)
    pd.testing.assert_frame_equal(written.obs, expected.obs)
    pd.testing.assert_frame_equal(written.var, expected.var)
    pd.testing.assert_frame_equal(written.varm[keys.INFORMATIVE], expected.varm[keys.INFORMATIVE])
    uns, want_uns = (a.uns[keys.UNS][keys.SIMULATE] for a in (written, expected))
    assert uns.keys() == want_uns.keys()
    for key, value in want_uns.items():
        if sp.issparse(value):
            assert (uns[key] != value).nnz == 0, key
        else:
            np.testing.assert_array_equal(uns[key], value, err_msg=key)


# Random blocks of 262 cells at 4,000 genes: 300 rows are written as chunks of 524.
@pytest.mark.parametrize(("chunk_rows", "n_chunks"), [(300, 2), (8192, 1)], ids=["appended", "one"])
def test_streamed_file_is_the_simulation(tmp_path, chunk_rows, n_chunks):
    config = _small(n_samples=1_000)
    out = tmp_path / "sc.h5ad"
    done = []
    write_simulation(config, out, seed=11, threads=2, progress=done.append, chunk_rows=chunk_rows)
    assert sum(done) == 1_000 and len(done) == n_chunks
    with h5py.File(out, "r") as f:
        # int64 while appended, int32 once complete (readers keep int32 indices).
        assert f["X/indptr"].dtype == np.int32
    expected = simulate(config, seed=11)
    _assert_same_simulation(ad.read_h5ad(out), expected)
    _assert_same_simulation(io.read_h5ad(out, keep_sparse=True), expected)
    assert [p.name for p in tmp_path.iterdir()] == ["sc.h5ad"]


def test_streamed_by_name_with_n_samples(tmp_path):
    out = tmp_path / "sc.h5ad"
    write_simulation("SingleCell", out, n_samples=120, seed=2)
    _assert_same_simulation(io.read_h5ad(out), simulate("SingleCell", n_samples=120, seed=2))


def test_dense_config_written_as_before(tmp_path):
    out = tmp_path / "test.h5ad"
    write_simulation("test", out, seed=7, threads=2)
    x = io.read_h5ad(out).X
    assert hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest() == TEST_X_SHA256


def test_failed_stream_leaves_nothing(tmp_path):
    out = tmp_path / "sc.h5ad"
    out.write_bytes(b"previous")

    calls = []

    def fail_second_chunk(rows):
        calls.append(rows)
        if len(calls) == 2:
            msg = "interrupted"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="interrupted"):
        write_simulation(
            _small(n_samples=1_000), out, seed=1, progress=fail_second_chunk, chunk_rows=300
        )
    assert [p.name for p in tmp_path.iterdir()] == ["sc.h5ad"]
    assert out.read_bytes() == b"previous"
