"""The sampling kernels of SIMULATE: parameters, then counts (method.md §1).

Private module of :mod:`genexai.simulation`; import the names from there.
Arrays in, arrays out: nothing here builds an AnnData.

- :func:`draw_parameters`: the hierarchical LDA prior ``alpha``, the
  over-expressed pathways, and ``beta[p] ~ Dirichlet(eta_concentration)`` on
  each pathway's genes, redrawing only the pathways that fail the validity
  rule (method.md §1.2-1.5).
- :func:`sample_matrix`: per-million expression, chunk by chunk, each chunk
  from its own spawned seed (so the output does not depend on the threads):
  ``theta ~ Dirichlet(alpha[c])`` per sample, then the read counts.
- :func:`sparse_blocks` / :func:`sample_sparse`: raw counts as CSR blocks of
  cells for low-depth (single-cell) configurations, drawn read by read so
  the cost scales with the reads, not the genes.

Sampling uses the mixture form (method.md §1.8): given ``theta``, each read
lands on gene ``g`` with probability ``q[g] = sum_p theta[p] beta[p, g]``
(:func:`mixture`), so the counts are exactly ``Multinomial(n_reads, q)``, one
draw per sample over the genes, instead of one draw per pathway. That
multinomial is drawn as Poisson counts topped up to ``n_reads``
(:func:`sample_counts`, :func:`categorical_counts`), which has the same law
and costs less. The distribution is the two-stage one; the random stream is
not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from ._configs import SimulationConfig

__all__ = [
    "CHUNK_ELEMENTS",
    "MAX_REDRAW_ROUNDS",
    "POISSON_SLACK",
    "Parameters",
    "SPARSE_BLOCK_ELEMENTS",
    "SPARSE_CHUNK_ROWS",
    "categorical_counts",
    "class_sizes",
    "draw_parameters",
    "mixture",
    "sample_counts",
    "sample_matrix",
    "sample_sparse",
    "sparse_block_rows",
    "sparse_blocks",
]

logger = logging.getLogger(__name__)

#: Genes × samples (and extra reads) per chunk of samples: arrays of 8 MiB
#: per thread stay below glibc's mmap threshold, so their memory is reused
#: between chunks instead of page-faulted in again (measured: 8x fewer faults
#: and ~10% less CPU than 32 MiB chunks at SIMU1 size).
CHUNK_ELEMENTS = 1 << 20
#: Standard deviations of the Poisson total kept below the reads (see
#: :func:`sample_counts`).
POISSON_SLACK = 2.0
#: Cells × genes per random block of :func:`sparse_blocks`: each block has
#: its own spawned seed, so its size is part of the random stream and must
#: not change (the size of the chunks written is free).
SPARSE_BLOCK_ELEMENTS = 1 << 20
#: Cells per chunk of :func:`sparse_blocks` handed to a writer: at
#: SingleCell depth (2,000 reads, ~1,040 non-zeros per cell) about 8.5 M
#: non-zeros, ~70 MB of CSR, the memory of the streaming writer.
SPARSE_CHUNK_ROWS = 8192
#: Redraw rounds before the validity rule is declared unsatisfiable.
MAX_REDRAW_ROUNDS = 1000


class Parameters(NamedTuple):
    """Drawn model parameters."""

    alpha: np.ndarray  #: float64 (n_classes, n_pathways) Dirichlet prior per class
    beta: sp.csr_matrix  #: float64 (n_pathways, n_genes), rows sum to 1
    over_pathways: np.ndarray  #: int64 (n_classes, n_over)


def class_sizes(n_samples: int, proportions: np.ndarray) -> np.ndarray:
    """Samples per class: floors of ``n_samples * proportions``, the remainder
    going one each to the largest fractional parts (ties: lowest class).

    Raises :class:`InputError` if a class would get no sample.
    """
    exact = n_samples * proportions
    sizes = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - sizes), kind="stable")
    sizes[order[: n_samples - sizes.sum()]] += 1
    if (sizes == 0).any():
        msg = (
            f"n_samples: {n_samples} samples leave generated class "
            f"{int(np.argmin(sizes))} empty with proportions {proportions.round(4).tolist()}"
        )
        raise InputError(msg)
    return sizes


def _draw_memberships(
    pathways: np.ndarray, config: SimulationConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Genes of each pathway in ``pathways``: ``(pathway ids, gene ids)`` pairs.

    Random layout: pathway size ~ Binomial(n_genes, k / n_genes) redrawn while
    0, then a uniform subset of that size, which is the law of independent
    Bernoulli memberships redrawn while empty (method.md §1.3).
    """
    k = config.genes_per_pathway
    if config.layout == "block":
        genes = (pathways[:, None] * k + np.arange(k)).ravel()
        return np.repeat(pathways, k), genes
    sizes = rng.binomial(config.n_genes, k / config.n_genes, size=len(pathways))
    while (empty := sizes == 0).any():
        sizes[empty] = rng.binomial(config.n_genes, k / config.n_genes, size=empty.sum())
    owner = np.repeat(pathways, sizes)
    genes = rng.integers(config.n_genes, size=len(owner))
    # Redraw repeated genes within a pathway until all are distinct: the rule
    # commutes with any relabelling of the genes, so the final set is a
    # uniform subset of its size.
    while True:
        order = np.lexsort((genes, owner))
        owner, genes = owner[order], genes[order]
        repeat = np.zeros(len(genes), dtype=bool)
        repeat[1:] = (owner[1:] == owner[:-1]) & (genes[1:] == genes[:-1])
        if not repeat.any():
            return owner, genes
        genes[repeat] = rng.integers(config.n_genes, size=repeat.sum())


