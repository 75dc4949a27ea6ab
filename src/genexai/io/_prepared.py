"""The transformed expression of a prepared AnnData, dense or sparse.

PREPARE stores a dense input's transformed values in ``X``. A sparse input
(a single-cell atlas) keeps a sparse ``X`` holding only the per-sample part
of the transform (``log2(x + 1)``, CPM, or ``x`` itself), which keeps zeros
zero, and the per-gene centring and scaling ``(y - mean) / std`` are applied
when rows are read: densifying the whole standardised matrix would take
``n_obs × n_genes × 4`` bytes, 80 GB for a million cells.
:func:`expression` hides the difference from the steps that read ``X``.
"""

from __future__ import annotations

from typing import Any

import anndata as ad
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .. import keys
from ..errors import InputError
from ._matrix import dense_rows

__all__ = ["ScaledRows", "expression", "is_scaled_sparse", "mean_rows"]


class ScaledRows:
    """Rows of ``(x - mean) / std`` for a sparse ``x``, made dense only when read.

    Indexing with an int array or a slice of rows returns those rows as a
    dense C-contiguous ``(n_rows, n_genes)`` float32 array, computed in
    float64 and rounded once, as PREPARE rounds a dense input's values; a
    zero of ``x`` reads as ``-mean / std``.

    Parameters
    ----------
    x
        ``(n_obs, n_genes)`` scipy sparse matrix; converted to CSR once.
    mean, std
        ``(n_genes,)`` per-gene statistics.
    rows
        Row positions of ``x`` this object stands for (a subset shares
        ``x``'s arrays); ``None`` for every row.
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(
        self,
        x: Any,
        mean: npt.ArrayLike,
        std: npt.ArrayLike,
        *,
        rows: np.ndarray | None = None,
    ) -> None:
        self.x = x if x.format == "csr" else x.tocsr()
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        self.rows = rows
        self.zero = ((0.0 - self.mean) / self.std).astype(np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        n = self.x.shape[0] if self.rows is None else len(self.rows)
        return n, self.x.shape[1]

    def __len__(self) -> int:
        return self.shape[0]

    def subset(self, rows: np.ndarray) -> ScaledRows:
        """The rows ``rows`` (positions in this object), sharing the sparse arrays."""
        rows = np.asarray(rows, dtype=np.int64)
        absolute = rows if self.rows is None else self.rows[rows]
        return ScaledRows(self.x, self.mean, self.std, rows=absolute)

    def sparse_rows(self, rows: npt.ArrayLike | slice) -> sp.csr_matrix:
        """The untransformed sparse rows ``rows`` (positions in this object)."""
        if self.rows is not None:
            rows = self.rows[rows]
        return self.x[rows]

    def __array__(self, dtype: npt.DTypeLike = None, *, copy: bool | None = None) -> np.ndarray:
        # What np.asarray and io.dense_rows(x) call: every row, dense.
        out = self[slice(None)]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, rows: npt.ArrayLike | slice) -> np.ndarray:
        block = self.sparse_rows(rows)
        out = np.repeat(self.zero[None, :], block.shape[0], axis=0)
        row = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        col = block.indices
        values = (block.data.astype(np.float64) - self.mean[col]) / self.std[col]
        out[row, col] = values
        return out


def is_scaled_sparse(adata: ad.AnnData) -> bool:
    """Whether PREPARE left the centring and scaling of a sparse ``X`` to the reader."""
    record = adata.uns.get(keys.UNS, {}).get(keys.PREPARE, {})
    return bool(record.get(keys.SPARSE_X, False))


def expression(adata: ad.AnnData, *, where: str = "input") -> Any:
    """The transformed values of a prepared AnnData, rows readable by index.

    Returns
    -------
    ``adata.X`` when it already holds them (a dense input), else a
    :class:`ScaledRows` over the sparse ``X`` and ``var['genexai_mean']``,
    ``var['genexai_std']``. Either gives dense float32 rows through
    :func:`genexai.io.dense_rows`.
    """
    if not is_scaled_sparse(adata):
        return adata.X
    for key in (keys.MEAN, keys.STD):
        if key not in adata.var:
            msg = f"{where}: var[{key!r}] is missing; the sparse X needs it to be standardised"
            raise InputError(msg)
    if not sp.issparse(adata.X):
        msg = (
            f"{where}: uns[{keys.UNS!r}][{keys.PREPARE!r}][{keys.SPARSE_X!r}] is set, "
            "but X is not sparse"
        )
        raise InputError(msg)
    x, rows = _stored_rows(adata)
    return ScaledRows(
        x,
        adata.var[keys.MEAN].to_numpy(np.float64),
        adata.var[keys.STD].to_numpy(np.float64),
        rows=rows,
    )


def _stored_rows(adata: ad.AnnData) -> tuple[Any, np.ndarray | None]:
    """The sparse matrix holding ``adata``'s rows, and their positions in it.

    anndata makes a sparse view's ``X`` by copying its rows, which is 40 % of
    an atlas for a test split (and 60 % more for the training rows of a
    baseline); a view of every gene reads its parent's matrix instead.
    """
    if adata.is_view:
        parent = adata._adata_ref  # anndata keeps no public handle on a view's parent
        genes = np.arange(parent.n_vars)[adata._vidx]
        if sp.issparse(parent.X) and np.array_equal(genes, np.arange(parent.n_vars)):
            return parent.X, np.arange(parent.n_obs)[adata._oidx]
    return adata.X, None


def mean_rows(x: Any, rows: np.ndarray) -> np.ndarray:
    """The mean ``(n_genes,)`` float64 of rows ``rows`` of ``x``.

    ``x`` is a dense matrix or a :class:`ScaledRows`; for the latter the
    mean comes from the sparse values, ``(mean(y) - mean) / std``, without
    making the rows dense.
    """
    if isinstance(x, ScaledRows):
        block = x.sparse_rows(rows)
        raw = np.asarray(block.sum(axis=0, dtype=np.float64)).ravel() / block.shape[0]
        return (raw - x.mean) / x.std
    return dense_rows(x, rows, dtype=None).mean(axis=0, dtype=np.float64)
