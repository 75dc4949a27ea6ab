"""The gene correlation graph used by the diffused models (method.md §3).

1. A = Pearson correlation between genes over the training samples, with
   the diagonal and undefined entries (constant genes) set to 0.
2. Keep the entries above ``threshold`` (default 0.5); drop the rest,
   negative correlations included.
3. Â = D̃^{-1/2}(A+I)D̃^{-1/2}, D̃ the weighted row sums of A+I.

The correlation matrix is never formed: blocks of rows of the upper triangle
are computed as ``Z_blockᵀ Z`` on standardised columns and thresholded at
once, so memory is O(nnz + n_samples·n_genes + block·n_genes) and 50,000
genes never allocate a dense genes × genes matrix.

Atlases: a training split of more than ``max_cells`` cells (default
:data:`DEFAULT_MAX_CELLS`, 20,000) is subsampled uniformly without
replacement, with a fixed seed (:data:`DEFAULT_GRAPH_SEED`), the chosen
cells kept in their original order; at or below the cap every training cell
is used. A sparse ``X`` stays sparse: only the sampled rows are copied (CSC),
and each block of genes is densified and standardised in turn. The dense
data held is then Z, ``min(n_train, max_cells) × n_genes`` float32, plus the
blocks, whatever the number of cells: peak memory is the file's arrays +
the sampled rows' non-zeros (as CSC) + 4·n_sample·n_genes (Z) +
24·n_sample·block (a block's float64 temporaries) + 5·block·n_genes (a block
of correlations and its mask) bytes, plus the edges kept.

Graph files (``.npz``) hold only numeric and fixed-width string arrays; they
are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import anndata as ad
import numpy as np
import scipy.sparse
import torch

from . import io, keys
from ._defaults import DEFAULT_BLOCK_SIZE, DEFAULT_GRAPH_SEED, DEFAULT_MAX_CELLS, DEFAULT_THRESHOLD
from .errors import InputError

GRAPH_FORMAT = "genexai-graph/1"


class Graph(NamedTuple):
    """A normalised gene graph and what it was computed on."""

    adj: scipy.sparse.csr_matrix  #: Â, (n_genes, n_genes) float32, symmetric
    genes: list[str]  #: gene names, in the order of Â's rows
    threshold: float  #: correlations kept are > threshold

    def align(self, genes: Sequence[str], *, where: str) -> scipy.sparse.csr_matrix:
        """Â with rows and columns in the order of ``genes``, matched by name.

        Raises :class:`InputError` unless the graph has exactly these genes.
        """
        order = io.name_order(
            self.genes, genes, where=where, what="graph genes", against="the data"
        )
        return self.adj if order is None else self.adj[order][:, order].tocsr()


def subsample_rows(rows: np.ndarray, max_cells: int | None, *, seed: int) -> np.ndarray:
    """At most ``max_cells`` of ``rows``, uniformly without replacement, in their order.

    ``rows`` ``(n,)`` int, sorted; returned as is when ``n <= max_cells`` or
    ``max_cells`` is None, else ``(max_cells,)`` sorted.
    """
    if max_cells is None or rows.size <= max_cells:
        return rows
    if max_cells < 2:
        msg = f"max_cells: expected at least 2 cells to correlate genes, found {max_cells}"
        raise InputError(msg)
    chosen = np.random.default_rng(seed).choice(rows.size, size=max_cells, replace=False)
    return rows[np.sort(chosen)]


def _standardise(x: Any, *, block_size: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Columns centred and scaled so that ``zᵀz`` is the Pearson correlation.

    ``x`` is ``(n_obs, n_genes)``, a numpy array or a scipy sparse matrix, of
    which ``rows`` (default: all) are used. Returns ``(n_genes, n_samples)``
    float32, row g = (x_g - mean) / (std·√n) with the biased std; constant
    genes get a zero row (no edges). Values are taken as float32 (as the
    steps hold them), statistics in float64, a block of genes at a time, so
    neither a sparse nor a dense input is copied whole.
    """
    if scipy.sparse.issparse(x):
        # Only the chosen rows, as CSC: a block of genes is then a cheap column slice.
        x = scipy.sparse.csc_matrix(x if rows is None else x[rows])
        rows = None
    n, g = (x.shape[0] if rows is None else rows.size), x.shape[1]
    z = np.empty((g, n), dtype=np.float32)
    for start in range(0, g, block_size):
        cols = slice(start, start + block_size)
        block = x[:, cols] if rows is None else x[rows, cols]
        if scipy.sparse.issparse(block):
            block = block.toarray()
        block = np.asarray(block, dtype=np.float32).astype(np.float64)
        block -= block.mean(axis=0)
        norm = np.sqrt((block * block).sum(axis=0))
        block /= np.where(norm > 0, norm, np.inf)
        z[start : start + block_size] = block.T
    return z


