"""Gene-set scores, over-representation and pathway agreement (genexai.metrics.pathways)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
import scipy.stats

from genexai import keys
from genexai.errors import InputError
from genexai.io import read_h5ad, write_h5ad
from genexai.metrics import (
    class_informative,
    over_representation,
    pathway_agreement,
    set_scores,
    simulated_gene_sets,
)
from genexai.simulate import SimulationConfig, simulate


def _membership(n_sets: int, n_genes: int, *, seed: int) -> scipy.sparse.csr_array:
    """Random sets of varied sizes, the last one empty."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_sets, n_genes)) < rng.uniform(0.05, 0.5, size=(n_sets, 1))
    dense[-1] = False
    return scipy.sparse.csr_array(dense)


def _bh(pvals: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg, straight from its definition: p_(i) m / i, made
    monotone from the largest p down, capped at 1."""
    m = len(pvals)
    order = np.argsort(pvals)
    adjusted = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvals[i] * m / rank)
        adjusted[i] = running
    return adjusted


def test_set_scores_match_a_loop_over_sets():
    rng = np.random.default_rng(0)
    membership = _membership(7, 40, seed=1)
    scores = rng.normal(size=(3, 40))
    sums, means = set_scores(scores, membership)
    dense = membership.toarray()
    assert sums.shape == means.shape == (3, 7)
    assert sums.dtype == means.dtype == np.float64
    for row in range(3):
        for s in range(6):
            genes = np.flatnonzero(dense[s])
            np.testing.assert_allclose(sums[row, s], scores[row, genes].sum(), rtol=1e-12)
            np.testing.assert_allclose(means[row, s], scores[row, genes].mean(), rtol=1e-12)
    np.testing.assert_array_equal(sums[:, -1], 0.0)
    assert np.isnan(means[:, -1]).all()


def test_over_representation_matches_scipy_set_by_set():
    rng = np.random.default_rng(2)
    n_genes = 60
    membership = _membership(12, n_genes, seed=3)
    top = np.zeros((4, n_genes), dtype=bool)
    top[0, :5] = True  # the sets' genes are random, so few hits
    top[1, rng.choice(n_genes, 20, replace=False)] = True
    top[2] = membership.toarray()[0]  # exactly set 0: a tiny p-value there
    pvals, padj = over_representation(top, membership)  # row 3: no top gene
    dense = membership.toarray()
    assert pvals.shape == padj.shape == (4, 12)
    for row in range(4):
        for s in range(12):
            size = dense[s].sum()
            hits = (dense[s] & top[row]).sum()
            expected = scipy.stats.hypergeom.sf(hits - 1, n_genes, size, top[row].sum())
            expected = 1.0 if size == 0 else min(expected, 1.0)
            np.testing.assert_allclose(pvals[row, s], expected, rtol=1e-12)
    assert pvals[2, 0] < 1e-6
    np.testing.assert_array_equal(pvals[3], 1.0)
    np.testing.assert_array_equal(pvals[:, -1], 1.0)
    np.testing.assert_array_equal(padj[:, -1], 1.0)
    for row in range(4):
        np.testing.assert_allclose(padj[row, :-1], _bh(pvals[row, :-1]), rtol=1e-12)


def test_over_representation_refuses_a_non_bool_top():
    with pytest.raises(ValueError, match="bool"):
        over_representation(np.ones((1, 5)), _membership(3, 5, seed=0))


def test_pathway_agreement_on_hand_made_cases():
    scores = np.array(
        [
            [0.9, 0.1, 0.5, 0.5, np.nan],  # true {2, 3}: top-2 is {0, 2} -> 50 %
            [1.0, 1.0, 1.0, 0.0, 0.0],  # ties by index: top-2 = {0, 1}; true {1, 2} -> 50 %
            [0.0, 0.0, 0.0, 0.0, 0.0],  # all tied: top-1 = {0}; true {0} -> 100 %
            [0.3, 0.2, 0.1, 0.0, -1.0],  # no true set -> NaN
            [-1.0, -2.0, -3.0, -4.0, np.nan],  # NaN ranks last: true {4} -> 0 %
            [0.1, 0.2, 0.3, 0.4, 0.5],  # every set true -> 100 %
        ]
    )
    true = np.zeros_like(scores, dtype=bool)
    true[0, [2, 3]] = True
    true[1, [1, 2]] = True
    true[2, 0] = True
    true[4, 4] = True
    true[5] = True
    found = pathway_agreement(scores, true)
    assert found.dtype == np.float64
    np.testing.assert_array_equal(found, [50.0, 50.0, 100.0, np.nan, 0.0, 100.0])


def test_pathway_agreement_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="shape"):
        pathway_agreement(np.zeros((2, 3)), np.zeros((2, 4), dtype=bool))


PLAIN = SimulationConfig("plain", 3, 80, 8, 2, 30, "block", genes_per_pathway=10)
MERGED = SimulationConfig(
    "merged", 4, 60, 12, 2, 40, "random", genes_per_pathway=6, merge="last_vs_rest"
)


def _check_sets(adata, sets, true):
    simulated = adata.uns[keys.UNS][keys.SIMULATE]
    genes = scipy.sparse.csr_array(simulated[keys.PATHWAY_GENES]).toarray()
    n_pathways = len(genes)
    assert sets.names == tuple(f"P{p:03d}" for p in range(n_pathways))
    membership, n_not_found = sets.membership(adata.var_names, where="simulation")
    np.testing.assert_array_equal(membership.toarray(), genes)
    np.testing.assert_array_equal(n_not_found, 0)
    over = np.asarray(simulated[keys.OVER_PATHWAYS])
    merge = np.asarray(simulated["merge"])
    assert true.shape == (merge.max() + 1, n_pathways)
    for t in range(len(true)):
        expected = np.zeros(n_pathways, dtype=bool)
        expected[over[merge == t].ravel()] = True
        np.testing.assert_array_equal(true[t], expected)
        # The genes of a class's true pathways are those its subclasses over-express.
        informative = adata.varm[keys.INFORMATIVE].to_numpy()[:, merge == t].any(axis=1)
        np.testing.assert_array_equal(genes[true[t]].any(axis=0), informative)
    # Every sample's subclass pathways are true for its task class.
    labels = adata.obs[keys.LABEL].cat.codes.to_numpy()
    subclasses = adata.obs[keys.SUBCLASS].cat.codes.to_numpy()
    for label, subclass in zip(labels, subclasses, strict=True):
        assert true[label, over[subclass]].all()
    for p in range(n_pathways):
        owners = [f"S{s}" for s in range(len(over)) if p in over[s]]
        expected = f"over-expressed in {', '.join(owners)}" if owners else "background"
        assert sets.descriptions[p] == expected


def test_simulated_gene_sets_plain():
    adata = simulate(PLAIN, seed=1)
    sets, true = simulated_gene_sets(adata)
    _check_sets(adata, sets, true)
    assert true.sum(axis=1).tolist() == [2, 2, 2]
    assert not (true[0] & true[1]).any()


def test_simulated_gene_sets_merged(tmp_path):
    adata = simulate(MERGED, seed=2)
    path = tmp_path / "sim.h5ad"
    write_h5ad(adata, path)
    adata = read_h5ad(path)
    sets, true = simulated_gene_sets(adata)
    _check_sets(adata, sets, true)
    over = np.asarray(adata.uns[keys.UNS][keys.SIMULATE][keys.OVER_PATHWAYS])
    assert set(np.flatnonzero(true[0])) == set(over[:3].ravel())
    assert set(np.flatnonzero(true[1])) == set(over[3])
    # class_informative gives both merged classes every informative gene; the
    # union of the true pathways of both classes covers exactly those genes.
    genes = scipy.sparse.csr_array(adata.uns[keys.UNS][keys.SIMULATE][keys.PATHWAY_GENES])
    informative = class_informative(adata.varm[keys.INFORMATIVE].to_numpy(), n_classes=2)
    np.testing.assert_array_equal(genes.toarray()[true.any(axis=0)].any(axis=0), informative[0])


def test_simulated_gene_sets_rows_follow_the_label_categories():
    adata = simulate(PLAIN, seed=1)
    full = simulated_gene_sets(adata)[1]
    kept = adata[adata.obs[keys.LABEL] != "C1"].copy()
    kept.obs[keys.LABEL] = kept.obs[keys.LABEL].cat.remove_unused_categories()
    np.testing.assert_array_equal(simulated_gene_sets(kept)[1], full[[0, 2]])
    del kept.obs[keys.LABEL]
    np.testing.assert_array_equal(simulated_gene_sets(kept)[1], full)


def test_simulated_gene_sets_refusals():
    adata = simulate(PLAIN, seed=1)
    bare = adata.copy()
    bare.uns = {}
    with pytest.raises(InputError, match=r"^prepared.h5ad: no uns\['genexai'\]\['simulate'\]"):
        simulated_gene_sets(bare, where="prepared.h5ad")
    fewer = adata[:, :70].copy()
    with pytest.raises(InputError, match="has 80 genes, expected the data's 70"):
        simulated_gene_sets(fewer)
    renamed = adata.copy()
    renamed.obs[keys.LABEL] = renamed.obs[keys.LABEL].cat.rename_categories(["a", "b", "c"])
    with pytest.raises(InputError, match="class 'a' of obs"):
        simulated_gene_sets(renamed)
