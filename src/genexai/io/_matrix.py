"""Rows and blocks of an expression matrix that may be dense or sparse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse

#: Default elements per block of :func:`row_blocks`: 4 Mi float32 is 16 MiB.
BLOCK_ELEMENTS = 1 << 22


def dense_rows(
    x: Any, rows: npt.ArrayLike | slice | None = None, *, dtype: npt.DTypeLike = np.float32
) -> np.ndarray:
    """Rows of a dense or sparse matrix as a dense C-contiguous array.

    Parameters
    ----------
    x
        ``(n_obs, n_vars)``: a numpy array, a scipy sparse matrix or array,
        or an h5py-backed AnnData matrix.
    rows
        Row indices or a slice; ``None`` for every row.
    dtype
        Dtype of the result; ``None`` keeps the matrix's own.

    Returns
    -------
    ``(n_rows, n_vars)`` of ``dtype``.
    """
    block = x if rows is None else x[rows]
    if scipy.sparse.issparse(block):
        block = block.toarray()
    return np.ascontiguousarray(block, dtype=dtype)


def row_blocks(n_rows: int, n_cols: int, *, max_elements: int = BLOCK_ELEMENTS) -> Iterator[slice]:
    """Consecutive row slices of ``range(n_rows)``, each of at most ``max_elements`` cells.

    A block holds at least one row, so a single row wider than the limit is
    still one block.
    """
    step = max(1, max_elements // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def stored_blocks(
    indptr: np.ndarray, major: np.ndarray | None = None, *, max_stored: int = BLOCK_ELEMENTS
) -> list[slice]:
    """Consecutive slices of ``major`` holding about ``max_stored`` stored values each.

    ``indptr`` is a compressed matrix's (rows of a CSR, columns of a CSC);
    ``major`` the sorted rows or columns to cover (default all), and the
    slices index it. A block closes after the entry that crosses a multiple
    of ``max_stored``, so one long entry is still one block.
    """
    lengths = np.diff(indptr) if major is None else np.diff(indptr)[major]
    n = len(lengths)
    ends = np.cumsum(lengths)
    cuts = np.searchsorted(ends, np.arange(max_stored, ends[-1] if n else 0, max_stored))
    bounds = np.unique(np.concatenate([[0], cuts + 1, [n]]).clip(0, n))
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