def correlation_graph(
    x: Any,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    block_size: int = DEFAULT_BLOCK_SIZE,
    rows: np.ndarray | None = None,
    progress: Callable[[int], object] | None = None,
) -> scipy.sparse.csr_matrix:
    """Â from the training expression matrix, computed blockwise.

    Parameters
    ----------
    x
        Samples ``(n_obs, n_genes)``, float (transformed values): a numpy
        array or a scipy sparse matrix (kept sparse; same graph as its dense
        copy, bit for bit).
    threshold
        Keep gene pairs whose Pearson correlation is strictly above it.
    block_size
        Genes per block of correlation rows (memory ``block_size × n_genes``
        float32 at a time).
    rows
        The samples to correlate over (row indices, default all of ``x``).
    progress
        Called with the number of genes done after each block.

    Returns
    -------
    Â ``(n_genes, n_genes)``, CSR float32, symmetric, sorted indices, with
    a positive diagonal (the self-loops).
    """
    if not scipy.sparse.issparse(x):
        x = np.asarray(x)
    n = x.shape[0] if rows is None or x.ndim != 2 else len(rows)
    if x.ndim != 2 or n < 2:
        msg = (
            "training matrix: need at least 2 samples to correlate genes, "
            f"found {n} of shape {x.shape}"
        )
        raise InputError(msg)
    if block_size < 1:
        msg = f"block_size: expected a positive number of genes, found {block_size}"
        raise InputError(msg)
    g = x.shape[1]
    z = torch.from_numpy(_standardise(x, block_size=block_size, rows=rows))
    heads, tails, vals = [], [], []
    for start in range(0, g, block_size):
        stop = min(start + block_size, g)
        # Upper triangle only: rows start..stop against columns start..g.
        corr = z[start:stop] @ z[start:].T
        keep = corr > threshold
        keep[:, : stop - start].triu_(diagonal=1)
        r, c = keep.nonzero(as_tuple=True)
        vals.append(corr[r, c].numpy().astype(np.float64))
        heads.append((r + start).numpy())
        tails.append((c + start).numpy())
        del corr, keep
        if progress is not None:
            progress(stop - start)
    return _gcn_normalise(np.concatenate(heads), np.concatenate(tails), np.concatenate(vals), g)


def _gcn_normalise(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_genes: int
) -> scipy.sparse.csr_matrix:
    """D̃^{-1/2}(A+I)D̃^{-1/2} from the upper-triangle edges of A (i < j)."""
    degree = (
        1.0
        + np.bincount(rows, weights=vals, minlength=n_genes)
        + np.bincount(cols, weights=vals, minlength=n_genes)
    )
    scale = 1.0 / np.sqrt(degree)
    off = vals * scale[rows] * scale[cols]
    diag = np.arange(n_genes)
    adj = scipy.sparse.csr_matrix(
        (
            np.concatenate([off, off, 1.0 / degree]).astype(np.float32),
            (np.concatenate([rows, cols, diag]), np.concatenate([cols, rows, diag])),
        ),
        shape=(n_genes, n_genes),
    )
    adj.sort_indices()
    return adj


