"""RANK_GENES (genexai.rank_genes, bin/rank_genes.py): each ranking against its
definition computed directly with scipy/scikit-learn, one class against the rest
of the training split."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from scipy import stats
from sklearn.feature_selection import mutual_info_classif

import genexai as gx
import genexai.rank_genes as rg
from genexai import io, keys
from genexai.cli.rank_genes import main
from genexai.errors import InputError
from genexai.metrics.mutual_info import mutual_info_block

BIN = Path(__file__).resolve().parents[1] / "bin"
CLASSES = ["A", "B", "C"]


def _raw(n: int = 72, g: int = 30, seed: int = 0) -> ad.AnnData:
    """Counts with class-dependent means for the first genes, three classes."""
    rng = np.random.default_rng(seed)
    labels = np.array(CLASSES)[np.arange(n) % 3]
    rates = np.full((n, g), 8.0)
    for c in range(3):
        rates[labels == CLASSES[c], 3 * c : 3 * c + 3] *= 3.0
    counts = rng.poisson(rates).astype(np.float32)
    return ad.AnnData(
        X=counts,
        obs=pd.DataFrame(
            {keys.LABEL: pd.Categorical(labels, categories=CLASSES)},
            index=[f"s{i}" for i in range(n)],
        ),
        var=pd.DataFrame(index=[f"g{j}" for j in range(g)]),
    )


@pytest.fixture(scope="module")
def raw() -> ad.AnnData:
    return _raw()


@pytest.fixture(scope="module")
def log2_prepared(raw) -> ad.AnnData:
    return gx.prepare(raw, transform="log2_zscore", seed=3)


def _train(prepared: ad.AnnData) -> np.ndarray:
    return np.flatnonzero(prepared.obs[keys.SPLIT].to_numpy() == keys.TRAIN)


def _codes(prepared: ad.AnnData) -> np.ndarray:
    return prepared.obs[keys.LABEL].cat.codes.to_numpy()[_train(prepared)]


@pytest.mark.parametrize("transform", ["log2_zscore", "log2_cpm_center"])
def test_log2_input_is_log1p_of_the_raw_values(raw, transform):
    prepared = gx.prepare(raw, transform=transform, seed=3)
    rows = _train(prepared)
    x, kind = rg.log1p_input(prepared, rows)
    assert kind == "log2_restored"
    values = raw.X[rows].astype(np.float64)
    if transform == "log2_cpm_center":
        values *= 1e6 / values.sum(axis=1, keepdims=True)
    # X is float32, so the restored values carry its rounding.
    np.testing.assert_allclose(x, np.log1p(values), atol=1e-5)


def test_counts_input_is_log1p_of_normalised_counts(raw):
    prepared = gx.prepare(raw, transform="zscore", seed=3)
    rows = _train(prepared)
    x, kind = rg.log1p_input(prepared, rows)
    counts = raw.X[rows].astype(np.float64)
    assert kind == "counts_log1p"
    np.testing.assert_allclose(x, np.log1p(counts / counts.sum(1, keepdims=True) * 1e4))


def test_wilcoxon_is_the_rank_sum_test_one_vs_rest(log2_prepared):
    out = rg.rank_genes(log2_prepared, method="wilcoxon", dataset="toy")
    x, _ = rg.log1p_input(log2_prepared, _train(log2_prepared))
    codes = _codes(log2_prepared)
    for c in range(3):
        # scanpy: no tie correction, no continuity correction, i.e. scipy's ranksums.
        want = stats.ranksums(x[codes == c], x[codes != c], axis=0)
        # scanpy stores the scores as float32
        np.testing.assert_allclose(out.X[c], want.statistic, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(out.layers[keys.PVALS][c], want.pvalue, rtol=1e-5)
        np.testing.assert_allclose(
            out.layers[keys.PVALS_ADJ][c], stats.false_discovery_control(want.pvalue), rtol=1e-5
        )
    # the planted markers of each class come first
    assert [set(np.argsort(-out.X[c])[:3]) for c in range(3)] == [{0, 1, 2}, {3, 4, 5}, {6, 7, 8}]


def test_t_test_is_welch_one_vs_rest(log2_prepared):
    out = rg.rank_genes(log2_prepared, method="t_test", dataset="toy")
    x, _ = rg.log1p_input(log2_prepared, _train(log2_prepared))
    codes = _codes(log2_prepared)
    for c in range(3):
        want = stats.ttest_ind(x[codes == c], x[codes != c], axis=0, equal_var=False)
        np.testing.assert_allclose(out.X[c], want.statistic, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(out.layers[keys.PVALS][c], want.pvalue, rtol=1e-9)
        np.testing.assert_allclose(
            out.layers[keys.PVALS_ADJ][c], stats.false_discovery_control(want.pvalue), rtol=1e-9
        )
        mean_c, mean_rest = x[codes == c].mean(0), x[codes != c].mean(0)
        lfc = np.log2((np.expm1(mean_c) + 1e-9) / (np.expm1(mean_rest) + 1e-9))
        np.testing.assert_allclose(out.layers[keys.LOGFOLDCHANGES][c], lfc, rtol=1e-5, atol=1e-5)
    # the planted three-fold markers: log2 fold change near log2(3) against the rest
    assert 1.0 < out.layers[keys.LOGFOLDCHANGES][0, :3].mean() < 2.0


def test_file_contract(log2_prepared):
    before = log2_prepared.copy()
    out = gx.rank_genes(log2_prepared, method="wilcoxon", dataset="toy", seed=4)
    assert out.shape == (3, log2_prepared.n_vars)
    assert out.X.dtype == np.float64
    assert list(out.obs_names) == CLASSES
    assert list(out.var_names) == list(log2_prepared.var_names)
    n_train = np.bincount(_codes(log2_prepared), minlength=3)
    np.testing.assert_array_equal(out.obs[keys.N_TRAIN].to_numpy(), n_train)
    assert out.obs[keys.N_TRAIN].dtype == np.int64
    for layer in (keys.LOGFOLDCHANGES, keys.PVALS, keys.PVALS_ADJ):
        assert out.layers[layer].dtype == np.float64
    record = out.uns[keys.UNS][keys.RANK_GENES]
    assert record[keys.METHOD] == "wilcoxon" and record[keys.DATASET] == "toy"
    assert record[keys.SEED] == 4 and record[keys.N_TRAIN] == int(n_train.sum())
    assert record["input"] == "log2_restored" and record[keys.VERSION] == gx.__version__
    # the caller's AnnData is untouched
    assert log2_prepared.uns.keys() == before.uns.keys()
    np.testing.assert_array_equal(log2_prepared.X, before.X)


def test_mutual_info_is_sklearn_per_class(log2_prepared):
    out = rg.rank_genes(log2_prepared, method="mutual_info", dataset="toy", seed=5)
    x = log2_prepared.X[_train(log2_prepared)].astype(np.float64)
    codes = _codes(log2_prepared)
    assert log2_prepared.n_vars <= rg.MI_BLOCK_GENES  # one block: exactly the direct call
    for c in range(3):
        want = mutual_info_classif(
            x, codes == c, discrete_features=False, n_neighbors=3, random_state=5
        )
        np.testing.assert_array_equal(out.X[c], want)
    assert (out.X >= 0).all() and not out.layers
    assert out.uns[keys.UNS][keys.RANK_GENES][keys.SEED] == 5


def test_mutual_info_of_two_classes_is_sklearn_for_each(raw):
    two = raw[raw.obs[keys.LABEL] != CLASSES[2]].copy()
    two.obs[keys.LABEL] = two.obs[keys.LABEL].cat.remove_unused_categories()
    prepared = gx.prepare(two, transform="log2_zscore", seed=3)
    out = rg.rank_genes(prepared, method="mutual_info", dataset="toy", seed=5)
    x = prepared.X[_train(prepared)].astype(np.float64)
    codes = _codes(prepared)
    for c in range(2):
        want = mutual_info_classif(
            x, codes == c, discrete_features=False, n_neighbors=3, random_state=5
        )
        np.testing.assert_array_equal(out.X[c], want)


def test_mutual_info_blocks_and_progress(log2_prepared, monkeypatch):
    monkeypatch.setattr(rg, "MI_BLOCK_GENES", 8)
    calls: list[int] = []
    out = rg.rank_genes(
        log2_prepared, method="mutual_info", dataset="toy", seed=1, progress=calls.append
    )
    assert calls == [8, 8, 8, 6] and sum(calls) == rg.progress_total(log2_prepared)
    x = log2_prepared.X[_train(log2_prepared)].astype(np.float64)
    codes = _codes(log2_prepared)
    for start in range(0, 30, 8):
        block = slice(start, start + 8)
        want = mutual_info_classif(
            x[:, block], codes == 2, discrete_features=False, n_neighbors=3, random_state=1
        )
        np.testing.assert_array_equal(out.X[2, block], want)


def _sklearn_mi(x: np.ndarray, target: np.ndarray, seed: int) -> np.ndarray:
    """The reference: scikit-learn's estimate, one call (one jitter draw) per block."""
    return mutual_info_classif(
        x, target, discrete_features=False, n_neighbors=rg.MI_NEIGHBORS, random_state=seed
    )


