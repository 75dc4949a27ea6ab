"""The sparse Wilcoxon test gives scanpy's numbers (genexai.metrics.wilcoxon)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp
from scipy.stats import rankdata

from genexai.metrics import wilcoxon as wx


def _matrix(seed: int, *, negative: bool) -> sp.csr_matrix:
    """Counts-like values with many ties, stored zeros and (optionally) negatives."""
    rng = np.random.default_rng(seed)
    x = sp.random(300, 40, density=0.2, format="csr", rng=rng)
    x.data = np.round(x.data * 4) / 2  # ties, and some stored zeros
    if negative:
        x.data[::7] *= -1
    x = x.tolil()
    x[:, 5] = 0  # an all-zero gene
    return sp.csr_matrix(x)


@pytest.mark.parametrize("negative", [False, True])
def test_rank_sums_are_those_of_the_dense_ranks(negative, monkeypatch):
    x = _matrix(1, negative=negative)
    codes = np.random.default_rng(2).integers(0, 4, x.shape[0])
    monkeypatch.setattr(wx, "NNZ_BLOCK", 50)  # several blocks of genes
    ranks = rankdata(x.toarray(), axis=0)
    expected = np.stack([ranks[codes == c].sum(axis=0) for c in range(4)])
    np.testing.assert_array_equal(wx.wilcoxon_rank_sums(x, codes, 4), expected)


def test_tests_are_scanpy_s():
    x = _matrix(3, negative=False)
    x.data = np.log1p(x.data)
    codes = np.random.default_rng(4).integers(0, 4, x.shape[0])
    tested = np.array([True, True, False, True])
    got = wx.wilcoxon_tests(x, codes, tested)
    data = ad.AnnData(
        X=x,
        obs=pd.DataFrame(
            {"g": pd.Categorical(codes.astype(str), categories=["0", "1", "2", "3"])},
            index=[str(i) for i in range(x.shape[0])],
        ),
        var=pd.DataFrame(index=[str(g) for g in range(x.shape[1])]),
    )
    sc.tl.rank_genes_groups(
        data,
        "g",
        groups=["0", "1", "3"],
        reference="rest",
        method="wilcoxon",
        n_genes=x.shape[1],
        corr_method="benjamini-hochberg",
        tie_correct=False,
        use_raw=False,
    )
    result = data.uns["rank_genes_groups"]
    for c in ("0", "1", "3"):
        order = result["names"][c].astype(np.int64)
        np.testing.assert_array_equal(got["scores"][int(c), order], result["scores"][c])
        np.testing.assert_array_equal(got["pvals"][int(c), order], result["pvals"][c])
        np.testing.assert_allclose(
            got["pvals_adj"][int(c), order], result["pvals_adj"][c], rtol=1e-12
        )
        np.testing.assert_allclose(
            got["logfoldchanges"][int(c), order], result["logfoldchanges"][c], rtol=1e-6, atol=1e-6
        )
    assert (got["scores"][2] == 0).all() and np.isnan(got["logfoldchanges"][2]).all()
    assert (got["pvals"][2] == 1).all() and (got["pvals_adj"][2] == 1).all()
