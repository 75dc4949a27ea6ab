"""The sparse single-cell simulator (issue 18): CSR raw counts with known markers."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import scipy.sparse as sp

from genexai import keys
from genexai.simulate import get_config, simulate
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