def graph_from_adata(
    adata: ad.AnnData,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    block_size: int = DEFAULT_BLOCK_SIZE,
    max_cells: int | None = DEFAULT_MAX_CELLS,
    seed: int = DEFAULT_GRAPH_SEED,
    where: str = "input",
    progress: Callable[[int], object] | None = None,
) -> Graph:
    """The graph of a prepared dataset, from its training rows only.

    Parameters
    ----------
    adata
        Prepared AnnData ``(n_obs, n_genes)`` with ``obs['split']``; ``X``
        dense or scipy sparse (never densified whole).
    max_cells
        Correlate over at most this many training cells, a uniform seeded
        subsample (:func:`subsample_rows`); ``None``: all of them.
    seed
        Seed of that subsample.
    where
        Names the data in error messages (usually its file).

    Returns
    -------
    :class:`Graph` with Â over ``adata.var_names``.
    """
    rows = subsample_rows(io.split_indices(adata, keys.TRAIN, where=where), max_cells, seed=seed)
    adj = correlation_graph(
        adata.X, threshold=threshold, block_size=block_size, rows=rows, progress=progress
    )
    return Graph(adj, [str(v) for v in adata.var_names], float(threshold))


def save_graph(
    path: str | os.PathLike,
    adj: scipy.sparse.sparray | scipy.sparse.spmatrix,
    *,
    genes: Sequence[str],
    threshold: float,
) -> None:
    """Write Â, its gene order and threshold to ``.npz``, atomically.

    Fields: ``format``, ``data`` (float32), ``indices``, ``indptr`` (CSR),
    ``shape``, ``genes`` (unicode), ``threshold``.
    """
    adj = scipy.sparse.csr_matrix(adj, dtype=np.float32)
    if adj.shape != (len(genes), len(genes)):
        msg = (
            f"graph: expected a {len(genes)} x {len(genes)} matrix for the genes, found {adj.shape}"
        )
        raise InputError(msg)
    with io.atomic_path(path) as tmp, open(tmp, "wb") as fh:
        # A file object, not a name: np.savez would append ".npz" to the temp name.
        np.savez_compressed(
            fh,
            format=np.array(GRAPH_FORMAT),
            data=adj.data,
            indices=adj.indices,
            indptr=adj.indptr,
            shape=np.array(adj.shape, dtype=np.int64),
            genes=np.array([str(g) for g in genes], dtype=str),
            threshold=np.array(threshold, dtype=np.float64),
        )


def load_graph(path: str | os.PathLike) -> Graph:
    """Read a graph written by :func:`save_graph` (no pickle).

    Raises :class:`InputError` for a missing or foreign file, missing fields,
    an inconsistent CSR structure, a gene list of the wrong length or a
    matrix that is not symmetric.
    """
    if not os.path.isfile(path):
        msg = f"{path}: no such graph file"
        raise InputError(msg)
    try:
        with np.load(path, allow_pickle=False) as npz:
            fields = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        msg = f"{path}: not a readable .npz graph ({exc.__class__.__name__})"
        raise InputError(msg) from None
    expected = {"format", "data", "indices", "indptr", "shape", "genes", "threshold"}
    if fields.get("format", np.array("")).item() != GRAPH_FORMAT or not expected <= set(fields):
        msg = (
            f"{path}: expected a {GRAPH_FORMAT} file with fields {sorted(expected)}, "
            f"found {sorted(fields)}"
        )
        raise InputError(msg)
    try:
        adj = scipy.sparse.csr_matrix(
            (fields["data"], fields["indices"], fields["indptr"]),
            shape=tuple(int(s) for s in fields["shape"]),
        )
        adj.check_format(full_check=True)
    except (ValueError, TypeError) as exc:
        msg = f"{path}: inconsistent sparse graph ({exc})"
        raise InputError(msg.splitlines()[0]) from None
    genes = [str(g) for g in fields["genes"]]
    if adj.shape != (len(genes), len(genes)):
        msg = f"{path}: graph is {adj.shape} but lists {len(genes)} genes"
        raise InputError(msg)
    if (adj != adj.T).nnz:
        msg = f"{path}: the normalised adjacency is not symmetric"
        raise InputError(msg)
    return Graph(adj.astype(np.float32), genes, float(fields["threshold"]))