def _labelled(x: np.ndarray, labels: np.ndarray) -> ad.AnnData:
    """A prepared-like AnnData, every sample in training: ``X`` as given, classes
    ``K0``... in code order."""
    names = [f"K{c}" for c in range(labels.max() + 1)]
    return ad.AnnData(
        X=x,
        obs=pd.DataFrame(
            {
                keys.LABEL: pd.Categorical.from_codes(labels, categories=names),
                keys.SPLIT: pd.Categorical([keys.TRAIN] * len(labels), [keys.TRAIN, keys.TEST]),
            },
            index=[f"s{i}" for i in range(len(labels))],
        ),
        var=pd.DataFrame(index=[f"g{j}" for j in range(x.shape[1])]),
    )


# The estimator repeats scikit-learn's arithmetic step for step (scaling,
# jitter, |d| distances, its brute-force distances for small labels, means in
# sample order), so the tests below ask for its exact bits: a radius count
# off by one point would move the estimate by about 1 / (n_samples * m).


def test_mutual_info_with_ties_in_the_raw_values():
    """Counts, mostly zeros: after scaling, ties that only the jitter breaks."""
    rng = np.random.default_rng(4)
    codes = np.arange(300) % 4
    x = rng.poisson(0.2 + 0.6 * (codes[:, None] == np.arange(12) % 4), (300, 12)).astype(float)
    x[:, 0] = 0.0  # a constant gene: std 0 is taken as 1
    x[:, 1] = 7.0
    assert (x == 0).mean() > 0.5
    ours = mutual_info_block(x, codes, 4, seed=7, n_neighbors=rg.MI_NEIGHBORS)
    for c in range(4):
        np.testing.assert_array_equal(ours[c], _sklearn_mi(x, codes == c, 7))
    assert (ours[:, 2:] > 0).any()


