"""Checks on the values of an expression matrix (dense or CSR), scanned in blocks.

Scanning in row blocks (dense) or blocks of stored values (CSR) keeps the
boolean temporaries small on a 10,000 × 20,000 matrix or 10^8 non-zeros.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import InputError
from ._matrix import row_blocks


def first_cell(x: Any, test: Callable[[np.ndarray], np.ndarray]) -> tuple[int, int] | None:
    """The first ``(row, column)`` where ``test`` is true, scanning in row blocks.

    A CSR matrix (sorted indices) is scanned on its stored values, in
    row-major order like a dense one: an implicit zero never fails a test
    here (every test is of a value a zero is not: infinite, NaN, negative,
    fractional).
    """
    if sp.issparse(x):
        for block in row_blocks(x.nnz, 1):
            hit = np.flatnonzero(test(x.data[block]))
            if len(hit):
                k = block.start + int(hit[0])
                return int(np.searchsorted(x.indptr, k, side="right")) - 1, int(x.indices[k])
        return None
    for rows in row_blocks(x.shape[0], x.shape[1]):
        hit = test(x[rows])
        if hit.any():
            i, j = np.argwhere(hit)[0]
            return rows.start + int(i), int(j)
    return None


def looks_like_counts(x: Any) -> bool:
    """True if every value of ``x`` (``(n_samples, n_genes)``, dense or CSR) is a
    non-negative integer."""
    return first_cell(x, lambda b: (b < 0) | (b != np.rint(b))) is None


def any_positive_per_gene(x: Any) -> np.ndarray:
    """``(n_genes,)`` bool: the gene's maximum over all samples, NaN ignored, is > 0.

    Sparse (CSR): a gene qualifies iff one of its stored values is > 0, since
    an implicit zero is not and ``NaN > 0`` is false.
    """
    if sp.issparse(x):
        return _stored_per_gene(x, lambda v: v > 0)
    return np.fmax.reduce(x, axis=0) > 0  # fmax ignores NaN; all-NaN stays NaN


def any_nan_per_gene(x: Any, rows: np.ndarray) -> np.ndarray:
    """``(n_genes,)`` bool: the gene has a NaN in one of ``rows`` (sorted indices into ``x``).

    Sparse (CSR): the stored NaNs are located (their row from ``indptr``), so
    no row is copied; an implicit zero is never NaN.
    """
    if sp.issparse(x):
        return _stored_per_gene(x, np.isnan, rows=rows)
    found = np.zeros(x.shape[1], dtype=bool)
    for block in row_blocks(len(rows), x.shape[1]):
        found |= np.isnan(x[rows[block]]).any(axis=0)
    return found


def _stored_per_gene(
    x: sp.csr_matrix, test: Callable[[np.ndarray], np.ndarray], *, rows: np.ndarray | None = None
) -> np.ndarray:
    """``(n_genes,)`` bool: a stored value of the gene (in ``rows``, default all) passes ``test``.

    Scanned in blocks of stored values, so the temporaries stay small on
    10^8 non-zeros.
    """
    found = np.zeros(x.shape[1], dtype=bool)
    for block in row_blocks(x.nnz, 1):
        hit = np.flatnonzero(test(x.data[block])) + block.start
        if rows is not None and len(hit):
            row_of = np.searchsorted(x.indptr, hit, side="right") - 1
            hit = hit[np.isin(row_of, rows)]
        found[x.indices[hit]] = True
    return found


def check_values(
    x: Any,
    samples: pd.Index,
    genes: pd.Index,
    *,
    where: str,
    counts: bool,
    nan: bool = True,
) -> None:
    """Refuse infinite values, NaN (where ``nan``) and negative values (where ``counts``).

    The message names the first offending sample and gene of ``x``
    ``(n_samples, n_genes)``, dense or CSR with sorted indices, and the file
    ``where``.
    """
    checks: list[tuple[Callable[[np.ndarray], np.ndarray], str]] = [
        (np.isinf, "an infinite value"),
    ]
    if nan:
        checks.append((np.isnan, "a missing value (NaN/NA/empty)"))
    if counts:
        checks.append((lambda b: b < 0, "a negative value where counts are expected"))
    for test, what in checks:
        hit = first_cell(x, test)
        if hit is not None:
            i, j = hit
            msg = f"{where}: {what} at sample {samples[i]!r}, gene {genes[j]!r} ({x[i, j]})"
            raise InputError(msg)
