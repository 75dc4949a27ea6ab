"""Matching by name, never by position (genes of data, models and graphs)."""

from __future__ import annotations

from collections.abc import Sequence

import anndata as ad
import numpy as np
import pandas as pd

from ..errors import InputError


def name_order(
    names: Sequence[str] | pd.Index,
    wanted: Sequence[str] | pd.Index,
    *,
    where: str,
    what: str = "genes",
    against: str = "the model",
) -> np.ndarray | None:
    """Positions in ``names`` of each of ``wanted``, or ``None`` if they are already equal.

    Parameters
    ----------
    names
        The names an object has, in its order.
    wanted
        The names it must have, in the order wanted; exactly the same set.
    where, what, against
        Name the object, its names and the reference in the error message:
        ``"<where>: <what> do not match <against>: ..."``.

    Returns
    -------
    ``(len(wanted),)`` int64 indices into ``names``, or ``None`` when
    ``names`` equals ``wanted`` in order (nothing to reorder).

    Raises :class:`InputError` if any wanted name is missing or any name is
    not wanted.
    """
    names, wanted = pd.Index(names), pd.Index(wanted)
    missing = wanted.difference(names)
    extra = names.difference(wanted)
    if len(missing) or len(extra):
        parts = []
        if len(missing):
            parts.append(f"{len(missing)} expected genes missing (e.g. {missing[0]!r})")
        if len(extra):
            parts.append(f"{len(extra)} unexpected genes (e.g. {extra[0]!r})")
        msg = f"{where}: {what} do not match {against}: " + "; ".join(parts)
        raise InputError(msg)
    if names.equals(wanted):
        return None
    return names.get_indexer(wanted).astype(np.int64)


def align_genes(adata: ad.AnnData, genes: Sequence[str], *, where: str) -> ad.AnnData:
    """Return ``adata`` restricted and reordered to ``genes``, by name.

    Raises :class:`InputError` if any gene is missing or if ``adata`` has genes
    that are not in ``genes``: a model must see exactly the genes it was
    trained on.
    """
    order = name_order(adata.var_names, genes, where=where)
    return adata if order is None else adata[:, order].copy()