@pytest.mark.parametrize("small", [2, 3, 5, 7, 8])
def test_mutual_info_of_a_small_class(small):
    """A class of 2..7 training samples is searched by brute force in scikit-learn
    (k >= count // 2), whose distances round differently; 8 is a tree again."""
    rng = np.random.default_rng(small)
    codes = np.r_[np.zeros(small, int), 1 + np.arange(90) % 2]
    x = rng.standard_normal((len(codes), 24))
    x[:small, :3] += 2.0
    x[:, 3:6] = np.round(x[:, 3:6] + 4.0)  # ties far from zero: -2xy cancels badly
    # The whole class tied: its brute-force distances are round-off, its
    # radii up to 100 times the gaps the jitter leaves.
    x[:small, 6:] = 5.0
    out = rg.rank_genes(_labelled(x, codes), method="mutual_info", dataset="toy", seed=3)
    for c in range(3):
        np.testing.assert_array_equal(out.X[c], _sklearn_mi(x, codes == c, 3))
    assert out.obs[keys.N_TRAIN].iloc[0] == small


def test_mutual_info_of_a_unique_label_drops_it():
    """scikit-learn leaves out the points of a label with one point."""
    rng = np.random.default_rng(1)
    codes = np.r_[0, np.ones(40, int), np.full(20, 2)]
    x = rng.standard_normal((len(codes), 5))
    ours = mutual_info_block(x, codes, 3, seed=0, n_neighbors=rg.MI_NEIGHBORS)
    np.testing.assert_array_equal(ours[0], _sklearn_mi(x, codes == 0, 0))


