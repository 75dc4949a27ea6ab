"""genexai.simulate: the SIMULATE step's output contract, class merge, seeds and threads, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from genexai import keys
from genexai.errors import InputError
from genexai.simulate import CONFIGS, get_config, simulate
from genexai.simulation import _sampler
from tests.helpers.simulation import RANDOM


def test_test_config_is_separable():
    adata = simulate(CONFIGS["test"], seed=3)
    x = np.log1p(adata.X)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    y = adata.obs[keys.LABEL].cat.codes.to_numpy()
    train = np.arange(len(y)) % 2 == 0
    model = LogisticRegression(max_iter=500).fit(x[train], y[train])
    assert model.score(x[~train], y[~train]) > 0.9


# --- output contract ---------------------------------------------------------


@pytest.mark.parametrize("config", [CONFIGS["test"], RANDOM], ids=["block", "random"])
def test_output_contract(config):
    adata = simulate(config, n_samples=41, seed=0)
    n, g = 41, config.n_genes
    assert adata.shape == (n, g)
    assert adata.X.dtype == np.float32
    np.testing.assert_allclose(adata.X.sum(1), 1e6, rtol=1e-5)  # float32 row sums
    assert adata.obs_names[0] == "sample00000"
    assert adata.var_names[0] == "G00000"
    label, subclass = adata.obs[keys.LABEL], adata.obs[keys.SUBCLASS]
    assert list(label.cat.categories) == [f"C{c}" for c in range(config.n_classes)]
    assert list(subclass.cat.categories) == [f"S{c}" for c in range(config.n_classes)]
    assert (label.cat.codes.to_numpy() == subclass.cat.codes.to_numpy()).all()

    uns = adata.uns[keys.UNS][keys.SIMULATE]
    members = uns[keys.PATHWAY_GENES]
    assert sp.issparse(members) and members.format == "csr" and members.dtype == bool
    assert members.shape == (config.n_pathways, g)
    assert uns[keys.ALPHA].dtype == np.float32
    assert uns[keys.ALPHA].shape == (config.n_classes, config.n_pathways)
    assert uns[keys.OVER_PATHWAYS].shape == (config.n_classes, config.n_over)
    for field in ("name", "n_genes", "n_pathways", "n_over", "layout", "n_reads", "class_gap"):
        assert uns[field] == getattr(config, field)
    assert uns["n_samples"] == n and uns["seed"] == 0
    assert uns["min_prop"] == pytest.approx(0.1 / config.genes_per_pathway)
    assert not any(
        isinstance(v, np.ndarray) and v.shape == (config.n_pathways, g) for v in uns.values()
    )

    informative = adata.varm[keys.INFORMATIVE]
    assert isinstance(informative, pd.DataFrame)
    assert list(informative.columns) == list(subclass.cat.categories)
    assert all(dtype == np.dtype(bool) for dtype in informative.dtypes)
    for c in range(config.n_classes):
        genes = members[uns[keys.OVER_PATHWAYS][c]].toarray().any(0)
        np.testing.assert_array_equal(informative.iloc[:, c].to_numpy(), genes)


@pytest.mark.parametrize(
    ("merge", "expected"),
    [
        ("last_vs_rest", [0, 0, 0, 1]),
        ((1, 0, 1, 0), [1, 0, 1, 0]),
        ("identity", [0, 1, 2, 3]),
    ],
)
def test_merge(merge, expected):
    config = dataclasses.replace(CONFIGS["test"], merge=merge, n_samples=40)
    adata = simulate(config, seed=0)
    sub = adata.obs[keys.SUBCLASS].cat.codes.to_numpy()
    task = adata.obs[keys.LABEL].cat.codes.to_numpy()
    np.testing.assert_array_equal(task, np.asarray(expected)[sub])
    np.testing.assert_array_equal(adata.uns[keys.UNS][keys.SIMULATE]["merge"], expected)
    assert adata.varm[keys.INFORMATIVE].shape == (config.n_genes, 4)


def test_no_empty_rows_when_not_divisible():
    adata = simulate(CONFIGS["test"], n_samples=403, seed=0)
    counts = adata.obs[keys.SUBCLASS].value_counts(sort=False).tolist()
    assert counts == [101, 101, 101, 100]
    assert (adata.X.sum(1) > 0).all()


def test_class_proportions():
    config = dataclasses.replace(CONFIGS["test"], class_proportions=(0.1, 0.2, 0.3, 0.4))
    adata = simulate(config, n_samples=100, seed=0)
    assert adata.obs[keys.SUBCLASS].value_counts(sort=False).tolist() == [10, 20, 30, 40]


# --- seeds and threads -------------------------------------------------------


def test_seeds_threads_and_chunks(monkeypatch):
    monkeypatch.setattr(_sampler, "CHUNK_ELEMENTS", 1 << 16)  # a few rows a chunk
    config = dataclasses.replace(CONFIGS["test"], n_samples=100)
    ticks = []
    one = simulate(config, seed=5, threads=1, progress=ticks.append)
    two = simulate(config, seed=5, threads=2)
    assert sum(ticks) == 100 and len(ticks) > 2
    np.testing.assert_array_equal(one.X, two.X)
    other = simulate(config, seed=6)
    assert not np.array_equal(one.X, other.X)
    more = simulate(config, n_samples=120, seed=5)
    uns_one, uns_more = (a.uns[keys.UNS][keys.SIMULATE] for a in (one, more))
    assert (uns_one[keys.PATHWAY_GENES] != uns_more[keys.PATHWAY_GENES]).nnz == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"seed": -1}, r"^seed: expected a non-negative", id="seed"),
        pytest.param({"seed": 0, "threads": 0}, r"^threads: expected a positive", id="threads"),
        pytest.param({"seed": 0, "n_samples": 0}, r"^n_samples: expected an", id="samples"),
    ],
)
def test_bad_simulate_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        simulate(CONFIGS["test"], **kwargs)


def test_empty_class_from_proportions():
    config = dataclasses.replace(CONFIGS["test"], class_proportions=(0.01, 0.33, 0.33, 0.33))
    with pytest.raises(InputError, match=r"n_samples: 20 samples leave generated class 0"):
        simulate(config, n_samples=20, seed=0)


def test_unsatisfiable_min_prop():
    config = get_config("test", min_prop=0.0999, n_samples=4)
    with pytest.raises(InputError, match=r"min_prop: .* after 1000 redraws"):
        simulate(config, seed=0)
