"""Gene-set (pathway) level reading of gene scores.

Scores of genes are summed or averaged over each set (:func:`set_scores`),
a top-gene list is tested for over-representation in each set
(:func:`over_representation`: one-sided hypergeometric test, universe = the
data's genes, Benjamini-Hochberg within each row) and, on simulations, the
sets ranked highest are compared with the truth (:func:`pathway_agreement`
against :func:`simulated_gene_sets`).

A membership matrix is a CSR bool ``(n_sets, n_genes)`` over the data's gene
order (:meth:`genexai.io.GeneSets.membership`); a set's size is its genes
found in the data. Every function is a sparse product or an array
operation over all sets at once: 10,000 sets × 20,000 genes × 30 rows take
about a second.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import scipy.sparse
import scipy.stats

from .. import keys
from ..errors import InputError
from ..io import GeneSets, class_names
from ._common import stable_order

#: ``simulated_gene_sets``' ``source``: the entry its sets come from.
_SOURCE = f"uns[{keys.UNS!r}][{keys.SIMULATE!r}]"


def _as_membership(
    membership: scipy.sparse.sparray | scipy.sparse.spmatrix, n_genes: int
) -> tuple[scipy.sparse.csr_array, np.ndarray]:
    """``membership`` as a float64 CSR (exact counts in products), checked against
    ``n_genes``, and the set sizes, int64 ``(n_sets,)``."""
    membership = scipy.sparse.csr_array(membership, dtype=np.float64)
    if membership.shape[1] != n_genes:
        msg = f"membership has {membership.shape[1]} genes, the scores {n_genes}"
        raise ValueError(msg)
    return membership, np.asarray(membership.sum(axis=1)).astype(np.int64)


def set_scores(
    scores: np.ndarray, membership: scipy.sparse.sparray | scipy.sparse.spmatrix
) -> tuple[np.ndarray, np.ndarray]:
    """Sum and mean of each row's gene scores over each set's genes.

    Parameters
    ----------
    scores
        ``(n_rows, n_genes)`` float (e.g. ``m_c``, signed; one row per class).
    membership
        ``(n_sets, n_genes)`` sparse bool.

    Returns
    -------
    ``(sums, means)``, float64 ``(n_rows, n_sets)``; the mean is NaN for a
    set with no gene in the data.
    """
    scores = np.asarray(scores, dtype=np.float64)
    membership, sizes = _as_membership(membership, scores.shape[1])
    # The sparse operand goes on the left for scipy's kernels.
    sums = np.asarray(membership @ scores.T).T
    means = np.full_like(sums, np.nan)
    np.divide(sums, sizes, out=means, where=sizes > 0)
    return sums, means


def over_representation(
    top: np.ndarray, membership: scipy.sparse.sparray | scipy.sparse.spmatrix
) -> tuple[np.ndarray, np.ndarray]:
    """Over-representation of each row's top genes in each set.

    For a row with ``N`` top genes of ``G`` and a set of ``n`` genes holding
    ``x`` of them, ``p = P(X >= x)`` for ``X ~ Hypergeometric(G, n, N)``
    (:data:`scipy.stats.hypergeom`). The p-values are adjusted by
    Benjamini-Hochberg within each row
    (:func:`scipy.stats.false_discovery_control`) over the sets with at
    least one gene in the data; a set with none is no test: ``p = p_adj = 1``.

    Parameters
    ----------
    top
        ``(n_rows, n_genes)`` bool: the top genes of each row.
    membership
        ``(n_sets, n_genes)`` sparse bool.

    Returns
    -------
    ``(pvals, padj)``, float64 ``(n_rows, n_sets)`` in [0, 1].
    """
    top = np.asarray(top)
    if top.dtype != bool:
        msg = f"top must be bool, found {top.dtype}"
        raise ValueError(msg)
    membership, sizes = _as_membership(membership, top.shape[1])
    hits = np.asarray(membership @ top.T.astype(np.float64)).T.astype(np.int64)
    n_top = top.sum(axis=1, keepdims=True)
    pvals = np.ones(hits.shape, dtype=np.float64)
    tested = sizes > 0
    # P(X >= 0) = 1; the rest repeat few (hits, set size, top size) triples
    # (sizes and hit counts are small integers), and scipy's exact sf costs
    # tens of microseconds a call, so each triple is evaluated once.
    rows, sets = np.nonzero((hits > 0) & tested)
    triples = np.stack([hits[rows, sets], sizes[sets], n_top[rows, 0]])
    unique, inverse = np.unique(triples, axis=1, return_inverse=True)
    x, n, k = unique
    # sf(x - 1) = P(X >= x); clipped because sf's rounding can pass 1 by an ulp.
    pvals[rows, sets] = np.clip(scipy.stats.hypergeom.sf(x - 1, top.shape[1], n, k), 0, 1)[
        inverse.reshape(-1)
    ]
    padj = np.ones_like(pvals)
    if tested.any() and len(pvals):
        padj[:, tested] = scipy.stats.false_discovery_control(pvals[:, tested], axis=1)
    return pvals, padj


def pathway_agreement(set_scores: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Share of each row's true sets found among its best-scored sets.

    With ``T_c`` the true sets of row ``c``: the percentage of ``T_c`` among
    the ``|T_c|`` sets of highest score (descending; ties by set index; a
    NaN score, an empty set's mean, ranks last).

    Parameters
    ----------
    set_scores
        ``(n_rows, n_sets)`` float.
    true
        ``(n_rows, n_sets)`` bool.

    Returns
    -------
    ``(n_rows,)`` float64 in [0, 100]; NaN where ``T_c`` is empty.
    """
    values = np.asarray(set_scores, dtype=np.float64)
    true = np.asarray(true, dtype=bool)
    if values.shape != true.shape:
        msg = f"set_scores has shape {values.shape}, true {true.shape}"
        raise ValueError(msg)
    values = np.where(np.isnan(values), -np.inf, values)
    order = stable_order(values, descending=True)
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(values.shape[1]), axis=1)
    n_true = true.sum(axis=1)
    hits = (true & (position < n_true[:, None])).sum(axis=1)
    out = np.full(len(values), np.nan)
    np.divide(100.0 * hits, n_true, out=out, where=n_true > 0)
    return out