def test_mutual_info_blocks_sparse_ties_and_small_classes_together(monkeypatch):
    """Several blocks of sparse counts, a class of 2: each block is one
    scikit-learn call on the dense block, with its own jitter."""
    monkeypatch.setattr(rg, "MI_BLOCK_GENES", 16)
    rng = np.random.default_rng(8)
    codes = np.r_[0, 0, 1 + np.arange(118) % 3]
    x = rng.poisson(0.3 + (codes[:, None] == 1 + np.arange(40) % 3), (120, 40)).astype(np.float32)
    prepared = _labelled(sp.csr_matrix(x), codes)
    calls: list[int] = []
    out = rg.rank_genes(
        prepared, method="mutual_info", dataset="toy", seed=11, progress=calls.append
    )
    assert calls == [16, 16, 8]
    dense = x.astype(np.float64)
    for start in (0, 16, 32):
        block = slice(start, start + 16)
        for c in range(4):
            want = _sklearn_mi(dense[:, block], codes == c, 11)
            np.testing.assert_array_equal(out.X[c, block], want)
    record = out.uns[keys.UNS][keys.RANK_GENES]
    assert record["estimator"] == rg.MI_ESTIMATOR and record["block_genes"] == 16


def test_mutual_info_does_not_depend_on_the_processes(log2_prepared, monkeypatch):
    monkeypatch.setattr(rg, "MI_BLOCK_GENES", 16)
    one = rg.rank_genes(log2_prepared, method="mutual_info", dataset="toy", seed=2)
    two = rg.rank_genes(log2_prepared, method="mutual_info", dataset="toy", seed=2, n_jobs=2)
    np.testing.assert_array_equal(one.X, two.X)


@pytest.mark.parametrize("method", ["wilcoxon", "t_test", "mutual_info"])
def test_only_the_training_split_matters_and_seeds_repeat(log2_prepared, method):
    out = rg.rank_genes(log2_prepared, method=method, dataset="toy", seed=2)
    again = rg.rank_genes(log2_prepared, method=method, dataset="toy", seed=2)
    np.testing.assert_array_equal(out.X, again.X)
    changed = log2_prepared.copy()
    test = np.flatnonzero(changed.obs[keys.SPLIT].to_numpy() == keys.TEST)
    changed.X[test] = np.random.default_rng(9).standard_normal((len(test), changed.n_vars))
    other = rg.rank_genes(changed, method=method, dataset="toy", seed=2)
    np.testing.assert_array_equal(out.X, other.X)
    for layer in out.layers:
        np.testing.assert_array_equal(out.layers[layer], other.layers[layer])
    # a training row does change the scores
    train = _train(changed)
    changed.X[train[0]] += 3.0
    moved = rg.rank_genes(changed, method=method, dataset="toy", seed=2)
    assert not np.array_equal(out.X, moved.X)


