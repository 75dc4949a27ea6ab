"""A sparse input stays sparse from PREPARE on, and gives a dense input's results.

The same simulated single-cell counts go through PREPARE, TRAIN, ATTRIBUTE,
EVALUATE and RANK_GENES twice: as a CSR matrix and as a dense array. The
sparse run must never hold a dense copy of the matrix, and its numbers must
equal the dense run's (bit for bit where the stored values are exact in
float32, to float32 round-off otherwise).
"""

from __future__ import annotations

import dataclasses

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genexai import io, keys
from genexai._defaults import DEFAULTS
from genexai.attribute import attribute
from genexai.errors import InputError
from genexai.evaluate import evaluate
from genexai.prepare import prepare
from genexai.rank_genes import rank_genes
from genexai.simulate import simulate
from genexai.simulation import get_config
from genexai.train import fit

#: A short schedule: the sparse and dense runs must agree epoch by epoch.
SCHEDULE = dataclasses.replace(DEFAULTS, epochs=4, milestones=(2,))
CONFIG = get_config(
    "SingleCell", n_genes=400, n_pathways=40, n_over=2, n_samples=600, n_reads=400, n_classes=3
)


@pytest.fixture(scope="module")
def counts() -> ad.AnnData:
    return simulate(CONFIG, seed=3)


def _dense(adata: ad.AnnData) -> ad.AnnData:
    out = adata.copy()
    out.X = adata.X.toarray()
    return out


@pytest.fixture(scope="module", params=["zscore", "log2_zscore", "log2_cpm_center"])
def prepared(request, counts) -> tuple[ad.AnnData, ad.AnnData]:
    return (
        prepare(counts, transform=request.param, seed=5),
        prepare(_dense(counts), transform=request.param, seed=5),
    )


def test_sparse_prepared_x_stays_sparse_with_no_counts_layer(counts, prepared):
    sparse, dense = prepared
    assert sp.issparse(sparse.X)
    assert sparse.X.nnz == counts.X.nnz
    assert sparse.X.dtype == np.float32
    assert not sparse.layers
    record = sparse.uns[keys.UNS][keys.PREPARE]
    assert record[keys.SPARSE_X] is True
    assert record["counts_layer"] is False
    assert keys.SPARSE_X not in dense.uns[keys.UNS][keys.PREPARE]
    stored = sparse.X.data.nbytes + sparse.X.indices.nbytes + sparse.X.indptr.nbytes
    given = counts.X.data.nbytes + counts.X.indices.nbytes + counts.X.indptr.nbytes
    assert stored <= 1.5 * given


def test_sparse_rows_read_as_the_dense_values(prepared):
    sparse, dense = prepared
    x = io.expression(sparse)
    assert isinstance(x, io.ScaledRows)
    np.testing.assert_allclose(sparse.var[keys.MEAN], dense.var[keys.MEAN], rtol=1e-12)
    np.testing.assert_allclose(sparse.var[keys.STD], dense.var[keys.STD], rtol=1e-12)
    values = io.dense_rows(x)
    np.testing.assert_allclose(values, dense.X, rtol=0, atol=1e-5)
    if sparse.uns[keys.UNS][keys.PREPARE][keys.TRANSFORM] == "zscore":
        # Counts are exact in float32: the same bits as the dense path.
        np.testing.assert_array_equal(values, dense.X)
    rows = np.array([7, 3, 500, 3])
    np.testing.assert_array_equal(x[rows], values[rows])
    np.testing.assert_array_equal(
        x.subset(np.array([10, 20, 30]))[np.array([2, 0])], values[[30, 10]]
    )
    np.testing.assert_allclose(io.mean_rows(x, rows), values[rows].mean(axis=0), atol=1e-6)


@pytest.fixture(scope="module")
def zscored(counts) -> tuple[ad.AnnData, ad.AnnData]:
    return prepare(counts, transform="zscore", seed=5), prepare(
        _dense(counts), transform="zscore", seed=5
    )


@pytest.mark.parametrize("arch", ["LR", "MLP"])
def test_training_on_sparse_equals_training_on_dense(zscored, arch):
    sparse, dense = zscored
    runs = [
        fit(data, arch=arch, seed=2, schedule=SCHEDULE, device="cpu") for data in (sparse, dense)
    ]
    for name, value in runs[1].model.state_dict().items():
        np.testing.assert_allclose(runs[0].model.state_dict()[name], value, rtol=0, atol=1e-6)
    assert runs[0].metrics["history"] == runs[1].metrics["history"]
    assert runs[0].metrics["test"] == runs[1].metrics["test"]


