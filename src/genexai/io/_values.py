"""Checks on the values of a dense expression matrix, scanned in row blocks.

Scanning in blocks keeps the boolean temporaries small on a
10,000 × 20,000 matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import InputError
from ._matrix import row_blocks


def _find(x: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> tuple[int, int] | None:
    """The first ``(row, column)`` where ``test`` is true, scanning in row blocks."""
    for rows in row_blocks(x.shape[0], x.shape[1]):
        hit = test(x[rows])
        if hit.any():
            i, j = np.argwhere(hit)[0]
            return rows.start + int(i), int(j)
    return None


def looks_like_counts(x: np.ndarray) -> bool:
    """True if every value of ``x`` (dense, ``(n_samples, n_genes)``) is a non-negative integer."""
    return _find(x, lambda b: (b < 0) | (b != np.rint(b))) is None


def any_nan_per_gene(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(n_genes,)`` bool: the gene has a NaN in one of ``rows`` (indices into ``x``)."""
    found = np.zeros(x.shape[1], dtype=bool)
    for block in row_blocks(len(rows), x.shape[1]):
        found |= np.isnan(x[rows[block]]).any(axis=0)
    return found


def check_values(
    x: np.ndarray,
    samples: pd.Index,
    genes: pd.Index,
    *,
    where: str,
    counts: bool,
    nan: bool = True,
) -> None:
    """Refuse infinite values, NaN (where ``nan``) and negative values (where ``counts``).

    The message names the first offending sample and gene of ``x``
    ``(n_samples, n_genes)``, and the file ``where``.
    """
    checks: list[tuple[Callable[[np.ndarray], np.ndarray], str]] = [
        (np.isinf, "an infinite value"),
    ]
    if nan:
        checks.append((np.isnan, "a missing value (NaN/NA/empty)"))
    if counts:
        checks.append((lambda b: b < 0, "a negative value where counts are expected"))
    for test, what in checks:
        hit = _find(x, test)
        if hit is not None:
            i, j = hit
            msg = f"{where}: {what} at sample {samples[i]!r}, gene {genes[j]!r} ({x[i, j]})"
            raise InputError(msg)
