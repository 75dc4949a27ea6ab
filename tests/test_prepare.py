"""genexai.prepare against plain full-matrix float64 references of the paper's
transforms and split (method.md §2), on synthetic data and on every format fixture."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from genexai import io, keys
from genexai import prepare as prep
from genexai.errors import InputError
from genexai.import_data import import_data
from genexai.prepare import TRANSFORMS, apply_transform, prepare, split_test_mask

# Outputs are float32: one rounding (6e-8 relative) after float64 maths whose
# summation order differs from numpy's (~1e-15); z-scores are O(1-10).
RTOL, ATOL = 1e-6, 1e-6


def reference_transform(x: np.ndarray, train: np.ndarray, transform: str) -> np.ndarray:
    """The transforms of method.md §2.1-2.3 on the whole matrix, float64."""
    x = np.asarray(x, dtype=np.float64)
    if transform == "log2_zscore":
        y = np.log2(x + 1)
    elif transform == "log2_cpm_center":
        y = np.log2(x / x.sum(axis=1, keepdims=True) * 1e6 + 1)
    else:
        y = x.copy()
    if transform == "none":
        return y
    first = y[train][0]
    constant = (y[train] == first).all(axis=0)
    mean = y[train].mean(axis=0)
    mean[constant] = first[constant]
    if transform in ("zscore", "log2_zscore"):
        std = y[train].std(axis=0, ddof=1)  # torch.std: unbiased
        std[constant] = 1.0
        return (y - mean) / std
    return y - mean


def reference_paper_test(n: int, *, seed: int = 43, test_size: float = 0.4) -> np.ndarray:
    """The paper's split, literally (global numpy state, restored afterwards)."""
    state = np.random.get_state()
    try:
        idx = list(range(n))
        np.random.seed(seed)
        np.random.shuffle(idx)
    finally:
        np.random.set_state(state)
    test = np.zeros(n, dtype=bool)
    test[idx[: int(np.floor(test_size * n))]] = True
    return test