def test_attribute_evaluate_and_rank_genes_on_sparse_equal_dense(zscored):
    sparse, dense = zscored
    model = fit(dense, arch="LR", seed=2, schedule=SCHEDULE, device="cpu").model
    results = []
    for data in (sparse, dense):
        test = data[data.obs[keys.SPLIT] == keys.TEST]
        train = data[data.obs[keys.SPLIT] == keys.TRAIN]
        att = attribute(
            test, model, baseline="class_mean", baseline_class="C0", reference=train, n_steps=50
        )
        tables = evaluate(data, model, att, dataset="sc", n_random=2, curve_random=2, seed=1)
        ranks = [rank_genes(data, method=m, dataset="sc") for m in ("wilcoxon", "mutual_info")]
        results.append((att, tables, ranks))
    (att_s, tables_s, ranks_s), (att_d, tables_d, ranks_d) = results
    np.testing.assert_array_equal(att_s.obs_names, att_d.obs_names)
    np.testing.assert_allclose(att_s.X, att_d.X, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        att_s.uns[keys.UNS][keys.ATTRIBUTE][keys.BASELINE],
        att_d.uns[keys.UNS][keys.ATTRIBUTE][keys.BASELINE],
        atol=1e-6,
    )
    for table in ("metrics", "curves", "top_genes", "completeness"):
        pd.testing.assert_frame_equal(
            getattr(tables_s, table), getattr(tables_d, table), check_exact=False, atol=1e-5
        )
    for s, d in zip(ranks_s, ranks_d, strict=True):
        np.testing.assert_allclose(io.dense_rows(s.X), io.dense_rows(d.X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("transform", "value", "expected"),
    [
        ("log2_cpm_center", -3.0, "expects counts (>= 0)"),
        ("log2_zscore", -1.0, "expects values > -1"),
    ],
)
def test_a_sparse_value_outside_the_domain_is_named_as_dense(counts, transform, value, expected):
    bad = counts.copy()
    bad.X = bad.X.copy()
    bad.X.data[bad.X.indptr[7] + 1] = value
    messages = []
    for data in (bad, _dense(bad)):
        with pytest.raises(InputError) as err:
            prepare(data, transform=transform)
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert expected in messages[0] and "sample00007" in messages[0]


def test_a_view_of_every_gene_reads_its_parent_matrix(zscored):
    sparse, _ = zscored
    test = sparse[sparse.obs[keys.SPLIT] == keys.TEST]
    x = io.expression(test)
    assert x.x is sparse.X, "no copy of the view's rows"
    np.testing.assert_array_equal(io.dense_rows(x), io.dense_rows(io.expression(test.copy())))
    nested = test[np.array([4, 1])]
    np.testing.assert_array_equal(io.dense_rows(io.expression(nested)), io.dense_rows(x)[[4, 1]])
    genes = test[:, test.var_names[::-1]]
    np.testing.assert_array_equal(io.dense_rows(io.expression(genes)), io.dense_rows(x)[:, ::-1])


@pytest.mark.parametrize("transform", ["zscore", "log2_cpm_center"])
def test_overwrite_gives_the_same_result_without_a_copy_of_the_values(counts, transform):
    kept = counts.copy()
    plain = prepare(counts, transform=transform, seed=5)
    np.testing.assert_array_equal(counts.X.data, kept.X.data)  # the input is untouched
    given = counts.copy()
    overwritten = prepare(given, transform=transform, seed=5, overwrite=True)
    assert overwritten.X.data is given.X.data or np.shares_memory(overwritten.X.data, given.X.data)
    np.testing.assert_array_equal(overwritten.X.data, plain.X.data)
    np.testing.assert_array_equal(overwritten.X.indices, plain.X.indices)


def test_sparse_wilcoxon_maps_values_a_block_at_a_time_to_the_same_bits(zscored, monkeypatch):
    from genexai.metrics import wilcoxon as wx
    from genexai.rank_genes import _normalized_log1p, log1p_input

    sparse, _ = zscored
    monkeypatch.setattr(wx, "NNZ_BLOCK", 500)  # several blocks of genes
    got = rank_genes(sparse, method="wilcoxon", dataset="sc")
    rows = io.split_indices(sparse, keys.TRAIN, where="sc")
    x, kind = log1p_input(sparse, rows)  # the float64 rows, made whole
    assert kind == got.uns[keys.UNS][keys.RANK_GENES]["input"] == "counts_log1p"
    # Those rows are scanpy's normalize_total + log1p of the counts, to the bit.
    scanpy_rows = _normalized_log1p(sparse.X[rows].astype(np.float64))
    np.testing.assert_array_equal(x.toarray(), scanpy_rows.toarray())
    codes = sparse.obs[keys.LABEL].cat.codes.to_numpy()[rows]
    want = wx.wilcoxon_tests(x, codes, np.ones(len(got.obs_names), dtype=bool))
    np.testing.assert_array_equal(got.X, want["scores"])
    for layer in (keys.LOGFOLDCHANGES, keys.PVALS, keys.PVALS_ADJ):
        np.testing.assert_array_equal(got.layers[layer], want[layer])
