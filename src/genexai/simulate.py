"""SIMULATE: gene expression with known biomarkers (method.md §1).

A hierarchical LDA-style model. Each generated class ``c`` (a *subclass*)
has a Dirichlet prior ``alpha[c]`` over pathways; its ``n_over``
over-expressed pathways get ``class_gap`` times the background weight. A
pathway ``p`` owns a set of genes with proportions ``beta[p] ~
Dirichlet(eta_concentration)`` on that set. One sample of class ``c`` draws
pathway proportions ``theta ~ Dirichlet(alpha[c])``, then ``n_reads`` reads,
each picking a pathway from ``theta`` and then a gene from ``beta[p]``; the
gene counts are scaled to counts per million. The counts are drawn in the
equivalent mixture form, ``Multinomial(n_reads, theta @ beta)`` per sample
(method.md §1.8; see :mod:`genexai.simulation._sampler`).

Fixes to the reference code (method.md §10): seeded; only the pathway that
fails the validity rule is redrawn; no all-zero rows when the number of
samples is not divisible by the number of classes; ``beta`` is sparse.

Layout: this module is the step (:func:`simulate`: check, draw, wrap the
result in an AnnData; :func:`write_simulation`: the same, written to an
``.h5ad`` with a sparse ``X`` streamed chunk by chunk). The configurations
and the sampling kernels live in :mod:`genexai.simulation` (``_configs``,
``_sampler``); the configuration names are re-exported here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import io, keys
from .errors import InputError
from .simulation import (
    CONFIGS,
    SPARSE_CHUNK_ROWS,
    Layout,
    MergeRule,
    Parameters,
    SimulationConfig,
    class_sizes,
    draw_parameters,
    get_config,
    parse_merge,
    parse_proportions,
    sample_matrix,
    sample_sparse,
    sparse_blocks,
)
from .simulation._configs import check_int

__all__ = [
    "CONFIGS",
    "Layout",
    "MergeRule",
    "SimulationConfig",
    "get_config",
    "parse_merge",
    "parse_proportions",
    "simulate",
    "write_simulation",
]

logger = logging.getLogger(__name__)

#: Compression of every dataset of :func:`write_simulation`'s streamed
#: files, as :func:`genexai.io.write_h5ad` writes.
_COMPRESSION = "lzf"


def simulate(
    config: SimulationConfig | str,
    *,
    n_samples: int | None = None,
    seed: int,
    threads: int = 1,
    progress: Callable[[int], Any] | None = None,
) -> ad.AnnData:
    """Simulate per-million expression with known informative genes.

    Samples are ordered by generated class. The parameters (``alpha``,
    ``beta``) depend only on ``config`` and ``seed``; the samples are drawn in
    fixed chunks, each from its own spawned seed, so the output does not
    depend on ``threads``.

    Parameters
    ----------
    config
        The simulation: a :class:`SimulationConfig`, or the name of one of
        :data:`CONFIGS` (``"SIMU1"``, ``"test"``, ...).
    n_samples
        Overrides ``config.n_samples``. Samples are split between generated
        classes by ``class_proportions``; the rounding remainder goes to the
        classes with the largest fractional share (ties: lowest index).
    seed
        Seed of everything random; the same seed gives identical output.
    threads
        Sampling threads.
    progress
        Called with the number of samples finished after each chunk.

    Returns
    -------
    AnnData ``(n_samples, n_genes)`` with

    - ``X``: float32 counts per million reads (each row sums to 1e6), or,
      if ``config.sparse``, float32 CSR raw read counts (rows sum to
      ``n_reads``);
    - ``obs["label"]``: task class, categorical ``C0``, ``C1``, … (after merge);
    - ``obs["subclass"]``: generated class, categorical ``S0``, ``S1``, …;
    - ``obs_names`` ``sample00000``…, ``var_names`` ``G00000``…;
    - ``varm["informative"]``: bool DataFrame ``(n_genes, n_classes)``,
      columns ``S0``…: the gene is in an over-expressed pathway of that class;
    - ``uns["genexai"]["simulate"]``: every :class:`SimulationConfig` field
      (resolved: ``class_proportions``, ``min_prop``, ``merge`` as arrays or
      numbers), ``seed``, ``alpha`` float32 ``(n_classes, n_pathways)``,
      ``pathway_genes`` CSR bool ``(n_pathways, n_genes)``, ``over_pathways``
      int64 ``(n_classes, n_over)``.
    """
    start = time.perf_counter()
    draw = _draw(config, n_samples=n_samples, seed=seed, threads=threads)
    config = draw.config
    sampler = sample_sparse if config.sparse else sample_matrix
    x = sampler(
        config, draw.params, draw.subclass, draw.sample_seed, threads=threads, progress=progress
    )
    adata = _to_anndata(config, draw.params, draw.subclass, x, seed=int(seed))
    _log_done(config, start)
    return adata


def write_simulation(
    config: SimulationConfig | str,
    path: str | os.PathLike,
    *,
    n_samples: int | None = None,
    seed: int,
    threads: int = 1,
    progress: Callable[[int], Any] | None = None,
    chunk_rows: int = SPARSE_CHUNK_ROWS,
) -> None:
    """Simulate and write the result to the ``.h5ad`` file ``path``, atomically.

    The file holds what :func:`simulate` returns for the same arguments.
    A sparse configuration's ``X`` is written chunk by chunk as it is drawn,
    so memory is bounded by one chunk of ``chunk_rows`` cells (plus obs and
    var), not by the non-zeros: its ``data`` and ``indices`` are those of
    :func:`simulate` byte for byte (the random blocks have their own seeds),
    and its ``indptr`` is int64 while the chunks are appended, so that no
    number of non-zeros can overflow it, then int32 when the non-zeros fit,
    so that readers keep int32 indices. A dense configuration is drawn whole
    and written with :func:`genexai.io.write_h5ad`. On error, ``path`` is untouched and no
    temporary file is left.

    Parameters
    ----------
    config, n_samples, seed, threads, progress
        As for :func:`simulate`; ``progress`` is called after each chunk.
    path
        The output file, written under a temporary name and renamed when complete.
    chunk_rows
        Cells per written chunk of a sparse ``X`` (rounded up to whole random
        blocks); it changes memory and speed, not the file's values.
    """
    if isinstance(config, str):
        config = get_config(config)
    if not config.sparse:
        adata = simulate(config, n_samples=n_samples, seed=seed, threads=threads, progress=progress)
        io.write_h5ad(adata, path)
        return
    check_int("chunk_rows", chunk_rows, minimum=1)
    start = time.perf_counter()
    draw = _draw(config, n_samples=n_samples, seed=seed, threads=threads)
    shell = _to_anndata(draw.config, draw.params, draw.subclass, None, seed=int(seed))
    chunks = sparse_blocks(
        draw.config,
        draw.params,
        draw.subclass,
        draw.sample_seed,
        chunk_rows=chunk_rows,
        threads=threads,
    )
    with io.atomic_path(path) as tmp:
        shell.write_h5ad(tmp, compression=_COMPRESSION)
        with h5py.File(tmp, "r+") as f:
            _write_csr_chunks(f, chunks, progress=progress)
            _narrow_indptr(f["X"])
    _log_done(draw.config, start)


def _write_csr_chunks(
    f: h5py.File,
    chunks: Iterator[sp.csr_matrix],
    *,
    progress: Callable[[int], Any] | None,
) -> None:
    """Write ``X`` into the open file as the row-wise concatenation of ``chunks``.

    The first chunk creates the CSR group (anndata's encoding, resizable
    datasets), the others are appended, so one chunk is in memory at a
    time. ``indptr`` is written as int64 whatever the chunk's dtype (scipy
    may give int32 to a chunk that fits, and anndata would not append past
    int32); :func:`_narrow_indptr` narrows it once every chunk is in.
    """
    for chunk in chunks:
        if "X" in f:
            ad.io.sparse_dataset(f["X"]).append(chunk)
        else:
            ad.io.write_elem(
                f,
                "X",
                chunk,
                dataset_kwargs={"compression": _COMPRESSION, "indptr_dtype": np.int64},
            )
        if progress is not None:
            progress(chunk.shape[0])


def _narrow_indptr(group: h5py.Group) -> None:
    """Store a CSR group's ``indptr`` as int32 when its non-zeros allow.

    scipy gives a matrix's ``indices`` the dtype of its ``indptr``: an int64
    ``indptr`` would make a reader hold every column index in 8 bytes
    instead of 4 (an extra 4 GB for 10^9 non-zeros).
    """
    indptr = group["indptr"][...]
    if indptr[-1] > np.iinfo(np.int32).max:
        return
    del group["indptr"]
    group.create_dataset("indptr", data=indptr.astype(np.int32), compression=_COMPRESSION)


class _Draw(NamedTuple):
    """What :func:`simulate` and :func:`write_simulation` sample from."""

    config: SimulationConfig  #: with ``n_samples`` applied
    params: Parameters
    subclass: np.ndarray  #: int64 ``(n_samples,)`` generated class of each sample
    sample_seed: np.random.SeedSequence  #: spawned into the chunks' seeds


def _draw(
    config: SimulationConfig | str, *, n_samples: int | None, seed: int, threads: int
) -> _Draw:
    """Check the options, draw the parameters and the classes of the samples."""
    if isinstance(config, str):
        config = get_config(config)
    if n_samples is not None:
        config = dataclasses.replace(config, n_samples=n_samples)
    check_int("threads", threads, minimum=1)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed: expected a non-negative integer, found {seed!r}"
        raise InputError(msg)
    sizes = class_sizes(config.n_samples, config.resolved_proportions())
    param_seed, sample_seed = np.random.SeedSequence(int(seed)).spawn(2)
    params = draw_parameters(config, np.random.default_rng(param_seed))
    subclass = np.repeat(np.arange(config.n_classes), sizes)
    return _Draw(config, params, subclass, sample_seed)


def _log_done(config: SimulationConfig, start: float) -> None:
    logger.info(
        "simulated %s: %d samples × %d genes in %.1f s",
        config.name,
        config.n_samples,
        config.n_genes,
        time.perf_counter() - start,
    )


def _to_anndata(
    config: SimulationConfig,
    params: Parameters,
    subclass: np.ndarray,
    x: np.ndarray | sp.csr_matrix | None,
    *,
    seed: int,
) -> ad.AnnData:
    """Wrap the matrix and the ground truth (see :func:`simulate`).

    ``x`` None gives everything but ``X`` (shape from obs and var), for
    :func:`write_simulation`.
    """
    task = config.task_classes()
    obs_width = max(5, len(str(config.n_samples - 1)))
    var_width = max(5, len(str(config.n_genes - 1)))
    sub_names = [f"S{c}" for c in range(config.n_classes)]
    task_names = [f"C{c}" for c in range(task.max() + 1)]
    obs = pd.DataFrame(
        {
            keys.LABEL: pd.Categorical.from_codes(task[subclass], categories=task_names),
            keys.SUBCLASS: pd.Categorical.from_codes(subclass, categories=sub_names),
        },
        index=[f"sample{i:0{obs_width}d}" for i in range(config.n_samples)],
    )
    var = pd.DataFrame(index=[f"G{g:0{var_width}d}" for g in range(config.n_genes)])

    membership = params.beta.astype(bool)
    membership.eliminate_zeros()  # a gene whose gamma weight underflowed gets no reads
    over = np.zeros((config.n_pathways, config.n_classes), dtype=np.int64)
    over[params.over_pathways, np.arange(config.n_classes)[:, None]] = 1
    informative = np.asarray(membership.T.astype(np.int64) @ over) > 0

    uns = {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(config)
        if field.name not in ("class_proportions", "min_prop", "merge")
    }
    uns.update(
        class_proportions=config.resolved_proportions(),
        min_prop=config.resolved_min_prop(),
        merge=task,
        seed=seed,
    )
    uns[keys.ALPHA] = params.alpha.astype(np.float32)
    uns[keys.PATHWAY_GENES] = membership
    uns[keys.OVER_PATHWAYS] = params.over_pathways
    adata = ad.AnnData(x, obs=obs, var=var)
    adata.varm[keys.INFORMATIVE] = pd.DataFrame(informative, index=var.index, columns=sub_names)
    adata.uns[keys.UNS] = {keys.SIMULATE: uns}
    return adata
