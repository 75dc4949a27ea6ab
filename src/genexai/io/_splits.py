"""Rows of one split (``obs['split']``, written by PREPARE)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import get_args

import anndata as ad
import numpy as np
import pandas as pd

from .. import keys
from .._defaults import Split
from ..errors import InputError


def split_indices(adata: ad.AnnData, split: Split, *, where: str) -> np.ndarray:
    """Row indices ``(n_split,)`` int64 of ``split`` (``obs['split'] == split``).

    Raises :class:`InputError` if ``split`` is not a :data:`Split`, if
    ``obs['split']`` is missing (unless ``split == "all"``), and if the
    training split has no rows.
    """
    if split not in get_args(Split):
        msg = f"split: expected one of {list(get_args(Split))}, found {split!r}"
        raise InputError(msg)
    if split == "all":
        return np.arange(adata.n_obs, dtype=np.int64)
    if keys.SPLIT not in adata.obs:
        msg = f"{where}: obs[{keys.SPLIT!r}] is missing (run the prepare step first)"
        raise InputError(msg)
    rows = np.flatnonzero(adata.obs[keys.SPLIT].astype(str).to_numpy() == split)
    if split == keys.TRAIN and rows.size == 0:
        found = sorted(set(adata.obs[keys.SPLIT].astype(str)))
        msg = (
            f"{where}: empty training split: no row has obs[{keys.SPLIT!r}] == "
            f"{keys.TRAIN!r} (found {found})"
        )
        raise InputError(msg)
    return rows.astype(np.int64)


def split_rows(adata: ad.AnnData, split: Split, *, where: str) -> ad.AnnData:
    """The rows of ``split`` as a view of ``adata`` (``adata`` itself for ``"all"``)."""
    rows = split_indices(adata, split, where=where)
    return adata if split == "all" else adata[rows]


def split_selector(splits: Iterable[Split]) -> Callable[[pd.DataFrame], np.ndarray]:
    """For :func:`~genexai.io.read_h5ad`'s ``rows``: the rows of ``obs`` in any of ``splits``.

    Every row when ``splits`` holds ``"all"`` or ``obs`` has no ``split``
    column, so that the step itself names what is missing.
    """
    wanted = set(splits)

    def select(obs: pd.DataFrame) -> np.ndarray:
        if "all" in wanted or keys.SPLIT not in obs:
            return np.arange(len(obs))
        return np.flatnonzero(obs[keys.SPLIT].astype(str).isin(wanted).to_numpy())

    return select
