"""Fixtures of the tests of genexai.io."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from genexai import keys


def _small_adata(n_obs: int = 6, n_vars: int = 4, *, seed: int = 0) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    adata = ad.AnnData(
        rng.normal(size=(n_obs, n_vars)).astype(np.float32),
        obs=pd.DataFrame(index=[f"s{i}" for i in range(n_obs)]),
        var=pd.DataFrame(index=[f"g{j}" for j in range(n_vars)]),
    )
    adata.obs[keys.LABEL] = pd.Categorical(["A", "B"] * (n_obs // 2), categories=["A", "B"])
    return adata


@pytest.fixture(scope="session")
def small_adata():
    """``small_adata(n_obs=6, n_vars=4, *, seed=0)``: float32 normal values, samples
    ``s0…``, genes ``g0…``, ``obs['label']`` alternating A, B."""
    return _small_adata