@pytest.mark.parametrize("transform", ["log2_zscore", "zscore", "none"])
@pytest.mark.parametrize("method", ["wilcoxon", "t_test", "mutual_info"])
def test_sparse_input_equals_dense(raw, transform, method):
    dense = gx.prepare(raw, transform=transform, seed=3)
    if transform == "none":  # X as is: no log scale known
        del dense.layers[keys.COUNTS]
    sparse = dense.copy()
    sparse.X = sp.csr_matrix(sparse.X)
    for name in sparse.layers:
        sparse.layers[name] = sp.csr_matrix(sparse.layers[name])
    a = rg.rank_genes(dense, method=method, dataset="toy")
    b = rg.rank_genes(sparse, method=method, dataset="toy")
    np.testing.assert_allclose(a.X, b.X, rtol=1e-6, atol=1e-7)
    for layer in a.layers:
        np.testing.assert_allclose(a.layers[layer], b.layers[layer], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("transform", ["zscore", "center"])
def test_linear_input_is_log1p_of_the_scaled_raw_values(raw, transform):
    prepared = gx.prepare(raw, transform=transform, seed=3)
    del prepared.layers[keys.COUNTS]  # as for a simulation: per-million values, no counts
    rows = _train(prepared)
    x, kind = rg.log1p_input(prepared, rows)
    assert kind == "linear_log1p"
    values = raw.X[rows].astype(np.float64)
    expected = np.log1p(values * 1e4 / values.sum(axis=1, keepdims=True))
    # X is float32: a restored zero is off by about 1e-7 x std.
    np.testing.assert_allclose(x, expected, rtol=1e-5, atol=1e-4)


def test_no_log_scale_gives_nan_fold_changes(raw, caplog):
    shifted = raw.copy()
    shifted.X = shifted.X - 5.0  # negative raw values: not expression on a linear scale
    prepared = gx.prepare(shifted, transform="none", seed=3)
    prepared.layers.clear()
    with caplog.at_level(logging.WARNING, logger="genexai.rank_genes"):
        out = rg.rank_genes(prepared, method="t_test", dataset="toy")
    assert np.isnan(out.layers[keys.LOGFOLDCHANGES]).all()
    assert np.isfinite(out.layers[keys.PVALS]).all()
    assert out.uns[keys.UNS][keys.RANK_GENES]["input"] == "x"
    assert "not known to be on a log scale" in caplog.text


def test_a_class_with_one_training_sample_scores_zero(log2_prepared, caplog):
    prepared = log2_prepared.copy()
    train_c = np.flatnonzero(
        (prepared.obs[keys.SPLIT] == keys.TRAIN).to_numpy()
        & (prepared.obs[keys.LABEL] == "C").to_numpy()
    )
    split = prepared.obs[keys.SPLIT].to_numpy().copy()
    split[train_c[1:]] = keys.TEST
    prepared.obs[keys.SPLIT] = pd.Categorical(split, categories=[keys.TRAIN, keys.TEST])
    with caplog.at_level(logging.WARNING, logger="genexai.rank_genes"):
        out = rg.rank_genes(prepared, method="wilcoxon", dataset="toy", where="p.h5ad")
    assert "fewer than 2 training samples score 0 (p-value 1): ['C']" in caplog.text
    c = list(out.obs_names).index("C")
    assert (out.X[c] == 0).all() and (out.layers[keys.PVALS_ADJ][c] == 1).all()
    assert np.isnan(out.layers[keys.LOGFOLDCHANGES][c]).all()
    # The other classes are tested against every other training sample, C's included.
    x, _ = rg.log1p_input(prepared, _train(prepared))
    codes = _codes(prepared)
    a = list(out.obs_names).index("A")
    want = stats.ranksums(x[codes == a], x[codes != a]).statistic
    np.testing.assert_allclose(out.X[a], want, rtol=1e-5, atol=1e-5)
    with pytest.raises(InputError, match="method: expected one of wilcoxon, t_test, mutual_info"):
        rg.rank_genes(log2_prepared, method="deeplift", dataset="toy")


@pytest.fixture(scope="module")
def prepared_file(log2_prepared, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rank_genes") / "toy.prepared.h5ad"
    io.write_h5ad(log2_prepared, path)
    return path


def test_cli_writes_the_rankings(prepared_file, log2_prepared, tmp_path):
    out = tmp_path / "toy.t_test.rankings.h5ad"
    args = ["--input", prepared_file, "--method", "t_test", "--dataset", "toy", "--seed", "3"]
    result = CliRunner().invoke(main, [*map(str, args), "--output", str(out)])
    assert result.exit_code == 0, result.output
    written = io.read_h5ad(out)
    want = rg.rank_genes(log2_prepared, method="t_test", dataset="toy", seed=3)
    np.testing.assert_array_equal(written.X, want.X)
    np.testing.assert_array_equal(written.layers[keys.PVALS_ADJ], want.layers[keys.PVALS_ADJ])
    assert list(written.obs_names) == CLASSES
    assert written.uns[keys.UNS][keys.RANK_GENES][keys.DATASET] == "toy"


def test_cli_refuses_bad_input(prepared_file, raw, tmp_path):
    out = tmp_path / "r.h5ad"
    base = ["--input", str(prepared_file), "--dataset", "toy", "--output", str(out)]
    bad_method = CliRunner().invoke(main, [*base, "--method", "deeplift"])
    assert bad_method.exit_code == 2
    assert "Invalid value for '--method'" in bad_method.output
    unsplit = tmp_path / "raw.h5ad"
    io.write_h5ad(raw, unsplit)
    args = ["--input", str(unsplit), "--dataset", "toy", "--method", "wilcoxon"]
    result = CliRunner().invoke(main, [*args, "--output", str(out)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: rank-genes: {unsplit}: obs['split'] is missing (run the prepare step first)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.h5ad"]


def test_script_runs_as_a_process(prepared_file, tmp_path):
    path = os.pathsep.join([str(Path(sys.executable).parent), str(BIN), os.environ["PATH"]])
    out = tmp_path / "toy.wilcoxon.rankings.h5ad"
    done = subprocess.run(
        [
            str(BIN / "rank_genes.py"),
            *("--input", str(prepared_file), "--method", "wilcoxon", "--dataset", "toy"),
            *("--output", str(out)),
        ],
        env={**os.environ, "PATH": path, "GENEXAI_PROGRESS": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert io.read_h5ad(out).shape == (3, 30)