def make_adata(
    seed: int = 0,
    *,
    n: int = 60,
    n_genes: int = 20,
    n_classes: int = 3,
    sparse: bool = False,
    counts: bool | None = True,
) -> ad.AnnData:
    """Counts with a constant gene, an all-zero gene, and a label per sample."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(1.0, 20.0, n_genes), size=(n, n_genes)).astype(np.float32)
    x[:, 0] = 5.0
    x[:, 1] = 0.0
    x[:, 2] += 1.0  # no sample has a total of 0
    labels = pd.Categorical([f"C{i}" for i in rng.integers(n_classes, size=n)])
    obs = pd.DataFrame({keys.LABEL: labels}, index=[f"s{i:03d}" for i in range(n)])
    adata = ad.AnnData(
        X=sp.csr_matrix(x) if sparse else x,
        obs=obs,
        var=pd.DataFrame(index=[f"g{j:02d}" for j in range(n_genes)]),
    )
    if counts is not None:
        adata.uns[keys.UNS] = {keys.IMPORT: {keys.HAS_COUNTS: counts}}
    return adata


def dense(x) -> np.ndarray:
    return x.toarray() if sp.issparse(x) else np.asarray(x)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("split", ["stratified", "paper"])
@pytest.mark.parametrize("transform", TRANSFORMS)
def test_matches_the_reference(transform, split, sparse):
    adata = make_adata(1, sparse=sparse)
    prepared = prepare(adata, transform=transform, split=split, seed=7)
    train = (prepared.obs[keys.SPLIT] == keys.TRAIN).to_numpy()
    expected = reference_transform(dense(adata.X), train, transform)
    assert prepared.X.dtype == np.float32
    # A sparse input stays sparse; its rows are standardised when read.
    assert sp.issparse(prepared.X) == sparse
    x = io.dense_rows(io.expression(prepared))
    # A sparse X stores log2 values in float32, rounded once more than a dense X.
    atol = 1e-5 if sparse and transform.startswith("log2") else ATOL
    np.testing.assert_allclose(x, expected, rtol=RTOL, atol=atol)
    assert np.isfinite(x).all()
    if split == "paper":
        np.testing.assert_array_equal(~train, reference_paper_test(adata.n_obs, seed=7))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_blocks_do_not_change_the_result(monkeypatch, sparse):
    adata = make_adata(2, sparse=sparse)
    whole = prepare(adata, transform="log2_zscore")
    monkeypatch.setattr(prep, "BLOCK_ELEMENTS", 7)  # one row per block
    blocked = prepare(adata, transform="log2_zscore")
    np.testing.assert_allclose(
        io.dense_rows(io.expression(blocked)),
        io.dense_rows(io.expression(whole)),
        rtol=RTOL,
        atol=ATOL,
    )


@pytest.mark.parametrize("n", [2, 10, 37, 1200])
@pytest.mark.parametrize("seed", [43, 0])
def test_paper_split_is_the_papers(n, seed):
    mask = split_test_mask(np.zeros(n, dtype=int), split="paper", test_size=0.4, seed=seed)
    np.testing.assert_array_equal(mask, reference_paper_test(n, seed=seed))


@pytest.mark.parametrize(
    ("n", "n_test"),
    [(9900, 3960), (1200, 480), (1210, 484), (606, 242), (9853, 3941)],
    ids=["SIMU", "SimuABC", "BRCA", "KIRC", "pancan"],
)
def test_paper_split_sizes(n, n_test):
    """method.md §2.4: SIMU1/2 5940/3960, SimuA/B/C 720/480, BRCA 726/484, KIRC 364/242, ..."""
    mask = split_test_mask(np.zeros(n, dtype=int), split="paper", test_size=0.4, seed=43)
    assert mask.sum() == n_test


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratified_split(seed):
    adata = make_adata(seed, n=90)
    prepared = prepare(adata, seed=seed)
    table = pd.crosstab(prepared.obs[keys.LABEL], prepared.obs[keys.SPLIT])
    share = table[keys.TEST] / table.sum(axis=1)
    assert (abs(share - 0.4) <= 1 / table.sum(axis=1) + 1e-9).all()
    again = prepare(adata, seed=seed)
    np.testing.assert_array_equal(again.X, prepared.X)
    assert again.obs[keys.SPLIT].equals(prepared.obs[keys.SPLIT])
    other = prepare(adata, seed=seed + 10)
    assert not other.obs[keys.SPLIT].equals(prepared.obs[keys.SPLIT])


@pytest.mark.parametrize("transform", ["zscore", "log2_zscore", "center", "log2_cpm_center"])
def test_zero_variance_genes_are_finite(transform):
    adata = make_adata(3)
    x = dense(adata.X).copy()
    prepared0 = prepare(adata, transform=transform, split="paper")
    train = (prepared0.obs[keys.SPLIT] == keys.TRAIN).to_numpy()
    x[train, 3] = 7.0  # constant on the training split only
    adata.X = x
    prepared = prepare(adata, transform=transform, split="paper")
    assert np.isfinite(prepared.X).all()
    if transform != "log2_cpm_center":  # CPM spreads a constant count across samples
        for gene in (0, 1, 3):
            assert prepared.var[keys.STD].iloc[gene] == 1.0
            np.testing.assert_array_equal(prepared.X[train, gene], 0.0)
    np.testing.assert_array_equal(prepared.X[train, 1], 0.0)  # all-zero gene


def test_min_samples_per_class():
    adata = make_adata(4, n=40)
    labels = adata.obs[keys.LABEL].astype(str).to_numpy()
    labels[:3] = "rare"
    adata.obs[keys.LABEL] = pd.Categorical(labels)
    prepared = prepare(adata, min_samples_per_class=4)
    assert "rare" not in prepared.obs[keys.LABEL].cat.categories
    assert prepared.n_obs == 37 and list(prepared.obs_names) == list(adata.obs_names[3:])
    record = prepared.uns[keys.UNS][keys.PREPARE]
    assert record["dropped_classes"] == ["rare"] and record["n_dropped_samples"] == 3
    assert record["n_train"] + record["n_test"] == 37


@pytest.mark.parametrize(
    ("counts", "integers", "layer"),
    [(True, True, True), (False, True, False), (None, True, True), (None, False, False)],
    ids=["import_counts", "import_not_counts", "detected", "not_integers"],
)
def test_counts_layer(counts, integers, layer):
    adata = make_adata(5, counts=counts)
    if not integers:
        adata.X = adata.X / 1.5
    prepared = prepare(adata)
    assert (keys.COUNTS in prepared.layers) is layer
    if layer:
        np.testing.assert_array_equal(prepared.layers[keys.COUNTS], adata.X)
    assert prepared.uns[keys.UNS][keys.PREPARE]["counts_layer"] is layer


def test_carries_the_simulation_over_and_leaves_the_input_alone():
    adata = make_adata(6, counts=None)
    adata.X = adata.X / 1.5  # per-million floats, as SIMULATE writes
    adata.obs[keys.SUBCLASS] = pd.Categorical(
        [f"S{i % 4}" for i in range(adata.n_obs)], categories=["S0", "S1", "S2", "S3"]
    )
    informative = pd.DataFrame(
        np.eye(adata.n_vars, 4, dtype=bool), index=adata.var_names, columns=["S0", "S1", "S2", "S3"]
    )
    adata.varm[keys.INFORMATIVE] = informative
    adata.uns[keys.UNS] = {keys.SIMULATE: {"seed": 9, "alpha": np.ones((4, 3), np.float32)}}
    before = adata.copy()
    prepared = prepare(adata, transform="zscore", split="paper")
    assert prepared.obs[keys.SUBCLASS].equals(adata.obs[keys.SUBCLASS])
    pd.testing.assert_frame_equal(prepared.varm[keys.INFORMATIVE], informative)
    assert prepared.uns[keys.UNS][keys.SIMULATE]["seed"] == 9
    assert keys.COUNTS not in prepared.layers
    record = prepared.uns[keys.UNS][keys.PREPARE]
    assert record[keys.TRANSFORM] == "zscore" and record["split"] == "paper"
    assert (record["test_size"], record["seed"]) == (0.4, 43)
    assert list(prepared.obs[keys.SPLIT].cat.categories) == [keys.TRAIN, keys.TEST]
    np.testing.assert_array_equal(adata.X, before.X)
    assert adata.obs.equals(before.obs) and keys.PREPARE not in adata.uns[keys.UNS]
    assert list(adata.var.columns) == []


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_apply_transform_reproduces_prepare(transform):
    adata = make_adata(7)
    prepared = prepare(adata, transform=transform)
    shuffled = adata[:, adata.var_names[::-1]].copy()  # genes are matched by name
    again = apply_transform(shuffled, prepared)
    np.testing.assert_array_equal(again.X, prepared.X)
    assert list(again.var_names) == list(prepared.var_names)
    assert again.uns[keys.UNS][keys.PREPARE][keys.TRANSFORM] == transform


def test_apply_transform_errors():
    adata = make_adata(8)
    with pytest.raises(InputError, match="fitted: not a prepared AnnData"):
        apply_transform(adata, adata)
    prepared = prepare(adata)
    with pytest.raises(InputError, match="new.h5ad: genes do not match the model: 1 expected"):
        apply_transform(adata[:, 1:].copy(), prepared, where="new.h5ad")


# --- the paper's preprocessing, per dataset family ---------------------------------

FAMILIES = [
    pytest.param("pancan_gdc", "log2_zscore", id="pancan_gdc"),
    pytest.param("pancan_xena", "log2_zscore", id="pancan_xena"),
    pytest.param("xena_htseq", "log2_cpm_center", id="brca_kirc_htseq"),
    pytest.param("star_counts", "log2_cpm_center", id="star_counts"),
    pytest.param("table", "zscore", id="table"),
]


@pytest.mark.parametrize(("fmt", "transform"), FAMILIES)
def test_paper_preprocessing_per_family(format_files, fmt, transform):
    matrix, labels = format_files[fmt]
    imported = import_data(matrix, format=fmt, labels=labels)
    prepared = prepare(imported, transform=transform, split="paper", test_size=0.4, seed=43)
    test = reference_paper_test(imported.n_obs)
    np.testing.assert_array_equal(prepared.obs[keys.SPLIT] == keys.TEST, test)
    expected = reference_transform(imported.X, ~test, transform)
    np.testing.assert_allclose(prepared.X, expected, rtol=RTOL, atol=ATOL)
    if transform == "log2_cpm_center":  # counts kept, no std division
        np.testing.assert_array_equal(prepared.layers[keys.COUNTS], imported.X)
        assert (prepared.var[keys.STD] == 1).all()


def test_simulation_family():
    """Simulations (§2.3): per-million values, paper split, z-score, no log."""
    adata = make_adata(9, n=120, counts=None)
    adata.X = adata.X / adata.X.sum(axis=1, keepdims=True) * 1e6
    prepared = prepare(adata, transform="zscore", split="paper")
    test = reference_paper_test(adata.n_obs)
    np.testing.assert_allclose(
        prepared.X, reference_transform(adata.X, ~test, "zscore"), rtol=RTOL, atol=ATOL
    )


# --- bad input -------------------------------------------------------------------


def _edit(*changes):
    """A builder of a 30-sample AnnData with ``changes`` applied in order."""

    def build():
        adata = make_adata(10, n=30)
        for change in changes:
            change(adata)
        return adata

    return build


def _values(i, j, value):
    def change(adata):
        x = dense(adata.X).copy()
        x[i, j] = value
        adata.X = x

    return change


def _labels(values):
    def change(adata):
        adata.obs[keys.LABEL] = values(adata.n_obs)

    return change


BAD = [
    pytest.param(
        _edit(), {"transform": "log"}, r"^transform: expected one of zscore", id="transform"
    ),
    pytest.param(_edit(), {"split": "random"}, r"^split: expected one of stratified", id="split"),
    pytest.param(
        _edit(), {"test_size": 1.0}, r"^test_size: expected a fraction in \(0, 1\)", id="test_size"
    ),
    pytest.param(
        _edit(), {"min_samples_per_class": 0}, r"^min_samples_per_class: expected >= 1", id="min"
    ),
    pytest.param(
        _edit(_values(4, 5, -2.0)),
        {"transform": "log2_cpm_center"},
        r"data\.h5ad: value -2\.0 at sample 's004', gene 'g05'; transform log2_cpm_center "
        r"expects counts",
        id="negative_counts",
    ),
    pytest.param(
        _edit(_values(4, 5, -1.0)),
        {"transform": "log2_zscore"},
        r"value -1\.0 at sample 's004', gene 'g05'; transform log2_zscore expects values > -1",
        id="log_domain",
    ),
    pytest.param(
        _edit(_values(2, slice(None), 0.0)),
        {"transform": "log2_cpm_center"},
        r"data\.h5ad: sample 's002' has a total count of 0",
        id="zero_sample",
    ),
    pytest.param(_edit(_values(1, 1, np.nan)), {}, r"data\.h5ad: X contains NaN", id="nan"),
    pytest.param(
        _edit(_labels(lambda n: pd.Categorical(["a"] * n))),
        {},
        r"data\.h5ad: 1 class\(es\) with >= 2 samples \(sizes: \{'a': 30\}\)",
        id="one_class",
    ),
    pytest.param(
        _edit(_labels(lambda n: pd.Categorical(["a"] * (n - 1) + ["b"]))),
        {},
        r"1 class\(es\) with >= 2 samples .*\(lower min_samples_per_class\?\)",
        id="one_class_after_filter",
    ),
    pytest.param(
        _edit(_labels(lambda n: pd.Categorical(["a", None] * (n // 2)))),
        {},
        r"data\.h5ad: sample 's001' has no obs\['label'\]",
        id="missing_label",
    ),
    pytest.param(
        _edit(_labels(lambda n: ["a", "b"] * (n // 2))),
        {},
        r"obs\['label'\] must be categorical",
        id="not_categorical",
    ),
    pytest.param(
        _edit(lambda a: a.obs.pop(keys.LABEL)),
        {},
        r"data\.h5ad: obs\['label'\] is missing",
        id="no_label",
    ),
    pytest.param(
        _edit(),
        {"split": "paper", "test_size": 0.97},
        r"data\.h5ad: 1 training sample\(s\) of 30; the statistics need at least 2",
        id="train_too_small",
    ),
    pytest.param(
        _edit(), {"test_size": 0.05}, r"split stratified: The test_size = 2 should be", id="strat"
    ),
    pytest.param(
        _edit(lambda a: a._inplace_subset_obs(np.zeros(a.n_obs, dtype=bool))),
        {},
        r"data\.h5ad: empty matrix",
        id="empty",
    ),
]


@pytest.mark.parametrize(("build", "options", "message"), BAD)
def test_bad_input(build, options, message):
    adata = build()
    with pytest.raises(InputError, match=message) as caught:
        prepare(adata, where="data.h5ad", **options)
    assert "\n" not in str(caught.value)