def simulated_gene_sets(adata: ad.AnnData, *, where: str = "data") -> tuple[GeneSets, np.ndarray]:
    """The simulator's pathways as gene sets, and those over-expressed per task class.

    Task class ``t`` (named ``C<t>``, as SIMULATE names them) holds the
    generated classes ``s`` with ``merge[s] == t``; pathway ``p`` is true for
    ``t`` when it is one of ``over_pathways[s]`` for such an ``s``. So with
    the SimuB/C merge, class 0 gets the pathways of subclasses ``0 … C-2``
    and class 1 those of subclass ``C-1``. Unlike
    :func:`~genexai.metrics.agreement.class_informative`, a class does not
    get the other class's pathways in a 2-class task: ``true`` marks
    over-expression in the class, which its signed scores should rank first.

    Parameters
    ----------
    adata
        A simulated or prepared AnnData: ``uns["genexai"]["simulate"]`` with
        ``pathway_genes`` CSR bool ``(n_pathways, n_genes)`` over
        ``var_names``, ``over_pathways`` int ``(n_subclasses, n_over)`` and
        ``merge`` int ``(n_subclasses,)``.
    where
        Name of the input, for error messages.

    Returns
    -------
    ``(sets, true)``: :class:`~genexai.io.GeneSets` named ``P000``, ``P001``,
    … (zero-padded to the count, at least 3 digits) whose description lists
    the generated classes over-expressing it (``over-expressed in S0`` or
    ``background``), and ``true`` bool ``(n_classes, n_pathways)``, rows in
    class-index order (:func:`genexai.io.class_names` when ``obs["label"]``
    is there, so classes PREPARE dropped have no row; else every task class).

    Raises
    ------
    InputError
        Not a simulation, an entry missing or of the wrong shape, or a class
        name that is not one of the simulator's task classes.
    """
    simulated = adata.uns.get(keys.UNS, {}).get(keys.SIMULATE)
    if simulated is None:
        msg = f"{where}: no {_SOURCE}; pathway truth is known only for simulations"
        raise InputError(msg)
    missing = [k for k in (keys.PATHWAY_GENES, keys.OVER_PATHWAYS, "merge") if k not in simulated]
    if missing:
        msg = f"{where}: {_SOURCE} lacks {', '.join(repr(k) for k in missing)}"
        raise InputError(msg)
    genes = scipy.sparse.csr_array(simulated[keys.PATHWAY_GENES], dtype=bool)
    genes.eliminate_zeros()
    genes.sort_indices()
    over = np.asarray(simulated[keys.OVER_PATHWAYS], dtype=np.int64)
    merge = np.asarray(simulated["merge"], dtype=np.int64).reshape(-1)
    n_pathways = genes.shape[0]
    if genes.shape[1] != adata.n_vars:
        msg = (
            f"{where}: {_SOURCE}[{keys.PATHWAY_GENES!r}] has {genes.shape[1]} genes, "
            f"expected the data's {adata.n_vars}"
        )
        raise InputError(msg)
    if over.ndim != 2 or len(over) != len(merge) or over.size == 0:
        msg = (
            f"{where}: {_SOURCE}[{keys.OVER_PATHWAYS!r}] has shape {over.shape}, expected "
            f"(n_subclasses = {len(merge)}, n_over)"
        )
        raise InputError(msg)
    if over.min() < 0 or over.max() >= n_pathways or merge.min() < 0:
        msg = (
            f"{where}: {_SOURCE}: over_pathways outside 0 … {n_pathways - 1} "
            "or a negative merge index"
        )
        raise InputError(msg)
    task_true = np.zeros((merge.max() + 1, n_pathways), dtype=bool)
    task_true[merge[:, None], over] = True
    task_names = [f"C{t}" for t in range(len(task_true))]
    if keys.LABEL in adata.obs:
        names = class_names(adata, where=where)
        unknown = [n for n in names if n not in task_names]
        if unknown:
            msg = (
                f"{where}: class {unknown[0]!r} of obs[{keys.LABEL!r}] is not a task class of "
                f"the simulation ({', '.join(task_names)})"
            )
            raise InputError(msg)
        true = task_true[[task_names.index(n) for n in names]]
    else:
        true = task_true
    over_in = [[] for _ in range(n_pathways)]
    for s, pathways in enumerate(over):
        for p in np.unique(pathways):
            over_in[p].append(f"S{s}")
    width = max(3, len(str(n_pathways - 1)))
    var_names = np.asarray(adata.var_names, dtype=object)
    members = tuple(
        tuple(var_names[genes.indices[genes.indptr[p] : genes.indptr[p + 1]]])
        for p in range(n_pathways)
    )
    sets = GeneSets(
        names=tuple(f"P{p:0{width}d}" for p in range(n_pathways)),
        descriptions=tuple(
            f"over-expressed in {', '.join(s)}" if s else "background" for s in over_in
        ),
        members=members,
        source=_SOURCE,
    )
    return sets, true