def _draw_beta(
    pathways: np.ndarray, config: SimulationConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Members and Dirichlet(eta_concentration) weights of ``pathways``.

    Returns ``(pathway ids, gene ids, beta)``, flat and aligned; ``beta``
    sums to 1 over each pathway's genes.
    """
    owner, genes = _draw_memberships(pathways, config, rng)
    weights = rng.standard_gamma(config.eta_concentration, size=len(genes))
    totals = np.bincount(owner, weights=weights, minlength=config.n_pathways)
    with np.errstate(invalid="ignore", divide="ignore"):
        return owner, genes, weights / totals[owner]


def _failing(
    owner: np.ndarray, beta: np.ndarray, is_over: np.ndarray, min_prop: float, n_pathways: int
) -> np.ndarray:
    """Sorted ids of the pathways to redraw: over-expressed ones with a gene
    below ``min_prop``, and any whose weights underflowed (NaN)."""
    bad = np.zeros(n_pathways, dtype=bool)
    bad[owner[~(beta >= min_prop) & is_over[owner]]] = True
    bad[owner[np.isnan(beta)]] = True
    return np.flatnonzero(bad)


def draw_parameters(config: SimulationConfig, rng: np.random.Generator) -> Parameters:
    """Draw ``beta`` (with the validity re-draw, method.md §1.5) and set
    ``alpha`` and the over-expressed pathways (§1.2)."""
    n_classes, n_pathways, n_over = config.n_classes, config.n_pathways, config.n_over
    over_pathways = np.arange(n_classes * n_over, dtype=np.int64).reshape(n_classes, n_over)
    alpha = np.full((n_classes, n_pathways), config.alpha_scale)
    alpha[np.arange(n_classes)[:, None], over_pathways] *= config.class_gap
    is_over = np.zeros(n_pathways, dtype=bool)
    is_over[over_pathways] = True

    min_prop = config.resolved_min_prop()
    owner, genes, beta = _draw_beta(np.arange(n_pathways), config, rng)
    for _ in range(MAX_REDRAW_ROUNDS):
        redo = _failing(owner, beta, is_over, min_prop, n_pathways)
        if not len(redo):
            break
        logger.info("redrawing %d pathway(s) that fail the validity rule", len(redo))
        keep = ~np.isin(owner, redo)
        new = _draw_beta(redo, config, rng)
        owner, genes, beta = (
            np.concatenate([old[keep], fresh])
            for old, fresh in zip((owner, genes, beta), new, strict=True)
        )
    else:
        msg = (
            f"min_prop: over-expressed pathways still have a gene below {min_prop:g} "
            f"after {MAX_REDRAW_ROUNDS} redraws; lower it"
        )
        raise InputError(msg)
    matrix = sp.csr_matrix((beta, (owner, genes)), shape=(n_pathways, config.n_genes))
    matrix.sort_indices()
    return Parameters(alpha, matrix, over_pathways)


def mixture(theta: np.ndarray, beta: sp.csr_matrix) -> np.ndarray:
    """Gene probabilities of one read, ``q = theta @ beta``.

    Parameters
    ----------
    theta
        float64 ``(n_obs, n_pathways)``, rows on the simplex.
    beta
        float64 CSR ``(n_pathways, n_genes)``, rows on the simplex.

    Returns
    -------
    float64 C-contiguous ``(n_obs, n_genes)``, rows summing to 1.
    """
    q = np.ascontiguousarray(theta @ beta)
    q /= q.sum(axis=1, keepdims=True)
    return q


def categorical_counts(q: np.ndarray, reads: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``Multinomial(reads[i], q[i])`` for each row by drawing the reads.

    Each read is a uniform mapped through the row's cumulative ``q``; the
    uniforms come sorted (normalised partial sums of exponentials are the
    order statistics of uniforms), so one ``searchsorted`` over all rows,
    offset by their index, places them.

    Parameters
    ----------
    q
        float64 ``(n_obs, n_genes)``, rows summing to 1.
    reads
        int64 ``(n_obs,)``, non-negative.

    Returns
    -------
    int64 ``(n_obs, n_genes)``, row ``i`` summing to ``reads[i]``.
    """
    n_obs, n_genes = q.shape
    cumulative = np.cumsum(q, axis=1)
    cumulative /= cumulative[:, -1:]
    cumulative += np.arange(n_obs)[:, None]
    spacings = reads + 1
    partial = np.cumsum(rng.standard_exponential(int(spacings.sum())))
    ends = np.cumsum(spacings) - 1
    before = np.concatenate([[0.0], partial[ends[:-1]]])
    row = np.repeat(np.arange(n_obs), spacings)
    uniform = (partial - before[row]) / (partial[ends] - before)[row] + row
    is_read = np.ones(len(uniform), dtype=bool)
    is_read[ends] = False
    flat = np.searchsorted(cumulative.ravel(), uniform[is_read], side="right")
    # Rounding can push a uniform to the row's upper edge: keep it on the row's
    # last gene with mass (a bias below float64 resolution).
    last = n_genes - 1 - np.argmax(q[:, ::-1] > 0, axis=1)
    read_row = row[is_read]
    flat = np.minimum(flat, read_row * n_genes + last[read_row])
    return np.bincount(flat, minlength=n_obs * n_genes).reshape(n_obs, n_genes)


def sample_counts(
    q: np.ndarray, n_reads: int, rng: np.random.Generator, *, slack: float = POISSON_SLACK
) -> np.ndarray:
    """Exact ``Multinomial(n_reads, q[i])`` draws, one per row.

    With ``lam = n_reads - slack * sqrt(n_reads)``, independent
    ``y[g] ~ Poisson(lam q[g])`` have a total ``S ~ Poisson(lam)`` and, given
    ``S = s``, ``y ~ Multinomial(s, q)``; adding ``n_reads - s`` more reads
    drawn from ``q`` gives ``Multinomial(n_reads, q)`` for every ``s <=
    n_reads``. Rows with ``S > n_reads`` (probability 2.3% at slack 2) are
    redrawn with numpy's multinomial. Both branches have the law
    ``Multinomial(n_reads, q)``, hence so does the result. Poisson draws cost
    40-55% less CPU than the binomials of numpy's sequential multinomial
    (measured at SIMU1 and SimuA sizes).

    Parameters
    ----------
    q
        float64 ``(n_obs, n_genes)``, rows summing to 1.
    n_reads
        Reads per row.
    slack
        Standard deviations of ``S`` kept below ``n_reads``.

    Returns
    -------
    int64 ``(n_obs, n_genes)``, each row summing to ``n_reads``.
    """
    lam = max(n_reads - slack * np.sqrt(n_reads), 0.0)
    counts = rng.poisson(q * lam)
    missing = n_reads - counts.sum(axis=1)
    over = missing < 0
    missing[over] = 0
    counts += categorical_counts(q, missing, rng)
    if over.any():
        counts[over] = rng.multinomial(n_reads, q[over])
    return counts


def draw_theta(codes: np.ndarray, alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pathway mixtures ``(len(codes), n_pathways)`` float64, one Dirichlet draw per sample.

    ``codes`` ``(n,)`` generated class of each sample; ``alpha``
    ``(n_classes, n_pathways)`` the classes' Dirichlet parameters. Classes are
    drawn in increasing order, a block of their samples at a time.
    """
    theta = np.empty((len(codes), alpha.shape[1]))
    for c in np.unique(codes):
        block = codes == c
        theta[block] = rng.dirichlet(alpha[c], size=int(block.sum()))
    return theta


def sample_matrix(
    config: SimulationConfig,
    params: Parameters,
    subclass: np.ndarray,
    seed: np.random.SeedSequence,
    *,
    threads: int,
    progress: Callable[[int], Any] | None,
) -> np.ndarray:
    """Per-million expression of samples of the given generated classes.

    Parameters
    ----------
    config, params
        The simulation and its drawn parameters (:func:`draw_parameters`).
    subclass
        int ``(n_samples,)``: generated class of each sample.
    seed
        Spawned into one seed per chunk of rows (about
        :data:`CHUNK_ELEMENTS` genes × rows each), so the result does not
        depend on ``threads``.
    threads
        Chunks sampled at once.
    progress
        Called with the number of rows finished after each chunk.

    Returns
    -------
    float32 ``(n_samples, n_genes)``: counts per million reads.
    """
    n_samples, n_genes = len(subclass), config.n_genes
    extra_reads = int(np.ceil(POISSON_SLACK * np.sqrt(config.n_reads)))
    rows_per_chunk = max(1, CHUNK_ELEMENTS // max(n_genes, extra_reads))
    starts = range(0, n_samples, rows_per_chunk)
    seeds = seed.spawn(len(starts))
    scale = 1e6 / config.n_reads
    x = np.empty((n_samples, n_genes), dtype=np.float32)

    def run(chunk: int) -> int:
        rows = slice(starts[chunk], min(starts[chunk] + rows_per_chunk, n_samples))
        rng = np.random.default_rng(seeds[chunk])
        codes = subclass[rows]
        theta = draw_theta(codes, params.alpha, rng)
        counts = sample_counts(mixture(theta, params.beta), config.n_reads, rng)
        np.multiply(counts, scale, out=x[rows], casting="unsafe")
        return len(codes)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for done in pool.map(run, range(len(starts))):
            if progress is not None:
                progress(done)
    return x


def sparse_block_rows(n_genes: int) -> int:
    """Cells per random block of :func:`sparse_blocks` (fixed by ``n_genes``)."""
    return max(1, SPARSE_BLOCK_ELEMENTS // n_genes)


def _gene_cumulative(beta: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Search table for "gene of a read of pathway ``p``".

    Returns ``(cumulative, last)``: float64 ``(nnz,)`` the within-row
    cumulative ``beta`` plus the row index, so that ``p + u`` (``u`` uniform
    on [0, 1)) falls in row ``p``; and int64 ``(n_pathways,)`` the last entry
    of each row with mass, where rounding at the row's upper edge is sent.
    """
    rows = np.repeat(np.arange(beta.shape[0]), np.diff(beta.indptr))
    cumulative = np.cumsum(beta.data)
    starts = np.concatenate([[0.0], cumulative[beta.indptr[1:-1] - 1]])
    cumulative -= starts[rows]
    cumulative /= cumulative[beta.indptr[1:] - 1][rows]
    cumulative += rows
    positive = np.flatnonzero(beta.data > 0)
    last = positive[np.searchsorted(positive, beta.indptr[1:], side="left") - 1]
    return cumulative, last


def _sparse_block(
    config: SimulationConfig,
    params: Parameters,
    codes: np.ndarray,
    table: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
) -> sp.csr_matrix:
    """Raw counts of one block of cells, float32 CSR ``(len(codes), n_genes)``.

    Two-stage draw (method.md §1.1): ``n_reads`` pathways per cell from
    ``theta`` (:func:`categorical_counts`), then one gene per read from
    ``beta[p]``; the counts are ``Multinomial(n_reads, theta @ beta)``.
    """
    n_rows, n_genes = len(codes), config.n_genes
    theta = draw_theta(codes, params.alpha, rng)
    per_pathway = categorical_counts(theta, np.full(n_rows, config.n_reads), rng).ravel()
    hit = np.flatnonzero(per_pathway)
    read = np.repeat(hit, per_pathway[hit])
    row, pathway = np.divmod(read, config.n_pathways)
    cumulative, last = table
    entry = np.searchsorted(cumulative, pathway + rng.random(len(read)), side="right")
    entry = np.minimum(entry, last[pathway])
    flat = row * n_genes + params.beta.indices[entry]
    dense = np.bincount(flat, minlength=n_rows * n_genes)
    nonzero = np.flatnonzero(dense)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(nonzero // n_genes, minlength=n_rows), out=indptr[1:])
    return sp.csr_matrix(
        (dense[nonzero].astype(np.float32), (nonzero % n_genes).astype(np.int32), indptr),
        shape=(n_rows, n_genes),
    )


def sparse_blocks(
    config: SimulationConfig,
    params: Parameters,
    subclass: np.ndarray,
    seed: np.random.SeedSequence,
    *,
    chunk_rows: int,
    threads: int,
) -> Iterator[sp.csr_matrix]:
    """Raw read counts, yielded as CSR chunks of consecutive cells.

    Cells are drawn in fixed random blocks of :func:`sparse_block_rows`
    cells, each from its own spawned seed, and grouped into chunks of about
    ``chunk_rows`` cells (rounded up to whole blocks), so the counts depend
    on neither ``chunk_rows`` nor ``threads``. Memory: one dense int64 block
    ``(block rows, n_genes)`` and the reads of a block per thread, plus the
    chunk's non-zeros.

    Parameters
    ----------
    config, params
        The simulation and its drawn parameters (:func:`draw_parameters`).
    subclass
        int ``(n_cells,)``: generated class of each cell.
    seed
        Spawned into one seed per block.
    chunk_rows
        Cells per yielded chunk (the last may be shorter).
    threads
        Blocks sampled at once.

    Yields
    ------
    float32 CSR ``(rows, n_genes)``, integer-valued, rows summing to
    ``n_reads``; sorted int32 indices; ``indptr`` int32 while the
    chunk's non-zeros fit (scipy downcasts it), else int64.
    """
    n_cells = len(subclass)
    block_rows = sparse_block_rows(config.n_genes)
    starts = range(0, n_cells, block_rows)
    seeds = seed.spawn(len(starts))
    table = _gene_cumulative(params.beta)
    per_chunk = max(1, -(-chunk_rows // block_rows))

    def run(block: int) -> sp.csr_matrix:
        codes = subclass[starts[block] : starts[block] + block_rows]
        return _sparse_block(config, params, codes, table, np.random.default_rng(seeds[block]))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for first in range(0, len(starts), per_chunk):
            blocks = list(pool.map(run, range(first, min(first + per_chunk, len(starts)))))
            yield _join_rows(blocks, config.n_genes)


def sample_sparse(
    config: SimulationConfig,
    params: Parameters,
    subclass: np.ndarray,
    seed: np.random.SeedSequence,
    *,
    threads: int,
    progress: Callable[[int], Any] | None,
    chunk_rows: int = SPARSE_CHUNK_ROWS,
) -> sp.csr_matrix:
    """All of :func:`sparse_blocks` in one float32 CSR ``(n_cells, n_genes)``.

    Holds the non-zeros twice while the chunks are joined; a writer that
    streams :func:`sparse_blocks` holds one chunk.
    """
    chunks = []
    for chunk in sparse_blocks(
        config, params, subclass, seed, chunk_rows=chunk_rows, threads=threads
    ):
        chunks.append(chunk)
        if progress is not None:
            progress(chunk.shape[0])
    return _join_rows(chunks, config.n_genes)


def _join_rows(chunks: list[sp.csr_matrix], n_genes: int) -> sp.csr_matrix:
    """Stack CSR chunks by rows without scipy's index-dtype upcasting."""
    indptr = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for chunk in chunks:
        indptr.append(chunk.indptr[1:].astype(np.int64) + offset)
        offset += chunk.nnz
    n_rows = sum(chunk.shape[0] for chunk in chunks)
    return sp.csr_matrix(
        (
            np.concatenate([c.data for c in chunks]) if chunks else np.zeros(0, np.float32),
            np.concatenate([c.indices for c in chunks]) if chunks else np.zeros(0, np.int32),
            np.concatenate(indptr),
        ),
        shape=(n_rows, n_genes),
    )
